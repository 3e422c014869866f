"""Screens for the ETT cells at H = 96 on validation rows only: three ideas that session 56 tried and rejected.

A diagnosis screen, not a figure of record. It never reads a test row. Each run is one LRU fit (seed 0, one
thread, look-back 336) with ``long_horizon.py``'s protocol one level down (``--split val``: fit on the training
rows, score every validation origin) or two levels down (``--split inner``). It prints the MSE and MAE.

Two bases:
- the estimator's defaults (``long_horizon.py --defaults``);
- the long-horizon recipe (``--recipe``: ``long_horizon.RECIPE``, without the refit so that the variants stay
  comparable).

The variants (``--variant``):

- ``base``: the setting as it is.
- ``resid``: the network learns the residual of a ridge map (:func:`tsrec.nn.ridge.window_ridge`) solved on the
  training windows before training. Its forecast is the ridge's plus the network's instance-normalised output
  scaled back; ``skip_last`` is off.
- ``huber05``, ``huber1``: the MAE loss replaced by a Huber loss with that delta, divided by the delta (MAE's
  slope for large errors).
- ``mse``: ``loss="mse"``.
- ``pooled``: one model fitted on ETTh1's and ETTh2's training rows, a panel of two seven-channel frames with the
  same borders. It is scored on the ``--dataset``'s rows.
- ``phases`` (session 57): one model fitted on a panel of four hourly frames over the fit's dates, the dataset's
  own and its quarter-hourly twin's (ETTm1 for ETTh1, ETTm2 for ETTh2) rows at minutes 15, 30 and 45: four times
  the training windows, none from a later date. Scored on the ``--dataset``'s rows.

``resid``, ``huber05`` and ``huber1`` patch the package for the run (the ridge residual's forward, the loss); the
package's code is unchanged.

    python benchmarks/long_horizon_screens.py --dataset ETTh1 --split inner --variant resid
    python benchmarks/long_horizon_screens.py --dataset ETTh2 --split val --variant huber05 --recipe
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import long_horizon as lh  # noqa: E402

import tsrec  # noqa: E402
import tsrec.estimators.base as base  # noqa: E402
from tsrec import training  # noqa: E402
from tsrec.nn import window  # noqa: E402
from tsrec.nn.ridge import window_ridge  # noqa: E402

VARIANTS = ("base", "resid", "huber05", "huber1", "mse", "pooled", "phases")

#: the 15-minute dataset whose rows at minute 0 are the hourly one's, to the digit
QUARTER_HOURLY = {"ETTh1": "ETTm1", "ETTh2": "ETTm2"}


def rows(name: str, split: str):
    """(the rows a fit reads, the rows it is scored on) of dataset ``name`` at ``split``."""
    z, b = lh.scaled_splits(name)
    if split == "val":
        return z.iloc[: b.train_end], z.iloc[b.train_end : b.val_end]
    cut = b.train_end - (b.val_end - b.train_end)
    return z.iloc[:cut], z.iloc[cut : b.train_end]


def phase_rows(name: str, split: str) -> tuple[list, list]:
    """``rows(name, split)`` and, after them, the same hours of the quarter-hourly dataset read at minutes 15, 30
    and 45: four hourly seven-channel frames over the same dates (the first is ``name``'s own; its quarter-hourly
    twin at minute 0 equals it), each scaled by ``name``'s training statistics. Leak-free: every frame stops where
    ``name``'s fit rows stop."""
    fit, scored = rows(name, split)
    z, b = lh.scaled_splits(name)
    raw = lh.load_dataset(name)
    mean, std = raw.iloc[: b.train_end].mean(), raw.iloc[: b.train_end].std(ddof=0)
    quarter = lh.load_dataset(QUARTER_HOURLY[name])
    if not np.array_equal(quarter[quarter.index.minute == 0].to_numpy(), raw.to_numpy()):
        raise SystemExit(f"{QUARTER_HOURLY[name]} at minute 0 is not {name}")
    fits, scoreds = [fit], [scored]
    for minute in (15, 30, 45):
        q = quarter[quarter.index.minute == minute]
        q = (q - mean) / std
        q.index = q.index - np.timedelta64(minute, "m")  # on the hourly stamps of the same hour
        fits.append(q.loc[fit.index])
        scoreds.append(q.loc[scored.index])
    return fits, scoreds


