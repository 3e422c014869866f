"""What the partner memo saves a fit: LRU defaults with and without ``memoised_partners``.

A fit with the default combination scores its validation windows after every
epoch, for each share "auto" tries and for its calibration; each pass computes
the partner (damped Holt) of every window. ``tsrec.nn.window.memoised_partners``
computes each window's partner once per fit. This script fits the same
estimator both ways, alternating, in one process and one thread, checks that
the forecasts are equal, and prints the seconds of each fit and their ratio.

    python benchmarks/fit_memo.py                      # ETTh1 OT, 8,000 hourly rows, horizon 24
    python benchmarks/fit_memo.py --rows 4000 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from online_throughput import machine  # noqa: E402

import tsrec.estimators.base as base  # noqa: E402
from tsrec.datasets import load_dataset  # noqa: E402
from tsrec.estimators import LRUForecaster  # noqa: E402
from tsrec.nn.window import memoised_partners  # noqa: E402


def fit_seconds(y, horizon: int, memo: bool) -> tuple[float, np.ndarray, int]:
    """Seconds of one fit (memo on or off), its forecast and its epochs."""
    base.memoised_partners = memoised_partners if memo else contextlib.nullcontext
    start = time.perf_counter()
    f = LRUForecaster(horizon=horizon, random_state=0).fit(y)
    seconds = time.perf_counter() - start
    base.memoised_partners = memoised_partners
    return seconds, f.predict().to_numpy(), len(f.history_["loss"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=8000)
    ap.add_argument("--horizon", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    y = load_dataset("ETTh1")[["OT"]].iloc[: args.rows]
    times = {True: [], False: []}
    for r in range(args.rounds):
        for memo in ((True, False) if r % 2 == 0 else (False, True)):
            seconds, forecast, epochs = fit_seconds(y, args.horizon, memo)
            times[memo].append(seconds)
            if memo:
                with_memo = forecast
            else:
                without = forecast
            print(f"round {r}: memo {'on ' if memo else 'off'} {seconds:7.1f} s, {epochs} epochs", flush=True)
        np.testing.assert_array_equal(with_memo, without)
    on, off = np.median(times[True]), np.median(times[False])
    print(f"\n{machine()}\nETTh1 OT, {args.rows} rows, horizon {args.horizon}, LRU defaults, one thread: "
          f"median fit {on:.1f} s with the memo, {off:.1f} s without: {on / off:.2f}x (forecasts equal)")


if __name__ == "__main__":
    main()
