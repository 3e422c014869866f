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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data import Batch, SeriesMeta, StandardScaler, advance_meta, future_index, order_by_ids, seam_gap
from ..nn.blocks import State
from ..nn.covariates import lookahead
from ..training import is_window_model, sliding_windows, window_forecast

__all__ = ["Stream", "advance", "forecast_at", "offer_to_reservoir", "replay_sample", "scaler_of",
           "update_sequences"]

#: one scaler for every series, or one per series (``scaling="series"``)
Scalers = StandardScaler | Sequence[StandardScaler]


def scaler_of(scaler: Scalers, i: int) -> StandardScaler:
    """The scaler of series ``i``: ``scaler[i]`` of a per-series list, else the one shared scaler."""
    return scaler[i] if isinstance(scaler, (list, tuple)) else scaler


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
    replay_series : list of int
        The series each replay window came from (scales it under ``scaling="series"``).
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
    replay_series: list[int] = field(default_factory=list)

    def state_of(self, i: int) -> State | None:
        """The carried model state of series ``i`` (batch of one), or None."""
        return None if self.state is None else {k: v[i : i + 1] for k, v in self.state.items()}

    @classmethod
    def start(cls, batch: Batch, model: nn.Module, scaler: Scalers, *, keep: int, stateful: bool,
              replay_window: int | None, device: torch.device) -> Stream:
        """The stream at the end of ``batch``: its last ``keep`` rows and, when ``stateful``, the model
        state before them; the replay tails (the last ``replay_window`` rows) when replay is on."""
        buffers, states = [], []
        for i, v in enumerate(batch.values):
            buffers.append(v[-keep:].copy())
            if stateful:  # the rows before the buffer (and the lookahead rows a model with known futures reads)
                n_adv = max(len(v) - keep, 0)
                head = v[: n_adv + lookahead(model)] if n_adv else v[:0]
                states.append(advance(model, scaler_of(scaler, i), head, None, device))
        tails = [v[-replay_window:].copy() for v in batch.values] if replay_window else None
        return cls(buffers=buffers, state=cls.stack_states(states), metas=list(batch.meta), kind=batch.kind,
                   is_list=batch.is_list, ids=list(batch.id_values), tails=tails)

    def seam(self, batch: Batch, fill: bool = False) -> tuple[Batch, list[SeriesMeta]]:
        """``batch`` as the continuation of this stream (series in the stream's order) and the metas after it.

        Raises ValueError when the number of series differs or a series does not continue at its seam. With
        ``fill`` (``missing="mask"``) a gap of whole steps at a seam becomes rows of NaN before the new rows.
        """
        if batch.kind == "long" and self.kind == "long":
            batch = order_by_ids(batch, self.ids)  # continue each series by its id
        n = len(self.buffers)
        if len(batch.values) != n:
            raise ValueError(f"the stream has {n} series but {len(batch.values)} were given")
        if fill and any(seam_gap(m, new) for m, new in zip(self.metas, batch.meta)):
            values, metas = [], []
            for m, new, v in zip(self.metas, batch.meta, batch.values):
                k = seam_gap(m, new)
                values.append(np.concatenate([np.full((k, v.shape[1]), np.nan), v]) if k else v)
                metas.append(replace(new, first=future_index(m, 1)[0]) if k else new)
            batch = replace(batch, values=values, meta=metas)
        metas = [advance_meta(m, new, len(v)) for m, new, v in zip(self.metas, batch.meta, batch.values)]
        return batch, metas

    def continued(self, values: Sequence[np.ndarray], metas: list[SeriesMeta], model: nn.Module,
                  scaler: Scalers, *, keep: int, stateful: bool, replay_size: int, replay_window: int,
                  offer: bool, device: torch.device) -> Stream:
        """A new stream: this one continued by ``values`` (one array of new rows per series).

        The state advances over the rows that leave the buffer, with ``model``
        as it is; with ``offer`` the tails' complete windows go to the replay
        reservoir. ``self`` does not change (the caller commits).
        """
        new_states, new_buffers, replay, seen = [], [], list(self.replay), self.replay_seen
        replay_series = list(self.replay_series)
        # replay candidates come from a tail of the last replay window of rows per series (only
        # while replay is on: a tail started afresh never spans a gap)
        tails = self.tails if replay_size else None
        new_tails = []
        for i, (buf, v) in enumerate(zip(self.buffers, values)):
            ext = np.concatenate([buf, v], axis=0)
            n_adv = max(len(ext) - keep, 0)
            if stateful:
                rows = ext[: n_adv + lookahead(model)] if n_adv else ext[:0]
                new_states.append(advance(model, scaler_of(scaler, i), rows, self.state_of(i), device))
            new_buffers.append(ext[n_adv:].copy())
            if replay_size:
                tail = np.concatenate([tails[i], v], axis=0) if tails is not None else v
                new_tails.append(tail[-replay_window:].copy())
                if offer:
                    replay, seen = offer_to_reservoir(replay, seen, new_tails[-1], replay_size, replay_window,
                                                      tags=replay_series, tag=i)
        return replace(self, buffers=new_buffers, state=self.stack_states(new_states), metas=metas, replay=replay,
                       replay_seen=seen, tails=new_tails if replay_size else None, replay_series=replay_series)

    @staticmethod
    def stack_states(states: list[State]) -> State | None:
        """Per-series states (batch of one each) stacked on the batch axis; None for none."""
        if not states:
            return None
        return {k: torch.cat([s[k] for s in states], dim=0) for k in states[0]}


