"""``online_update="ridge"``: the online closed-form correction of a window model (fast and slow weights).

With ``online_update="ridge"`` an estimator's network is wrapped in a
:class:`~tsrec.nn.online.OnlineRidge` (see there for the model): after ``fit``
the network's weights stay as trained, and each updating ``partial_fit`` adds
every forecast origin whose ``horizon`` targets its rows complete (all series of
a panel, all targets) to the ridge statistics and solves them once. The
forecasts those statistics need are the ones the online calibration of
``predict_interval`` scores (made before the update), computed once for both.

A model with a ridge partner (:attr:`tsrec.nn.window.WindowModel.ridge_share`,
chosen by ``fit``) keeps the sums its map solves; under ``online_update="ridge"``
every updating ``partial_fit`` also adds the windows whose targets its rows
complete and solves the map again (:func:`streamed_ridge`), so that the map
stays the ridge of every window seen. Under ``"sgd"`` the map stays as ``fit``
left it (benchmarks/rules/2026-12-07_p2_streamed_ridge.md: streaming it was
level or slightly worse for the defaults on 13 long series).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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

__all__ = ["ONLINE_UPDATES", "with_correction", "windows_at", "ridge_scored", "streamed_ridge"]

#: What an updating ``partial_fit`` changes: "sgd", gradient steps on the weights; "ridge", the closed-form parts
#: alone (the correction, and a ridge partner's map).
ONLINE_UPDATES = ("sgd", "ridge")
#: Origins whose features are built at once (bounds the memory of a long first chunk).
BLOCK = 2048


def with_correction(est: BaseForecaster, model: nn.Module, frame: Frame, n_targets: int) -> nn.Module:
    """``model`` inside an :class:`~tsrec.nn.online.OnlineRidge` for ``online_update="ridge"`` (else as it is).

    Raises ValueError for a model without the direct head (``context=None`` or ``head="dense"``): the
    correction reads a window model's forecast from the end of its window; and for ``persistence_blend``
    without ``online_update="ridge"`` (whose updates move the blend)."""
    if est.online_update != "ridge":
        if est.persistence_blend is not None:
            raise ValueError(f"persistence_blend={est.persistence_blend!r} needs online_update='ridge' (its updates "
                             f"move the blend's weights), got online_update={est.online_update!r}")
        return model
    if not frame.direct:
        raise ValueError(f"online_update='ridge' corrects the forecast of a window model: it needs the direct head "
                         f"(a fixed or automatic context), not context={est.context!r} with head={est.head!r} "
                         f"(the stateful dense model); use online_update='sgd' there")
    lags = est.online_lags if est.online_lags in (None, "auto") else min(int(est.online_lags), frame.context)
    blend = None if est.persistence_blend is None else int(est.persistence_blend)
    return OnlineRidge(model, frame.context, n_targets, est._n_quantiles, lags=lags, blend_half_life=blend)


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
    Returns the scaled forecasts (with the current correction and blend) at every origin, and ``(A, B, total,
    W, unit, candidates, scores, blend_errors)`` after the call: the old statistics weigh ``forgetting **
    max(n_new)``, each new origin ``forgetting ** age`` (times its window's variance: see
    :class:`~tsrec.nn.online.OnlineRidge`), its age the rows of the call after its last target (counted from
    the end of the longest chunk), and ``W`` solves ``(A + alpha I) W = B`` (``alpha="auto"``: see
    :class:`~tsrec.nn.online.OnlineRidge`; then also the new candidates and scores, else None). A target that is
    NaN (``missing="mask"``) leaves its window's row out. With the model's ``blend_half_life``, the new origins'
    squared errors of the corrected forecast (before the blend) and of persistence update the blend's error
    means by the same ages (else None). Nothing of ``model`` changes.
    """
    H, ctx = model.horizon, model.context
    plain = forecast_many(model.inner, scalers, rows, origins, ctx, H, device)
    elapsed = max(n_new) if len(n_new) else 0
    stats = model.decayed(forgetting, elapsed)
    scores = model.scores * float(forgetting) ** int(elapsed)
    active = bool(model.total > 0)
    unit = model.unit if bool((model.unit > 0).all()) else torch.as_tensor(reference, dtype=torch.float64,
                                                                            device=device)
    blend = model.blend_half_life is not None
    scored = [bool(len(o)) and (active or bool(is_new.any())) for o, is_new in zip(origins, new)]
    out = [p_all.copy() if go else p_all for go, p_all in zip(scored, plain)]
    nt = model.n_targets
    blend_model, blend_last, blend_ages = [], [], []
    for group in _batches([i for i, go in enumerate(scored) if go], origins):
        xs, ps, keeps, actuals, ages, ratios = [], [], [], [], [], []
        for i, sel in group:
            r, o = rows[i], origins[i][sel]
            scaled = scalers[i].transform(r).astype(np.float32)
            xs.append(windows_at(scaled, o, ctx))
            ps.append(plain[i][sel])
            keeps.append(new[i][sel])
            ok = o[keeps[-1]]
            actuals.append(np.stack([scaled[k + 1 : k + 1 + H, :nt] for k in ok]) if len(ok) else
                           np.zeros((0, H, nt), np.float32))
            ages.append((len(r) - 1 - (ok + H)) + (elapsed - int(n_new[i])))
            # each window's std in the fixed units: scaled by its series' scaling now, divided by the reference
            ratios.append(np.repeat(np.asarray(scalers[i].scale[:nt], dtype=np.float64)[None], len(ok), axis=0))
        x, p = torch.from_numpy(np.concatenate(xs)).to(device), torch.from_numpy(np.concatenate(ps)).to(device)
        corrected = p + model.correction(x, p) if active else p
        keep = torch.from_numpy(np.concatenate(keeps)).to(device)
        if blend and bool(keep.any()):  # the new origins' errors: the forecast's before the blend, the last value's
            actual = torch.from_numpy(np.concatenate(actuals)).to(device).double()
            blend_model.append((model._point(corrected[keep]).double() - actual) ** 2)
            blend_last.append((model.persistence(x[keep]).double() - actual) ** 2)
            blend_ages.append(np.concatenate(ages).astype(np.float64))
        if active:  # (the blend acts with the correction's first statistics)
            issued = (corrected + model.blend_shift(x, corrected) if blend else corrected).cpu().numpy()
            at = 0
            for (i, sel), part in zip(group, ps):
                out[i][sel] = issued[at : at + len(part)]
                at += len(part)
        if not bool(keep.any()):
            continue
        xk, pk = x[keep].double(), p[keep].double()
        actual = torch.from_numpy(np.concatenate(actuals)).to(device).double()
        phi, err = model.features(xk, pk), model.errors(xk, pk, actual)
        w = torch.as_tensor(float(forgetting), dtype=torch.float64, device=device) ** torch.from_numpy(
            np.repeat(np.concatenate(ages), nt).astype(np.float64)).to(device)
        finite = torch.isfinite(err).all(1)
        s = (model.scales(xk).reshape(-1, nt) * torch.from_numpy(np.concatenate(ratios)).to(device) / unit).reshape(-1)
        stats = model.accumulated(stats, phi[finite], err[finite], w[finite], s[finite])
        if alpha == "auto":
            scores = scores + model.candidate_losses(phi[finite], err[finite], w[finite], s[finite])
    blended = None
    if blend:
        blended = model.blend_errors.clone() if not blend_ages else \
            model.blend_updated(elapsed, torch.cat(blend_model), torch.cat(blend_last),
                                torch.from_numpy(np.concatenate(blend_ages)).to(device))
    gram, cross, total = stats
    if not bool(total > 0):
        return out, (gram, cross, total, torch.zeros_like(model.weights), unit, None, None, blended)
    weights, candidates = model.solved(gram, cross, alpha, scores)
    return out, (gram, cross, total, weights, unit, candidates, scores if alpha == "auto" else None, blended)



