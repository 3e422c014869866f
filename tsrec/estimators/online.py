"""``online_update="ridge"``: the online closed-form correction of a window model (fast and slow weights).

With ``online_update="ridge"`` an estimator's network is wrapped in a
:class:`~tsrec.nn.online.OnlineRidge` (see there for the model): after ``fit``
the network's weights stay as trained, and each updating ``partial_fit`` adds
every forecast origin whose ``horizon`` targets its rows complete (all series of
a panel, all targets) to the ridge statistics and solves them once. The
forecasts those statistics need are the ones the online calibration of
``predict_interval`` scores (made before the update), computed once for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ..data import StandardScaler
from ..nn.online import OnlineRidge
from .frame import Frame
from .stream import forecast_many

if TYPE_CHECKING:
    from .base import BaseForecaster

__all__ = ["ONLINE_UPDATES", "with_correction", "windows_at", "ridge_scored"]

#: What an updating ``partial_fit`` changes: "sgd", gradient steps on the weights; "ridge", the closed-form
#: correction alone.
ONLINE_UPDATES = ("sgd", "ridge")
#: Origins whose features are built at once (bounds the memory of a long first chunk).
BLOCK = 2048


def with_correction(est: BaseForecaster, model: nn.Module, frame: Frame, n_targets: int) -> nn.Module:
    """``model`` inside an :class:`~tsrec.nn.online.OnlineRidge` for ``online_update="ridge"`` (else as it is).

    Raises ValueError for a model without the direct head (``context=None`` or ``head="dense"``): the
    correction reads a window model's forecast from the end of its window."""
    if est.online_update != "ridge":
        return model
    if not frame.direct:
        raise ValueError(f"online_update='ridge' corrects the forecast of a window model: it needs the direct head "
                         f"(a fixed or automatic context), not context={est.context!r} with head={est.head!r} "
                         f"(the stateful dense model); use online_update='sgd' there")
    lags = est.online_lags if est.online_lags in (None, "auto") else min(int(est.online_lags), frame.context)
    return OnlineRidge(model, frame.context, n_targets, est._n_quantiles, lags=lags)


def windows_at(scaled: np.ndarray, origins: np.ndarray, context: int) -> np.ndarray:
    """``(len(origins), context, C)``: the ``context`` rows ending at each origin of ``scaled``, padded at the
    front with the first row where fewer exist (as :func:`~tsrec.estimators.stream.forecast_at` pads them).

    >>> windows_at(np.arange(5.0)[:, None], np.array([1, 4]), 3)[..., 0].tolist()
    [[0.0, 0.0, 1.0], [2.0, 3.0, 4.0]]
    """
    idx = np.clip(origins[:, None] - context + 1 + np.arange(context), 0, None)
    return scaled[idx]


@torch.no_grad()
def ridge_scored(model: OnlineRidge, scalers: Sequence[StandardScaler], rows: Sequence[np.ndarray],
                 origins: Sequence[np.ndarray], new: Sequence[np.ndarray], n_new: Sequence[int], forgetting: float,
                 alpha: float | str, reference: np.ndarray,
                 device: torch.device) -> tuple[list[np.ndarray], tuple]:
    """The forecasts at ``origins`` and the ridge solution after the origins ``new`` marks.

    Per series ``i``: ``rows[i]`` (raw, ending with the ``n_new[i]`` rows of the call), the sorted
    ``origins[i]``, and ``new[i]`` (bool, parallel to them): the origins whose targets the call completed.
    ``reference``: the targets' scales that become the model's ``unit`` at its first update.
    Returns the scaled forecasts (with the current correction) at every origin, and ``(A, B, total, W,
    unit)`` after the call: the old statistics weigh ``forgetting ** max(n_new)``, each new origin
    ``forgetting ** age`` (times its window's variance: see :class:`~tsrec.nn.online.OnlineRidge`), its age
    the rows of the call after its last target (counted from the end of the longest chunk), and ``W`` solves
    ``(A + alpha I) W = B`` (``alpha="auto"``: see :class:`~tsrec.nn.online.OnlineRidge`; then also the new
    candidates and scores). A target that is NaN (``missing="mask"``) leaves its window's row out. Nothing of
    ``model`` changes.
    """
    H, nt, ctx = model.horizon, model.n_targets, model.context
    plain = forecast_many(model.inner, scalers, rows, origins, ctx, H, device)
    elapsed = max(n_new) if len(n_new) else 0
    stats = model.decayed(forgetting, elapsed)
    scores = model.scores * float(forgetting) ** int(elapsed)
    active = bool(model.total > 0)
    unit = model.unit if bool((model.unit > 0).all()) else torch.as_tensor(reference, dtype=torch.float64,
                                                                            device=device)
    out = []
    for i, (r, o, is_new, p_all) in enumerate(zip(rows, origins, new, plain)):
        if not len(o) or not (active or is_new.any()):
            out.append(p_all)
            continue
        scaled = scalers[i].transform(r).astype(np.float32)
        corrected = p_all.copy()
        for start in range(0, len(o), BLOCK):
            sel = slice(start, start + BLOCK)
            x = torch.from_numpy(windows_at(scaled, o[sel], ctx)).to(device)
            p = torch.from_numpy(p_all[sel]).to(device)
            if active:
                corrected[sel] = (p + model.correction(x, p)).cpu().numpy()
            keep = is_new[sel]
            if not keep.any():
                continue
            ok = o[sel][keep]
            actual = torch.from_numpy(np.stack([scaled[k + 1 : k + 1 + H, :nt] for k in ok])).to(device)
            xs, ps = x[torch.from_numpy(keep).to(device)].double(), p[torch.from_numpy(keep).to(device)].double()
            phi, err = model.features(xs, ps), model.errors(xs, ps, actual.double())
            age = (len(r) - 1 - (ok + H)) + (elapsed - int(n_new[i]))
            w = torch.as_tensor(float(forgetting), dtype=torch.float64, device=device) ** torch.from_numpy(
                np.repeat(age, nt).astype(np.float64)).to(device)
            finite = torch.isfinite(err).all(1)
            # each window's std in the fixed units: scaled by this series' scaling now, divided by the reference
            ratio = torch.as_tensor(scalers[i].scale[:nt], dtype=torch.float64, device=device) / unit
            s = (model.scales(xs).reshape(-1, nt) * ratio).reshape(-1)
            stats = model.accumulated(stats, phi[finite], err[finite], w[finite], s[finite])
            if alpha == "auto":
                scores = scores + model.candidate_losses(phi[finite], err[finite], w[finite], s[finite])
        out.append(corrected)
    gram, cross, total = stats
    if not bool(total > 0):
        return out, (gram, cross, total, torch.zeros_like(model.weights), unit, None, None)
    weights, candidates = model.solved(gram, cross, alpha, scores)
    return out, (gram, cross, total, weights, unit, candidates, scores if alpha == "auto" else None)
