"""Speed of the Theta method of ``tsrec.nn.theta``: the numba kernel against the torch ops and statsmodels.

``theta_forecast`` runs one compiled kernel on CPU where numba works; the torch
ops (``_theta_torch``) are its fallback and statsmodels' ``ThetaModel`` its
reference. All three forecast the same random-walk windows in one process, one
thread, alternating rounds; the table gives milliseconds per call (the best of
the rounds) and the kernel's speed-up over each. Shapes: one window (a
stream's ``predict``), the 16 windows of a 16-row ``partial_fit``, and a
validation batch.

    python benchmarks/theta_speed.py
    python benchmarks/theta_speed.py --results benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from online_throughput import machine  # noqa: E402

from tsrec.nn.theta import _theta_torch, theta_forecast  # noqa: E402
from tsrec.scan.cpu import numba_available  # noqa: E402

SHAPES = [(1, 504, 24), (16, 504, 24), (2048, 336, 24)]  # (windows, rows, period)


def per_call(fn, budget: float = 0.5) -> float:
    """Seconds per call of ``fn``, over as many calls as fit in about ``budget`` seconds."""
    fn()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < budget:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def statsmodels_theta(y: np.ndarray, horizon: int, period: int) -> np.ndarray:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.stack([np.asarray(ThetaModel(row, period=period, method="additive").fit().forecast(horizon))
                         for row in y])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--horizon", type=int, default=96)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--results", default=None, help="append the table to this file")
    args = p.parse_args()
    torch.set_num_threads(1)
    if not numba_available():
        sys.exit("numba is not installed (or TSREC_NUMBA=0): there is no kernel to time")
    rng = np.random.default_rng(0)
    lines = [f"## Theta method speed, {dt.date.today()}", "```", machine(),
             f"date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
             "command: python benchmarks/theta_speed.py " + " ".join(sys.argv[1:]), "```", "",
             f"Milliseconds per call (best of {args.rounds} alternating rounds), horizon {args.horizon}, one thread:",
             "", "| windows x rows | numba kernel | torch ops | statsmodels (a loop) | kernel vs torch "
             "| kernel vs statsmodels |",
             "|---|---:|---:|---:|---:|---:|"]
    for n, length, period in SHAPES:
        y = torch.tensor(rng.normal(size=(n, length)).cumsum(axis=1))
        calls = {"numba": lambda: theta_forecast(y, args.horizon, period),
                 "torch": lambda: _theta_torch(y, args.horizon, period)}
        try:
            import statsmodels  # noqa: F401

            rows = y[: min(n, 16)].numpy()  # statsmodels on at most 16 windows, scaled to n
            calls["statsmodels"] = lambda: statsmodels_theta(rows, args.horizon, period)
        except ImportError:
            pass
        best = {k: np.inf for k in calls}
        for _ in range(args.rounds):
            for k, fn in calls.items():
                best[k] = min(best[k], per_call(fn) * (n / min(n, 16) if k == "statsmodels" else 1))
        np.testing.assert_allclose(calls["numba"]().numpy(), calls["torch"]().numpy(), rtol=1e-9, atol=1e-9)
        sm = best.get("statsmodels", np.nan)
        lines.append(f"| {n} x {length} | {best['numba'] * 1e3:.3f} | {best['torch'] * 1e3:.3f} | {sm * 1e3:.1f} | "
                     f"{best['torch'] / best['numba']:.1f}x | {sm / best['numba']:.0f}x |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.results:
        with open(args.results, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
