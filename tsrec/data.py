"""Inputs to arrays and back: validation, scaling and output frames.

This module is the only place that knows about pandas. The estimators hand it
what the user gave them and get back a :class:`Batch` of float arrays, one per
series, with the targets in the first columns and the covariates after them;
forecasts go back out through :func:`to_output` with the future index and the
target names (and the (target, quantile) columns of quantile forecasts). Cutting
arrays into training windows is :mod:`tsrec.training`'s job.
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

__all__ = [
    "Batch",
    "check_columns",
    "SeriesMeta",
    "to_batch",
    "order_by_ids",
    "StandardScaler",
    "future_index",
    "user_labels",
    "meta_before",
    "advance_meta",
    "to_output",
    "index_step",
    "full_grid",
    "seam_gap",
    "business_days",
]

LONG_ID, LONG_TIME, LONG_VALUE = "unique_id", "ds", "y"


@dataclass
class SeriesMeta:
    """What is needed to continue a series' index: its last label and its step.

    A series indexed by a ``PeriodIndex`` is held as the periods' start times
    (kind "datetime"), with ``period`` the periods' frequency: its forecasts
    and continuations are periods again (see :func:`user_labels`).
    """

    kind: str  # "datetime", "int" or "none" (arrays)
    last: Any = None
    freq: str | int | None = None
    first: Any = None  # first label of the rows this meta was made from (for seam checks)
    period: str | None = None  # the frequency of a PeriodIndex (labels are periods), else None

    def to_json(self) -> dict:
        last = self.last.isoformat() if isinstance(self.last, pd.Timestamp) else self.last
        first = self.first.isoformat() if isinstance(self.first, pd.Timestamp) else self.first
        return {"kind": self.kind, "last": last if isinstance(last, str) or last is None else int(last),
                "freq": self.freq, "first": first if isinstance(first, str) or first is None else int(first),
                "period": self.period}

    @classmethod
    def from_json(cls, d: dict) -> SeriesMeta:
        conv = pd.Timestamp if d["kind"] == "datetime" else (lambda v: v)
        period = d.get("period")  # (files before format 17 have none)
        if period is not None and (d["kind"] != "datetime" or not isinstance(period, str)
                                   or not _is_period_freq(period)):
            raise ValueError(f"a series' period frequency is damaged: {period!r}")
        return cls(d["kind"], conv(d["last"]), d["freq"], None if d.get("first") is None else conv(d["first"]), period)


def _is_period_freq(freq: str) -> bool:
    """Whether pandas takes ``freq`` as the frequency of periods."""
    try:
        pd.Period("2000-01-01", freq=freq)
    except (ValueError, TypeError):
        return False
    return True


@dataclass
class Batch:
    """Validated input: one float64 array ``(T_i, n_targets + n_covariates)`` per series."""

    values: list[np.ndarray]
    meta: list[SeriesMeta]
    target_names: list[str]
    covariate_names: list[str]
    kind: str  # "frame", "array" or "long"
    is_list: bool
    id_values: list[Any] = field(default_factory=list)  # series ids of a long frame

    @property
    def n_targets(self) -> int:
        return len(self.target_names)

    @property
    def n_features(self) -> int:
        return len(self.target_names) + len(self.covariate_names)


def _is_long_frame(X: Any) -> bool:
    return isinstance(X, pd.DataFrame) and {LONG_ID, LONG_TIME, LONG_VALUE} <= set(map(str, X.columns))


def _split_long(X: pd.DataFrame) -> tuple[list[pd.DataFrame], list[Any]]:
    """A long frame (unique_id, ds, y[, covariates]) -> one wide frame per series."""
    frames, ids = [], []
    for uid, part in X.groupby(LONG_ID, sort=False):
        part = part.drop(columns=[LONG_ID]).set_index(LONG_TIME)
        part.index.name = None
        cols = [LONG_VALUE] + [c for c in part.columns if c != LONG_VALUE]
        frames.append(part[cols])
        ids.append(uid)
    return frames, ids


def _validate_series(X: Any, what: str, missing: str = "raise") -> tuple[np.ndarray, list[str], pd.DataFrame | None]:
    """One series (DataFrame, Series, 1-D/2-D array) validated: ``(values (T, C) float64, column names,
    the DataFrame or None for an array)``. ``missing="mask"`` lets NaN through and fills the gaps of the
    index with rows of NaN (see :func:`full_grid`)."""
    if isinstance(X, pd.Series):
        X = X.to_frame(name=X.name if X.name is not None else "y")
    if isinstance(X, pd.DataFrame):
        df = X
        non_numeric = [str(c) for c, dt in df.dtypes.items() if not pd.api.types.is_numeric_dtype(dt)
                       or pd.api.types.is_bool_dtype(dt) or pd.api.types.is_complex_dtype(dt)]
        names = [str(c) for c in df.columns]
    elif isinstance(X, (np.ndarray, torch.Tensor)) or np.isscalar(X) is False and hasattr(X, "__array__"):
        df = None
        arr = np.asarray(X)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"{what} must be 1-D or 2-D (time, channels), got an array of shape {arr.shape}")
        kind = arr.dtype.kind
        non_numeric = [] if kind in "iuf" else [str(i) for i in range(arr.shape[1])]
        names = [str(i) for i in range(arr.shape[1])]
    else:
        raise TypeError(
            f"{what} must be a pandas DataFrame/Series, a numpy array, or a list of these; got {type(X).__name__}"
        )
    shape = df.shape if df is not None else arr.shape
    if shape[0] == 0:
        raise ValueError(f"{what} is empty (0 rows)")
    if shape[1] == 0:
        raise ValueError(f"{what} has no columns")
    if non_numeric:
        stamps = [] if df is None else [c for c, dt in df.dtypes.items() if pd.api.types.is_datetime64_any_dtype(dt)]
        hint = f"; a column of stamps is the index: df.set_index({stamps[0]!r})" if stamps else ""
        raise TypeError(f"{what} has non-numeric columns: {non_numeric}{hint}")
    values = df.to_numpy(dtype=np.float64) if df is not None else np.asarray(arr, dtype=np.float64)
    bad = np.isinf(values) if missing == "mask" else ~np.isfinite(values)
    if bad.any():
        cols = [name for name, n in zip(names, bad.sum(0)) if n]
        kind = "NaN" if np.isnan(values).any() and missing != "mask" else "inf"
        hint = "" if kind == "inf" else " or set missing='mask'"
        raise ValueError(f"{what} contains {kind} values (columns {cols}); fill or drop them first{hint}")
    if df is not None:
        if isinstance(df.index, pd.PeriodIndex):
            df = _periods_as_stamps(df, what, missing)
        _check_index(df.index, what)
        grid = full_grid(df.index, what, fill=missing == "mask")
        if grid is not None:  # missing="mask": the missing stamps become rows of NaN
            df = df.reindex(grid)
            values = df.to_numpy(dtype=np.float64)
    return values, names, df


def _periods_as_stamps(df: pd.DataFrame, what: str, missing: str) -> pd.DataFrame:
    """A frame indexed by periods, checked (sorted, unique, no missing period unless ``missing="mask"``) and
    indexed by the periods' start times (see :attr:`SeriesMeta.period`)."""
    index = df.index
    _check_index(index, what)
    if missing != "mask" and len(index) > 1:
        every = pd.period_range(index[0], index[-1], freq=index.freq)
        if len(every) != len(index):
            gap = every.difference(index)[0]
            raise ValueError(f"{what} has a gap: no row for the period {gap}; fill the missing periods, e.g. "
                             f"df.reindex(pd.period_range(df.index[0], df.index[-1], freq='{index.freqstr}')), "
                             "then set missing='mask' or interpolate the NaN rows")
    return df.set_axis(index.to_timestamp(how="start"), axis=0)


