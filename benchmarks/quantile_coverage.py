"""Coverage of the 80% prediction interval of a quantile forecaster on ETTh1's test split.

An ``LRUForecaster(loss="quantile", quantiles=(0.1, 0.5, 0.9))`` is fitted on the
standard training + validation months of ETTh1 (8640 + 2880 hourly rows; the validation
months are the early-stopping tail), target OT alone. The fitted model then streams
through the 2880 test rows (``partial_fit(update_params=False)``: the state moves, the
weights do not), forecasting ``horizon`` steps after every row. Over every
(origin, step) pair whose target lies in the test split it reports:

* coverage: the share of targets inside [q0.1, q0.9] (nominal 0.80), overall and at
  steps 1, horizon/2 and horizon; the share below q0.1 and above q0.9 (nominal 0.10);
* the mean interval width, the mean pinball loss of the three quantiles and the MAE
  of the median, in the data's units (degrees C).

Prints a table and appends it, with the machine, date and command, to
``benchmarks/RESULTS.md``::

    python benchmarks/quantile_coverage.py            # about 2-4 minutes on 2 CPU cores
    python benchmarks/quantile_coverage.py --no-write --max-epochs 2
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
import torch

from tsrec import LRUForecaster
from tsrec.datasets import load_ett, split_borders

QUANTILES = (0.1, 0.5, 0.9)


def rolling_quantiles(est: LRUForecaster, stream) -> np.ndarray:
    """Quantile forecasts ``(len(stream), H, n_quantiles)`` made after each row of ``stream``.

    The estimator's stream continues over the rows (``partial_fit(update_params=False)``),
    so the forecast after row t sees exactly the rows up to t.
    """
    out = np.empty((len(stream), est.horizon, len(QUANTILES)))
    for t in range(len(stream)):
        est.partial_fit(stream.iloc[t : t + 1], update_params=False)
        out[t] = est.predict_quantiles().to_numpy()
    return out


def evaluate(q: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """Scores of quantile forecasts ``q`` ``(n, H, 3)`` against ``actual`` ``(n, H)`` (NaN = beyond the data)."""
    ok = ~np.isnan(actual)
    lo, mid, hi = q[..., 0], q[..., 1], q[..., 2]
    inside = (actual >= lo) & (actual <= hi)
    H = q.shape[1]
    res = {
        "pairs": int(ok.sum()),
        "coverage": float(inside[ok].mean()),
        "below_q0.1": float((actual < lo)[ok].mean()),
        "above_q0.9": float((actual > hi)[ok].mean()),
    }
    for h in sorted({1, max(H // 2, 1), H}):
        res[f"coverage_step{h}"] = float(inside[:, h - 1][ok[:, h - 1]].mean())
    res["width"] = float((hi - lo)[ok].mean())
    pin = [np.maximum(a * (actual - q[..., i]), (a - 1) * (actual - q[..., i]))[ok].mean()
           for i, a in enumerate(QUANTILES)]
    res["pinball"] = float(np.mean(pin))
    res["mae_median"] = float(np.abs(actual - mid)[ok].mean())
    return res


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--horizon", type=int, default=24)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--d-state", type=int, default=64)
    p.add_argument("--n-layers", type=int, default=2)
    p.add_argument("--max-epochs", type=int, default=6)
    p.add_argument("--stride", type=int, default=8, help="step between training windows")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads for training (the stream uses one)")
    p.add_argument("--data", default=None, help="ETTh1.csv or a folder holding ETT-small/ (default: $TSREC_DATA ...)")
    p.add_argument("--results", default=str(Path(__file__).with_name("RESULTS.md")))
    p.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    df = load_ett("ETTh1", path=args.data, download=False)[["OT"]]
    b = split_borders("ETTh1", len(df))
    fit_part, test = df.iloc[: b.val_end], df.iloc[b.val_end : b.test_end]
    est = LRUForecaster(
        horizon=args.horizon, d_model=args.d_model, d_state=args.d_state, n_layers=args.n_layers,
        max_epochs=args.max_epochs, stride=args.stride, loss="quantile", quantiles=QUANTILES,
        validation_fraction=(b.val_end - b.train_end) / b.val_end, patience=3, device="cpu",
        random_state=args.seed,
    )
    t0 = time.perf_counter()
    est.fit(fit_part)
    t_fit = time.perf_counter() - t0
    torch.set_num_threads(1)  # one row at a time: tiny ops, faster on one thread
    t0 = time.perf_counter()
    q = rolling_quantiles(est, test)
    t_pred = time.perf_counter() - t0
    # the forecast made after test row t covers rows t+1 .. t+H
    vals = test["OT"].to_numpy()
    padded = np.concatenate([vals, np.full(args.horizon, np.nan)])
    actual = np.stack([padded[t + 1 : t + 1 + args.horizon] for t in range(len(test))])
    res = evaluate(q, actual)
    res.update(epochs=len(est.history_["loss"]), fit_s=t_fit, stream_s=t_pred)

    rows = [(k, f"{v:.4f}" if isinstance(v, float) else str(v)) for k, v in res.items()]
    table = "\n".join(["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    print(table)
    if not args.no_write:
        cmd = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__), *(argv or sys.argv[1:])])
        head = (f"\n## Quantile coverage, ETTh1 test split (OT, horizon {args.horizon}, LRU, loss=quantile)\n\n"
                f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}\n"
                f"- machine: {platform.node()}, {platform.processor() or platform.machine()}, "
                f"{os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} training threads\n"
                f"- command: `{cmd}`\n"
                f"- setting: fit on the train + validation months (validation months = early-stopping tail), "
                f"stream the {len(test)} test rows with partial_fit(update_params=False), forecast after each; "
                f"nominal coverage of [q0.1, q0.9] is 0.80\n\n")
        with open(args.results, "a") as f:
            if f.tell() == 0:
                f.write("# Benchmark results\n")
            f.write(head + table + "\n")
    return res


if __name__ == "__main__":
    main()
