"""Covariates that carry information: the error with and without them, for several models, on ETTh1 with a
known driver added, and the cost of a fit with them (a ratio, measured in the same run).

Scenarios (as in tests/estimators/test_covariates.py, MAE of rolling forecasts over the held-out
continuation, in std units of the real series):

- future: 2400 hourly OT rows + 5 std on random whole days (30%); ``future_covariates=("holiday",)``,
  horizon 24, context 96 (direct) and None (dense);
- calendar: daily means of OT + 5 std on weekends; ``calendar_features=("dayofweek",)``, horizon 7,
  context 2;
- static: four daily ETTh1 channels that move 5 pooled std up or down on event days, the direction given
  by a static category only; ``future_covariates=("event",)`` in both runs, ``static`` in one; context 14.

Usage::

    python benchmarks/covariates.py [--models lru,s4,transformer] [--epochs 6]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import time

import numpy as np
import pandas as pd
import torch

import tsrec
from tsrec.datasets import load_ett

EXTRA = {"lru": ("LRUForecaster", dict(d_state=16)), "s4": ("S4Forecaster", dict(d_state=16)),
         "transformer": ("TransformerForecaster", dict(n_heads=2, window=32)),
         "aaren": ("AarenForecaster", dict(n_heads=2)), "lem": ("LEMForecaster", dict(d_hidden=16))}


def make(model: str, epochs: int, **kw):
    name, extra = EXTRA[model]
    params = dict(d_model=16, n_layers=1, max_epochs=epochs, lr=1e-2, random_state=0, device="cpu", **extra, **kw)
    return getattr(tsrec, name)(**params)


def mae(f, X, y=None) -> float:
    preds, actual = f.rolling_forecasts(X, y)
    return float(np.nanmean(np.concatenate([np.abs(p - a).ravel() for p, a in zip(preds, actual)])))


def timed_fit(f, *args, **kw) -> float:
    t = time.perf_counter()
    f.fit(*args, **kw)
    return time.perf_counter() - t


def scenarios(h1: pd.DataFrame):
    ot = h1["OT"].iloc[:2400]
    day = np.random.default_rng(0).random(len(ot) // 24 + 1) < 0.3
    event = np.repeat(day, 24)[: len(ot)].astype(float)
    X, y = pd.DataFrame({"holiday": event}, index=ot.index), (ot + 5 * ot.std() * event).to_frame("load")
    for context, head in ((96, "direct"), (None, "dense")):
        yield (f"future ({head})", float(ot.std()), dict(horizon=24, context=context, batch_size=64),
               dict(future_covariates=("holiday",)), (X[:2000], y[:2000]), {}, (X[2000:], y[2000:]))
    daily = h1["OT"].resample("D").mean()
    weekend = np.array([0, 0, 0, 0, 0, 1, 1.0])[daily.index.dayofweek]
    yw = (daily + 5 * daily.std() * weekend).to_frame("OT")
    yield ("calendar", float(daily.std()), dict(horizon=7, context=2, stride=1),
           dict(calendar_features=("dayofweek",)), (yw[:600],), {}, (yw[600:],))
    d = h1[["HUFL", "MUFL", "LUFL", "OT"]].resample("D").mean()
    ev = (np.random.default_rng(1).random(len(d)) < 0.3).astype(float)
    kinds, size = ["up", "down", "up", "down"], 5 * d.stack().std()
    long = pd.concat([pd.DataFrame({"unique_id": c, "ds": d.index, "event": ev,
                                    "y": d[c].to_numpy() + (1 if k == "up" else -1) * size * ev})
                      for c, k in zip(d.columns, kinds)], ignore_index=True)
    static = pd.DataFrame({"kind": kinds}, index=pd.Index(d.columns, name="unique_id"))
    cut = d.index[600]
    yield ("static", float(d.stack().std()), dict(horizon=7, context=14, stride=1, batch_size=64,
                                                  future_covariates=("event",)),
           {}, (long[long.ds < cut],), {"static": static}, (long[long.ds >= cut],))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lru,s4,transformer")
    ap.add_argument("--epochs", type=int, default=6)
    args = ap.parse_args()
    torch.set_num_threads(1)
    h1 = load_ett("ETTh1", download=False)
    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread, "
          f"torch {torch.__version__}")
    print("| scenario | model | MAE without | MAE with | ratio | fit time with / without |")
    print("|---|---|---|---|---|---|")
    for model in args.models.split(","):
        for name, scale, common, with_kw, fit_args, fit_kw, test_args in scenarios(h1):
            plain = make(model, args.epochs, **common)
            rich = make(model, args.epochs, **common, **with_kw)
            t0 = timed_fit(plain, *fit_args)
            t1 = timed_fit(rich, *fit_args, **fit_kw)
            # per epoch: early stopping may stop the two at different epochs
            per_epoch = (t1 / len(rich.history_["loss"])) / (t0 / len(plain.history_["loss"]))
            e0, e1 = mae(plain, *test_args) / scale, mae(rich, *test_args) / scale
            print(f"| {name} | {model} | {e0:.3f} | {e1:.3f} | {e0 / e1:.1f}x | {per_epoch:.2f} |", flush=True)


if __name__ == "__main__":
    main()
