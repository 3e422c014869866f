"""The stream a fitted forecaster continues from.

After ``fit`` (or the first ``partial_fit``) an estimator keeps, per series,
the last ``keep = (context or 0) + horizon`` raw rows (the *buffer*; a window
model whose partner reads more rows keeps ``partner_rows + horizon``) and, for
``context=None``, the model state after every row before the buffer. The
forecast after the end of the stream is the model run over the buffer from
that state, so ``predict()`` costs O(keep), and ``partial_fit`` advances the
state over the new rows only. Memory is bounded by the parameters, the buffer
and the replay buffer, never by the length of the stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..data import Batch, SeriesMeta, StandardScaler, advance_meta, future_index, order_by_ids, seam_gap
from ..nn.blocks import State
from ..nn.causal_norm import CausalInstanceNorm
from ..nn.covariates import lookahead
from ..training import forecast_rows, is_window_model, sliding_windows, window_forecast

__all__ = ["Stream", "advance", "advance_panel", "forecast_at", "forecast_many", "forecast_panel",
           "forecast_states", "offer_to_reservoir", "padded_windows", "replay_sample", "scaler_of", "state_after",
           "update_batch", "update_window_counts"]

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
        The last ``keep`` raw rows of each series (``(context or 0) + horizon``, or
        ``Frame.window_rows + horizon``).
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

    def states(self) -> list[State | None]:
        """:meth:`state_of` of every series (the same views, cut with one ``split`` per tensor)."""
        if self.state is None:
            return [None] * len(self.buffers)
        parts = {k: v.split(1) for k, v in self.state.items()}
        return [{k: p[i] for k, p in parts.items()} for i in range(len(self.buffers))]

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
        names = [f"X (unique_id {uid!r})" for uid in self.ids] if self.kind == "long" else \
            [f"X[{i}]" for i in range(n)] if self.is_list else ["X"]
        metas = [advance_meta(m, new, len(v), what) for m, new, v, what in
                 zip(self.metas, batch.meta, batch.values, names)]
        return batch, metas

    def continued(self, values: Sequence[np.ndarray], metas: list[SeriesMeta], model: nn.Module,
                  scaler: Scalers, *, keep: int, stateful: bool, replay_size: int, replay_window: int,
                  offer: bool, device: torch.device) -> Stream:
        """A new stream: this one continued by ``values`` (one array of new rows per series).

        The state advances over the rows that leave the buffer, with ``model``
        as it is; with ``offer`` the tails' complete windows go to the replay
        reservoir. ``self`` does not change (the caller commits).
        """
        leaving, new_buffers, replay, seen = [], [], list(self.replay), self.replay_seen
        replay_series = list(self.replay_series)
        # replay candidates come from a tail of the last replay window of rows per series (only
        # while replay is on: a tail started afresh never spans a gap)
        tails = self.tails if replay_size else None
        new_tails = []
        if not replay_size and len({len(b) for b in self.buffers}) == 1 and len({len(v) for v in values}) == 1:
            # every series moves by as many rows (a panel's usual chunk): stacked, without per-series copies
            ext = np.concatenate([np.stack(self.buffers), np.stack(values)], axis=1)
            n_adv = max(ext.shape[1] - keep, 0)
            leaving = list(ext[:, : n_adv + lookahead(model)] if n_adv else ext[:, :0])
            new_buffers = list(ext[:, n_adv:].copy())
        else:
            for i, (buf, v) in enumerate(zip(self.buffers, values)):
                ext = np.concatenate([buf, v], axis=0)
                n_adv = max(len(ext) - keep, 0)
                # a model with known-future covariates reads its lookahead rows after the rows it advances over
                leaving.append(ext[: n_adv + lookahead(model)] if n_adv else ext[:0])
                new_buffers.append(ext[n_adv:].copy())
                if replay_size:
                    tail = np.concatenate([tails[i], v], axis=0) if tails is not None else v
                    new_tails.append(tail[-replay_window:].copy())
                    if offer:
                        replay, seen = offer_to_reservoir(replay, seen, new_tails[-1], replay_size, replay_window,
                                                          tags=replay_series, tag=i)
        # every series' state advances in one batched pass (series that move by the same number of rows together)
        state = advance_panel(model, scaler, leaving, self.state, device) if stateful else None
        return replace(self, buffers=new_buffers, state=state, metas=metas, replay=replay,
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
    return state_after(model, x, state)


def state_after(model: nn.Module, x: Tensor, state: State | None) -> State:
    """``model(x, state)[1]``: by the model's ``state_after`` where it has one (the same numbers without the
    forecasts, which the state does not read), else by its forward."""
    fn = getattr(model, "state_after", None)
    return fn(x, state) if fn is not None else model(x, state)[1]


def _by_length(lengths: Sequence[int]) -> dict[int, list[int]]:
    """Positions grouped by their length (in first-seen order)."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(int(n), []).append(i)
    return groups


