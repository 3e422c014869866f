"""Conformal calibration of forecast intervals (what ``predict_interval`` reads).

A :class:`Calibration` holds the forecast errors of the most recent forecast
origins whose targets are known, per horizon step and target, in scaled units
(divided by the target's scale when the forecast was made): an array
``(n_origins, horizon, n_targets, n_q)``, ``n_q`` = 1 for a point model (the
error of the forecast) and the number of trained quantiles for a quantile model
(the error of each quantile forecast). At most ``size`` origins are kept, the
oldest dropped first (a rolling window of residuals).

* Split conformal at ``fit``: the origins of the validation tail (the same tail
  early stopping holds out), forecast by the trained model.
* Online in ``partial_fit``: each origin whose ``horizon`` targets the new rows
  complete, forecast with the weights before that call's update. Where the
  call's gradient step forecasts them, they are scored only when the
  calibration is read (:class:`StepForecasts`).

:func:`interval` turns it into an interval at coverage ``c`` per step and
target: for a point model the forecast plus/minus the conformal quantile of the
absolute errors (split conformal, Lei et al. 2018); for a quantile model the
trained quantile interval nearest ``[(1 - c) / 2, (1 + c) / 2]`` widened (or
narrowed) by the conformal quantile of ``max(q_lo - y, y - q_hi)``
(conformalised quantile regression, Romano et al. 2019). With ``n`` errors the
conformal quantile is the ``ceil((n + 1) c)``-th smallest, so ``n`` must be at
least ``c / (1 - c)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from ..data import SeriesMeta, to_output
from .params import is_real

__all__ = ["CALIBRATION_SIZE", "Calibration", "StepForecasts", "calibration_size", "newest_last", "newest_last_order",
           "validation_origins", "errors_of", "interval", "min_origins", "check_coverage", "interval_output"]

#: Forecast origins a calibration keeps at most (fewer when ``horizon * n_targets * n_q`` is large: see
#: :func:`calibration_size`).
CALIBRATION_SIZE = 1000
#: Errors (floats) a calibration keeps at most: 8 MB of float32.
MAX_ERRORS = 2_000_000


def calibration_size(horizon: int, n_targets: int, n_q: int) -> int:
    """Origins kept: :data:`CALIBRATION_SIZE`, fewer where one origin holds many errors (at least 100).

    >>> calibration_size(24, 1, 3), calibration_size(720, 21, 1)
    (1000, 132)
    """
    return max(100, min(CALIBRATION_SIZE, MAX_ERRORS // (horizon * n_targets * n_q)))


def check_coverage(coverage: Any) -> float:
    """``coverage`` as a float in (0, 1) (ValueError naming it otherwise)."""
    if not is_real(coverage) or not 0 < coverage < 1:
        raise ValueError(f"coverage must be a number in (0, 1), got {coverage!r}")
    return float(coverage)


@dataclass(frozen=True)
class Calibration:
    """The errors of the last ``size`` forecast origins, ``(n, horizon, n_targets, n_q)`` (scaled units).

    Examples
    --------
    >>> cal = Calibration.empty(horizon=2, n_targets=1, n_q=1, size=3)
    >>> cal = cal.added(np.ones((4, 2, 1, 1)))
    >>> cal.errors.shape
    (3, 2, 1, 1)
    """

    errors: np.ndarray
    size: int

    @classmethod
    def empty(cls, horizon: int, n_targets: int, n_q: int, size: int | None = None) -> Calibration:
        """No errors yet; ``size`` defaults to :func:`calibration_size`."""
        size = calibration_size(horizon, n_targets, n_q) if size is None else size
        return cls(np.zeros((0, horizon, n_targets, n_q), dtype=np.float32), int(size))

    def added(self, errors: np.ndarray) -> Calibration:
        """A calibration with ``errors`` (newest last) appended and only the last ``size`` origins kept."""
        if self.size == 0 or len(errors) == 0:
            return self
        both = np.concatenate([self.errors, errors.astype(np.float32)], axis=0)
        return Calibration(both[-self.size:], self.size)


@dataclass(frozen=True)
class StepForecasts:
    """Calibration origins forecast but not yet scored: what the gradient step of an updating ``partial_fit`` call
    forecast at the origins it adds to the calibration, kept until the calibration is read.

    Scoring them combines the network's forecasts with the model's shares
    (:meth:`tsrec.nn.window.WindowModel.with_theta`, whose partner is fitted
    to each window: most of the cost) and compares them with their targets.
    A calibration reads only its newest ``size`` origins, so a stream that
    never asks for an interval never pays for it.

    Attributes
    ----------
    raw : Tensor
        ``(n, horizon, c_out)``: the network's forecasts at the origins, in the step's scaling.
    windows : Tensor
        ``(n, rows, c_in)``: the windows they were made from (the shares read them), in the same scaling.
    to_scaled : ndarray
        ``(2, n, c_out)``: per origin, the factor and the shift from the step's scaling to the one the origin is
        scored in (the scaling before the call's update).
    to_user : ndarray
        ``(2, n, c_out)``: per origin, the scale and the mean of that scaling (a target's, per quantile channel).
    targets : ndarray
        ``(n, horizon, n_targets)``: the targets, user units.
    scale : ndarray
        ``(n, 1, n_targets)``: the targets' scale in that scaling (the errors are divided by it).
    n_q : int
        Quantile channels per target.

    Examples
    --------
    >>> from tsrec.nn.window import WindowModel
    >>> from tsrec.nn.lru import LRUModel
    >>> body = LRUModel(*WindowModel.body_channels(1, 1, 4), horizon=4, d_model=8, d_state=4, n_layers=1,
    ...                 skip_last=False)
    >>> model = WindowModel(body, 1, 1, 4, 12, 4)  # no shares: the network's forecasts are the model's
    >>> one = np.ones((2, 3, 1))
    >>> step = StepForecasts(torch.zeros(3, 4, 1), torch.zeros(3, 12, 1), np.stack([one[0], one[1] * 0]),
    ...                      np.stack([one[0] * 2, one[1] * 10]), np.full((3, 4, 1), 11.0), np.ones((3, 1, 1)), 1)
    >>> step.errors(model)[:, 0, 0, 0].tolist()  # forecast 0 -> 0 in the scored scaling -> 10 in user units
    [1.0, 1.0, 1.0]
    """

    raw: Tensor
    windows: Tensor
    to_scaled: np.ndarray
    to_user: np.ndarray
    targets: np.ndarray
    scale: np.ndarray
    n_q: int

    def __len__(self) -> int:
        return len(self.targets)

    def errors(self, model: nn.Module) -> np.ndarray:
        """The scaled errors ``(n, horizon, n_targets, n_q)`` of the forecasts ``model`` (the window model that made
        them) gives out of training mode, as :func:`errors_of` has them."""
        with torch.no_grad():
            f = model.with_theta(self.raw, self.windows).cpu().numpy()
        f = (f * self.to_scaled[0][:, None] + self.to_scaled[1][:, None]) * self.to_user[0][:, None]
        return errors_of(f + self.to_user[1][:, None], self.targets, self.scale, self.n_q)


def newest_last(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """The rows of ``blocks`` (each a series' errors, oldest first) in one array whose newest rows are every block's
    newest: ordered by their age in their block, oldest first, the blocks in turn among rows of one age. A
    calibration keeps the last rows it is given, so a panel's long chunk leaves every series' newest errors in it,
    not the last series' alone.

    >>> newest_last([np.array([1, 2, 3]), np.array([10, 20])]).tolist()
    [1, 2, 10, 3, 20]
    """
    return np.concatenate(blocks)[newest_last_order([len(b) for b in blocks])]


def newest_last_order(lengths: Sequence[int]) -> np.ndarray:
    """The positions, in blocks of ``lengths`` rows laid end to end, that :func:`newest_last` takes in turn.

    >>> newest_last_order([3, 2]).tolist()
    [0, 1, 3, 2, 4]
    """
    ages = np.concatenate([np.arange(n)[::-1] for n in lengths])
    turns = np.repeat(np.arange(len(lengths)), lengths)
    return np.lexsort((turns, -ages))


def validation_origins(n_rows: int, length: int, horizon: int, validation_fraction: float) -> np.ndarray:
    """The origins (row positions) of a series whose ``horizon`` targets lie in its validation tail.

    The tail is the one :func:`tsrec.training.training_windows` holds out: the
    last ``validation_fraction`` of the rows, at least ``horizon``, and only
    where ``length + horizon`` rows remain before it (else no origin).

    >>> validation_origins(100, 20, 5, 0.1).tolist()
    [89, 90, 91, 92, 93, 94]
    """
    n_val = int(round(n_rows * validation_fraction)) if validation_fraction > 0 else 0
    if n_val < horizon or n_rows - n_val < length + horizon:
        return np.zeros(0, dtype=int)
    return np.arange(n_rows - n_val - 1, n_rows - horizon)


def errors_of(forecasts: np.ndarray, actual: np.ndarray, scale: np.ndarray, n_q: int) -> np.ndarray:
    """Scaled errors ``(n, H, n_targets, n_q)`` of forecasts ``(n, H, n_targets * n_q)`` (quantiles sorted,
    user units) against targets ``(n, H, n_targets)``, divided by the targets' ``scale`` ``(n_targets,)`` (or per
    origin, ``(n, 1, n_targets)``)."""
    f = forecasts.reshape(*forecasts.shape[:-1], -1, n_q)
    if n_q > 1:
        f = np.sort(f, axis=-1)
    return ((actual[..., None] - f) / scale[..., None]).astype(np.float32)


def min_origins(coverage: float) -> int:
    """The fewest errors that give a finite conformal quantile at ``coverage``: ``ceil(c / (1 - c))``.

    >>> min_origins(0.8), min_origins(0.9)
    (4, 9)
    """
    return math.ceil(round(coverage / (1 - coverage), 9))


def conformal_quantile(scores: np.ndarray, coverage: float) -> np.ndarray:
    """The ``ceil((n + 1) coverage)``-th smallest of ``scores`` along axis 0 (split conformal), ``n`` the
    scores that are not NaN at each position (a missing target under ``missing="mask"`` scores nothing);
    inf where too few are left.

    >>> conformal_quantile(np.array([[1.0], [3.0], [2.0], [np.nan], [4.0]]), 0.5)
    array([3.])
    """
    n = (~np.isnan(scores)).sum(axis=0)
    k = np.ceil(np.round((n + 1) * coverage, 9)).astype(int)
    ordered = np.sort(scores, axis=0)  # NaN last
    picked = np.take_along_axis(ordered, np.clip(k - 1, 0, scores.shape[0] - 1)[None], axis=0)[0]
    return np.where(k <= n, picked, np.inf)


def interval(forecasts: np.ndarray, cal: Calibration, coverage: float, quantiles: tuple[float, ...],
             scale: np.ndarray) -> np.ndarray:
    """Intervals ``(H, n_targets, 2)`` (lower, upper; user units) around forecasts ``(H, n_targets * n_q)``.

    ``quantiles`` are the trained ones (empty for a point model), ``scale`` the
    targets' current scale. Raises ValueError when ``cal`` holds fewer than
    :func:`min_origins` errors.
    """
    n = cal.errors.shape[0]
    if n < min_origins(coverage):
        raise ValueError(
            f"predict_interval at coverage {coverage} needs at least {min_origins(coverage)} calibration origins, "
            f"the model has {n}: fit with early_stopping=True and a validation_fraction that leaves a validation "
            "tail of more than horizon rows, or stream more rows with partial_fit (each origin whose targets "
            "arrive is added)")
    n_q = max(len(quantiles), 1)
    f = forecasts.reshape(forecasts.shape[0], -1, n_q)
    if n_q == 1:
        q = conformal_quantile(np.abs(cal.errors[..., 0]), coverage) * scale  # (H, n_t)
        return np.stack([f[..., 0] - q, f[..., 0] + q], axis=-1)
    f = np.sort(f, axis=-1)
    qs = np.asarray(quantiles)
    lo = int(np.argmin(np.abs(qs - (1 - coverage) / 2)))
    hi = int(np.argmin(np.abs(qs - (1 + coverage) / 2)))
    if lo >= hi:  # one quantile nearest both ends: take the outermost pair
        lo, hi = 0, len(qs) - 1
    scores = np.maximum(-cal.errors[..., lo], cal.errors[..., hi])  # y below q_lo or above q_hi, scaled
    q = conformal_quantile(scores, coverage) * scale
    return np.stack([f[..., lo] - q, f[..., hi] + q], axis=-1)


def interval_output(intervals: list[np.ndarray], metas: list[SeriesMeta], names: list[str], kind: str,
                    is_list: bool, ids: list[Any], coverage: float) -> Any:
    """Intervals ``(H, n_targets, 2)`` per series as the kind the user gave: arrays as they are, frames with
    (target, "lower"/"upper") columns (long frames: ``unique_id``, ``ds`` and those columns)."""
    levels = ((1 - coverage) / 2, (1 + coverage) / 2)
    out = to_output(intervals, metas, names, kind, is_list, ids, quantiles=levels)
    if kind == "array":
        return out

    def renamed(df: pd.DataFrame) -> pd.DataFrame:
        cols = [(c[0], "lower" if c[1] == levels[0] else "upper") if isinstance(c, tuple) and c[1] in levels else c
                for c in df.columns]
        df.columns = pd.MultiIndex.from_tuples(cols) if all(isinstance(c, tuple) for c in cols) else cols
        return df

    return [renamed(o) for o in out] if isinstance(out, list) else renamed(out)