def _check_index(index: pd.Index, what: str) -> None:
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) or pd.api.types.is_integer_dtype(index.dtype):
        if index.has_duplicates:
            raise ValueError(f"{what} has a duplicated index: {list(index[index.duplicated()][:3])}")
        if not index.is_monotonic_increasing:
            raise ValueError(f"{what} has an unsorted index; sort it by time first")
        return
    if index.dtype == object and len({type(v) for v in index}) > 1:
        raise TypeError(f"{what} has a mixed-type index; use a DatetimeIndex, a PeriodIndex or an integer index")
    hint = ""
    if pd.api.types.is_string_dtype(index.dtype) and len(index):
        with contextlib.suppress(ValueError, TypeError), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas warns where it guesses a format; only the error is wanted
            pd.to_datetime(index[:5])
            hint = " (its labels read as dates: df.index = pd.to_datetime(df.index))"
    raise TypeError(f"{what} must have a DatetimeIndex, a PeriodIndex or an integer index, "
                    f"got {type(index).__name__} of {index.dtype}{hint}")


def index_step(index: pd.Index) -> Any:
    """The step of a sorted index: an offset for a DatetimeIndex, an int for an integer index, None if unknown.

    A DatetimeIndex's ``freq`` when set, else :func:`pandas.infer_freq` (which
    fails on an index with gaps), else the frequency of short regular runs of
    stamps (calendar steps such as months or business days), else the most
    common difference between stamps. An integer index: the most common
    difference.

    Examples
    --------
    >>> index_step(pd.date_range("2020-01-01", periods=30, freq="D").delete(10))  # a run of 8 stamps: daily
    <Day>
    >>> index_step(pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 00:10", "2020-01-01 00:40"])).freqstr
    '10min'
    >>> index_step(pd.Index([0, 2, 4, 10]))
    2
    """
    if len(index) < 2:
        return None
    if isinstance(index, pd.DatetimeIndex):
        if index.freq is not None:
            return index.freq
        if len(index) >= 3 and (freq := pd.infer_freq(index)) is not None:
            return pd.tseries.frequencies.to_offset(freq)
        runs = []  # the frequencies of up to 20 runs of 8 stamps, most common first
        for start in range(0, max(len(index) - 7, 0), max(1, (len(index) - 7) // 20)):
            with contextlib.suppress(ValueError):
                if (freq := pd.infer_freq(index[start : start + 8])) is not None:
                    runs.append(freq)
        for freq in sorted(set(runs), key=runs.count, reverse=True):
            offset = pd.tseries.frequencies.to_offset(freq)
            if index.isin(pd.date_range(index[0], index[-1], freq=offset)).all():
                return offset
        values, counts = np.unique(np.diff(index.values), return_counts=True)  # timedelta64, in the index's unit
        step = pd.Timedelta(values[np.argmax(counts)])
        return pd.tseries.frequencies.to_offset(step) if step > pd.Timedelta(0) else None
    values, counts = np.unique(np.diff(np.asarray(index, dtype=np.int64)), return_counts=True)
    step = int(values[np.argmax(counts)])
    return step if step > 0 else None


def business_days(step: Any) -> bool:
    """Whether ``step`` (an offset, a frequency string or None) is one business day: the step of trading and
    banking calendars, whose missing weekdays are holidays, not gaps (:func:`full_grid`).

    >>> business_days("B"), business_days(pd.offsets.BDay()), business_days("D"), business_days(None)
    (True, True, False, False)
    """
    if step is None or isinstance(step, int):
        return False
    offset = pd.tseries.frequencies.to_offset(step)
    return isinstance(offset, (pd.offsets.BusinessDay, pd.offsets.CustomBusinessDay)) and offset.n == 1


def full_grid(index: pd.Index, what: str = "X", fill: bool = False) -> pd.Index | None:
    """Check that a sorted index has no gap at its step (:func:`index_step`); None when it has none.

    A gap (a missing stamp inside the series) raises ValueError naming the
    first one and how to fill it, unless ``fill``: then the full grid from the
    first to the last stamp is returned, for the caller to reindex to (rows of
    NaN where stamps were missing). A stamp off the grid (an irregular index)
    always raises. An index that steps by business days may skip weekdays
    (:func:`business_days`): a trading calendar's holidays, so its rows are
    consecutive as they are (forecasts continue on business days).

    Examples
    --------
    >>> idx = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-04"])
    >>> list(full_grid(idx, fill=True).day)
    [1, 2, 3, 4]
    >>> trading = pd.bdate_range("2019-11-04", "2019-12-20").drop(pd.Timestamp("2019-11-28"))  # Thanksgiving
    >>> full_grid(trading) is None
    True
    """
    if len(index) < 3 or not (isinstance(index, pd.DatetimeIndex) or pd.api.types.is_integer_dtype(index.dtype)):
        return None
    step = index_step(index)
    if isinstance(index, pd.DatetimeIndex):
        if step is None:
            raise ValueError(f"{what} has an irregular DatetimeIndex: no step was found")
        grid = pd.date_range(index[0], index[-1], freq=step)
        shown = step.freqstr
    else:
        if step is None:
            raise ValueError(f"{what} has an irregular integer index: no step was found")
        grid = pd.RangeIndex(int(index[0]), int(index[-1]) + 1, step)
        shown = step
    if len(grid) == len(index) and grid.equals(index):
        return None
    off = index.difference(grid)
    if len(off):
        raise ValueError(f"{what} has an irregular index: {off[0]} is not on the grid of step {shown} from "
                         f"{index[0]}; resample it to a regular step first")
    if business_days(step):  # holidays
        return None
    gap = grid.difference(index)[0]
    before, after = index[index < gap][-1], index[index > gap][0]
    if fill:
        return grid
    how = f"df.asfreq('{shown}')" if isinstance(index, pd.DatetimeIndex) else \
        f"df.reindex(range(first, last + {shown}, {shown}))"
    raise ValueError(f"{what} has a gap: no row between {before} and {after} (the index steps by {shown}); "
                     f"fill the missing stamps, e.g. {how}, then set missing='mask' or interpolate the NaN rows")


def _meta(df: pd.DataFrame, period: str | None = None) -> SeriesMeta:
    """The meta of a validated frame; ``period``: the frequency of the PeriodIndex its stamps came from."""
    idx = df.index
    if isinstance(idx, pd.DatetimeIndex):
        freq = idx.freqstr or (pd.infer_freq(idx) if len(idx) >= 3 else None)
        if freq is None and len(idx) >= 3 and business_days(step := index_step(idx)):  # with holidays
            freq = step.freqstr
        if freq is None and len(idx) >= 2:
            freq = pd.tseries.frequencies.to_offset(pd.Series(idx).diff().median()).freqstr
        if freq is None and period is not None:  # one period: its step is the periods' own
            freq = pd.period_range(idx[0], periods=2, freq=period).to_timestamp(how="start").freqstr
        return SeriesMeta("datetime", idx[-1], freq, idx[0], period)
    step = int(idx[1] - idx[0]) if len(idx) > 1 else None  # one row: the step is unknown
    return SeriesMeta("int", int(idx[-1]), step, int(idx[0]))


def to_batch(X: Any, y: Any = None, what: str = "X", missing: str = "raise") -> Batch:
    """Validate input into a :class:`Batch`.

    Parameters
    ----------
    X : DataFrame, Series, ndarray, long DataFrame, or list of these
        Rows are time steps and columns channels. A frame's index is a
        DatetimeIndex, an integer index or a PeriodIndex (held as the
        periods' start times; forecasts and continuations are periods again,
        see :class:`SeriesMeta`). A DataFrame with columns
        ``unique_id``, ``ds`` and ``y`` is a panel in long format (``y`` the
        target, other columns covariates). A list is a panel of series.
    y : same kind as X, optional
        If given, its columns are the targets and X holds covariates observed
        at the same steps; otherwise every column of X is a target.
    what : str, default="X"
        The name errors give the input.
    missing : {"raise", "mask"}, default="raise"
        "raise": NaN values and gaps in an index (missing stamps, see
        :func:`full_grid`) raise ValueError. "mask": NaN values pass, and the
        gaps of an index are filled with rows of NaN.
    """
    long_ids: list[Any] = []
    if _is_long_frame(X):
        if y is not None:
            raise ValueError("a long (unique_id, ds, y) frame carries its targets; do not pass y")
        frames, long_ids = _split_long(X)
        if frames[0].shape[1] > 1:  # y is the target, the other columns covariates
            xs, ys = [fr.drop(columns=[LONG_VALUE]) for fr in frames], [fr[[LONG_VALUE]] for fr in frames]
        else:
            xs, ys = frames, [None] * len(frames)
        is_list, kind = True, "long"
    else:
        is_list = isinstance(X, (list, tuple))
        xs = list(X) if is_list else [X]
        if y is None:
            ys = [None] * len(xs)
        else:
            ys = list(y) if isinstance(y, (list, tuple)) else [y]
            if len(ys) != len(xs):
                raise ValueError(f"X is a panel of {len(xs)} series but y has {len(ys)}")
        if not xs:
            raise ValueError(f"{what} is an empty list")
        if is_list and all(isinstance(x, numbers.Number) for x in xs):
            raise TypeError(f"{what} is a list of numbers, but a list is a panel of series: pass "
                            f"np.asarray({what}) for one series")
        kind = "frame" if all(isinstance(x, (pd.DataFrame, pd.Series)) for x in xs) else "array"
    values, metas = [], []
    names_t: list[str] | None = None
    names_c: list[str] = []
    for i, (x, yy) in enumerate(zip(xs, ys)):
        label = f"{what}[{i}]" if is_list else what
        if long_ids:
            label = f"{what} (unique_id {long_ids[i]!r})"
        vx, x_names, fx = _validate_series(x, label, missing)
        if yy is None:
            (vt, t_names, ft), c_names = (vx, x_names, fx), []
        else:
            vt, t_names, ft = _validate_series(yy, label if long_ids else "y" if not is_list else f"y[{i}]", missing)
            c_names = x_names
            if len(vt) != len(vx):
                raise ValueError(f"y has {len(vt)} rows but X has {len(vx)}: they must be observed at the same steps")
            if ft is not None and isinstance(ft.index, pd.DatetimeIndex) and (
                    fx is None or not ft.index.equals(fx.index)):
                raise ValueError("y and X must share one index")
        if names_t is None:
            names_t, names_c = t_names, c_names
        elif t_names != names_t or c_names != names_c:
            raise ValueError(f"every series of a panel needs the same columns; {label} has {t_names + c_names}, "
                             f"the first has {names_t + names_c}")
        values.append(vt if yy is None else np.hstack([vt, vx]))
        if not isinstance(x, (pd.DataFrame, pd.Series)):
            metas.append(SeriesMeta("none", len(vt) - 1, 1, 0))
        elif ft is None:  # frame covariates, array targets: the targets' positions
            metas.append(SeriesMeta("int", len(vt) - 1, 1, 0))
        else:
            index = (x if yy is None else yy).index
            metas.append(_meta(ft, index.freqstr if isinstance(index, pd.PeriodIndex) else None))
    return Batch(values, metas, names_t or [], names_c, kind, is_list, long_ids)


def order_by_ids(batch: Batch, ids: Sequence[Any], what: str = "X") -> Batch:
    """The series of a long-frame ``batch`` in the order of ``ids`` (a fitted panel's ids).

    A long frame may list its series in any order; a stream continues each
    series by its ``unique_id``, never by position. Raises ValueError when the
    ids differ from ``ids``.
    """
    pos = {uid: i for i, uid in enumerate(batch.id_values)}
    fitted = set(ids)
    missing = [uid for uid in ids if uid not in pos]
    unknown = [uid for uid in batch.id_values if uid not in fitted]
    if missing or unknown:
        raise ValueError(f"{what} must hold every series of the fitted panel and no other: "
                         f"missing unique_id {missing[:5]}, unknown unique_id {unknown[:5]}")
    order = [pos[uid] for uid in ids]
    return Batch([batch.values[i] for i in order], [batch.meta[i] for i in order], batch.target_names,
                 batch.covariate_names, batch.kind, batch.is_list, [batch.id_values[i] for i in order])


class StandardScaler:
    """Per-channel mean/std with exact online updates (Chan et al.'s parallel formula).

    Statistics are pooled over all series of a panel. ``update`` merges new rows
    into the running statistics, so a stream keeps its scale current at O(1)
    memory. NaN values are left out (each channel counts its observed values
    in ``n_obs``, which stays None while every row was complete); a channel
    never observed has mean 0 and scale 1.

    Examples
    --------
    >>> s = StandardScaler(1).update(np.array([[1.0], [np.nan], [3.0]]))
    >>> s.mean, s.scale, s.n_obs
    (array([2.]), array([1.]), array([2.]))
    """

    def __init__(self, n_channels: int) -> None:
        self.count = 0.0
        self.mean = np.zeros(n_channels)
        self.m2 = np.zeros(n_channels)
        self.n_obs: np.ndarray | None = None  # observed values per channel, once a NaN was seen

    def update(self, rows: np.ndarray) -> StandardScaler:
        n = rows.shape[0]
        if n == 0:
            return self
        nan = np.isnan(rows)
        if self.n_obs is not None or nan.any():
            return self._update_nan(rows, nan)
        mean_b = rows.mean(0)
        m2_b = ((rows - mean_b) ** 2).sum(0)
        total = self.count + n
        delta = mean_b - self.mean
        self.mean = self.mean + delta * n / total
        self.m2 = self.m2 + m2_b + delta**2 * self.count * n / total
        self.count = total
        return self

    def _update_nan(self, rows: np.ndarray, nan: np.ndarray) -> StandardScaler:
        """The same merge per channel, over its observed values only."""
        before = self.n_obs if self.n_obs is not None else np.full(len(self.mean), self.count)
        n = (~nan).sum(0).astype(float)
        filled = np.where(nan, 0.0, rows)
        mean_b = filled.sum(0) / np.maximum(n, 1.0)
        m2_b = np.where(nan, 0.0, (filled - mean_b) ** 2).sum(0)
        total = before + n
        delta = mean_b - self.mean
        self.mean = self.mean + delta * n / np.maximum(total, 1.0)
        self.m2 = self.m2 + m2_b + delta**2 * before * n / np.maximum(total, 1.0)
        self.n_obs = total
        self.count = self.count + rows.shape[0]
        return self

    @property
    def std(self) -> np.ndarray:
        """The standard deviation of each channel (0 for one never observed)."""
        count = self.n_obs if self.n_obs is not None else self.count
        return np.sqrt(self.m2 / np.maximum(count, 1.0))

    @property
    def scale(self) -> np.ndarray:
        std = self.std
        # constant (to rounding) relative to the mean, as scikit-learn's StandardScaler judges it: no absolute
        # floor, so that a series in units of 1e-15 is scaled as the same series in units of 1
        return np.where(std > 1e-12 * np.abs(self.mean), std, 1.0)

    def transform(self, rows: np.ndarray) -> np.ndarray:
        return (rows - self.mean) / self.scale

    def inverse(self, rows: np.ndarray, channels: slice = slice(None)) -> np.ndarray:
        return rows * self.scale[channels] + self.mean[channels]

    def state(self) -> dict[str, np.ndarray]:
        state = {"count": np.array([self.count]), "mean": self.mean, "m2": self.m2}
        if self.n_obs is not None:
            state["n_obs"] = self.n_obs
        return state

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> StandardScaler:
        s = cls(len(state["mean"]))
        s.count = float(state["count"][0])
        s.mean, s.m2 = np.asarray(state["mean"], float), np.asarray(state["m2"], float)
        if state.get("n_obs") is not None:
            s.n_obs = np.asarray(state["n_obs"], float)
        return s


#: ``scaling="auto"`` scales each series of a panel by its own statistics where, in some target, the series'
#: standard deviations differ by more than this factor
SCALE_SPREAD = 1000.0


def scales_differ(values: Sequence[np.ndarray], n_targets: int, spread: float = SCALE_SPREAD) -> bool:
    """Whether the series ``values`` of a panel differ in scale: in some target, the largest standard deviation
    over the series is more than ``spread`` times the smallest one above zero (NaN left out). One series never.

    Examples
    --------
    >>> s = np.sin(np.arange(48.0))[:, None]
    >>> scales_differ([s, 10 * s], 1), scales_differ([s, 1e4 * s], 1), scales_differ([s], 1)
    (False, True, False)
    """
    if len(values) < 2:
        return False
    std = np.stack([StandardScaler(n_targets).update(v[:, :n_targets]).std for v in values])  # (series, targets)
    for column in std.T:
        positive = column[column > 0]
        if len(positive) > 1 and positive.max() > spread * positive.min():
            return True
    return False


def future_index(meta: SeriesMeta, horizon: int) -> pd.Index:
    """The index of the ``horizon`` steps after the end of a series."""
    if meta.kind == "datetime":
        return pd.date_range(start=meta.last, periods=horizon + 1, freq=meta.freq)[1:]
    step = int(meta.freq or 1)
    start = int(meta.last) + step
    return pd.RangeIndex(start, start + step * horizon, step)


def user_labels(meta: SeriesMeta, index: pd.Index) -> pd.Index:
    """``index`` (stamps of the series ``meta`` describes) as the user's labels: periods for a series given
    with a PeriodIndex, else as it is.

    >>> meta = SeriesMeta("datetime", pd.Timestamp("2020-12-01"), "MS", pd.Timestamp("2020-01-01"), "M")
    >>> user_labels(meta, future_index(meta, 2))
    PeriodIndex(['2021-01', '2021-02'], dtype='period[M]')
    """
    return index.to_period(meta.period) if meta.period is not None and isinstance(index, pd.DatetimeIndex) else index


def meta_before(meta: SeriesMeta) -> SeriesMeta:
    """The meta of an empty series that ends just before the rows ``meta`` describes."""
    if meta.freq is None:  # one row: the step is unknown, so the first chunk defines the series
        return replace(meta, last=None, freq=None)
    if meta.kind == "datetime":
        return replace(meta, last=pd.date_range(end=meta.first, periods=2, freq=meta.freq)[0])
    return replace(meta, last=int(meta.first) - int(meta.freq), freq=int(meta.freq))


def _same_step(a: str | None, b: str | None, at: pd.Timestamp) -> bool:
    """Whether two frequencies give the same next label after ``at`` ("168h" and "W-SUN" on a Sunday do)."""
    off_a, off_b = pd.tseries.frequencies.to_offset(a), pd.tseries.frequencies.to_offset(b)
    return off_a == off_b or at + off_a == at + off_b


#: how to fill a gap at the seam of a stream (in the error that names it)
_SEAM_HINT = "; fill the missing rows with NaN and set missing='mask', which also fills such a gap itself"


def advance_meta(meta: SeriesMeta, new: SeriesMeta, n_new: int, what: str = "X") -> SeriesMeta:
    """The meta of a series continued by ``n_new`` rows whose own meta is ``new``.

    Raises ValueError when a stream has a gap, an overlap or a changed
    frequency (step) at the seam. Integer indexes continue when they follow
    on; a fresh 0-based index (or an array) is renumbered to follow on. A
    stream begun with a single row (step unknown, ``meta.freq`` None) learns
    its step from the next rows.
    """
    if new.kind == "datetime" and meta.kind == "int":
        raise ValueError(f"{what} has a {_index_name(new)} but the fitted series has an integer index")
    if meta.kind == "datetime" and new.kind != "datetime":
        raise ValueError(f"{what} must have a {_index_name(meta)} to continue a series fitted with one")
    if meta.last is None:  # the first chunk of a stream begun by partial_fit on one row
        return replace(new)
    if meta.kind == "datetime" and new.period != meta.period:
        raise ValueError(f"{what} has a {_index_name(new)} but the fitted series has a {_index_name(meta)}")
    if meta.kind == "datetime":
        if meta.freq is None:  # a stream begun with a single row learns its step from the next rows
            if new.first <= meta.last:
                raise ValueError(f"{what} does not continue the series: it starts at {new.first}, "
                                 f"not after {meta.last} (an overlap at the seam)")
            step = new.freq or pd.tseries.frequencies.to_offset(new.first - meta.last).freqstr
            meta = replace(meta, freq=step)
        expected = future_index(meta, 1)[0]
        if new.freq is not None and not _same_step(new.freq, meta.freq, new.first):
            raise ValueError(f"{what} has frequency {new.freq} but the fitted series has {meta.freq}")
        # a business-day series may resume after holidays: any later business day
        holidays = business_days(meta.freq) and new.first > expected and new.first == new.first + pd.offsets.BDay(0)
        if new.first != expected and not holidays:
            got, want = (user_labels(meta, pd.DatetimeIndex([t]))[0] for t in (new.first, expected))
            raise ValueError(f"{what} does not continue the series: it starts at {got}, expected {want} "
                             f"(a gap or an overlap at the seam{_SEAM_HINT if new.first > expected else ''})")
        return replace(meta, last=new.last)
    if meta.freq is None and new.kind == "int":  # learn the step of a stream begun with a single row
        step = int(new.freq) if new.freq is not None else int(new.first) - int(meta.last)
        if step < 1:
            raise ValueError(f"{what} does not continue the series: its index starts at {new.first}, "
                             f"not after {meta.last} (an overlap at the seam)")
    else:
        step = int(meta.freq or 1)
    if new.kind == "int":
        first = int(new.first)
        if first not in (0, int(meta.last) + step):
            raise ValueError(f"{what} does not continue the series: its index starts at {first}, "
                             f"expected {int(meta.last) + step} (a gap or an overlap at the seam"
                             f"{_SEAM_HINT if first > int(meta.last) + step else ''})")
        if new.freq is not None and first != 0 and int(new.freq) != step:
            raise ValueError(f"{what} has index step {new.freq} but the fitted series has step {step} "
                             f"(a changed frequency at the seam)")
    return replace(meta, last=int(meta.last) + step * n_new, freq=step)


def _index_name(meta: SeriesMeta) -> str:
    """How errors name the index a meta was made from."""
    return f"PeriodIndex of {meta.period}" if meta.period is not None else "DatetimeIndex"


def seam_gap(meta: SeriesMeta, new: SeriesMeta) -> int:
    """Steps missing between the end of a series (``meta``) and the first row of its continuation (``new``).

    0 where the continuation follows on, or where no whole number of steps
    lies between them (:func:`advance_meta` then says what is wrong).
    """
    if meta.last is None or meta.freq is None or new.first is None or meta.kind != new.kind:
        return 0
    if meta.kind == "datetime":
        if new.first <= meta.last or business_days(meta.freq):  # business days skip holidays: no rows to fill
            return 0
        grid = pd.date_range(meta.last, new.first, freq=meta.freq)
        return len(grid) - 2 if len(grid) > 2 and grid[-1] == new.first else 0
    if meta.kind != "int":
        return 0
    step, ahead = int(meta.freq), int(new.first) - int(meta.last)
    return ahead // step - 1 if ahead > step and ahead % step == 0 else 0


def to_output(
    forecasts: list[np.ndarray], metas: list[SeriesMeta], names: list[str], kind: str, is_list: bool,
    ids: list[Any] | None = None, quantiles: Sequence[float] | None = None,
) -> Any:
    """Forecast arrays back to the kind the user gave.

    Parameters
    ----------
    forecasts : list of ndarray
        One per series: ``(horizon, n)``, or ``(horizon, n, n_quantiles)``
        with ``quantiles``.
    metas : list of SeriesMeta
        Where each series ends (the future index starts after it).
    names : list of str
        The target names (the columns).
    kind : {"frame", "array", "long"}
        What the user gave: arrays stay arrays, frames get the future index.
    is_list : bool
        Return a list (a panel given as a list) rather than one item.
    ids : list, optional
        The series ids of a long frame.
    quantiles : sequence of float, optional
        Quantile forecasts: frame columns are (target, quantile) pairs; arrays
        keep the shape ``(horizon, n_targets, n_quantiles)``.

    Returns
    -------
    DataFrame, ndarray or list of these
    """
    columns = None
    if quantiles is not None:
        columns = pd.MultiIndex.from_product([names, [float(q) for q in quantiles]])
    outs: list[Any] = []
    for f, m in zip(forecasts, metas):
        if kind == "array":
            outs.append(f)
        else:
            f = f.reshape(f.shape[0], -1)
            outs.append(pd.DataFrame(f, index=user_labels(m, future_index(m, f.shape[0])),
                                     columns=columns if columns is not None else names))
    if kind == "long":
        parts = []
        for uid, df in zip(ids or [], outs):
            part = df.rename(columns={names[0]: LONG_VALUE}) if columns is None else df
            part = part.rename_axis(LONG_TIME).reset_index()
            part.insert(0, LONG_ID, uid)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)
    return outs if is_list else outs[0]


def check_columns(batch: Batch, target_names: list[str], covariate_names: list[str]) -> None:
    """Raise ValueError when ``batch`` has other target or covariate columns than a fit's (arrays, which have
    no names, need the same counts)."""
    if list(batch.target_names) == list(target_names) and list(batch.covariate_names) == list(covariate_names):
        return
    if batch.kind == "array" and batch.n_targets == len(target_names) and \
            len(batch.covariate_names) == len(covariate_names):
        return
    raise ValueError(
        f"columns differ from fit: got targets {batch.target_names} and covariates {batch.covariate_names}, "
        f"fitted with targets {list(target_names)} and covariates {list(covariate_names)}"
    )