def _scaled_stack(scaler: Scalers, rows: Sequence[np.ndarray], idx: Sequence[int], device: torch.device) -> Tensor:
    """Rows of equal length of series ``idx``, scaled (each by its series' scaler) and stacked ``(len(rows), L, C)``
    (float32; one transform for a shared scaler)."""
    if isinstance(scaler, (list, tuple)):
        arr = np.stack([scaler[i].transform(r) for i, r in zip(idx, rows)])
    else:
        arr = scaler.transform(np.stack(rows))
    return torch.from_numpy(arr.astype(np.float32)).to(device)


@torch.no_grad()
def advance_panel(model: nn.Module, scaler: Scalers, rows: Sequence[np.ndarray], state: State | None,
                  device: torch.device) -> State:
    """The states after each series' ``rows`` (raw) from ``state`` (series on the batch axis; zero when None).

    One batched forward per distinct row count: series that move by the same
    number of rows advance together, a series with no rows keeps its state.
    ``state`` is not modified.
    """
    if state is None:
        state = model.init_state(len(rows), device=device)
    groups = {n: idx for n, idx in _by_length([len(r) for r in rows]).items() if n > 0}
    if not groups:
        return state
    if len(groups) == 1 and len(next(iter(groups.values()))) == len(rows):  # all move together: no scatter
        return state_after(model, _scaled_stack(scaler, rows, range(len(rows)), device), state)
    out = {k: v.clone() for k, v in state.items()}
    for idx in groups.values():
        pos = torch.as_tensor(idx, device=device)
        new = state_after(model, _scaled_stack(scaler, [rows[i] for i in idx], idx, device),
                          {k: v[pos] for k, v in state.items()})
        for k, v in new.items():
            out[k][pos] = v
    return out


def _reads_last(model: nn.Module) -> bool:
    """Whether a stream model's forecast after its last row is read there alone (``forward_last``): a stream model
    with causal instance normalisation. A plain stack (``instance_norm=False``, the stream model of every file
    saved before format 4) runs its whole forward, so that those files forecast bit for bit as they did."""
    return type(model) is CausalInstanceNorm


@torch.no_grad()
def forecast_panel(model: nn.Module, scaler: Scalers, buffers: Sequence[np.ndarray], state: State | None,
                   context: int | None, device: torch.device) -> np.ndarray:
    """Scaled forecasts ``(n_series, horizon, C_out)`` after the end of each buffer (raw rows), batched.

    The same forecasts as :func:`forecast_at` at each buffer's last row, in one
    forward per distinct buffer length: ``state`` (series on the batch axis) is
    the state before the buffers for ``context=None``; with a fixed context each
    forecast sees the buffer's last ``context`` rows (a window model's window
    padded at the front as :func:`padded_windows` pads it). A stream model
    with causal instance normalisation reads its forecast at the last row only
    (:meth:`~tsrec.nn.causal_norm.CausalInstanceNorm.forward_last`: equal up to
    float rounding); a plain stack (``instance_norm=False``, the stream model of
    every file saved before format 4) runs its whole forward, bit for bit as before.
    """
    window = is_window_model(model)
    out: list[Any] = [None] * len(buffers)
    for idx in _by_length([len(b) for b in buffers]).values():
        x = _scaled_stack(scaler, [buffers[i] for i in idx], idx, device)
        if context is None:
            pos = torch.as_tensor(idx, device=device)
            sub = None if state is None else state if len(idx) == len(buffers) else {k: v[pos] for k, v in
                                                                                     state.items()}
            f = model.forward_last(x, sub) if _reads_last(model) else model(x, sub)[0][:, -1]
        else:
            x = padded_windows(x, context, forecast_rows(model, context)) if window else x[:, -context:]
            f = window_forecast(model, x)
        if len(idx) == len(buffers):  # one group, in order: no scatter
            return f.cpu().numpy()
        for j, i in enumerate(idx):
            out[i] = f[j]
    return torch.stack(out).cpu().numpy()


