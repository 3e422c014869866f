"""Missing values (``missing="mask"``) and per-series scaling (``scaling="series"``) on ETTh1 OT.

Missing values: an ``LRUForecaster`` (horizon 24) is fitted on the standard training +
validation months of ETTh1 OT (11520 hourly rows) with a share of the targets knocked out,
at random and in blocks of 12 hours, then forecasts 24 steps after every row of the 2880
complete test rows (``rolling_forecasts``: the stream continues, the weights do not move).
The MAE (degrees C) is compared, in the same run, with

* the same model fitted on the complete rows (the ceiling),
* the rows with missing targets dropped (the series then read as consecutive),
* the missing targets filled by linear interpolation (``missing="raise"`` model),
* the seasonal naive forecast (the value 24 hours earlier),

for the window model (``context=168``) and the stateful ``context=None`` model.

Per-series scaling: the panel [OT, 1000 * OT] (same split) with ``scaling="global"`` and
``"series"``; the MAE of each series (the large one divided by 1000) and the ratio of the
two series' forecasts at the end of the training rows.

Prints the tables and appends them, with the machine, date and command, to
``benchmarks/RESULTS.md``::

    python benchmarks/missing_values.py              # about 10 minutes on 2 busy CPU cores
    python benchmarks/missing_values.py --no-write --max-epochs 1
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tsrec import LRUForecaster
from tsrec.datasets import load_ett, split_borders

H = 24


def knock_out(s: pd.DataFrame, share: float, seed: int, block: int = 12) -> pd.DataFrame:
    """``s`` with about ``share`` of its rows NaN: half at random, half in blocks of ``block`` rows."""
    out = s.copy()
    rng = np.random.default_rng(seed)
    n = len(out)
    out.iloc[rng.choice(n, int(share / 2 * n), replace=False), 0] = np.nan
    for start in rng.choice(n - 2 * block, int(share / 2 * n / block), replace=False):
        out.iloc[start : start + block, 0] = np.nan
    return out


def mae(est: LRUForecaster, test) -> float:
    pred, actual = est.rolling_forecasts(test)
    return float(np.nanmean(np.abs(pred[0] - actual[0]))) if not isinstance(test, list) else [
        float(np.nanmean(np.abs(p - a))) for p, a in zip(pred, actual)]


def seasonal_naive(train: pd.DataFrame, test: pd.DataFrame) -> float:
    full = np.concatenate([train.to_numpy()[:, 0], test.to_numpy()[:, 0]])
    errs = [np.abs(full[o - 23 : o + 1][: len(full) - o - 1] - full[o + 1 : o + 1 + H])
            for o in range(len(train) - 1, len(full) - 1)]
    return float(np.mean(np.concatenate(errs)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-epochs", type=int, default=6)
    ap.add_argument("--share", type=float, default=0.15, help="share of the training targets knocked out")
    ap.add_argument("--block", type=int, default=12, help="rows per block of missing targets")
    ap.add_argument("--window-only", action="store_true", help="skip the context=None model")
    ap.add_argument("--no-scaling", action="store_true", help="skip the per-series scaling panel")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    df = load_ett("ETTh1", download=False)[["OT"]]
    b = split_borders("ETTh1", len(df))
    train, test = df.iloc[: b.val_end], df.iloc[b.val_end : b.test_end]
    holed = knock_out(train, args.share, args.seed, args.block)
    kw = dict(horizon=H, d_model=32, max_epochs=args.max_epochs, random_state=args.seed, device="cpu")
    frames = {"window (context=168)": dict(context=168, patch_len=24), "dense (context=None)": dict(context=None)}
    if args.window_only:
        del frames["dense (context=None)"]
    rows, t0 = [], time.time()
    snaive = seasonal_naive(train, test)
    for label, frame in frames.items():
        dropped = holed.dropna()
        dropped = dropped.set_axis(pd.date_range(end=train.index[-1], periods=len(dropped), freq="h"))
        fits = {
            "complete rows": (train, {}),
            'missing="mask"': (holed, {"missing": "mask"}),
            "interpolated": (holed.interpolate(limit_direction="both"), {}),
            "rows dropped": (dropped, {}),
        }
        for name, (data, extra) in fits.items():
            t = time.time()
            est = LRUForecaster(**kw, **frame, **extra).fit(data)
            rows.append((label, name, mae(est, test), time.time() - t))
            print(rows[-1], flush=True)
    scaling = []
    for mode in () if args.no_scaling else ("global", "series"):
        t = time.time()
        est = LRUForecaster(**kw, context=168, patch_len=24, scaling=mode).fit([train, train * 1000])
        small, large = mae(est, [test, test * 1000])
        a, c = est.predict()
        ratio = float(np.median(c.to_numpy() / a.to_numpy()))
        scaling.append((mode, small, large / 1000, ratio, time.time() - t))
        print(scaling[-1], flush=True)
    lines = ["| frame | training data | test MAE | vs complete | fit + forecast s |", "|---|---|---|---|---|"]
    complete = {label: m for label, name, m, _ in rows if name == "complete rows"}
    lines += [f"| {label} | {name} | {m:.4f} | {m / complete[label]:.3f} | {s:.0f} |" for label, name, m, s in rows]
    lines += [f"| - | seasonal naive (lag 24) | {snaive:.4f} | - | - |"]
    lines2 = ["| scaling | MAE OT | MAE 1000 OT / 1000 | forecast ratio (median) | s |", "|---|---|---|---|---|"]
    lines2 += [f"| {m} | {a:.4f} | {c:.4f} | {r:.2f} | {s:.0f} |" for m, a, c, r, s in scaling]
    missing_share = float(holed["OT"].isna().mean())
    text = "\n".join([
        f"## Missing values and per-series scaling, ETTh1 OT (horizon {H}, LRU), {datetime.date.today()}",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads (shared with other jobs)",
        f"- command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`",
        f"- setting: fit on the train + validation months (11520 rows) with {missing_share:.1%} of the targets "
        f"missing (half at random, half in {args.block}-hour blocks), rolling 24-step forecasts after every one of the "
        f"2880 complete test rows; d_model 32, {args.max_epochs} epochs, seed {args.seed}; total "
        f"{time.time() - t0:.0f} s",
        "",
        *lines,
        "",
        *(["Per-series scaling: the panel [OT, 1000 * OT], same split and model (window, context 168):", "",
            *lines2, ""] if scaling else []),
    ])
    print(text)
    if not args.no_write:
        with open(Path(__file__).with_name("RESULTS.md"), "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
