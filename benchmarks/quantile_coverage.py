"""Coverage of the 80% prediction intervals of the five forecasters on ETTh1's test split: raw and conformal.

Each forecaster (the default window model: ``context="auto"``, direct head) is fitted with
``loss="quantile", quantiles=(0.1, 0.5, 0.9)`` on the standard training + validation months of
ETTh1 (8640 + 2880 hourly rows; the validation months are the early-stopping tail, and so
the split-conformal calibration set of ``predict_interval``), target OT alone. Then
``historical_forecasts(test, coverage=0.8)`` forecasts ``horizon`` steps after the end of the
fit and after every test row, in one pass of the fixed model (no update, the calibration
fixed at the fitted one). Over every (origin, step) pair whose target lies in the test split
it reports, for the raw interval [q0.1, q0.9] and the conformal one (CQR: that interval widened
by the per-step conformal correction) calibrated on the validation months alone ("split") and
updated online as the test targets arrive ("online": a copy streams the test rows with
``partial_fit(update_params=False)`` and reads ``predict_interval`` after each row, the weights
fixed, the newest 1000 completed origins as calibration):

* coverage: the share of targets inside (nominal 0.80), overall and at steps 1, horizon/2
  and horizon; the share below and above (nominal 0.10 each);
* the mean interval width, the mean pinball loss of the three quantiles (raw only) and the
  MAE of the median, in the data's units (degrees C).

Prints a table and appends it, with the machine, date and command, to
``benchmarks/RESULTS.md``::

    python benchmarks/quantile_coverage.py            # about 5-10 minutes on 2 CPU cores
    python benchmarks/quantile_coverage.py --no-write --max-epochs 1 --models LRUForecaster
"""

from __future__ import annotations

import argparse
import copy
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

import tsrec
from tsrec.datasets import load_ett, split_borders

MODELS = ("LRUForecaster", "AarenForecaster", "TransformerForecaster", "LEMForecaster", "S4Forecaster")
QUANTILES = (0.1, 0.5, 0.9)


def bands(est, test: pd.DataFrame, coverage: float = 0.8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw quantiles ``(n, H, 3)``, conformal ``(n, H, 3)`` (lower, median, upper) and targets ``(n, H)`` at the
    end of the fit and after every test row but the last (NaN targets beyond the test rows).

    ``historical_forecasts(update="none")`` holds the calibration fixed, so the conformal interval is the raw
    one widened by one correction per step, read off ``predict_interval`` against ``predict_quantiles``.
    """
    H = est.horizon
    bt = est.historical_forecasts(test, coverage=coverage)
    correction = (est.predict_interval(coverage=coverage)[("OT", "upper")] - est.predict_quantiles()[("OT", 0.9)])
    corr = np.tile(correction.to_numpy(), len(bt) // H).reshape(-1, H)
    lower, mid, upper = (bt[c].to_numpy().reshape(-1, H) for c in ("y_lower", "y_hat", "y_upper"))
    raw = np.stack([lower + corr, mid, upper - corr], axis=-1)
    conformal = np.stack([lower, mid, upper], axis=-1)
    return raw, conformal, bt["y"].to_numpy().reshape(-1, H)


def online_bands(est, test: pd.DataFrame, median: np.ndarray, coverage: float = 0.8) -> np.ndarray:
    """Conformal intervals ``(n, H, 3)`` (lower, median, upper) at the same origins, the calibration updated online.

    A copy of the estimator streams the test rows one at a time with ``partial_fit(update_params=False)``: the
    weights stay fixed, and each origin whose ``horizon`` targets have arrived joins the rolling window of
    calibration errors (the newest 1000 origins), as a deployed model's ``predict_interval`` would see it.
    ``median`` ``(n, H)``: the forecasts at those origins (the weights are fixed, so they are ``bands``').
    """
    twin = copy.deepcopy(est)
    out = np.empty((len(test), est.horizon, 3))
    for t in range(len(test)):
        band = twin.predict_interval(coverage=coverage)
        out[t] = np.stack([band[("OT", "lower")], median[t], band[("OT", "upper")]], axis=-1)
        twin.partial_fit(test.iloc[t : t + 1], update_params=False)
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


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--horizon", type=int, default=24)
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--max-epochs", type=int, default=6)
    p.add_argument("--stride", type=int, default=8, help="step between training windows")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--data", default=None, help="ETTh1.csv or a folder holding ETT-small/ (default: $TSREC_DATA ...)")
    p.add_argument("--results", default=str(Path(__file__).with_name("RESULTS.md")))
    p.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    df = load_ett("ETTh1", path=args.data, download=False)[["OT"]]
    b = split_borders("ETTh1", len(df))
    fit_part, test = df.iloc[: b.val_end], df.iloc[b.val_end : b.test_end]
    results: dict[str, dict[str, float]] = {}
    for name in args.models:
        est = getattr(tsrec, name)(
            horizon=args.horizon, max_epochs=args.max_epochs, stride=args.stride, loss="quantile", quantiles=QUANTILES,
            validation_fraction=(b.val_end - b.train_end) / b.val_end, patience=3, device="cpu",
            random_state=args.seed,
        )
        t0 = time.perf_counter()
        est.fit(fit_part)
        t_fit = time.perf_counter() - t0
        raw, conformal, actual = bands(est, test)
        torch.set_num_threads(1)  # one row at a time: tiny ops, faster on one thread
        t0 = time.perf_counter()
        online = online_bands(est, test, conformal[..., 1])
        t_online = time.perf_counter() - t0
        torch.set_num_threads(args.threads)
        for label, q in (("raw", raw), ("split", conformal), ("online", online)):
            res = evaluate(q, actual)
            if label != "raw":
                del res["pinball"]  # the conformal bounds are not the trained quantiles
            res.update(epochs=len(est.history_["loss"]), fit_s=t_fit, stream_s=t_online,
                       calibration_origins=int(est._flush_calibration().errors.shape[0]))
            results[f"{name} {label}"] = res
        print(name, {k: round(v, 4) for k, v in results[f"{name} online"].items()}, flush=True)

    keys = list(results[next(iter(results))])
    keys += [k for k in results[f"{args.models[0]} raw"] if k not in keys]
    lines = ["| model | interval | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for label, res in results.items():
        model, kind = label.split()
        cells = [f"{res[k]:.4f}" if isinstance(res.get(k), float) else str(res.get(k, "")) for k in keys]
        lines.append(f"| {model} | {kind} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        cmd = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__), *(argv or sys.argv[1:])])
        head = (f"\n## Quantile coverage, raw and conformal, ETTh1 test split (OT, horizon {args.horizon}, "
                f"five models, loss=quantile)\n\n"
                f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}\n"
                f"- machine: {platform.node()}, {platform.processor() or platform.machine()}, "
                f"{os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} threads\n"
                f"- command: `{cmd}`\n"
                f"- setting: the default window model (context=\"auto\", direct head), fit on the train + validation "
                f"months (validation months = early-stopping tail = conformal calibration set), then "
                f"historical_forecasts(test, coverage=0.8) over the {len(test)} test rows (no update); nominal "
                f"coverage 0.80; raw = [q0.1, q0.9]; split = CQR calibrated on the validation months only "
                f"(predict_interval after fit); online = the same with the calibration window updated as the test "
                f"targets arrive (partial_fit(update_params=False) row by row, predict_interval after each); "
                f"stream_s = the online pass\n\n")
        with open(args.results, "a") as f:
            if f.tell() == 0:
                f.write("# Benchmark results\n")
            f.write(head + table + "\n")
    return results


if __name__ == "__main__":
    main()