@torch.no_grad()
def forecast_at(model: nn.Module, scaler: StandardScaler, rows: np.ndarray, state: State | None,
                origins: np.ndarray, context: int | None, horizon: int, device: torch.device) -> np.ndarray:
    """Scaled forecasts ``(len(origins), horizon, C_out)`` made at rows ``origins`` of ``rows`` (raw).

    ``state`` is the model state before ``rows[0]`` (``context=None``); with
    a fixed context each origin sees the ``context`` rows ending at it (a
    window model's window is padded at the front where fewer rows exist, and
    reaches further back where its partner reads more rows:
    :func:`padded_windows`). A model with known-future covariates also reads the
    ``horizon`` rows after each origin (their known-future channels only):
    ``rows`` must hold them. A single origin of a stream model with causal
    instance normalisation is read at its row alone, as :func:`forecast_panel`
    reads it (equal to the whole forward up to float rounding).
    """
    if len(origins) == 0:
        return np.zeros((0, horizon, model.c_out), dtype=np.float32)
    seq = torch.from_numpy(scaler.transform(rows).astype(np.float32)).to(device)
    ahead = lookahead(model)
    if int(np.max(origins)) + ahead >= len(rows):
        raise ValueError("the rows end before the known-future covariates of the last origin")
    if context is None:
        end = int(np.max(origins)) + 1 + ahead
        if len(origins) == 1 and not ahead and _reads_last(model):  # one forecast, read at its row alone (as predict)
            return model.forward_last(seq[None, :end], state).cpu().numpy()
        yhat, _ = model(seq[None, :end], state)
        return yhat[0, torch.as_tensor(origins, device=device)].cpu().numpy()
    out = np.zeros((len(origins), horizon, model.c_out), dtype=np.float32)
    length = forecast_rows(model, context)
    full = origins >= length - 1
    idx_full = np.nonzero(full)[0]
    for start in range(0, len(idx_full), 512):
        sel = idx_full[start : start + 512]
        wins = torch.stack([seq[o - length + 1 : o + 1 + ahead] for o in origins[sel]])
        out[sel] = window_forecast(model, wins).cpu().numpy()
    for i in np.nonzero(~full)[0]:
        rows_i = seq[None, : origins[i] + 1 + ahead]
        if is_window_model(model):
            rows_i = padded_windows(rows_i, context + ahead, length + ahead)
        out[i] = window_forecast(model, rows_i)[0].cpu().numpy()
    return out


def padded_windows(x: Tensor, context: int, rows: int) -> Tensor:
    """The last ``rows`` rows of the windows ``x`` ``(B, L, C)`` as a window model reads them: padded at the front
    with their first row up to ``context`` rows (what the network reads), then with NaN up to ``rows`` (rows
    before the series' first, which only a partner that reads more rows than the network sees, and skips:
    :func:`tsrec.nn.damped.history_forecast`).

    Examples
    --------
    >>> import torch
    >>> padded_windows(torch.tensor([[[1.0], [2.0]]]), context=3, rows=5)[0, :, 0]
    tensor([nan, nan, 1., 1., 2.])
    """
    x = x[:, -rows:]
    if x.shape[1] < context:
        x = torch.cat([x[:, :1].expand(-1, context - x.shape[1], -1), x], dim=1)
    if x.shape[1] < rows:
        x = torch.cat([x.new_full((x.shape[0], rows - x.shape[1], x.shape[2]), float("nan")), x], dim=1)
    return x


@torch.no_grad()
def forecast_states(model: nn.Module, scaler: Scalers, rows: Sequence[np.ndarray], states: Sequence[State | None],
                    origins: Sequence[np.ndarray], horizon: int, device: torch.device) -> list[np.ndarray]:
    """:func:`forecast_at` of a stateful model (``context=None``) for several series at once: per series ``i``,
    the scaled forecasts at ``origins[i]`` of ``rows[i]`` (scaled by series ``i``'s scaler) from ``states[i]``
    (a batch of one, or None for zero). Series whose rows have the same length run in one forward, their states
    stacked; a model with known-future covariates goes series by series."""
    out = [np.zeros((len(o), horizon, model.c_out), dtype=np.float32) for o in origins]
    todo = [i for i, o in enumerate(origins) if len(o)]
    if lookahead(model) or any(states[i] is None for i in todo):
        for i in todo:
            out[i] = forecast_at(model, scaler_of(scaler, i), rows[i], states[i], origins[i], None, horizon, device)
        return out
    for idx in _by_length([len(rows[i]) for i in todo]).values():
        members = [todo[j] for j in idx]
        x = _scaled_stack(scaler, [rows[i] for i in members], members, device)
        end = max(int(np.max(origins[i])) for i in members) + 1
        yhat, _ = model(x[:, :end], Stream.stack_states([states[i] for i in members]))
        for j, i in enumerate(members):
            out[i] = yhat[j, torch.as_tensor(origins[i], device=device)].cpu().numpy()
    return out