def patch_residual() -> None:
    """Make every plain window model learn the residual of a ridge map solved before its training."""
    fit_windows = base.fit_windows

    def with_ridge(model, train, val, horizon, n_targets, cfg, device):
        if isinstance(model, window.WindowModel):
            weight, bias, _ = window_ridge(train, val if val is not None else train, model.context, horizon,
                                           n_targets)
            model._residual_of = (weight.float(), bias.float())
            model.skip_last = False
        return fit_windows(model, train, val, horizon, n_targets, cfg, device)

    network_forecast = window.WindowModel.network_forecast

    def residual_forecast(self, x):
        out = network_forecast(self, x)  # without skip_last: the network's output times std, plus mean
        if getattr(self, "_residual_of", None) is None:
            return out
        if not self.instance_norm or self.instance_norm == "last" or self.affine_weight is not None \
                or self.n_quantiles != 1:
            raise SystemExit("the residual screen covers robust or mean/std instance norm without affine only")
        x, nt = x[:, -self.context:], self.n_targets
        mean, _ = window.window_moments(x, self.eps, robust=self.instance_norm == "robust")
        weight, bias = self._residual_of
        ridge = torch.einsum("blc,lh->bhc", x[..., :nt], weight) + bias[None, :, None]
        return out - mean[..., :nt] + ridge

    base.fit_windows = with_ridge
    window.WindowModel.network_forecast = residual_forecast


def patch_huber(delta: float) -> None:
    """Train (and stop early) on a Huber loss where the settings ask for MAE, divided by ``delta``."""
    forecast_loss = training.forecast_loss

    def huber(yhat, target, mask, cfg):
        if cfg.loss != "mae" or mask is not None or bool(torch.isnan(target).any()):
            return forecast_loss(yhat, target, mask, cfg)
        return nn.functional.huber_loss(yhat, target, delta=delta) / delta

    training.forecast_loss = huber


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ETTh1", choices=["ETTh1", "ETTh2"])
    ap.add_argument("--split", default="val", choices=["val", "inner"])
    ap.add_argument("--variant", default="base", choices=VARIANTS)
    ap.add_argument("--recipe", action="store_true", help="the long-horizon recipe (no refit), not the defaults")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.variant == "resid":
        patch_residual()
    elif args.variant.startswith("huber"):
        patch_huber({"huber05": 0.5, "huber1": 1.0}[args.variant])
    names = [args.dataset] + ([n for n in ("ETTh1", "ETTh2") if n != args.dataset] if args.variant == "pooled" else [])
    if args.variant == "phases":
        fits, scored = phase_rows(args.dataset, args.split)
    else:
        fits, scored = zip(*(rows(n, args.split) for n in names))
    params = dict(horizon=96, context=336, validation_fraction=0.25, random_state=0, device="cpu")
    if args.recipe:
        params.update(max_epochs=10, stride=1, patience=3, **lh.RECIPE, **lh.DEFAULTS["LRUForecaster"])
        params["refit"] = False
    if args.variant == "mse":
        params["loss"] = "mse"
    est = tsrec.LRUForecaster(**params)
    t0 = time.perf_counter()
    est.fit(list(fits) if len(fits) > 1 else fits[0])
    fit_s = time.perf_counter() - t0
    preds, actual = est.rolling_forecasts(list(scored) if len(scored) > 1 else scored[0])
    P, A = preds[0], actual[0]
    full = ~np.isnan(A).any(axis=(1, 2))
    P, A = P[full], A[full]
    setting = "recipe" if args.recipe else "defaults + 336"
    print(f"{args.dataset}-96 {args.split} {setting} {args.variant}: MSE {np.mean((P - A) ** 2):.4f}, "
          f"MAE {np.mean(np.abs(P - A)):.4f} ({len(P)} origins, {len(est.history_['loss'])} epochs, "
          f"fit {fit_s:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