def offer_to_reservoir(replay: list[np.ndarray], seen: int, window: np.ndarray, size: int,
                       length: int, tags: list | None = None, tag: Any = None) -> tuple[list[np.ndarray], int]:
    """Offer ``window`` (once it holds ``length`` rows) to a reservoir of ``size`` windows.

    Returns the reservoir and the count of windows offered so far; the draw
    that decides a replacement is seeded by that count (reproducible). ``tags``
    (changed in place) is kept parallel to the reservoir, ``tag`` at the
    window's place.
    """
    if len(window) < length:
        return replay, seen
    seen += 1
    if len(replay) < size:
        replay.append(window)
        if tags is not None:
            tags.append(tag)
    else:
        j = int(np.random.default_rng(seen).integers(seen))
        if j < size:
            replay[j] = window
            if tags is not None and j < len(tags):
                tags[j] = tag
    return replay, seen


@torch.no_grad()
def advance(model: nn.Module, scaler: StandardScaler, rows: np.ndarray, state: State | None,
            device: torch.device) -> State:
    """The model state after ``rows`` (raw), from ``state`` (zero when None). A model with known-future
    covariates reads its lookahead rows after the rows it advances over: ``rows`` ends with them."""
    if state is None:
        state = model.init_state(1, device=device)
    if len(rows) <= lookahead(model):
        return state
    x = torch.from_numpy(scaler.transform(rows).astype(np.float32)).to(device)[None]
    _, state = model(x, state)
    return state


@torch.no_grad()
def forecast_at(model: nn.Module, scaler: StandardScaler, rows: np.ndarray, state: State | None,
                origins: np.ndarray, context: int | None, horizon: int, device: torch.device) -> np.ndarray:
    """Scaled forecasts ``(len(origins), horizon, C_out)`` made at rows ``origins`` of ``rows`` (raw).

    ``state`` is the model state before ``rows[0]`` (``context=None``); with
    a fixed context each origin sees the ``context`` rows ending at it (a
    window model's window is padded at the front with the first row where
    fewer rows exist). A model with known-future covariates also reads the
    ``horizon`` rows after each origin (their known-future channels only):
    ``rows`` must hold them.
    """
    if len(origins) == 0:
        return np.zeros((0, horizon, model.c_out), dtype=np.float32)
    seq = torch.from_numpy(scaler.transform(rows).astype(np.float32)).to(device)
    ahead = lookahead(model)
    if int(np.max(origins)) + ahead >= len(rows):
        raise ValueError("the rows end before the known-future covariates of the last origin")
    if context is None:
        end = int(np.max(origins)) + 1 + ahead
        yhat, _ = model(seq[None, :end], state)
        return yhat[0, torch.as_tensor(origins, device=device)].cpu().numpy()
    out = np.zeros((len(origins), horizon, model.c_out), dtype=np.float32)
    full = origins >= context - 1
    idx_full = np.nonzero(full)[0]
    for start in range(0, len(idx_full), 512):
        sel = idx_full[start : start + 512]
        wins = torch.stack([seq[o - context + 1 : o + 1 + ahead] for o in origins[sel]])
        out[sel] = window_forecast(model, wins).cpu().numpy()
    for i in np.nonzero(~full)[0]:
        rows_i = seq[None, : origins[i] + 1 + ahead]
        if is_window_model(model):
            rows_i = torch.cat([rows_i[:, :1].expand(1, context + ahead - rows_i.shape[1], -1), rows_i], dim=1)
        out[i] = window_forecast(model, rows_i)[0].cpu().numpy()
    return out


def replay_sample(stream: Stream, scaler: Scalers, batch_size: int, device: torch.device) -> Tensor | None:
    """Up to ``batch_size`` replay windows (scaled), drawn without replacement; None when the reservoir is empty.

    The draw is seeded by ``stream.replay_seen`` (reproducible). Per-series
    scalers scale each window by its series' (``stream.replay_series``).
    """
    if not stream.replay:
        return None
    gen = np.random.default_rng(stream.replay_seen)
    pick = gen.choice(len(stream.replay), size=min(len(stream.replay), batch_size), replace=False)
    if isinstance(scaler, (list, tuple)):
        if len(stream.replay_series) != len(stream.replay):
            raise ValueError("the replay windows' series are unknown; per-series scaling needs them")
        wins = [scaler[stream.replay_series[j]].transform(stream.replay[j]) for j in pick]
    else:
        wins = [scaler.transform(stream.replay[j]) for j in pick]
    return torch.from_numpy(np.stack(wins).astype(np.float32)).to(device)


def update_sequences(stream: Stream, values: Sequence[np.ndarray], scaler: Scalers, context: int | None,
                     horizon: int, batch_size: int,
                     device: torch.device) -> Iterator[tuple[int, Tensor, State | None]]:
    """What ``partial_fit`` trains on, per series ``i``: ``(i, seq, state)`` (scaled).

    ``context=None``: the series' buffer and new rows as one sequence from its
    carried state. A fixed context: the last ``batch_size`` windows of
    ``context + horizon`` rows from a zero state (a series with fewer rows is
    skipped).
    """
    for i, (buf, v) in enumerate(zip(stream.buffers, values)):
        ext = np.concatenate([buf, v], axis=0)
        sc = scaler_of(scaler, i)
        if context is None:
            yield i, torch.from_numpy(sc.transform(ext).astype(np.float32)).to(device)[None], stream.state_of(i)
        elif len(ext) >= context + horizon:
            wins = sliding_windows([sc.transform(ext)], context + horizon, 1)[-batch_size:]
            yield i, torch.from_numpy(wins.astype(np.float32)).to(device), None