@torch.no_grad()
def forecast_many(model: nn.Module, scaler: Scalers, rows: Sequence[np.ndarray], origins: Sequence[np.ndarray],
                  context: int, horizon: int, device: torch.device) -> list[np.ndarray]:
    """:func:`forecast_at` for several series of a fixed-context model at once: per series ``i``, the scaled
    forecasts at ``origins[i]`` of ``rows[i]`` (scaled by series ``i``'s scaler). The windows of every series
    go through the model together (in batches of 2048); an origin with fewer rows before it than the model's
    windows read (``context``, or its partner's rows) goes through :func:`forecast_at` alone."""
    ahead, length = lookahead(model), forecast_rows(model, context)
    out = [np.zeros((len(o), horizon, model.c_out), dtype=np.float32) for o in origins]
    wins, where = [], []
    for i, (r, o) in enumerate(zip(rows, origins)):
        if len(o) and int(np.max(o)) + ahead >= len(r):
            raise ValueError("the rows end before the known-future covariates of the last origin")
        full = np.nonzero(o >= length - 1)[0]
        short = np.nonzero(o < length - 1)[0]
        if len(short):
            out[i][short] = forecast_at(model, scaler_of(scaler, i), r, None, o[short], context, horizon, device)
        if len(full):
            seq = torch.from_numpy(scaler_of(scaler, i).transform(r).astype(np.float32)).to(device)
            wins.extend(seq[k - length + 1 : k + 1 + ahead] for k in o[full])
            where.extend((i, j) for j in full)
    for start in range(0, len(wins), 2048):
        f = window_forecast(model, torch.stack(wins[start : start + 2048])).cpu().numpy()
        for (i, j), fj in zip(where[start : start + 2048], f):
            out[i][j] = fj
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


def update_batch(stream: Stream, values: Sequence[np.ndarray], scaler: Scalers, context: int | None,
                 horizon: int, batch_size: int,
                 device: torch.device) -> tuple[Tensor, State | None, Tensor | None] | None:
    """What ``partial_fit`` trains on, every series in one batch: ``(seq, state, lengths)`` (scaled), or None.

    ``context=None``: each series' buffer and new rows as one sequence from
    its carried state (``state``: every series' state), padded at the end with
    zeros to the longest; ``lengths`` holds each sequence's rows, so that the
    loss masks the padded steps and their targets (the models are causal: the
    padding never reaches a real step). A fixed context: windows of
    ``context + horizon`` rows, concatenated (``state`` and ``lengths`` None),
    the newest ``max(1, batch_size // n_series)`` of every series: ``batch_size``
    windows for one series, one per series (its newest, whose targets hold all
    its new rows when a chunk has at most ``horizon`` rows) for a panel of
    ``batch_size`` series or more. A series with fewer rows gives none. None
    when there is nothing to train on.
    """
    exts = [np.concatenate([buf, v], axis=0) for buf, v in zip(stream.buffers, values)]
    if context is not None:
        counts, rows = update_window_counts([len(e) for e in exts], context, horizon, batch_size), context + horizon
        wins = [sliding_windows([scaler_of(scaler, i).transform(e[-(rows + k - 1):])], rows, 1)
                for i, (e, k) in enumerate(zip(exts, counts)) if k]
        if not wins:
            return None
        return torch.from_numpy(np.concatenate(wins).astype(np.float32)).to(device), None, None
    lengths = [len(e) for e in exts]
    longest = max(lengths)
    if min(lengths) == longest:  # no padding: every series scaled in one op (a shared scaler)
        return _scaled_stack(scaler, exts, range(len(exts)), device), stream.state, None
    padded = np.zeros((len(exts), longest, exts[0].shape[1]), dtype=np.float32)
    for i, e in enumerate(exts):
        padded[i, : len(e)] = scaler_of(scaler, i).transform(e)
    uneven = min(lengths) != longest
    return (torch.from_numpy(padded).to(device), stream.state,
            torch.as_tensor(lengths, device=device) if uneven else None)


def update_window_counts(lengths: Sequence[int], context: int, horizon: int, batch_size: int) -> list[int]:
    """The windows :func:`update_batch` takes from each series of a fixed-context model, given the rows of
    each series' buffer and new rows: its newest ``max(1, batch_size // n_series)``, as many as it holds.

    In the batch, series ``i``'s windows follow those of the series before it, oldest first; its newest
    window ends at its last row.

    >>> update_window_counts([30, 12, 20], context=8, horizon=4, batch_size=32)
    [10, 1, 9]
    """
    per_series, rows = max(1, batch_size // max(len(lengths), 1)), context + horizon
    return [min(per_series, n - rows + 1) if n >= rows else 0 for n in lengths]
