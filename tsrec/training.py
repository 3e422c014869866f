"""The training loop shared by every estimator.

One loop for all five models: AdamW with two parameter groups (the
recurrence's own parameters at a lower learning rate and without weight
decay), gradient clipping, dense supervision (a loss at every step whose
targets exist), early stopping on a validation set with best-weights restore,
a tqdm progress bar when verbose, and NaN/inf detection that restores the last
good weights and retries at a lower learning rate a bounded number of times.
Inside an initialised process group (``torchrun``) the same loop trains data-parallel
through DistributedDataParallel (see :mod:`tsrec.distributed`).

This module knows tensors and :mod:`tsrec.nn` models, not pandas.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
from torch import Tensor, nn

from . import distributed
from .nn.blocks import State

__all__ = [
    "TrainConfig",
    "TrainingDivergedError",
    "resolve_device",
    "make_optimizer",
    "forecast_loss",
    "sequence_loss",
    "fit_windows",
    "gradient_steps",
]


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
    grad_clip: float = 1.0
    loss: str = "mse"
    quantiles: tuple[float, ...] = ()
    max_retries: int = 3
    verbose: bool = False
    seed: int | None = None
    epoch_callback: Callable[[int, float], None] | None = field(default=None, repr=False)


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
    return torch.optim.AdamW([g for g in params if g["params"]])


def forecast_loss(yhat: Tensor, target: Tensor, mask: Tensor | None, cfg: TrainConfig) -> Tensor:
    """Mean loss over the entries where ``mask`` (broadcast over batch and channels) is True.

    ``yhat`` is ``(..., H, n_targets * n_quantiles)`` for the quantile (pinball)
    loss, with the quantiles of a target adjacent; else ``(..., H, n_targets)``.
    """
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
    while m.dim() < err.dim() - 1:
        m = m.unsqueeze(0)
    m = m.unsqueeze(-1).expand_as(err)
    return (err * m).sum() / m.sum().clamp_min(1.0)


def sequence_loss(
    model: nn.Module, seq: Tensor, horizon: int, n_targets: int, cfg: TrainConfig,
    state: State | None = None, n_inputs: int | None = None,
) -> Tensor:
    """Dense loss of ``model`` run over ``seq`` ``(B, L, C)`` from ``state``.

    The first ``n_inputs`` rows (all by default) are inputs; step t is scored
    against rows t+1..t+horizon of ``seq`` where they exist.
    """
    from .data import dense_targets

    L = seq.shape[1] if n_inputs is None else n_inputs
    yhat, _ = model(seq[:, :L], state)
    targets, mask = dense_targets(seq, horizon, n_targets)
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
        yhat, _ = model(w[:, :L])
        loss = forecast_loss(yhat[:, -1], w[:, L:, :n_targets], None, cfg)
        total += loss.item() * w.shape[0]
        count += w.shape[0]
    if distributed.is_distributed():
        total, count = distributed.all_sum(total, count)
    model.train()
    return total / max(count, 1)


def fit_windows(
    model: nn.Module, train: Tensor, val: Tensor | None, horizon: int, n_targets: int, cfg: TrainConfig,
    device: torch.device,
) -> dict[str, list[float]]:
    """Train ``model`` on windows ``(N, L + horizon, C)`` with dense supervision.

    Each window's first L rows are inputs (from a zero state) and every step is
    scored against the rows after it. ``val`` windows (same layout) score the
    forecast at their last input step after each epoch; with
    ``cfg.early_stopping`` training stops after ``cfg.patience`` epochs without
    improvement and the best weights are restored.

    Returns the history: ``{"loss": [...], "val_loss": [...], "lr": [...]}``.
    """
    ddp = distributed.is_distributed()
    seed = cfg.seed if cfg.seed is not None else int(np.random.randint(2**31))
    gen = torch.Generator().manual_seed(distributed.shared_seed(seed) if ddp else seed)
    L = train.shape[1] - horizon
    if ddp:
        distributed.check_same(train.shape[0], "training windows")
    net = distributed.wrap(model, device) if ddp else model  # the same parameters, gradients averaged
    opt = make_optimizer(model, cfg)
    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "lr": []}
    best_val, best_state, bad_epochs = math.inf, None, 0
    good_state = copy.deepcopy(model.state_dict())
    retries = 0
    epochs = range(cfg.max_epochs)
    bar = None
    if cfg.verbose and distributed.is_main_process():
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.max_epochs, desc=type(model).__name__, unit="epoch")
    model.train()
    epoch = 0
    while epoch < cfg.max_epochs:
        total, count, diverged = 0.0, 0, False
        for idx in _batches(train.shape[0], cfg.batch_size, gen, shuffle=True):
            n, weight = len(idx), 1.0
            if ddp:  # this process's share of the global batch
                if (part := distributed.shard_batch(idx)) is None:
                    continue
                idx, weight = part
            w = train[idx].to(device)
            loss = sequence_loss(net, w, horizon, n_targets, cfg, n_inputs=L)
            value = distributed.global_mean(loss, weight) if ddp else loss.item()
            if not math.isfinite(value):
                diverged = True
                break
            opt.zero_grad(set_to_none=True)
            (loss * weight if ddp else loss).backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            total += value * n
            count += n
        if diverged:
            retries += 1
            if retries > cfg.max_retries:
                if bar is not None:
                    bar.close()
                raise TrainingDivergedError(
                    f"the training loss became NaN/inf in epoch {epoch + 1} and stayed so after {cfg.max_retries} "
                    f"retries at lower learning rates; lower lr (now {cfg.lr}) or check the data scale"
                )
            model.load_state_dict(good_state)
            cfg = copy.copy(cfg)
            cfg.lr = cfg.lr * 0.1
            opt = make_optimizer(model, cfg)
            continue
        good_state = copy.deepcopy(model.state_dict())
        history["loss"].append(total / max(count, 1))
        history["lr"].append(cfg.lr)
        if val is not None and val.shape[0] > 0:
            vloss = _validation_loss(model, val, horizon, n_targets, cfg, device)
            history["val_loss"].append(vloss)
            if cfg.epoch_callback is not None:
                cfg.epoch_callback(epoch, vloss)
            if vloss < best_val - 1e-12:
                best_val, best_state, bad_epochs = vloss, copy.deepcopy(model.state_dict()), 0
            else:
                bad_epochs += 1
        elif cfg.epoch_callback is not None:
            cfg.epoch_callback(epoch, history["loss"][-1])
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history['loss'][-1]:.4f}",
                            **({"val": f"{history['val_loss'][-1]:.4f}"} if history["val_loss"] else {}))
        epoch += 1
        if cfg.early_stopping and best_state is not None and bad_epochs >= cfg.patience:
            break
    if bar is not None:
        bar.close()
    if cfg.early_stopping and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history


def gradient_steps(
    model: nn.Module, opt: torch.optim.Optimizer, seq: Tensor, state: State | None, horizon: int, n_targets: int,
    cfg: TrainConfig, n_steps: int = 1, extra: Tensor | None = None,
) -> float:
    """``n_steps`` optimiser steps on one stream segment, for ``partial_fit``.

    ``seq`` ``(B, L, C)`` continues from the detached ``state``; the loss is
    dense over the steps whose targets lie inside ``seq`` (truncated
    backpropagation through time). ``extra`` windows ``(N, L2 + horizon, C)``
    (a replay buffer) are added from a zero state. A non-finite loss restores
    the weights and raises :class:`TrainingDivergedError`.
    """
    if seq.shape[1] < 2 and extra is None:
        return float("nan")
    before = copy.deepcopy(model.state_dict())
    detached = None if state is None else {k: v.detach() for k, v in state.items()}
    model.train()
    last = float("nan")
    for _ in range(n_steps):
        loss = seq.new_zeros(())
        if seq.shape[1] >= 2:
            loss = loss + sequence_loss(model, seq, horizon, n_targets, cfg, state=detached)
        if extra is not None and extra.shape[0] > 0:
            loss = loss + sequence_loss(model, extra, horizon, n_targets, cfg, n_inputs=extra.shape[1] - horizon)
        if not torch.isfinite(loss):
            model.load_state_dict(before)
            model.eval()
            raise TrainingDivergedError("the partial_fit loss became NaN/inf; the weights were left as they were")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        last = loss.item()
    model.eval()
    return last