def streamed_ridge(host: nn.Module | None, scalers: Sequence[StandardScaler], rows: Sequence[np.ndarray],
                   n_new: Sequence[int], device: torch.device) -> dict | None:
    """The ridge partner of ``host`` (a window model or ensemble, see :func:`tsrec.training.ridge_host`) after the
    windows that the last ``n_new[i]`` rows of each ``rows[i]`` (raw) complete, scaled by ``scalers[i]``: the
    keyword arguments of :meth:`~tsrec.nn.window.WindowModel.set_ridge` but the share
    (:meth:`~tsrec.nn.window.WindowModel.ridge_with`), or None where there is none to update (no ridge, a model
    saved before format 26, no complete window). A window is ``context + horizon`` rows ending with its last
    target; one that ``rows`` do not hold whole is left out.

    >>> import numpy as np, torch
    >>> from tsrec.data import StandardScaler
    >>> streamed_ridge(None, [StandardScaler(1)], [np.zeros((5, 1))], [2], torch.device("cpu")) is None
    True
    """
    first = getattr(host, "members", [host])[0]  # an ensemble's members share one ridge
    if first is None or getattr(first, "ridge_gram", None) is None:
        return None
    span = host.context + host.horizon
    windows = []
    for scaler, r, n in zip(scalers, rows, n_new):
        ends = np.arange(max(len(r) - n + 1, span), len(r) + 1)  # each window's end (exclusive) in a new row
        if len(ends):
            scaled = scaler.transform(r).astype(np.float32)
            windows.append(scaled[ends[:, None] - span + np.arange(span)])
    if not windows:
        return None
    return host.ridge_with(torch.from_numpy(np.concatenate(windows)).to(device))


def _batches(series: list[int], origins: Sequence[np.ndarray]) -> Iterator[list[tuple[int, slice]]]:
    """The origins of ``series`` in batches of about :data:`BLOCK` (a long first chunk's memory stays bounded):
    lists of ``(series, slice of its origins)``; a series may span batches, a batch may join series.

    >>> [[(i, sl.start, sl.stop) for i, sl in b] for b in _batches([0, 1], [np.arange(3000), np.arange(10)])]
    [[(0, 0, 2048)], [(0, 2048, 4096), (1, 0, 2048)]]
    """
    group: list[tuple[int, slice]] = []
    size = 0
    for i in series:
        for start in range(0, len(origins[i]), BLOCK):
            group.append((i, slice(start, start + BLOCK)))
            size += len(origins[i][start : start + BLOCK])
            if size >= BLOCK:
                yield group
                group, size = [], 0
    if group:
        yield group
