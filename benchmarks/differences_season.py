"""Where a season that only the first differences show helps the history partner, and where it hurts.

A diagnosis screen on seen data (session 55), offline: no network is trained. For each weekly forecast origin of a
``defaults.py`` set (its validation blocks) or of ``short_seasons.py --freq W``'s cuts, the damped history partner
(:func:`tsrec.nn.damped.history_forecast`) forecasts from the rows it would read (at most eight seasons before a
window of 152 rows), and so do the same partner without the differences' season and the Theta method. The origins
are grouped by what the seasonality test says of their rows: on the levels, on the differences, and the sign of the
differences' autocorrelation at the period. Printed per group: the geometric mean of each forecast's MAE over
seasonal naive's. ``--lag1`` (session 56) keeps the rows whose levels and differences both fail the test and groups
them by the lag-1 autocorrelation of their last three seasons' first differences, with the naive forecast (the last
value) beside the others.

    python benchmarks/differences_season.py --sets fresh_r fresh_s short_W
    python benchmarks/differences_season.py --sets fresh_r fresh_s fresh_u short_W --lag1
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tsrec.nn.damped import _deseasonalise, damped_forecast, history_forecast  # noqa: E402
from tsrec.nn.theta import _is_seasonal, theta_forecast  # noqa: E402

HORIZON, PERIOD, ROWS = 13, 52, 8 * 52 + 152


def cases(name: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(series, rows before the origin, the next ``HORIZON`` values) of each weekly origin of set ``name``."""
    if name == "short_W":
        import short_seasons

        out = []
        for rows in (104, 135, 156, 208, 312):
            for series, y in short_seasons.series("W").items():
                y = y[np.isfinite(y)]
                step = max(PERIOD, (len(y) - rows - HORIZON) // 2 + 1)
                for start in list(range(0, len(y) - rows - HORIZON + 1, step))[:3]:
                    out.append((f"{series} {rows}@{start}", y[start : start + rows],
                                y[start + rows : start + rows + HORIZON]))
        return out
    import defaults

    out = []
    for s in getattr(defaults, f"{name}_list")():
        if s.period != PERIOD:
            continue
        y = s.y.to_numpy(float)
        for fold in (1, 0):
            for o in defaults.origins_of(len(y), s.horizon, "val", fold)[1]:
                out.append((s.name, y[max(0, o - ROWS) : o], y[o : o + HORIZON]))
    return out


def without_differences(rows: np.ndarray) -> np.ndarray:
    """The history partner's damped Holt with the season of the levels' test only."""
    z, ahead = _deseasonalise(torch.tensor(rows)[None], HORIZON, PERIOD)
    return (damped_forecast(z, HORIZON) + ahead)[0].numpy()


def group(rows: np.ndarray) -> str:
    x = torch.tensor(rows)[None]
    if len(rows) < 2 * PERIOD + 3:
        return "under two seasons and three rows"
    d = torch.diff(x, dim=1)
    levels, differences = bool(_is_seasonal(x, PERIOD)), bool(_is_seasonal(d, PERIOD))
    sign = "" if not differences else ", positive" if bool(_is_seasonal(d, PERIOD, positive=True)) else ", negative"
    return f"levels {'pass' if levels else 'fail'}, differences {'pass' if differences else 'fail'}{sign}"


def lag1_band(rows: np.ndarray) -> str | None:
    """The band of the lag-1 autocorrelation of the first differences of the last three seasons of ``rows`` whose
    levels and differences both fail the seasonality test; None for other rows."""
    if not group(rows).startswith("levels fail, differences fail"):
        return None
    d = np.diff(rows[-3 * PERIOD:])
    d = d - d.mean()
    r1 = float((d[1:] * d[:-1]).sum() / (d * d).sum()) if (d * d).sum() > 0 else 0.0
    edges = [(0.1, "< 0.1"), (0.3, "0.1-0.3"), (0.6, "0.3-0.6"), (np.inf, ">= 0.6")]
    return "both fail, lag-1 autocorrelation " + next(label for edge, label in edges if r1 < edge)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["fresh_r", "fresh_s", "short_W"])
    ap.add_argument("--lag1", action="store_true", help="the rows that fail both tests, by the lag-1 "
                    "autocorrelation of their differences")
    args = ap.parse_args()
    methods = {
        "partner": lambda r: history_forecast(torch.tensor(r)[None], HORIZON, PERIOD)[0].numpy(),
        "either sign": lambda r: history_forecast(torch.tensor(r)[None], HORIZON, PERIOD,
                                                  positive_differences=False)[0].numpy(),
        "levels only": without_differences,
        "Theta": lambda r: theta_forecast(torch.tensor(r)[None], HORIZON, PERIOD)[0].numpy(),
    }
    if args.lag1:
        methods = {k: methods[k] for k in ("partner", "Theta")} | {"naive": lambda r: np.full(HORIZON, r[-1])}
    key_of = lag1_band if args.lag1 else group
    for name in args.sets:
        table = collections.defaultdict(lambda: collections.defaultdict(list))
        for _, rows, actual in cases(name):
            naive = np.mean(np.abs(np.resize(rows[-PERIOD:], HORIZON) - actual))
            if not naive > 0:
                continue
            key = key_of(rows)
            if key is None:
                continue
            for label, method in methods.items():
                table[key][label].append(np.log(np.mean(np.abs(method(rows) - actual)) / naive))
        for key, scores in sorted(table.items()):
            line = "  ".join(f"{label} {np.exp(np.mean(v)):.3f}" for label, v in scores.items())
            print(f"{name:10s} {key:48s} {len(scores['partner']):4d}  {line}", flush=True)


if __name__ == "__main__":
    main()
