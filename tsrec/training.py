"""The training loop shared by every estimator, and the windows it trains on.

The first section cuts tensors: the targets of every step (:func:`dense_targets`),
the sliding windows of a series (:func:`sliding_windows`) and the training and
validation windows of a fit (:func:`training_windows`).

One loop for all five models: AdamW with two parameter groups (the
recurrence's own parameters at a lower learning rate and without weight
decay), gradient clipping, dense supervision (a loss at every step whose
targets exist), early stopping on a validation set with best-weights restore,
a tqdm progress bar when verbose, NaN/inf detection that restores the last
good weights and retries at a lower learning rate a bounded number of times,
and per-epoch checkpoints that an interrupted fit resumes from.

A checkpoint is a folder ``epoch-NNNNN`` holding ``weights.safetensors`` (the
weights and the best weights so far, plus the progress as JSON metadata) and
``optimizer.pt`` (optimizer state and RNG states, written by ``torch.save``
and read back with ``torch.load(weights_only=True)``, which unpickles no
code). It is written under a temporary name and renamed, so a process killed
mid-write leaves the previous checkpoint intact.
Inside an initialised process group (``torchrun``) the same loop trains data-parallel
through DistributedDataParallel (see :mod:`tsrec.distributed`).

This module knows tensors and :mod:`tsrec.nn` models, not pandas.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from . import distributed
from .checkpoints import fit_id, load_checkpoint, save_checkpoint
from .nn.blocks import State
from .nn.covariates import lookahead
from .nn.online import OnlineRidge
from .nn.ridge import ridge_from_sums, ridge_sums
from .nn.window import WindowEnsemble, WindowModel, seasonal_naive

__all__ = [
    "dense_targets",
    "sliding_windows",
    "training_windows",
    "validation_windows",
    "seeded",
    "refit",
    "TrainConfig",
    "TrainingDivergedError",
    "resolve_device",
    "make_optimizer",
    "forecast_loss",
    "window_forecast",
    "forecast_rows",
    "lr_factor",
    "training_loss",
    "set_theta_weight",
    "choose_theta_weight",
    "choose_ridge_share",
    "ridge_host",
    "naive_share_wanted",
    "sequence_loss",
    "fit_windows",
    "gradient_steps",
    "clone_tree",
]


# ---------------------------------------------------------------------------
# Tensor windowing: the cuts the loop trains on (targets of every step, windows)
# ---------------------------------------------------------------------------

def dense_targets(seq: Tensor, horizon: int, n_targets: int) -> tuple[Tensor, Tensor]:
    """Targets of every step of ``seq`` for dense supervision.

    ``seq`` is ``(B, L, C)`` (targets in the first ``n_targets`` channels).
    Returns ``targets`` ``(B, L, horizon, n_targets)`` with
    ``targets[:, t, k] = seq[:, t + 1 + k]`` and a boolean ``mask`` ``(L, horizon)``
    that is False where t + 1 + k runs past the end (those targets are zeros).
    """
    B, L, _ = seq.shape
    pad = seq.new_zeros(B, horizon, n_targets)
    ext = torch.cat([seq[:, 1:, :n_targets], pad], dim=1)[:, : L - 1 + horizon]  # (B, L-1+H, n)
    if ext.shape[1] < L - 1 + horizon:  # L == 0 edge is excluded by callers
        ext = torch.cat([ext, seq.new_zeros(B, L - 1 + horizon - ext.shape[1], n_targets)], dim=1)
    targets = ext.unfold(1, horizon, 1).transpose(-1, -2)  # (B, L, H, n)
    t = torch.arange(L, device=seq.device)[:, None]
    k = torch.arange(horizon, device=seq.device)[None, :]
    return targets, (t + 1 + k) < L


def sliding_windows(series: Sequence[np.ndarray], length: int, stride: int = 1) -> np.ndarray:
    """All windows of ``length`` rows of each series, stacked: ``(N, length, C)``."""
    out = []
    for arr in series:
        if arr.shape[0] >= length:
            w = np.lib.stride_tricks.sliding_window_view(arr, length, axis=0)[::stride]  # (n, C, length)
            out.append(w.transpose(0, 2, 1))
    if not out:
        return np.zeros((0, length, series[0].shape[1] if len(series) else 0))
    return np.ascontiguousarray(np.concatenate(out, axis=0))


def training_windows(series: Sequence[np.ndarray], length: int, horizon: int, validation_fraction: float,
                     stride: int = 1, start_padding: bool = False) -> tuple[Tensor, Tensor | None]:
    """Training and validation windows of ``length + horizon`` rows from scaled series.

    The last ``validation_fraction`` of every series is held out where it
    spans ``horizon`` rows or more and ``length + horizon`` rows remain before
    it (else nothing of that series): validation windows are those whose forecast targets lie in that tail
    (:func:`validation_windows`). Both sets use ``stride`` (with stride 1 a long
    tail would cost more than an epoch). Returns ``(train, val)``, ``val`` None
    when nothing is held out. ``start_padding``: a series shorter than
    ``length + horizon`` rows is padded at its start with its first row to
    that length (one training window, nothing held out), as a forecast from a
    short history pads its window (:func:`tsrec.estimators.stream.padded_windows`).

    Examples
    --------
    >>> import numpy as np
    >>> train, val = training_windows([np.arange(40.0)[:, None]], length=8, horizon=4, validation_fraction=0.25)
    >>> train.shape, val.shape
    (torch.Size([19, 12, 1]), torch.Size([7, 12, 1]))
    >>> train, val = training_windows([np.arange(7.0)[:, None]], 8, 4, 0.25, start_padding=True)
    >>> train[:, :, 0].tolist(), val
    ([[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], None)
    """
    if start_padding:
        series = [s if len(s) >= length + horizon else
                  np.concatenate([np.repeat(s[:1], length + horizon - len(s), axis=0), s]) for s in series]
    parts = [s[: len(s) - _held_out(len(s), length, horizon, validation_fraction)] for s in series]
    train = torch.from_numpy(sliding_windows(parts, length + horizon, stride))
    return train, validation_windows(series, length, horizon, validation_fraction, stride)


def validation_windows(series: Sequence[np.ndarray], length: int, horizon: int, validation_fraction: float,
                       stride: int = 1, rows: int = 0) -> Tensor | None:
    """The validation windows of :func:`training_windows`, ``(N, max(length, rows) + horizon, C)``, or None.

    ``rows`` more than ``length``: each window holds that many rows before its targets, NaN before a series'
    first (what a window model whose partner reads more rows than its network forecasts from,
    :func:`forecast_rows`).

    Examples
    --------
    >>> import numpy as np
    >>> val = validation_windows([np.arange(40.0)[:, None]], 8, 4, 0.25, rows=32)
    >>> val.shape, int(val[0, :, 0].isnan().sum()), val[-1, -5:, 0].tolist()
    (torch.Size([7, 36, 1]), 2, [35.0, 36.0, 37.0, 38.0, 39.0])
    """
    before, parts = max(length, rows), []
    for s in series:
        n_val = _held_out(len(s), length, horizon, validation_fraction)
        if n_val:  # the windows whose forecast targets lie in the tail
            border = len(s) - n_val
            pad = np.full((max(0, before - border), s.shape[1]), np.nan, dtype=s.dtype)
            parts.append(np.concatenate([pad, s[max(0, border - before) :]]))
    return torch.from_numpy(sliding_windows(parts, before + horizon, stride)) if parts else None


def _held_out(n: int, length: int, horizon: int, validation_fraction: float) -> int:
    """The rows held out at the end of a series of ``n`` rows (0 where too few would remain or be held out)."""
    n_val = int(round(n * validation_fraction)) if validation_fraction > 0 else 0
    return 0 if n_val < horizon or n - n_val < length + horizon else n_val


@contextlib.contextmanager
def seeded(seed: int | None, device: torch.device | None = None) -> Iterator[None]:
    """A context in which torch's global RNG is seeded (and restored afterwards).

    With ``device``, only the CPU generator and that device's are seeded and
    restored (cheap enough to do at every ``partial_fit``); without, every
    device's generator is seeded by ``torch.manual_seed``.
    """
    devices = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            if device is None:
                torch.manual_seed(seed)
            else:
                torch.default_generator.manual_seed(seed)
                if devices:
                    torch.cuda.manual_seed(seed)
        yield


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------


class _WeightAverage:
    """An exponential moving average of a model's parameters over its optimiser steps (Polyak-Ruppert
    averaging): decay ``1 - 1 / n`` per step, bias-corrected, so that it weighs about the last ``n`` steps.

    Examples
    --------
    >>> layer = nn.Linear(1, 1, bias=False)
    >>> average = _WeightAverage(layer, n=2)  # decay 0.5
    >>> for w in (1.0, 3.0):
    ...     _ = layer.weight.data.fill_(w)
    ...     average.update(layer)
    >>> live = average.swap_in(layer)  # (0.5 * 1 + 3) / 1.5: the later step weighs twice the first
    >>> round(layer.weight.item(), 4), live["weight"].item()
    (2.3333, 3.0)
    """

    def __init__(self, model: nn.Module, n: int) -> None:
        self.decay, self.steps = 1.0 - 1.0 / max(n, 2), 0
        self.sums = [torch.zeros_like(p) for p in model.parameters()]

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Take the parameters after one more optimiser step into the average."""
        self.steps += 1
        params = [p.detach() for p in model.parameters()]
        torch._foreach_mul_(self.sums, self.decay)
        torch._foreach_add_(self.sums, params, alpha=1.0 - self.decay)

    def state(self) -> dict[str, Any]:
        """A copy of the average's state (for a checkpoint, or to roll back a failed epoch)."""
        return {"steps": self.steps, "sums": [s.clone() for s in self.sums]}

    def load(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (of :meth:`state`)."""
        self.steps = int(state["steps"])
        self.sums = [s.clone().to(t.device) for s, t in zip(state["sums"], self.sums)]

    @torch.no_grad()
    def swap_in(self, model: nn.Module) -> dict[str, Tensor]:
        """Put the averaged parameters into ``model`` (buffers stay as they are); returns a copy of its state
        before, to restore."""
        live = copy.deepcopy(model.state_dict())
        if self.steps:
            correction = 1.0 - self.decay**self.steps
            for p, s in zip(model.parameters(), self.sums):
                p.copy_(s / correction)
        return live


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite and retries at lower learning rates did not help."""


@dataclass
class TrainConfig:
    """Settings of one training run (what the estimator's hyperparameters become)."""

    lr: float = 3e-3
    weight_decay: float = 0.01
    recurrent_lr_scale: float = 0.5
    max_epochs: int = 20
    batch_size: int = 32
    early_stopping: bool = True
    patience: int = 5
    weight_average: bool = False  # score and keep, after each epoch, the average of the weights over its steps
    grad_clip: float = 1.0
    loss: str = "mse"
    lr_schedule: str = "constant"
    quantiles: tuple[float, ...] = ()
    max_retries: int = 3
    verbose: bool = False
    seed: int | None = None
    epoch_callback: Callable[[int, float], None] | None = field(default=None, repr=False)
    checkpoint_dir: str | os.PathLike | None = None
    fingerprint: str | None = None  # what identifies the fit a checkpoint belongs to (besides the data)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; otherwise ``torch.device(device)``."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but no CUDA GPU is available; use device='cpu' or 'auto'")
    if dev.type == "cuda" and dev.index is None and distributed.is_distributed():
        dev = torch.device("cuda", distributed.local_rank())  # one GPU per process
    return dev


def _recurrent_names(model: nn.Module) -> set[str]:
    names: set[str] = set()
    for mod_name, mod in model.named_modules():
        for p in getattr(mod, "recurrent_parameters", ()):
            names.add(f"{mod_name}.{p}" if mod_name else p)
    return names


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; recurrence parameters (named by a module's ``recurrent_parameters``),
    norms and biases get no weight decay, the recurrence ones ``recurrent_lr_scale * lr``."""
    rec = _recurrent_names(model)
    groups: dict[str, list[nn.Parameter]] = {"rec": [], "decay": [], "no_decay": []}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name in rec:
            groups["rec"].append(p)
        elif p.dim() < 2:
            groups["no_decay"].append(p)
        else:
            groups["decay"].append(p)
    params = [
        {"params": groups["decay"], "lr": cfg.lr, "weight_decay": cfg.weight_decay},
        {"params": groups["no_decay"], "lr": cfg.lr, "weight_decay": 0.0},
        {"params": groups["rec"], "lr": cfg.lr * cfg.recurrent_lr_scale, "weight_decay": 0.0},
    ]
    # torch's fused AdamW (one kernel per tensor group) is several times faster than its default
    # per-tensor loop on the CPU, which dominates a small model's streaming update; complex
    # parameters take the foreach path
    real = all(p.is_floating_point() for g in params for p in g["params"])
    return torch.optim.AdamW([g for g in params if g["params"]], **({"fused": True} if real else {"foreach": True}))


def forecast_loss(yhat: Tensor, target: Tensor, mask: Tensor | None, cfg: TrainConfig) -> Tensor:
    """Mean loss over the entries where ``mask`` (broadcast over batch and channels) is True.

    ``yhat`` is ``(..., H, n_targets * n_quantiles)`` for the quantile (pinball)
    loss, with the quantiles of a target adjacent; else ``(..., H, n_targets)``.
    NaN targets (missing values) are left out too; where no target is left the
    loss is 0, never NaN.
    """
    observed = ~torch.isnan(target)
    if not bool(observed.all()):  # missing targets: out of the loss, and out of the arithmetic (NaN * 0 is NaN)
        target = torch.where(observed, target, torch.zeros_like(target))
        if mask is not None:
            m = mask
            while m.dim() < target.dim() - 1:
                m = m.unsqueeze(0)
            observed = observed & m.unsqueeze(-1)
        mask = observed
    if cfg.loss == "quantile":
        q = torch.tensor(cfg.quantiles, dtype=yhat.dtype, device=yhat.device)
        pred = yhat.unflatten(-1, (target.shape[-1], len(cfg.quantiles)))
        diff = target.unsqueeze(-1) - pred
        err = torch.maximum(q * diff, (q - 1) * diff).mean(-1)
    elif cfg.loss == "mae":
        err = (yhat - target).abs()
    else:
        err = (yhat - target) ** 2
    if mask is None:
        return err.mean()
    m = mask.to(err.dtype)
    if m.shape != err.shape:  # a mask of steps, broadcast over batch and channels
        while m.dim() < err.dim() - 1:
            m = m.unsqueeze(0)
        m = m.unsqueeze(-1).expand_as(err)
    return (err * m).sum() / m.sum().clamp_min(1.0)


LR_SCHEDULES = ("constant", "onecycle", "cosine")


def lr_factor(schedule: str, step: int, total: int) -> float:
    """Multiplier of the base learning rate at optimiser step ``step`` of ``total``.

    ``"constant"``: 1. ``"onecycle"``: the one-cycle shape of Smith & Topin (torch's
    ``OneCycleLR`` defaults): a cosine rise from 1/25 to 1 over the first 30% of
    the steps, then a cosine fall to 1/250000. ``"cosine"``: a linear warm-up from
    1/25 to 1 over the first 5%, then a cosine fall to 0.

    Examples
    --------
    >>> lr_factor("onecycle", 0, 101), lr_factor("onecycle", 30, 101), lr_factor("constant", 30, 101)
    (0.04, 1.0, 1.0)
    """
    if schedule == "constant" or total <= 1:
        return 1.0
    t = min(max(step, 0), total - 1) / (total - 1)
    if schedule == "onecycle":
        lo, hi, end, peak = 1 / 25, 1.0, 1 / 25 / 1e4, 0.3
        if t <= peak:
            return lo + (hi - lo) * (1 - math.cos(math.pi * t / peak)) / 2
        return end + (hi - end) * (1 + math.cos(math.pi * (t - peak) / (1 - peak))) / 2
    if schedule == "cosine":
        warm = 0.05
        if t < warm:
            return 1 / 25 + (1 - 1 / 25) * t / warm
        return (1 + math.cos(math.pi * (t - warm) / (1 - warm))) / 2
    raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {schedule!r}")


def refit(model: nn.Module, initial: nn.Module, windows: Tensor, history: dict[str, list[float]], horizon: int,
          n_targets: int, cfg: TrainConfig, device: torch.device) -> dict[str, list[float]]:
    """Train ``initial``, a copy of ``model`` made before :func:`fit_windows` trained it, on every window
    ``windows`` (the held-out ones too) for the epoch count early stopping chose, and give ``model`` the weights
    it learns. That count is the best epoch of ``history`` (the argmin of its validation losses, 1-based); the
    learning-rate schedule is planned over it, without early stopping, checkpoints or the epoch callback.
    ``model``'s buffers (what its held-out windows chose: a ridge map, for one) and attributes stay. Returns
    ``history`` with the refit's training losses as ``"refit_loss"``.

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> from tsrec.nn.window import WindowModel
    >>> from tsrec.nn.lru import LRUModel
    >>> body = LRUModel(*WindowModel.body_channels(1, 1, 4), horizon=4, d_model=8, d_state=4, n_layers=1,
    ...                 skip_last=False)
    >>> model = WindowModel(body, 1, 1, 4, 12, 4)  # one channel, horizon 4, context 12, segments of 4 rows
    >>> initial = copy.deepcopy(model)
    >>> y = torch.sin(torch.arange(200.0) / 4)[:, None]
    >>> windows = y.unfold(0, 16, 1).transpose(1, 2)  # (185, 16, 1): 12 inputs, 4 targets
    >>> cfg = TrainConfig(max_epochs=3, seed=0)
    >>> history = fit_windows(model, windows[:150], windows[150:], 4, 1, cfg, torch.device("cpu"))
    >>> history = refit(model, initial, windows, history, 4, 1, cfg, torch.device("cpu"))
    >>> len(history["refit_loss"]) == int(np.argmin(history["val_loss"])) + 1
    True
    """
    epochs = int(np.argmin(history["val_loss"])) + 1
    run = replace(cfg, max_epochs=epochs, early_stopping=False, checkpoint_dir=None, epoch_callback=None,
                  fingerprint=None)
    refitted = fit_windows(initial, windows, None, horizon, n_targets, run, device)
    learned = dict(initial.named_parameters())
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(learned[name])
    return {**history, "refit_loss": refitted["loss"]}


def _set_lr(opt: torch.optim.Optimizer, factor: float) -> None:
    for group in opt.param_groups:
        group.setdefault("base_lr", group["lr"])
        group["lr"] = group["base_lr"] * factor


def window_forecast(model: nn.Module, x: Tensor) -> Tensor:
    """The forecast ``(B, H, C_out)`` made at the end of each window ``x`` ``(B, L, C)`` from a zero state.

    A :class:`~tsrec.nn.window.WindowModel` forecasts from its window directly; a
    stream model (:class:`~tsrec.nn.blocks.Stack`) runs over the window and its
    forecast at the last row is taken.
    """
    if is_window_model(model):
        return model(x)
    return model(x)[0][:, -1]


def forecast_rows(model: nn.Module, context: int) -> int:
    """The rows of the windows a forecast gives ``model`` of window ``context``: a
    :class:`~tsrec.nn.window.WindowModel`'s ``partner_rows`` where its partner reads more rows than its network,
    else ``context``."""
    return max(context, model.partner_rows) if is_plain_window_model(model) else context


def window_loss(model: nn.Module, windows: Tensor, horizon: int, n_targets: int, cfg: TrainConfig,
                forecasts: list[tuple[Tensor, Tensor]] | None = None) -> Tensor:
    """Loss of the forecast at the end of each window ``(B, L + horizon, C)`` against its last ``horizon`` rows.

    ``forecasts`` (a list): the pair of the network's forecasts ``(B, horizon, C_out)``, detached, and the windows
    ``x`` they read is appended to it (a :class:`~tsrec.nn.window.WindowModel` forecasts as out of training mode
    by :meth:`~tsrec.nn.window.WindowModel.with_theta` of the pair, which its caller applies where it needs it)."""
    L = windows.shape[1] - horizon  # a model with known-future covariates also reads the horizon's rows
    x, target = windows[:, : L + lookahead(model)], windows[:, L:, :n_targets]
    if isinstance(_unwrap(model), WindowEnsemble):  # each member on its own loss: they learn as they would alone
        forecasts = model(x, members=True)  # through the wrappers, if any (DDP's gradient hooks, the mask)
        return torch.stack([forecast_loss(f, target, None, cfg) for f in forecasts]).mean()
    yhat = window_forecast(model, x)
    if forecasts is not None:
        forecasts.append((yhat.detach(), x))
    return forecast_loss(yhat, target, None, cfg)


def is_plain_window_model(model: nn.Module) -> bool:
    """True for a :class:`~tsrec.nn.window.WindowModel` or :class:`~tsrec.nn.window.WindowEnsemble` itself, not
    wrapped (covariates, the missing-value mask, the online correction): the models whose forecasts may read the
    rows before the window and take the naive shares."""
    return type(model) in (WindowModel, WindowEnsemble)


def ridge_host(model: nn.Module) -> WindowModel | WindowEnsemble | None:
    """The window model that takes a ridge partner: ``model`` where it is plain (:func:`is_plain_window_model`),
    the plain model that an online correction (``online_update="ridge"``) wraps, else None."""
    if isinstance(model, OnlineRidge):
        model = model.inner
    return model if is_plain_window_model(model) else None


def is_window_model(model: nn.Module) -> bool:
    """True for a model that forecasts from a fixed window (trained on the forecast at the window's end)."""
    return isinstance(_unwrap(model), (WindowModel, WindowEnsemble))


def _unwrap(model: nn.Module) -> nn.Module:
    """The network inside a DDP wrapper (``.module``) and the wrappers that hold it as ``.inner``
    (:class:`~tsrec.nn.missing.MaskedInput`, :class:`~tsrec.nn.covariates.CovariateModel`)."""
    model = model.module if hasattr(model, "module") else model
    while hasattr(model, "inner"):
        model = model.inner
    return model


def training_loss(model: nn.Module, seq: Tensor, horizon: int, n_targets: int, cfg: TrainConfig,
                  state: State | None = None, n_inputs: int | None = None, lengths: Tensor | None = None,
                  forecasts: list[tuple[Tensor, Tensor]] | None = None) -> Tensor:
    """The loss a model trains on: :func:`window_loss` of each window ``seq`` for a window model (its
    forecasts and windows appended to ``forecasts``, when given), else :func:`sequence_loss` (dense, from ``state``, the
    first ``n_inputs`` rows as inputs, ``lengths`` rows each)."""
    if is_window_model(model):
        return window_loss(model, seq, horizon, n_targets, cfg, forecasts=forecasts)
    return sequence_loss(model, seq, horizon, n_targets, cfg, state=state, n_inputs=n_inputs, lengths=lengths)


def sequence_loss(
    model: nn.Module, seq: Tensor, horizon: int, n_targets: int, cfg: TrainConfig,
    state: State | None = None, n_inputs: int | None = None, lengths: Tensor | None = None,
) -> Tensor:
    """Dense loss of ``model`` run over ``seq`` ``(B, L, C)`` from ``state``.

    The first ``n_inputs`` rows (all by default, but the model's lookahead
    rows) are inputs; step t is scored against rows t+1..t+horizon of ``seq``
    where they exist. ``lengths`` ``(B,)``: sequence b holds ``lengths[b]``
    rows and is padded after them; its targets stop there (the model is
    causal, so the padding reaches no scored step; nor does it reach a step's
    lookahead rows), and the loss is the mean over every scored target.
    """
    ahead = lookahead(model)
    L = seq.shape[1] - ahead if n_inputs is None else n_inputs
    yhat, _ = model(seq[:, : L + ahead], state)
    targets, mask = dense_targets(seq, horizon, n_targets)
    if lengths is not None:  # (B, L, H): target row t + 1 + k, and step t's lookahead rows, lie inside sequence b
        t = torch.arange(L, device=seq.device)[:, None]
        reach = t + 1 + torch.arange(horizon, device=seq.device)
        n = lengths.to(seq.device)[:, None, None]
        return forecast_loss(yhat, targets[:, :L], (reach[None] < n) & (t[None] + ahead < n), cfg)
    return forecast_loss(yhat, targets[:, :L], mask[:L], cfg)


def _batches(n: int, batch_size: int, gen: torch.Generator, shuffle: bool) -> Iterable[Tensor]:
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    for i in range(0, n, batch_size):
        yield order[i : i + batch_size]


@torch.no_grad()
def _validation_loss(model: nn.Module, windows: Tensor, horizon: int, n_targets: int, cfg: TrainConfig,
                     device: torch.device) -> float:
    """Loss of the forecast made at the last input step of each validation window
    (each process scores its share of the windows when distributed)."""
    model.eval()
    total, count = 0.0, 0
    L = windows.shape[1] - horizon
    if distributed.is_distributed():
        windows = windows[distributed.rank() :: distributed.world_size()]
    for idx in range(0, windows.shape[0], max(cfg.batch_size, 256)):
        w = windows[idx : idx + max(cfg.batch_size, 256)].to(device)
        loss = forecast_loss(window_forecast(model, w[:, : L + lookahead(model)]), w[:, L:, :n_targets], None, cfg)
        total += loss.item() * w.shape[0]
        count += w.shape[0]
    if distributed.is_distributed():
        total, count = distributed.all_sum(total, count)
    model.train()
    return total / max(count, 1)


def clone_tree(obj: Any) -> Any:
    """A copy of nested dicts/lists/tuples with every tensor cloned (a fast ``deepcopy`` of state dicts)."""
    if isinstance(obj, Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: clone_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(clone_tree(v) for v in obj)
    return copy.copy(obj)


def _finite_params(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _backward_ok(model: nn.Module, loss: Tensor, grad_clip: float) -> bool:
    """Backward and clip; False (and no usable gradient) when the loss or the gradient norm is NaN/inf."""
    if not bool(torch.isfinite(loss)):
        return False
    loss.backward()
    params = [p for p in model.parameters() if p.grad is not None]
    if grad_clip:
        norm = nn.utils.clip_grad_norm_(params, grad_clip)
    else:
        norm = nn.utils.get_total_norm([p.grad for p in params])
    return bool(torch.isfinite(norm))


def fit_windows(
    model: nn.Module, train: Tensor, val: Tensor | None, horizon: int, n_targets: int, cfg: TrainConfig,
    device: torch.device,
) -> dict[str, list[float]]:
    """Train ``model`` on windows ``(N, L + horizon, C)``.

    Each window's first L rows are inputs. A window model
    (:class:`~tsrec.nn.window.WindowModel`) is scored on its forecast from the
    end of the inputs (the direct objective); a stream model runs over the
    inputs from a zero state and every step is scored against the rows after it
    (dense supervision). ``cfg.lr_schedule`` shapes the learning rate over the
    ``max_epochs`` planned epochs (see :func:`lr_factor`). ``val`` windows (same layout) score the
    forecast at their last input step after each epoch; with
    ``cfg.early_stopping`` training stops after ``cfg.patience`` epochs without
    improvement and the best weights are restored. With ``cfg.weight_average``
    the weights scored (and kept) after an epoch are the average of the weights
    over about that epoch's steps (:class:`_WeightAverage`); training itself
    goes on from the live weights.

    A loss (or weights) turning NaN/inf restores the weights of the last good
    epoch and retries it at a tenth of the learning rate; after
    ``cfg.max_retries`` such retries :class:`TrainingDivergedError` is raised.

    With ``cfg.checkpoint_dir`` a checkpoint is written after every epoch, and
    a checkpoint of the same fit found there is resumed from (see the module
    docstring); the resumed fit equals an uninterrupted one.

    Returns the history: ``{"loss": [...], "val_loss": [...], "lr": [...]}``.
    """
    ddp = distributed.is_distributed()
    seed = cfg.seed if cfg.seed is not None else int(np.random.randint(2**31))
    gen = torch.Generator().manual_seed(distributed.shared_seed(seed) if ddp else seed)
    L = train.shape[1] - horizon
    if ddp:
        distributed.check_same(train.shape[0], "training windows")
    net = distributed.wrap(model, device) if ddp else model  # the same parameters, gradients averaged
    cfg = copy.copy(cfg)
    opt = make_optimizer(model, cfg)
    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "lr": []}
    best_val, best_state, bad_epochs = math.inf, None, 0
    retries, epoch, stopped = 0, 0, False
    n_batches = math.ceil(train.shape[0] / cfg.batch_size)
    total_steps = cfg.max_epochs * n_batches  # the length of the lr schedule
    average = _WeightAverage(model, n_batches) if cfg.weight_average else None
    ckpt_dir = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir is not None else None
    run_id = fit_id(model, train, val, cfg.fingerprint, cfg.seed) if ckpt_dir is not None else ""
    if ckpt_dir is not None:
        found = load_checkpoint(ckpt_dir, run_id, device)
        if found is not None:
            progress, rng, weights, best_state = found
            model.load_state_dict(weights)
            cfg.lr = float(progress["lr"])
            opt = make_optimizer(model, cfg)
            opt.load_state_dict(rng["optimizer"])
            gen.set_state(rng["generator"])
            torch.set_rng_state(rng["torch_rng"])
            if "cuda_rng" in rng and device.type == "cuda":
                torch.cuda.set_rng_state(rng["cuda_rng"].cpu(), device)
            if average is not None:
                if "average" not in rng:
                    raise ValueError(f"the checkpoint in {ckpt_dir} holds no weight average; remove it to start afresh")
                average.load(rng["average"])
            history = {k: list(v) for k, v in progress["history"].items()}
            best_val, bad_epochs = float(progress["best_val"]), int(progress["bad_epochs"])
            retries, epoch, stopped = int(progress["retries"]), int(progress["epoch"]), bool(progress["stopped"])
    good_state = copy.deepcopy(model.state_dict())
    good_average = average.state() if average is not None else None
    bar = None
    if cfg.verbose and distributed.is_main_process():
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.max_epochs, initial=min(epoch, cfg.max_epochs), desc=type(model).__name__, unit="epoch")
    model.train()
    try:
        while epoch < cfg.max_epochs and not stopped:
            total, count, diverged = 0.0, 0, False
            step = epoch * n_batches
            for idx in _batches(train.shape[0], cfg.batch_size, gen, shuffle=True):
                n, weight = len(idx), 1.0
                if ddp:  # this process's share of the global batch
                    if (part := distributed.shard_batch(idx)) is None:
                        continue
                    idx, weight = part
                w = train[idx].to(device)
                _set_lr(opt, lr_factor(cfg.lr_schedule, step, total_steps))
                loss = training_loss(net, w, horizon, n_targets, cfg, n_inputs=L)
                # under DDP every process sees the same global loss and so takes the same branch
                value = distributed.global_mean(loss, weight) if ddp else loss.item()
                opt.zero_grad(set_to_none=True)
                if not math.isfinite(value) or not _backward_ok(model, loss * weight if ddp else loss, cfg.grad_clip):
                    opt.zero_grad(set_to_none=True)
                    diverged = True
                    break
                opt.step()
                if average is not None:
                    average.update(model)
                step += 1
                total += value * n
                count += n
            if diverged or not _finite_params(model):
                retries += 1
                if retries > cfg.max_retries:
                    model.load_state_dict(good_state)
                    raise TrainingDivergedError(
                        f"the training loss became NaN/inf in epoch {epoch + 1} and stayed so after {cfg.max_retries} "
                        f"retries at lower learning rates (last lr {cfg.lr:g}); lower lr or check the data scale"
                    )
                model.load_state_dict(good_state)
                if average is not None:  # the failed epoch's steps leave the average too
                    average.load(good_average)
                cfg.lr = cfg.lr * 0.1
                opt = make_optimizer(model, cfg)
                continue
            good_state = copy.deepcopy(model.state_dict())
            good_average = average.state() if average is not None else None
            history["loss"].append(total / max(count, 1))
            history["lr"].append(cfg.lr)
            score = history["loss"][-1]
            if val is not None and val.shape[0] > 0:
                live = average.swap_in(model) if average is not None else None  # scored: the averaged weights
                score = _validation_loss(model, val, horizon, n_targets, cfg, device)
                history["val_loss"].append(score)
                if score < best_val - 1e-12:
                    best_val, best_state, bad_epochs = score, copy.deepcopy(model.state_dict()), 0
                else:
                    bad_epochs += 1
                if live is not None:  # training goes on from the live weights
                    model.load_state_dict(live)
            epoch += 1
            stopped = bool(cfg.early_stopping and best_state is not None and bad_epochs >= cfg.patience)
            if ckpt_dir is not None and distributed.is_main_process():
                progress = {"fit_id": run_id, "epoch": epoch, "history": history, "best_val": best_val,
                            "bad_epochs": bad_epochs, "retries": retries, "lr": cfg.lr, "stopped": stopped}
                save_checkpoint(ckpt_dir, progress, model, best_state, opt, gen, device,
                                extra={"average": average.state()} if average is not None else None)
            if cfg.epoch_callback is not None:
                cfg.epoch_callback(epoch - 1, score)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{history['loss'][-1]:.4f}",
                                **({"val": f"{history['val_loss'][-1]:.4f}"} if history["val_loss"] else {}))
    finally:
        if bar is not None:
            bar.close()
    if cfg.early_stopping and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def set_theta_weight(model: nn.Module, weight: float) -> None:
    """Give every :class:`~tsrec.nn.window.WindowModel` inside ``model`` the Theta share ``weight``."""
    for m in model.modules():
        if isinstance(m, WindowModel):
            m.theta_weight = float(weight)


def choose_theta_weight(model: nn.Module, val: Tensor, horizon: int, n_targets: int, cfg: TrainConfig,
                        device: torch.device, grid: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)) -> float:
    """The Theta share of ``grid`` whose forecasts of the validation windows ``val`` have the least loss (as
    early stopping scores them; the first of equal ones), set on ``model`` and returned."""
    losses = []
    for weight in grid:
        set_theta_weight(model, weight)
        losses.append(_validation_loss(model, val, horizon, n_targets, cfg, device))
    best = grid[int(np.argmin(losses))]
    set_theta_weight(model, best)
    model.eval()
    return best


def choose_ridge_share(model: WindowModel | WindowEnsemble, train: Tensor, val: Tensor, horizon: int,
                       n_targets: int, cfg: TrainConfig, device: torch.device,
                       grid: tuple[float, ...] = (0.0, 0.25, 0.5)) -> float:
    """The share of a ridge regression's forecast in ``model``'s, set on it and returned: the ridge map of the
    training windows ``train`` (:func:`tsrec.nn.ridge.window_ridge`, its penalty chosen on the validation windows
    ``val``), the share of ``grid`` whose forecasts of ``val`` have the least loss (as early stopping scores them;
    the first of equal ones). With a share of 0 the model keeps no ridge map; with one above 0 it keeps the sums
    the map solves, which a stream adds its windows to (:meth:`~tsrec.nn.window.WindowModel.ridge_with`). A model
    with ``cross_ridge_rows`` above 0 gets the cross-channel map of those rows as well (its own penalty chosen on
    ``val``), and the ridge forecast is the mean of the two."""
    gram, xy = ridge_sums(train, model.context, horizon, n_targets)
    weight, bias, penalty = ridge_from_sums(gram, xy, val, model.context, horizon, n_targets)
    cross = rows = None
    if model.cross_ridge_rows:
        rows = model.cross_ridge_rows
        cross_sums = ridge_sums(train, rows, horizon, n_targets, cross_channel=True)
        cross = ridge_from_sums(*cross_sums, val, rows, horizon, n_targets, cross_channel=True)
        cross, cross_sums = cross[:2], (*cross_sums, cross[2])
    losses = []
    for share in grid:
        model.set_ridge(weight, bias, share, cross=None if cross is None else (*cross, None))
        losses.append(_validation_loss(model, val, horizon, n_targets, cfg, device))
    best = grid[int(np.argmin(losses))]
    model.set_ridge(weight, bias, best, (gram, xy, penalty), None if cross is None else (*cross, cross_sums))
    model.eval()
    return best


def naive_share_wanted(model: WindowModel | WindowEnsemble, val: Tensor, horizon: int, n_targets: int, cfg: TrainConfig,
                       device: torch.device, ratio: float, period: int | None = None) -> bool:
    """Whether the validation windows ``val`` ask for a share of a naive forecast in ``model``'s forecasts.

    ``period=None``: seasonal naive (the last ``model.theta_period`` rows repeated), where it forecasts the
    targets with a smaller mean absolute error than naive (the last row repeated); ``period=1``: naive, where its
    error is no larger than seasonal naive's (or the model has no season that the windows hold). In both, the
    model's forecasts must also have a loss (as early stopping scores them) above ``ratio`` times that naive
    forecast's. ``model`` forecasts as before the call."""
    L = val.shape[1] - horizon
    x, target = val[:, :L, :n_targets], val[:, L:, :n_targets]
    e_last = (x[:, -1:] - target).abs().nanmean()
    p = model.theta_period or 1
    e_season = (seasonal_naive(x, p, horizon) - target).abs().nanmean() if 2 <= p <= L else None
    if period is None and not (e_season is not None and bool(e_season < e_last)):
        return False
    if period == 1 and e_season is not None and bool(e_season < e_last):
        return False
    keep, losses = (model.naive_share, model.naive_period), []
    model.naive_period = period
    for weight in (0.0, 1.0):  # the model without the share, and moved all the way to the naive forecast
        model.naive_share = weight
        losses.append(_validation_loss(model, val, horizon, n_targets, cfg, device))
    model.naive_share, model.naive_period = keep
    model.eval()
    return losses[0] > ratio * losses[1]


def gradient_steps(
    model: nn.Module, opt: torch.optim.Optimizer, seq: Tensor, state: State | None, horizon: int, n_targets: int,
    cfg: TrainConfig, n_steps: int = 1, extra: Tensor | None = None, lengths: Tensor | None = None,
    on_forecast: Callable[[Tensor, Tensor], None] | None = None,
) -> float:
    """``n_steps`` optimiser steps on one stream segment, for ``partial_fit``.

    ``seq`` ``(B, L, C)`` continues from the detached ``state``; the loss is
    dense over the steps whose targets lie inside ``seq`` (truncated
    backpropagation through time). For a window model ``seq`` holds windows
    ``(B, context + horizon, C)`` and the loss is that of their forecasts. ``extra`` windows ``(N, L2 + horizon, C)``
    (a replay buffer) are added from a zero state. ``lengths`` ``(B,)``: the rows of each sequence of a
    padded batch (see :func:`sequence_loss`). ``on_forecast`` (a window model): called with the first
    step's network forecasts of the windows ``seq`` ``(B, horizon, C_out)`` (detached, made with the weights before
    the call, in training mode) and the inputs they read, before any weight moves (see :func:`window_loss`); what
    it raises leaves everything as it was. A
    non-finite loss or
    gradient leaves the weights and the optimizer state as they were before
    the call and raises :class:`TrainingDivergedError`.
    """
    window, ahead = is_window_model(model), lookahead(model)
    if (seq.shape[0] == 0 if window else seq.shape[1] - ahead < 2) and extra is None:
        return float("nan")
    # a divergence is caught before the optimiser steps, so only earlier steps need undoing
    before = (clone_tree(model.state_dict()), clone_tree(opt.state_dict())) if n_steps > 1 else None
    detached = None if state is None else {k: v.detach() for k, v in state.items()}
    model.train()
    last = float("nan")
    for i in range(n_steps):
        loss = seq.new_zeros(())
        if seq.shape[0] if window else seq.shape[1] - ahead >= 2:
            seen: list[tuple[Tensor, Tensor]] | None = [] if on_forecast is not None and i == 0 and window else None
            loss = loss + training_loss(model, seq, horizon, n_targets, cfg, state=detached, lengths=lengths,
                                        **({"forecasts": seen} if seen is not None else {}))
            if seen:
                on_forecast(*seen[0])
        if extra is not None and extra.shape[0] > 0:
            loss = loss + training_loss(model, extra, horizon, n_targets, cfg, n_inputs=extra.shape[1] - horizon)
        opt.zero_grad(set_to_none=True)
        if not _backward_ok(model, loss, cfg.grad_clip):
            opt.zero_grad(set_to_none=True)
            if i and before is not None:
                model.load_state_dict(before[0])
                opt.load_state_dict(before[1])
            model.eval()
            raise TrainingDivergedError("the partial_fit loss or its gradient became NaN/inf; the weights and "
                                        "the optimizer were left as they were")
        opt.step()
        last = loss.item()
    model.eval()
    return last
