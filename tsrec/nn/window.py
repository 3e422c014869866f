"""Forecasting from the end of a fixed window: instance normalisation, segments, a direct head.

:class:`WindowModel` wraps any :class:`tsrec.nn.blocks.Stack` (LRU, LEM, S4,
Aaren or Transformer blocks) into the frame that wins on long-horizon
benchmarks (see ``docs/design.md``):

1. *instance normalisation* (RevIN): each input window is normalised by its own
   per-channel mean and standard deviation, and the forecast is mapped back with
   them (optionally through a learned affine); or, ``instance_norm="last"``, each
   window is taken relative to its last value (NLinear, SegRNN);
2. *segments*: the window is cut into ``patch_len``-row segments, each embedded
   by one linear layer (the body's encoder), so the recurrence runs over
   ``ceil(context / patch_len)`` steps instead of ``context``;
3. *channel independence* (optional): each target is its own series, with all
   the covariates beside it, through one shared body (PatchTST, DLinear);
4. a *direct head*: all ``horizon`` steps are read at once from the body's
   output at the last segment, plus a linear map of the normalised window
   (``linear_path``: dense, the NLinear/RLinear path, or period-sparse, the
   SparseTSF path of :class:`PeriodLinear`), so the model can represent the
   linear forecasters it is compared with;
5. a *combination* (optional, ``theta_weight``): out of training mode, the
   forecast is averaged with a classical forecast from the same window, the
   Theta method's (:func:`tsrec.nn.theta.theta_forecast`) or damped Holt's
   (:func:`tsrec.nn.damped.damped_forecast`), or, for a window that holds one
   season but not two (``one_season``), the Theta method on the window less that
   season (:func:`tsrec.nn.theta.one_season_forecast`). Training fits the
   network's own forecast; the combination is what validation, prediction and
   streaming see. With ``partner_rows`` the partner may read more rows than the
   network: the rows before the window, up to ``partner_rows`` in all; with
   ``ridge_share``, that forecast then moves that share of the way to a
   closed-form ridge regression's of the window (:func:`tsrec.nn.ridge.window_ridge`),
   and with ``naive_share`` that share of the way to seasonal naive (the
   window's last season repeated) or, with ``naive_period=1``, to naive (its
   last row repeated).

The model contract of a window model is one call::

    forward(x) -> yhat      x: (B, context, c_in)   yhat: (B, horizon, c_out)

(or ``x: (B, partner_rows, c_in)`` with ``partner_rows``: the network reads the
last ``context`` rows, the partner all of them less leading rows of NaN.)

``yhat`` forecasts the ``horizon`` rows after the window; the targets are the
first ``c_out // n_quantiles`` input channels. Segments are aligned to the
window's end (the oldest segment is padded with zeros: the window mean after
normalisation, its last value with ``"last"``), so a forecast exists after every
row of a stream: it is the window ending at that row.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .blocks import Stack
from .damped import ESTIMATED_ROWS, damped_forecast, history_blend_forecast, history_forecast, naive_blend_forecast
from .ridge import cross_forecast, ridge_sums, solve_ridge
from .theta import is_seasonal, one_season_forecast, theta_forecast
from .transformer import CausalSelfAttention

__all__ = ["LINEAR_PATHS", "PARTNERS", "PeriodLinear", "WindowEnsemble", "WindowModel", "memoised_partners",
           "partner_forecast", "seasonal_naive", "window_moments"]

#: The linear paths of a window model (see :class:`WindowModel`).
LINEAR_PATHS = ("dense", "sparse", "none")
#: The classical forecasts a window model's forecast can be combined with (``partner``), by name.
PARTNERS = {"theta": theta_forecast, "damped": damped_forecast}


@dataclass
class _Memo:
    """The forecasts :func:`memoised_partners` keeps, by window key, and the bytes they hold."""

    max_bytes: int
    table: dict = field(default_factory=dict)
    used: int = 0


#: the memo of the :func:`memoised_partners` block open in this context, if any
_MEMO: contextvars.ContextVar[_Memo | None] = contextvars.ContextVar("tsrec_partner_memo", default=None)


@contextlib.contextmanager
def memoised_partners(max_bytes: int = 256 * 2**20) -> Iterator[None]:
    """Within the block, :func:`partner_forecast` of windows it has seen in the block is looked up, not
    recomputed.

    The partners are pure functions of their windows, so a fit that scores the same validation windows after
    every epoch and for every share it tries computes their partner forecasts once. Windows are recognised by
    a hash of their values (and the partner, horizon, period, dtype and device); the memo keeps at most
    ``max_bytes`` of forecasts and is dropped when the block ends. It belongs to the thread (a context
    variable), so concurrent fits do not share it.

    Examples
    --------
    >>> import torch
    >>> y = torch.arange(24.0).reshape(2, 12)
    >>> with memoised_partners():
    ...     first = partner_forecast("damped", y, 3, None)
    ...     torch.equal(partner_forecast("damped", y, 3, None), first)
    True
    """
    token = _MEMO.set(_Memo(max_bytes))
    try:
        yield
    finally:
        _MEMO.reset(token)


def partner_forecast(partner: str, rows: Tensor, horizon: int, period: int | None,
                     estimated_rows: int = ESTIMATED_ROWS, one_season: bool = True,
                     horizon_errors: bool = False, tail_season: bool = False,
                     positive_differences: bool = False) -> Tensor:
    """``PARTNERS[partner](rows, horizon, period)``: the classical forecasts ``(N, horizon)`` of the windows
    ``rows`` ``(N, L)``, from the memo where :func:`memoised_partners` holds them. ``partner="one_season"``:
    :func:`tsrec.nn.theta.one_season_forecast`; ``partner="history"``: :func:`tsrec.nn.damped.history_forecast`
    (rows led by NaN; ``one_season``, ``tail_season`` and ``positive_differences`` its arguments),
    ``partner="history_blend"``:
    :func:`tsrec.nn.damped.history_blend_forecast` (the same); ``partner="naive_blend"``:
    :func:`tsrec.nn.damped.naive_blend_forecast`; ``estimated_rows`` and ``horizon_errors``: damped Holt's
    (:func:`tsrec.nn.damped.damped_forecast`; in every partner but Theta's)."""
    special = {"one_season": one_season_forecast, "history": history_forecast, "naive_blend": naive_blend_forecast,
               "history_blend": history_blend_forecast}
    method = special[partner] if partner in special else PARTNERS[partner]
    if partner in ("damped", "naive_blend"):
        method = functools.partial(method, estimated_rows=estimated_rows)
    else:
        estimated_rows = 0
    if partner in ("history", "history_blend"):
        method = functools.partial(method, one_season=one_season, tail_season=tail_season,
                                   positive_differences=positive_differences)
    else:
        one_season, tail_season, positive_differences = True, False, False
    if horizon_errors and partner in ("damped", "naive_blend", "history", "history_blend"):
        method = functools.partial(method, horizon_errors=True)
    else:
        horizon_errors = False
    memo = _MEMO.get()
    if memo is None:
        return method(rows, horizon, period)
    values = rows.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()  # the bytes, of any dtype
    key = (partner, estimated_rows, one_season, horizon_errors, tail_season, positive_differences, horizon, period,
           str(rows.dtype),
           str(rows.device),
           tuple(rows.shape), hashlib.blake2b(values, digest_size=32).digest())
    if key not in memo.table:
        forecast = method(rows, horizon, period)
        size = forecast.element_size() * forecast.numel()
        if memo.used + size > memo.max_bytes:
            return forecast
        memo.table[key] = forecast
        memo.used += size
    return memo.table[key]


class WindowModel(nn.Module):
    """A window forecaster around a body of blocks.

    Parameters
    ----------
    body : Stack
        Runs over the segments; built with the input and output channels
        that :meth:`body_channels` gives, the same ``horizon``, and
        ``skip_last=False``.
    c_in, c_out : int
        Input channels (targets first, then covariates) and output channels
        (targets x quantiles).
    horizon, context, patch_len : int
        Forecast steps, window rows and rows per segment.
    n_quantiles : int, default=1
        Quantiles per target (output channels are (target, quantile) pairs).
    instance_norm : bool, "robust" or "last", default=True
        True: normalise each window by its own mean and standard deviation
        (RevIN). ``"robust"``: the same with the moments of the window
        clipped at its median plus or minus five robust standard deviations
        (:func:`window_moments`). ``"last"``: subtract each window's last value (per channel)
        and add it back to the forecast, without scaling (NLinear, SegRNN).
        False: none.
    affine : bool, default=False
        A learned per-channel scale and shift after the instance normalisation
        (inverted on the output).
    linear_path : {"dense", "sparse", "none"}, default="dense"
        A linear map of each normalised target window added to the forecast,
        shared by the targets: ``"dense"`` is ``Linear(context -> horizon)``;
        ``"sparse"`` is :class:`PeriodLinear` over ``period`` phases (the same
        as dense for period 1); ``"none"`` adds nothing.
    period : int, default=1
        The seasonal period of the sparse linear path.
    skip_last : bool, default=False
        Add each target's last (normalised) value to its forecast: the heads
        learn the change from persistence, and start at persistence.
    channel_independent : bool, default=False
        Run the body on each target separately (with all covariates), the
        targets batched: one body shared by the targets.
    theta_weight : float, default=0.0
        Out of training mode, the forecast of each target is
        ``(1 - theta_weight) * network + theta_weight * partner``, ``partner``
        the classical forecast ``partner`` from the target's window (seasonal
        with ``theta_period``). In training mode the network's own forecast,
        so the loss trains the network alone. With quantiles, every quantile
        of a target moves by ``theta_weight * (partner - median)``,
        ``median`` its quantile ``median_index``: the spread stays the
        network's.
    partner : {"theta", "damped"}, default="theta"
        The classical forecast of the combination (:data:`PARTNERS`): the
        Theta method or damped Holt.
    theta_period : int, optional
        The seasonal period of the partner's forecast (None: not seasonal).
    one_season : bool, default=False
        The partner removes one season from each window instead
        (:func:`tsrec.nn.theta.one_season_forecast`, the Theta method on the
        window less its one season's indices), whatever ``partner`` says: for
        windows of ``theta_period + 1`` to ``2 * theta_period + 1`` rows,
        which the partners would forecast without the season. Needs
        ``theta_period >= 2`` and ``context >= theta_period + 1``.
    estimated_rows : int, default=ESTIMATED_ROWS
        Damped Holt's windows of at most this many rows are fitted as
        statsmodels fits them (:func:`tsrec.nn.damped.damped_forecast`); 0
        keeps the grid for all, as models saved before format 9 had.
    partner_rows : int, default=0
        More than ``context``: ``forward`` also takes windows of this many
        rows, the network reading their last ``context`` and the damped partner
        all of them less leading NaN rows (the rows before a series' first),
        deseasonalised where they show ``theta_period``'s season
        (:func:`tsrec.nn.damped.history_forecast`, whatever ``one_season``
        says); windows of ``context`` rows are forecast as without it. Needs
        ``partner="damped"``. 0: windows of ``context`` rows.
    history_one_season : bool, default=False
        That partner may forecast rows that hold one season but not two
        less their one season (``history_forecast``'s ``one_season``; models
        saved before format 12 forecast them without a season).
    tail_season : bool, default=False
        That partner may forecast rows of two to four seasons that fail the
        seasonality test as their last ``2 * theta_period + 1`` rows
        (``history_forecast``'s ``tail_season``; models saved before format 29
        forecast them without a season).
    positive_differences : bool, default=False
        That partner takes a season that only the rows' first differences
        show only where they correlate positively at lag ``theta_period``
        (``history_forecast``'s ``positive_differences``; models saved before
        format 30 take it of either sign).
    naive_blend : bool, default=False
        With ``partner="damped"``, a window of ``2 * theta_period + 3`` rows
        or more gets damped Holt blended with seasonal naive by their errors
        on its last rows (:func:`tsrec.nn.damped.naive_blend_forecast`; models
        saved before format 13 have damped Holt alone).
    history_blend : bool, default=False
        With ``partner_rows``, the partner that reads them is blended with
        seasonal naive by their errors on its last rows
        (:func:`tsrec.nn.damped.history_blend_forecast`; models saved before
        format 15 have it alone).
    naive_share : float, default=0.0
        Out of training mode, after the partner's share, each target's
        forecast moves ``naive_share`` of the way to seasonal naive (its last
        ``naive_period`` values repeated; every quantile with the median).
        0: none (models saved before format 18).
    naive_period : int or None, default=None
        The rows that seasonal naive repeats: None for ``theta_period`` (then
        ``theta_period >= 2``), 1 for naive (the last value; since format 19).
        A share needs windows of that many rows or more.
    horizon_errors : bool, default=False
        With ``partner="damped"``, damped Holt's grid may choose, per window,
        its weights by the errors ``horizon`` steps ahead as well as one step
        ahead, where a backtest on the window's last rows prefers it
        (:func:`tsrec.nn.damped.damped_forecast`; models saved before format
        21 have the one-step errors alone).
    seasonal_skip : bool, default=False
        With ``skip_last``, a window of ``2 * theta_period + 3`` rows or more
        gets its last season repeated (seasonal naive, per target) as the skip
        instead of its last value, in training and out of it: the heads learn
        the change from seasonal naive. Needs ``skip_last`` and
        ``theta_period >= 2`` (models saved before format 22
        have the last value).
    skip_per_window : bool, default=False
        With ``seasonal_skip``, only a window whose targets' first differences
        pass the partners' seasonality test at ``theta_period``
        (:func:`tsrec.nn.theta.is_seasonal`) takes the seasonal skip, any
        other the last value: how models saved in format 22 forecast (since
        format 23 ``fit`` decides once, on the fit's rows).
    ridge_share : float, default=0.0
        Out of training mode, after the partner's share and before the naive
        one, each target's forecast moves ``ridge_share`` of the way to the
        ridge forecast ``x @ ridge_weight + ridge_bias`` of its last
        ``context`` scaled values ``x`` (every quantile with the median). The
        buffers ``ridge_weight`` ``(context, horizon)`` and ``ridge_bias``
        ``(horizon,)`` exist (zero until :meth:`set_ridge`) where the share is
        above 0, else they are None. 0: none (models saved before format 25).
        With them the float64 buffers ``ridge_gram``, ``ridge_cross`` (the
        sums the map solves, :func:`tsrec.nn.ridge.ridge_sums`) and
        ``ridge_penalty``: :meth:`ridge_with` adds a stream's windows to them
        (None in a model saved before format 26, whose map stays fixed).
    cross_ridge_rows : int, default=0
        Where above 0 (at most ``context``) and the model has a ridge map,
        the ridge forecast is the mean of that map's and a cross-channel
        ridge's, which reads every target's last ``cross_ridge_rows`` values,
        each minus its last (:func:`tsrec.nn.ridge.cross_forecast`): its
        buffers ``cross_ridge_weight`` ``(cross_ridge_rows * n_targets,
        horizon * n_targets)``, ``cross_ridge_bias``, and its sums
        ``cross_ridge_gram``, ``cross_ridge_xy`` and ``cross_ridge_penalty``,
        given by :meth:`set_ridge` and streamed by :meth:`ridge_with` with
        the others. 0: none (models saved before format 27).
    median_index : int, default=0
        Which of a target's ``n_quantiles`` outputs is its median.

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.lru import LRUModel
    >>> c_in, c_out = WindowModel.body_channels(c_in=3, c_out=3, patch_len=8, channel_independent=True)
    >>> body = LRUModel(c_in, c_out, horizon=4, d_model=16, d_state=8, n_layers=1, skip_last=False)
    >>> model = WindowModel(body, c_in=3, c_out=3, horizon=4, context=32, patch_len=8, channel_independent=True)
    >>> model(torch.randn(5, 32, 3)).shape
    torch.Size([5, 4, 3])
    """

    def __init__(
        self, body: Stack, c_in: int, c_out: int, horizon: int, context: int, patch_len: int, n_quantiles: int = 1,
        instance_norm: bool | str = True, affine: bool = False, linear_path: str = "dense", period: int = 1,
        skip_last: bool = False, channel_independent: bool = False, eps: float = 1e-5, theta_weight: float = 0.0,
        theta_period: int | None = None, median_index: int = 0, partner: str = "theta", one_season: bool = False,
        estimated_rows: int = ESTIMATED_ROWS, partner_rows: int = 0, history_one_season: bool = False,
        tail_season: bool = False, positive_differences: bool = False, naive_blend: bool = False,
        history_blend: bool = False, naive_share: float = 0.0, naive_period: int | None = None,
        horizon_errors: bool = False, seasonal_skip: bool = False, skip_per_window: bool = False,
        ridge_share: float = 0.0, cross_ridge_rows: int = 0,
    ) -> None:
        super().__init__()
        if c_out % n_quantiles:
            raise ValueError(f"c_out={c_out} must be a multiple of n_quantiles={n_quantiles}")
        n_targets = c_out // n_quantiles
        if n_targets > c_in:
            raise ValueError(f"the targets must be among the inputs: c_out // n_quantiles = {n_targets} > "
                             f"c_in = {c_in}")
        if not (isinstance(instance_norm, bool) or instance_norm in ("last", "robust")):
            raise ValueError(f"instance_norm must be True, False, 'robust' or 'last', got {instance_norm!r}")
        if linear_path not in LINEAR_PATHS:
            raise ValueError(f"linear_path must be one of {LINEAR_PATHS}, got {linear_path!r}")
        if not 0.0 <= theta_weight <= 1.0:
            raise ValueError(f"theta_weight must be in [0, 1], got {theta_weight!r}")
        if partner not in PARTNERS:
            raise ValueError(f"partner must be one of {tuple(PARTNERS)}, got {partner!r}")
        if not 0 <= median_index < n_quantiles:
            raise ValueError(f"median_index must be in [0, {n_quantiles}), got {median_index!r}")
        if one_season and not (theta_period is not None and 2 <= theta_period < context):
            raise ValueError(f"one_season needs theta_period >= 2 and a context of theta_period + 1 rows or more, "
                             f"got theta_period={theta_period!r}, context={context}")
        if partner_rows and not (partner_rows > context and partner == "damped"):
            raise ValueError(f"partner_rows needs partner_rows > context and partner='damped', got "
                             f"partner_rows={partner_rows!r}, context={context}, partner={partner!r}")
        if naive_blend and partner != "damped":
            raise ValueError(f"naive_blend needs partner='damped', got partner={partner!r}")
        if horizon_errors and partner != "damped":
            raise ValueError(f"horizon_errors needs partner='damped', got partner={partner!r}")
        if seasonal_skip and not (skip_last and theta_period is not None and theta_period >= 2):
            raise ValueError(f"seasonal_skip needs skip_last and theta_period >= 2, got skip_last={skip_last!r}, "
                             f"theta_period={theta_period!r}")
        if skip_per_window and not seasonal_skip:
            raise ValueError("skip_per_window needs seasonal_skip: it says which windows take the seasonal skip")
        if history_blend and not partner_rows:
            raise ValueError("history_blend needs partner_rows: it blends the partner that reads the rows before "
                             "the window")
        if naive_period is not None and (isinstance(naive_period, bool) or not isinstance(naive_period, int)
                                         or not 1 <= naive_period <= context):
            raise ValueError(f"naive_period must be None or an int in [1, context={context}], got {naive_period!r}")
        repeats = naive_period is not None or (theta_period is not None and 2 <= theta_period <= context)
        if not 0.0 <= naive_share <= 1.0 or (naive_share and not repeats):
            raise ValueError(f"naive_share must be in [0, 1], and above 0 only with naive_period set or "
                             f"theta_period >= 2, and a context of that many rows or more, got "
                             f"naive_share={naive_share!r}, naive_period={naive_period!r}, "
                             f"theta_period={theta_period!r}, context={context}")
        if not 0.0 <= ridge_share <= 1.0:
            raise ValueError(f"ridge_share must be in [0, 1], got {ridge_share!r}")
        if not 1 <= patch_len <= context:
            raise ValueError(f"need 1 <= patch_len <= context, got patch_len={patch_len}, context={context}")
        if (body.c_in, body.c_out) != self.body_channels(c_in, c_out, patch_len, channel_independent, n_quantiles) \
                or body.horizon != horizon or body.skip_last:
            raise ValueError("the body must be a Stack with the channels of WindowModel.body_channels, the same "
                             "horizon, and skip_last=False")
        self.c_in, self.c_out, self.horizon, self.context, self.patch_len = c_in, c_out, horizon, context, patch_len
        self.n_quantiles, self.n_targets = n_quantiles, n_targets
        self.instance_norm, self.eps, self.skip_last = instance_norm, eps, skip_last
        self.channel_independent = channel_independent
        self.theta_weight, self.theta_period, self.median_index = float(theta_weight), theta_period, median_index
        self.partner, self.one_season, self.estimated_rows = partner, bool(one_season), int(estimated_rows)
        self.partner_rows, self.history_one_season = int(partner_rows), bool(history_one_season)
        self.tail_season, self.positive_differences = bool(tail_season), bool(positive_differences)
        self.naive_blend, self.history_blend = bool(naive_blend), bool(history_blend)
        self.naive_share, self.naive_period = float(naive_share), naive_period
        self.horizon_errors, self.seasonal_skip = bool(horizon_errors), bool(seasonal_skip)
        self.skip_per_window = bool(skip_per_window)
        self.ridge_share = float(ridge_share)
        self.register_buffer("ridge_weight", torch.zeros(context, horizon) if ridge_share else None)
        self.register_buffer("ridge_bias", torch.zeros(horizon) if ridge_share else None)
        # the sums the map solves (tsrec.nn.ridge.ridge_sums) and its penalty per row: a stream adds its windows
        self.register_buffer("ridge_gram", torch.zeros(context + 1, context + 1, dtype=torch.float64)
                             if ridge_share else None)
        self.register_buffer("ridge_cross", torch.zeros(context + 1, horizon, dtype=torch.float64)
                             if ridge_share else None)
        self.register_buffer("ridge_penalty", torch.zeros((), dtype=torch.float64) if ridge_share else None)
        if not 0 <= cross_ridge_rows <= context:
            raise ValueError(f"cross_ridge_rows must be in [0, context={context}], got {cross_ridge_rows!r}")
        self.cross_ridge_rows = int(cross_ridge_rows)
        k = cross_ridge_rows * n_targets
        for name, shape, dtype in self._cross_buffers(k + 1, horizon * n_targets):
            self.register_buffer(name, torch.zeros(shape, dtype=dtype) if ridge_share and k else None)
        self.n_segments = math.ceil(context / patch_len)
        self.body = body
        # whether training mode changes the body (its dropout draws)
        self._dropout = any((isinstance(m, nn.Dropout) and m.p > 0) or (isinstance(getattr(m, "dropout", None), float)
                                                                         and m.dropout > 0) for m in body.modules())
        for layer in body.modules():  # the body only ever runs from an empty state over n_segments steps:
            if isinstance(layer, CausalSelfAttention):  # a longer KV cache would be built and never read
                layer.max_steps = self.n_segments
        self.affine_weight = nn.Parameter(torch.ones(c_in)) if affine else None
        self.affine_bias = nn.Parameter(torch.zeros(c_in)) if affine else None
        self.linear = None if linear_path == "none" else \
            PeriodLinear(context, horizon, period if linear_path == "sparse" else 1)

    @staticmethod
    def body_channels(c_in: int, c_out: int, patch_len: int, channel_independent: bool = False,
                      n_quantiles: int = 1) -> tuple[int, int]:
        """The body's ``(c_in, c_out)``: a segment's values in, the forecast channels of one series out."""
        if channel_independent:
            n_targets = c_out // n_quantiles
            return patch_len * (1 + c_in - n_targets), n_quantiles
        return patch_len * c_in, c_out

    def forward(self, x: Tensor) -> Tensor:
        out = self.network_forecast(x)
        if self.combines and not self.training:
            out = self.with_theta(out, x)
        return out

    @property
    def combines(self) -> bool:
        """Whether out of training mode the forecast is the network's combined with another (a share above 0)."""
        return bool(self.theta_weight or self.ridge_share or self.naive_share)

    @staticmethod
    def _cross_buffers(n_in: int, n_out: int) -> list[tuple[str, tuple[int, ...], torch.dtype]]:
        """(name, shape, dtype) of the cross-channel ridge's buffers, ``n_in`` inputs with the bias' 1."""
        return [("cross_ridge_weight", (n_in - 1, n_out), torch.float32), ("cross_ridge_bias", (n_out,), torch.float32),
                ("cross_ridge_gram", (n_in, n_in), torch.float64), ("cross_ridge_xy", (n_in, n_out), torch.float64),
                ("cross_ridge_penalty", (), torch.float64)]

    def set_ridge(self, weight: Tensor | None, bias: Tensor | None = None, share: float = 0.0,
                  sums: tuple[Tensor, Tensor, float] | None = None,
                  cross: tuple[Tensor, Tensor, tuple[Tensor, Tensor, float] | None] | None = None) -> None:
        """Give the model the ridge map ``weight`` ``(context, horizon)``, ``bias`` ``(horizon,)`` (stored in the
        model's float dtype) and its ``share``; ``weight=None``: none (share 0, every ridge buffer None).
        ``sums``: ``(gram, cross, penalty)``, the sums the map solves (:func:`tsrec.nn.ridge.ridge_sums`) and its
        penalty per row, kept in float64 so that a stream can add its windows (:meth:`ridge_with`); None: the
        map stays as it is (a model saved before format 26). ``cross``: the cross-channel map of
        ``cross_ridge_rows``, ``(weight, bias, sums or None)`` alike (:func:`tsrec.nn.ridge.ridge_sums` with
        ``cross_channel=True``); None: none, the ridge forecast is the first map's alone."""
        if weight is None or not share:
            self._set_cross(None)
            self.ridge_weight = self.ridge_bias = None
            self.ridge_gram = self.ridge_cross = self.ridge_penalty = None
            self.ridge_share = 0.0
            return
        if tuple(weight.shape) != (self.context, self.horizon) or bias is None or tuple(bias.shape) != (self.horizon,):
            raise ValueError(f"the ridge map must be ({self.context}, {self.horizon}) and its bias ({self.horizon},), "
                             f"got {tuple(weight.shape)} and {None if bias is None else tuple(bias.shape)}")
        if not 0.0 < share <= 1.0:
            raise ValueError(f"ridge_share must be in [0, 1], got {share!r}")
        if sums is not None and (tuple(sums[0].shape) != (self.context + 1,) * 2
                                 or tuple(sums[1].shape) != (self.context + 1, self.horizon) or not sums[2] > 0):
            raise ValueError(f"the ridge sums must be ({self.context + 1}, {self.context + 1}) and "
                             f"({self.context + 1}, {self.horizon}) with a penalty above 0")
        if cross is not None:
            self._check_cross(*cross)
        p = next(self.parameters())
        self.ridge_weight = _stored(weight, p.dtype, p.device)
        self.ridge_bias = _stored(bias, p.dtype, p.device)
        self.ridge_share = float(share)
        if sums is None:
            self.ridge_gram = self.ridge_cross = self.ridge_penalty = None
        else:
            gram, xy, penalty = sums
            self.ridge_gram = _stored(gram, torch.float64, p.device)
            self.ridge_cross = _stored(xy, torch.float64, p.device)
            self.ridge_penalty = torch.tensor(float(penalty), dtype=torch.float64, device=p.device)
        self._set_cross(cross)

    def _check_cross(self, weight: Tensor, bias: Tensor, sums: tuple[Tensor, Tensor, float] | None) -> None:
        """Raise ValueError where the cross-channel map of :meth:`set_ridge` does not fit the model."""
        k, n_out = self.cross_ridge_rows * self.n_targets, self.horizon * self.n_targets
        if not k:
            raise ValueError("a cross-channel ridge map needs cross_ridge_rows above 0")
        given = [weight, bias] + ([] if sums is None else [sums[0], sums[1]])
        if any(tuple(t.shape) != shape for t, (_, shape, _) in zip(given, self._cross_buffers(k + 1, n_out))) or \
                (sums is not None and not sums[2] > 0):
            raise ValueError(f"the cross-channel ridge map must be ({k}, {n_out}) and its bias ({n_out},), its sums "
                             f"({k + 1}, {k + 1}) and ({k + 1}, {n_out}) with a penalty above 0")

    def _set_cross(self, cross: tuple[Tensor, Tensor, tuple[Tensor, Tensor, float] | None] | None) -> None:
        """Store the (checked) cross-channel map of :meth:`set_ridge`; None: every one of its buffers None."""
        names = [name for name, _, _ in self._cross_buffers(1, 1)]
        for name in names:
            setattr(self, name, None)
        if cross is None:
            return
        weight, bias, sums = cross
        p = next(self.parameters())
        self.cross_ridge_weight = _stored(weight, p.dtype, p.device)
        self.cross_ridge_bias = _stored(bias, p.dtype, p.device)
        if sums is not None:
            self.cross_ridge_gram = _stored(sums[0], torch.float64, p.device)
            self.cross_ridge_xy = _stored(sums[1], torch.float64, p.device)
            self.cross_ridge_penalty = torch.tensor(float(sums[2]), dtype=torch.float64, device=p.device)

    def ridge_with(self, windows: Tensor) -> dict | None:
        """The ridge after adding ``windows`` ``(N, >= context + horizon, c_in)`` (scaled, their targets the
        first ``n_targets`` channels) to its sums, each map re-solved at its penalty per row
        (:func:`tsrec.nn.ridge.solve_ridge`): the keyword arguments of :meth:`set_ridge` but the share
        (``weight``, ``bias``, ``sums`` and ``cross``, the cross-channel map where the model has one with its
        sums). None where the model keeps no sums (no ridge, or one saved before format 26). The model does not
        change."""
        if self.ridge_gram is None:
            return None
        windows = windows.to(self.ridge_gram.device)
        gram, xy = ridge_sums(windows, self.context, self.horizon, self.n_targets)
        sums = (self.ridge_gram + gram, self.ridge_cross + xy, float(self.ridge_penalty))
        out = dict(zip(("weight", "bias"), solve_ridge(*sums)), sums=sums, cross=None)
        if self.cross_ridge_gram is not None:
            gram, xy = ridge_sums(windows, self.cross_ridge_rows, self.horizon, self.n_targets, cross_channel=True)
            sums = (self.cross_ridge_gram + gram, self.cross_ridge_xy + xy, float(self.cross_ridge_penalty))
            out["cross"] = (*solve_ridge(*sums), sums)
        elif self.cross_ridge_weight is not None:  # a cross map without its sums stays as it is
            out["cross"] = (self.cross_ridge_weight, self.cross_ridge_bias, None)
        return out

    def network_forecast(self, x: Tensor) -> Tensor:
        """The network's own forecast ``(B, horizon, c_out)`` of the windows ``x``, before any combination (what
        ``forward`` gives in training mode)."""
        rows = (self.context, self.partner_rows) if self.partner_rows else (self.context,)
        if x.dim() != 3 or x.shape[1] not in rows or x.shape[2] != self.c_in:
            expected = " or ".join(f"(B, {r}, {self.c_in})" for r in rows)
            raise ValueError(f"expected x of shape {expected}, got {tuple(x.shape)}")
        x = x[:, -self.context:]
        if self.instance_norm == "last":
            mean, std = x[:, -1:], None
            z = x - mean
        elif self.instance_norm:
            mean, std = window_moments(x, self.eps, robust=self.instance_norm == "robust")
            z = (x - mean) / std
        else:
            z = x
        if self.affine_weight is not None:
            z = z * self.affine_weight + self.affine_bias
        nt, nq = self.n_targets, self.n_quantiles
        pad = self.n_segments * self.patch_len - self.context
        zp = nn.functional.pad(z, (0, 0, pad, 0)) if pad else z
        series = split_channels(zp, nt) if self.channel_independent else zp
        segments = series.reshape(series.shape[0], self.n_segments, -1)
        if isinstance(self.body, Stack) and not (self.training and self._dropout):
            out = self.body.forward_last(segments)  # (B, H, c_out): the forecast from the last segment
        else:  # (dropout's draws as they were: over every step)
            out = self.body(segments)[0][:, -1]
        if self.channel_independent:
            out = merge_channels(out, nt)
        def per_output(t: Tensor) -> Tensor:  # (..., n_targets) -> (..., c_out): quantiles share their target's
            return t.repeat_interleave(nq, dim=-1) if nq > 1 else t

        if self.linear is not None:
            out = out + per_output(self.linear(z[..., :nt].transpose(1, 2)).transpose(1, 2))
        if self.skip_last:
            out = out + per_output(self._skip(z[..., :nt]))
        if self.affine_weight is not None:
            out = (out - per_output(self.affine_bias[:nt])) / (per_output(self.affine_weight[:nt]) + self.eps**2)
        if self.instance_norm:
            out = (out if std is None else out * per_output(std[..., :nt])) + per_output(mean[..., :nt])
        return out

    def _skip(self, z: Tensor) -> Tensor:
        """What ``skip_last`` adds to the forecast of the normalised targets ``z`` (B, L, n_targets): their last
        row (B, 1, n_targets), or with ``seasonal_skip`` their last season repeated (B, horizon, n_targets) (with
        ``skip_per_window`` only where a target's first differences pass the seasonality test)."""
        period = self.theta_period or 0
        if not (self.seasonal_skip and z.shape[1] >= 2 * period + 3):
            return z[:, -1:]
        if not self.skip_per_window:
            return seasonal_naive(z, period, self.horizon)
        b, length, nt = z.shape
        diffs = torch.diff(z.transpose(1, 2).reshape(b * nt, length), dim=1)
        seasonal = is_seasonal(diffs, period).reshape(b, 1, nt)
        return torch.where(seasonal, seasonal_naive(z, period, self.horizon), z[:, -1:])

    def with_theta(self, out: Tensor, x: Tensor) -> Tensor:
        """The network's forecast ``out`` (B, H, c_out) of the windows ``x`` (B, context or partner_rows, c_in),
        moved ``theta_weight`` of the way to the partner's forecast of their targets, then ``ridge_share`` of the way
        to the ridge forecast, then ``naive_share`` of the way to seasonal naive (the last ``naive_period`` rows
        repeated, else the last ``theta_period``): what ``forward`` gives out of training mode. Each target's median
        moves, its other quantiles with it."""
        out = self._with_ridge(self._with_partner(out, x), x)
        if self.naive_share:
            period = self.theta_period if self.naive_period is None else self.naive_period
            return self._moved(out, self.naive_share, seasonal_naive(x[..., : self.n_targets], period, self.horizon))
        return out

    def _with_ridge(self, out: Tensor, x: Tensor) -> Tensor:
        """``out`` moved ``ridge_share`` of the way to the ridge forecast of the last ``context`` rows of ``x``."""
        if not self.ridge_share:
            return out
        rows = x[:, -self.context:, : self.n_targets].transpose(1, 2).to(self.ridge_weight.dtype)  # (B, nt, L)
        ridge = (rows @ self.ridge_weight + self.ridge_bias).transpose(1, 2)
        if self.cross_ridge_weight is not None:
            ridge = (ridge + cross_forecast(x[..., : self.n_targets], self.cross_ridge_weight, self.cross_ridge_bias,
                                            self.cross_ridge_rows, self.horizon)) / 2
        return self._moved(out, self.ridge_share, ridge)

    def _moved(self, out: Tensor, share: float, forecast: Tensor) -> Tensor:
        """``out`` (B, H, c_out) with each target's median moved ``share`` of the way to ``forecast`` (B, H,
        n_targets), its other quantiles with it."""
        nq = self.n_quantiles
        shift = share * (forecast.to(out.dtype) - out[..., self.median_index :: nq])
        return out + (shift.repeat_interleave(nq, dim=-1) if nq > 1 else shift)

    def _with_partner(self, out: Tensor, x: Tensor) -> Tensor:
        """``out`` moved ``theta_weight`` of the way to the partner's forecast (see :meth:`with_theta`)."""
        if not self.theta_weight:
            return out
        b, length, nt = x.shape[0], x.shape[1], self.n_targets
        rows = x[..., :nt].transpose(1, 2).reshape(b * nt, length)
        partner = "history" if length > self.context else "one_season" if self.one_season else self.partner
        if partner == "damped" and self.naive_blend:
            partner = "naive_blend"
        elif partner == "history" and self.history_blend:
            partner = "history_blend"
        forecast = partner_forecast(partner, rows, self.horizon, self.theta_period, self.estimated_rows,
                                    self.history_one_season, self.horizon_errors, self.tail_season,
                                    self.positive_differences)
        forecast = forecast.reshape(b, nt, self.horizon).transpose(1, 2)
        return self._moved(out, self.theta_weight, forecast)


def _stored(t: Tensor, dtype: torch.dtype, device: torch.device) -> Tensor:
    """A row-major copy of ``t`` to keep in a model: a loaded model's buffers are row-major, and a matrix product's
    rounding may depend on the layout of its operands (a Cholesky solve gives a column-major map), so a fitted model
    and its saved and loaded copy forecast alike to the bit."""
    return t.detach().to(dtype=dtype, device=device).clone(memory_format=torch.contiguous_format)


def seasonal_naive(x: Tensor, period: int, horizon: int) -> Tensor:
    """Seasonal naive's forecast ``(B, horizon, C)`` from windows ``x`` ``(B, L, C)`` of ``period`` rows or more:
    the last ``period`` rows repeated (``period=1``: naive, the last row).

    >>> seasonal_naive(torch.arange(10.0).reshape(1, 10, 1), period=4, horizon=6)[0, :, 0].tolist()
    [6.0, 7.0, 8.0, 9.0, 6.0, 7.0]
    >>> seasonal_naive(torch.arange(10.0).reshape(1, 10, 1), period=1, horizon=3)[0, :, 0].tolist()
    [9.0, 9.0, 9.0]
    """
    index = x.shape[1] - period + torch.arange(horizon, device=x.device) % period
    return x[:, index]


#: ``instance_norm="robust"`` clips a window at its median plus or minus this many robust standard deviations
#: (1.4826 times the median absolute deviation) before taking its mean and standard deviation
ROBUST_CLIP = 5.0


def window_moments(x: Tensor, eps: float, robust: bool = False) -> tuple[Tensor, Tensor]:
    """The mean and standard deviation (``sqrt(var + eps)``) of each window ``x`` ``(B, L, C)`` over its rows.

    With ``robust``, both are those of the window clipped to its median plus or minus :data:`ROBUST_CLIP`
    robust standard deviations, channel by channel (not clipped where the median absolute deviation is 0,
    that is where over half the window holds one value): a fault or a spike in the window then does not
    inflate the scale that the forecast is mapped back with. A window without such values is not clipped,
    and its moments are the plain ones.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.cat([torch.randn(1, 90, 1, generator=g), torch.full((1, 10, 1), -30.0)], dim=1)  # a fault
    >>> plain, robust = window_moments(x, 1e-5)[1].item(), window_moments(x, 1e-5, robust=True)[1].item()
    >>> plain > 8, robust < 3
    (True, True)
    """
    if robust:
        med = x.median(dim=1, keepdim=True).values
        mad = (x - med).abs().median(dim=1, keepdim=True).values
        band = (ROBUST_CLIP * 1.4826 * mad).masked_fill(mad == 0, math.inf)
        x = torch.clamp(x, med - band, med + band)
    return x.mean(1, keepdim=True), torch.sqrt(x.var(1, keepdim=True, unbiased=False) + eps)


class PeriodLinear(nn.Module):
    """``(..., context) -> (..., horizon)`` by one linear map shared by the ``period`` phases of the window.

    The window is cut into its ``period`` phase subsequences (every
    ``period``-th value, aligned to the window's end: the oldest values are
    padded with zeros), each is mapped by the same
    ``Linear(ceil(context / period) -> ceil(horizon / period))``, and the
    outputs are interleaved back: the forecast of a phase reads only the same
    phase's past (SparseTSF, Lin et al. 2024). It has ``period**2`` times fewer
    weights than ``Linear(context -> horizon)``, which it is for ``period=1``
    (the same ``weight`` and ``bias``). The map starts at zero.

    Examples
    --------
    >>> import torch
    >>> m = PeriodLinear(context=10, horizon=7, period=4)
    >>> m.weight.shape, m(torch.randn(2, 3, 10)).shape
    (torch.Size([2, 3]), torch.Size([2, 3, 7]))
    >>> with torch.no_grad():
    ...     m.weight[:, -1] = 1.0  # every forecast repeats the same phase of the last period
    >>> m(torch.arange(10.0))
    tensor([6., 7., 8., 9., 6., 7., 8.], grad_fn=<SliceBackward0>)
    """

    def __init__(self, context: int, horizon: int, period: int = 1) -> None:
        super().__init__()
        if not (context >= 1 and horizon >= 1 and period >= 1):
            raise ValueError(f"need context, horizon and period >= 1, got {context}, {horizon}, {period}")
        self.context, self.horizon, self.period = context, horizon, period
        self.n_in, self.n_out = -(-context // period), -(-horizon // period)
        self.weight = nn.Parameter(torch.empty(self.n_out, self.n_in))
        self.bias = nn.Parameter(torch.empty(self.n_out))
        # drawn as nn.Linear draws its weights (then zeroed), so a seed gives the bodies it gave before this class
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        nn.init.uniform_(self.bias, -1 / math.sqrt(self.n_in), 1 / math.sqrt(self.n_in))
        with torch.no_grad():
            self.weight.zero_()
            self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if self.period == 1:
            return nn.functional.linear(x, self.weight, self.bias)
        pad = self.n_in * self.period - self.context
        x = nn.functional.pad(x, (pad, 0)) if pad else x
        phases = x.unflatten(-1, (self.n_in, self.period)).transpose(-1, -2)  # (..., period, n_in)
        y = nn.functional.linear(phases, self.weight, self.bias)  # (..., period, n_out)
        return y.transpose(-1, -2).flatten(-2)[..., : self.horizon]

    def extra_repr(self) -> str:
        return f"context={self.context}, horizon={self.horizon}, period={self.period}"


def _shared(name: str) -> property:
    """A setting of :class:`WindowEnsemble` that every member holds alike: read from the first, set on all."""

    def get(self: WindowEnsemble) -> Any:
        return getattr(self.members[0], name)

    def put(self: WindowEnsemble, value: Any) -> None:
        for m in self.members:
            setattr(m, name, value)

    return property(get, put, doc=f"The members' ``{name}`` (:class:`WindowModel`), set on every one of them.")


class WindowEnsemble(nn.Module):
    """Window models of one frame trained side by side, each on its own loss; the forecast is their mean.

    A deep ensemble in one module: the members differ by their initialisation
    (and dropout draws), see the same batches, and are trained on the mean of
    their losses (:func:`tsrec.training.window_loss`), so each learns as it
    would alone. Averaging their forecasts removes part of the variance that
    one network's initialisation leaves in its forecast.

    The settings of the combination (``theta_weight``, ``partner_rows``,
    ``naive_share`` and the rest below) are the members' own, the same on
    each, and read and set through the ensemble. A combination moves a forecast
    linearly towards forecasts that do not depend on the network, so the mean
    of the members' combined forecasts is the combination of their mean.

    Parameters
    ----------
    members : sequence of WindowModel
        At least one, all with the same ``c_in``, ``c_out``, ``horizon``,
        ``context`` and ``n_quantiles``.

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.lru import LRUModel
    >>> def member():
    ...     body = LRUModel(8, 1, horizon=4, d_model=16, d_state=8, n_layers=1, skip_last=False)
    ...     return WindowModel(body, c_in=1, c_out=1, horizon=4, context=32, patch_len=8)
    >>> ensemble = WindowEnsemble([member(), member()])
    >>> x = torch.randn(5, 32, 1)
    >>> torch.allclose(ensemble(x), ensemble(x, members=True).mean(0))
    True
    """

    def __init__(self, members: list[WindowModel]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a WindowEnsemble needs at least one member")
        first = members[0]
        shape = ("c_in", "c_out", "horizon", "context", "n_quantiles")
        for m in members[1:]:
            if any(getattr(m, k) != getattr(first, k) for k in shape):
                raise ValueError(f"the members of a WindowEnsemble must agree on {', '.join(shape)}")
        self.c_in, self.c_out, self.horizon, self.context = first.c_in, first.c_out, first.horizon, first.context
        self.n_quantiles = first.n_quantiles
        self.members = nn.ModuleList(members)

    theta_weight = _shared("theta_weight")
    theta_period = _shared("theta_period")
    partner_rows = _shared("partner_rows")
    history_one_season = _shared("history_one_season")
    tail_season = _shared("tail_season")
    positive_differences = _shared("positive_differences")
    history_blend = _shared("history_blend")
    naive_share = _shared("naive_share")
    naive_period = _shared("naive_period")
    horizon_errors = _shared("horizon_errors")
    seasonal_skip = _shared("seasonal_skip")
    skip_per_window = _shared("skip_per_window")
    @property
    def ridge_share(self) -> float:
        """The members' :attr:`WindowModel.ridge_share` (set with :meth:`set_ridge`, which gives each its map)."""
        return self.members[0].ridge_share

    @property
    def cross_ridge_rows(self) -> int:
        """The members' :attr:`WindowModel.cross_ridge_rows` (fixed when they are built)."""
        return self.members[0].cross_ridge_rows

    @property
    def combines(self) -> bool:
        """The members' :attr:`WindowModel.combines`."""
        return self.members[0].combines

    def set_ridge(self, weight: Tensor | None, bias: Tensor | None = None, share: float = 0.0,
                  sums: tuple[Tensor, Tensor, float] | None = None,
                  cross: tuple[Tensor, Tensor, tuple[Tensor, Tensor, float] | None] | None = None) -> None:
        """:meth:`WindowModel.set_ridge` on every member."""
        for m in self.members:
            m.set_ridge(weight, bias, share, sums, cross)

    def ridge_with(self, windows: Tensor) -> dict | None:
        """:meth:`WindowModel.ridge_with` (the members share one ridge)."""
        return self.members[0].ridge_with(windows)

    def forward(self, x: Tensor, members: bool = False) -> Tensor:
        """The mean forecast ``(B, horizon, c_out)`` from windows ``x`` ``(B, context, c_in)`` (or ``partner_rows``),
        or with ``members`` each member's, ``(n_members, B, horizon, c_out)``. Out of training mode the members'
        mean network forecast is combined once (the classical forecasts computed once, not per member)."""
        first = self.members[0]
        if members or self.training or not first.combines:
            each = torch.stack([m(x) for m in self.members])
            return each if members else each.mean(0)
        return first.with_theta(torch.stack([m.network_forecast(x) for m in self.members]).mean(0), x)


def split_channels(windows: Tensor, n_targets: int) -> Tensor:
    """Channel independence: ``(N, L, n_targets + n_cov)`` -> ``(N * n_targets, L, 1 + n_cov)``.

    Row ``i * n_targets + j`` is target ``j`` of window ``i`` followed by all the covariates.
    """
    n, length, c = windows.shape
    targets = windows[..., :n_targets].permute(0, 2, 1).reshape(n * n_targets, length, 1)
    if c == n_targets:
        return targets
    return torch.cat([targets, windows[..., n_targets:].repeat_interleave(n_targets, dim=0)], dim=-1)


def merge_channels(forecasts: Tensor, n_targets: int) -> Tensor:
    """The inverse on forecasts: ``(N * n_targets, H, n_q)`` -> ``(N, H, n_targets * n_q)``, target-major."""
    m, h, nq = forecasts.shape
    return forecasts.reshape(m // n_targets, n_targets, h, nq).permute(0, 2, 1, 3).reshape(m // n_targets, h,
                                                                                         n_targets * nq)
