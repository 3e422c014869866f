"""The stream a fitted forecaster continues from.

After ``fit`` (or the first ``partial_fit``) an estimator keeps, per series,
the last ``keep = (context or 0) + horizon`` raw rows (the *buffer*) and, for
``context=None``, the model state after every row before the buffer. The
forecast after the end of the stream is the model run over the buffer from
that state, so ``predict()`` costs O(keep), and ``partial_fit`` advances the
state over the new rows only. Memory is bounded by the parameters, the buffer
and the replay buffer, never by the length of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from torch import nn

from ..data import SeriesMeta, StandardScaler
from ..nn.blocks import State

__all__ = ["Stream", "advance", "forecast_at", "offer_to_reservoir"]


@dataclass
class Stream:
    """What a fitted forecaster carries between calls, per series.

    Attributes
    ----------
    buffers : list of ndarray
        The last ``(context or 0) + horizon`` raw rows of each series.
    state : dict of Tensor or None
        The model state before each buffer, the series stacked on the batch
        axis (None with a fixed ``context``: each window starts from zero).
    metas : list of SeriesMeta
        Where each series ends (its last index label and step).
    kind : {"frame", "array", "long"}
        What the user gave, so forecasts come back as the same kind.
    is_list : bool
        Whether the series came as a list (a panel).
    ids : list
        The series ids of a long frame (empty otherwise).
    replay : list of ndarray
        The reservoir of raw replay windows (``replay_size`` at most).
    replay_seen : int
        Windows offered to the reservoir so far (its sampling counter).
    tails : list of ndarray or None
        Per series, the last replay window of rows (None while replay is off).
    n_updates : int
        ``partial_fit`` calls that updated the weights (seeds their dropout).
    """

    buffers: list[np.ndarray]
    state: State | None
    metas: list[SeriesMeta]
    kind: str
    is_list: bool
    ids: list[Any]
    replay: list[np.ndarray] = field(default_factory=list)
    replay_seen: int = 0
    tails: list[np.ndarray] | None = None
    n_updates: int = 0

    def state_of(self, i: int) -> State | None:
        """The carried model state of series ``i`` (batch of one), or None."""
        return None if self.state is None else {k: v[i : i + 1] for k, v in self.state.items()}

    @staticmethod
    def stack_states(states: list[State]) -> State | None:
        """Per-series states (batch of one each) stacked on the batch axis; None for none."""
        if not states:
            return None
        return {k: torch.cat([s[k] for s in states], dim=0) for k in states[0]}


def offer_to_reservoir(replay: list[np.ndarray], seen: int, window: np.ndarray, size: int,
                       length: int) -> tuple[list[np.ndarray], int]:
    """Offer ``window`` (once it holds ``length`` rows) to a reservoir of ``size`` windows.

    Returns the reservoir and the count of windows offered so far; the draw
    that decides a replacement is seeded by that count (reproducible).
    """
    if len(window) < length:
        return replay, seen
    seen += 1
    if len(replay) < size:
        replay.append(window)
    else:
        j = int(np.random.default_rng(seen).integers(seen))
        if j < size:
            replay[j] = window
    return replay, seen


@torch.no_grad()
def advance(model: nn.Module, scaler: StandardScaler, rows: np.ndarray, state: State | None,
            device: torch.device) -> State:
    """The model state after ``rows`` (raw), from ``state`` (zero when None)."""
    if state is None:
        state = model.init_state(1, device=device)
    if len(rows) == 0:
        return state
    x = torch.from_numpy(scaler.transform(rows).astype(np.float32)).to(device)[None]
    _, state = model(x, state)
    return state


@torch.no_grad()
def forecast_at(model: nn.Module, scaler: StandardScaler, rows: np.ndarray, state: State | None,
                origins: np.ndarray, context: int | None, horizon: int, device: torch.device) -> np.ndarray:
    """Scaled forecasts ``(len(origins), horizon, C_out)`` made at rows ``origins`` of ``rows`` (raw).

    ``state`` is the model state before ``rows[0]`` (``context=None``); with
    a fixed context each origin sees the ``context`` rows ending at it.
    """
    seq = torch.from_numpy(scaler.transform(rows).astype(np.float32)).to(device)
    if context is None:
        yhat, _ = model(seq[None], state)
        return yhat[0, torch.as_tensor(origins, device=device)].cpu().numpy()
    out = np.zeros((len(origins), horizon, model.c_out), dtype=np.float32)
    full = origins >= context - 1
    idx_full = np.nonzero(full)[0]
    for start in range(0, len(idx_full), 512):
        sel = idx_full[start : start + 512]
        wins = torch.stack([seq[o - context + 1 : o + 1] for o in origins[sel]])
        yhat, _ = model(wins)
        out[sel] = yhat[:, -1].cpu().numpy()
    for i in np.nonzero(~full)[0]:
        yhat, _ = model(seq[None, : origins[i] + 1])
        out[i] = yhat[0, -1].cpu().numpy()
    return out
