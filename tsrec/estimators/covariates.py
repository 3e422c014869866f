"""Known-future, calendar and static covariates: what the estimators add to the rows of a series.

Three kinds of covariates reach the model as extra channels of every row, after
the targets and the covariates of ``X`` (see :class:`tsrec.nn.covariates.CovariateModel`):

- ``future_covariates``: columns of ``X`` whose values are known in advance.
  They stay ordinary covariate channels (their past), and the model also reads
  their values over the forecast horizon: from the rows of ``X`` that follow an
  origin when training, streaming and scoring, and from ``X_future`` at
  ``predict``.
- ``calendar_features``: sin/cos encodings of the position of each row's
  timestamp in a cycle (:data:`CALENDAR`), derived from the DatetimeIndex, so
  their future is always known and ``predict`` needs nothing for them.
- statics (``fit(..., static=...)``): one row per series, numeric columns as
  they are and categorical ones one-hot encoded (their embedding is the first
  linear layer of the model's covariate head), constant over the series.

:class:`Covariates` is the fitted description (saved as JSON in the model file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data import LONG_ID, LONG_TIME, Batch, SeriesMeta, future_index, user_labels

__all__ = ["CALENDAR", "Covariates", "auto_calendar", "calendar_values", "resolve_covariates"]


def _phase_minute(idx: pd.DatetimeIndex) -> np.ndarray:
    return (idx.minute + idx.second / 60) / 60


def _phase_hour(idx: pd.DatetimeIndex) -> np.ndarray:
    return (idx.hour + idx.minute / 60) / 24


def _phase_dayofweek(idx: pd.DatetimeIndex) -> np.ndarray:
    return idx.dayofweek / 7


def _phase_dayofmonth(idx: pd.DatetimeIndex) -> np.ndarray:
    return (idx.day - 1) / idx.days_in_month


def _phase_dayofyear(idx: pd.DatetimeIndex) -> np.ndarray:
    return (idx.dayofyear - 1) / (365 + idx.is_leap_year)


def _phase_month(idx: pd.DatetimeIndex) -> np.ndarray:
    return (idx.month - 1) / 12


def _phase_quarter(idx: pd.DatetimeIndex) -> np.ndarray:
    return (idx.quarter - 1) / 4


#: The calendar features: each maps a DatetimeIndex to its phase in [0, 1) of a cycle, encoded as sin and cos.
CALENDAR = {"minute": _phase_minute, "hour": _phase_hour, "dayofweek": _phase_dayofweek,
            "dayofmonth": _phase_dayofmonth, "dayofyear": _phase_dayofyear, "month": _phase_month,
            "quarter": _phase_quarter}


def auto_calendar(freq: str | None) -> tuple[str, ...]:
    """``calendar_features="auto"``: the cycles longer than the step of an index of frequency ``freq``.

    Steps under a day: ``("hour", "dayofweek")``; daily and business daily:
    ``("dayofweek", "dayofyear")``; weekly: ``("dayofyear",)``; monthly and
    quarterly: ``("month",)``; yearly or no frequency: none.

    Examples
    --------
    >>> auto_calendar("h"), auto_calendar("15min"), auto_calendar("D"), auto_calendar("MS"), auto_calendar(None)
    (('hour', 'dayofweek'), ('hour', 'dayofweek'), ('dayofweek', 'dayofyear'), ('month',), ())
    """
    if freq is None:
        return ()
    stamps = pd.date_range("2001-01-01", periods=3, freq=freq)
    days = (stamps[2] - stamps[0]).total_seconds() / 2 / 86400
    if days < 1:
        return ("hour", "dayofweek")
    if days < 6:
        return ("dayofweek", "dayofyear")
    if days < 28:
        return ("dayofyear",)
    if days < 360:
        return ("month",)
    return ()


def calendar_values(features: tuple[str, ...], index: pd.DatetimeIndex) -> np.ndarray:
    """The ``(len(index), 2 * len(features))`` sin/cos encodings of ``features`` at ``index``.

    Examples
    --------
    >>> calendar_values(("dayofweek",), pd.date_range("2024-01-01", periods=2, freq="D")).round(3)
    array([[0.   , 1.   ],
           [0.782, 0.623]])
    """
    cols = []
    for name in features:
        phase = 2 * np.pi * np.asarray(CALENDAR[name](index), dtype=np.float64)
        cols += [np.sin(phase), np.cos(phase)]
    return np.stack(cols, axis=1) if cols else np.zeros((len(index), 0))


def _stamps(meta: SeriesMeta, n: int) -> pd.DatetimeIndex:
    """The timestamps of the ``n`` rows a datetime ``meta`` describes (a series without gaps)."""
    if n == 1 or meta.freq is None:
        return pd.DatetimeIndex([meta.first])[:n]
    return pd.date_range(start=meta.first, periods=n, freq=meta.freq)


@dataclass
class Covariates:
    """The covariates of a fitted forecaster.

    Attributes
    ----------
    future : tuple of str
        The ``future_covariates`` (columns of X).
    calendar : tuple of str
        The calendar features (resolved from ``"auto"``).
    static_numeric : tuple of str
        Numeric static columns.
    static_categories : dict
        Categorical static column -> its categories (as strings, sorted), one-hot encoded in that order.
    statics : ndarray
        ``(n_series, n_static)``: the encoded static row of each fitted series.
    ids : list
        The fitted series' ids (``unique_id`` of a long frame, else positions).
    """

    future: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()
    static_numeric: tuple[str, ...] = ()
    static_categories: dict[str, list[str]] = field(default_factory=dict)
    statics: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    ids: list[Any] = field(default_factory=list)

    @property
    def n_static(self) -> int:
        return len(self.static_numeric) + sum(len(c) for c in self.static_categories.values())

    @property
    def n_extra(self) -> int:
        """Channels added to every row: calendar encodings, then statics."""
        return 2 * len(self.calendar) + self.n_static

    @property
    def active(self) -> bool:
        return bool(self.future or self.calendar or self.n_static)

    def future_channels(self, n_targets: int, covariate_names: list[str]) -> list[int]:
        """Row channels whose future is known: the future covariates, then the calendar encodings."""
        first_calendar = n_targets + len(covariate_names)
        return [n_targets + covariate_names.index(c) for c in self.future] + \
            list(range(first_calendar, first_calendar + 2 * len(self.calendar)))

    # ---------------------------------------------------------------- statics
    def encode_static(self, static: Any, batch: Batch, what: str = "static") -> np.ndarray:
        """``(n_series, n_static)`` encoded rows of ``static`` for the series of ``batch`` (ValueError when a
        series has no row, a column is missing, a value is NaN, or a category was not seen at fit)."""
        frame = _static_rows(static, batch, what)
        numeric_cols = list(self.static_numeric) + list(self.static_categories)
        missing = [c for c in numeric_cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{what} lacks the static columns {missing} seen at fit")
        parts = []
        for c in self.static_numeric:
            col = frame[c]
            if not pd.api.types.is_numeric_dtype(col.dtype):
                raise TypeError(f"{what} column {c!r} was numeric at fit but is {col.dtype} now")
            parts.append(col.to_numpy(dtype=np.float64)[:, None])
        for c, cats in self.static_categories.items():
            values = frame[c].astype(str).to_numpy()
            unseen = sorted(set(values) - set(cats))
            if unseen:
                raise ValueError(f"{what} column {c!r} has categories {unseen[:5]} not seen at fit ({cats[:10]})")
            parts.append((values[:, None] == np.asarray(cats)[None, :]).astype(np.float64))
        out = np.hstack(parts) if parts else np.zeros((len(frame), 0))
        if not np.isfinite(out).all():
            raise ValueError(f"{what} has NaN or inf values; every series needs a complete static row")
        return out

    def statics_for(self, batch: Batch, static: Any, what: str = "static") -> np.ndarray:
        """The encoded statics of ``batch``'s series: from ``static`` when given, else the fitted ones by
        ``unique_id`` (long frames) or by position (ValueError for a series not seen at fit)."""
        if static is not None:
            return self.encode_static(static, batch, what)
        if not self.n_static:
            return np.zeros((len(batch.values), 0))
        if batch.kind == "long":
            pos = {uid: i for i, uid in enumerate(self.ids)}
            unknown = [uid for uid in batch.id_values if uid not in pos]
            if unknown:
                raise ValueError(f"the series {unknown[:5]} were not seen at fit: pass their static rows as "
                                 f"static=")
            return self.statics[[pos[uid] for uid in batch.id_values]]
        if len(batch.values) != len(self.statics):
            raise ValueError(f"the model was fitted with statics for {len(self.statics)} series but X has "
                             f"{len(batch.values)}: pass static= (one row per series, by position)")
        return self.statics

    # ---------------------------------------------------------------- rows
    def augment(self, batch: Batch, statics: np.ndarray) -> Batch:
        """``batch`` with the calendar encodings and the statics appended to every row (names unchanged)."""
        if not self.n_extra:
            return batch
        if self.calendar and any(m.kind != "datetime" for m in batch.meta):
            raise ValueError(f"the model has calendar features {list(self.calendar)}: X needs a DatetimeIndex")
        values = []
        for i, (v, meta) in enumerate(zip(batch.values, batch.meta)):
            parts = [v]
            if self.calendar:
                parts.append(calendar_values(self.calendar, _stamps(meta, len(v))) if len(v) else
                             np.zeros((0, 2 * len(self.calendar))))
            if self.n_static:
                parts.append(np.repeat(statics[i][None], len(v), axis=0))
            values.append(np.hstack(parts))
        return Batch(values, batch.meta, batch.target_names, batch.covariate_names, batch.kind, batch.is_list,
                     batch.id_values)

    def lookahead_rows(self, X_future: Any, metas: list[SeriesMeta], last_rows: list[np.ndarray], horizon: int,
                       n_targets: int, covariate_names: list[str], ids: list[Any] | None = None) -> list[np.ndarray]:
        """The ``horizon`` rows after each series' end that a model with known futures reads: the future
        covariates from ``X_future``, the calendar from the future index, the statics from ``last_rows``
        (the series' last rows); every other channel 0 (never read)."""
        n = len(metas)
        future = _future_values(X_future, self.future, metas, horizon, ids) if self.future else [None] * n
        out = []
        first_calendar = n_targets + len(covariate_names)
        for i, meta in enumerate(metas):
            rows = np.zeros((horizon, last_rows[i].shape[-1]))
            if future[i] is not None:
                rows[:, [n_targets + covariate_names.index(c) for c in self.future]] = future[i]
            if self.calendar:
                rows[:, first_calendar : first_calendar + 2 * len(self.calendar)] = \
                    calendar_values(self.calendar, future_index(meta, horizon))
            if self.n_static:
                rows[:, rows.shape[1] - self.n_static :] = last_rows[i][-1, rows.shape[1] - self.n_static :]
            out.append(rows)
        return out

    # ---------------------------------------------------------------- file
    def to_json(self) -> dict:
        return {"future": list(self.future), "calendar": list(self.calendar),
                "static_numeric": list(self.static_numeric), "static_categories": self.static_categories,
                "statics": self.statics.tolist(), "ids": [_json_id(i) for i in self.ids]}

    @classmethod
    def from_json(cls, d: dict) -> Covariates:
        if not isinstance(d, dict) or set(d) != {"future", "calendar", "static_numeric", "static_categories",
                                                 "statics", "ids"}:
            raise ValueError("the saved covariates are damaged")
        unknown = [c for c in d["calendar"] if c not in CALENDAR]
        if unknown:
            raise ValueError(f"the saved calendar features {unknown} are unknown")
        cats = {str(k): [str(c) for c in v] for k, v in d["static_categories"].items()}
        statics = np.asarray(d["statics"], dtype=np.float64)
        spec = cls(tuple(d["future"]), tuple(d["calendar"]), tuple(d["static_numeric"]), cats,
                   statics if statics.ndim == 2 else np.zeros((0, 0)), list(d["ids"]))
        if spec.n_static and spec.statics.shape[1] != spec.n_static:
            raise ValueError("the saved statics do not match their columns")
        return spec


def _json_id(uid: Any) -> Any:
    """A series id as JSON keeps it: ints and strings as they are, anything else as its string."""
    if isinstance(uid, np.generic):
        uid = uid.item()
    return uid if isinstance(uid, (str, int)) and not isinstance(uid, bool) else str(uid)


def _static_rows(static: Any, batch: Batch, what: str) -> pd.DataFrame:
    """One row of ``static`` per series of ``batch``, in its order."""
    if not isinstance(static, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame (one row per series), got {type(static).__name__}")
    if batch.kind == "long":
        index = static.index if static.index.name != LONG_ID and LONG_ID in static.columns else None
        frame = static.set_index(LONG_ID) if index is not None else static
        if frame.index.has_duplicates:
            raise ValueError(f"{what} has duplicated unique_id rows")
        missing = [uid for uid in batch.id_values if uid not in frame.index]
        if missing:
            raise ValueError(f"{what} has no row for the series {missing[:5]} (index it by unique_id)")
        return frame.loc[list(batch.id_values)]
    n = len(batch.values)
    if len(static) != n:
        raise ValueError(f"{what} must have one row per series, in their order: {n} series but {len(static)} rows")
    return static


def _future_values(X_future: Any, names: tuple[str, ...], metas: list[SeriesMeta], horizon: int,
                   ids: list[Any] | None) -> list[np.ndarray]:
    """``(horizon, len(names))`` known-future values per series from ``X_future`` (checked)."""
    n = len(metas)
    if X_future is None:
        raise ValueError(f"the model has future_covariates {list(names)}: pass their values for the next "
                         f"{horizon} steps as X_future")
    if isinstance(X_future, pd.DataFrame) and {LONG_ID, LONG_TIME} <= set(map(str, X_future.columns)):
        parts = {uid: part.drop(columns=[LONG_ID]).set_index(LONG_TIME) for uid, part in
                 X_future.groupby(LONG_ID, sort=False)}
        missing = [uid for uid in (ids or []) if uid not in parts]
        if not ids or missing:
            raise ValueError(f"X_future (a long frame) lacks the series {missing[:5] or 'of the model'}")
        items = [parts[uid] for uid in ids]
    elif isinstance(X_future, (list, tuple)):
        items = list(X_future)
    else:
        items = [X_future]
    if len(items) != n:
        raise ValueError(f"X_future holds {len(items)} series but {n} are forecast")
    out = []
    for i, (item, meta) in enumerate(zip(items, metas)):
        label = f"X_future[{i}]" if n > 1 else "X_future"
        if isinstance(item, pd.Series):
            item = item.to_frame()
        if isinstance(item, pd.DataFrame):
            missing = [c for c in names if c not in map(str, item.columns)]
            if missing:
                raise ValueError(f"{label} lacks the future covariates {missing}")
            item = item.rename(columns=str)
            if len(item) < horizon:
                raise ValueError(f"{label} has {len(item)} rows; the next horizon = {horizon} steps are needed")
            if meta.kind in ("datetime", "int"):
                want = user_labels(meta, future_index(meta, horizon))
                got = item.index[:horizon]
                if meta.kind == "datetime" and type(got) is not type(want):
                    raise ValueError(f"{label} has a {type(got).__name__} but the series has a "
                                     f"{type(want).__name__}; give X_future the index of the series")
                if not np.array_equal(np.asarray(got), np.asarray(want)):
                    raise ValueError(f"{label} is misaligned: its index starts {list(got[:2])}, the next steps "
                                     f"are {list(want[:2])} ... (the {horizon} steps after the series' end)")
            values = item[list(names)].to_numpy(dtype=np.float64)[:horizon]
        elif isinstance(item, np.ndarray) or hasattr(item, "__array__"):
            values = np.asarray(item, dtype=np.float64)
            if values.ndim == 1 and len(names) == 1:
                values = values[:, None]
            if values.ndim != 2 or values.shape[1] != len(names):
                raise ValueError(f"{label} must be an array (horizon, {len(names)}) of {list(names)}, got shape "
                                 f"{values.shape}")
            if len(values) < horizon:
                raise ValueError(f"{label} has {len(values)} rows; the next horizon = {horizon} steps are needed")
            values = values[:horizon]
        else:
            raise TypeError(f"{label} must be a DataFrame, an array, a list of these or a long frame, got "
                            f"{type(item).__name__}")
        if not np.isfinite(values).all():
            raise ValueError(f"{label} contains NaN or inf values")
        out.append(values)
    return out


def resolve_covariates(future_covariates: Any, calendar_features: Any, batch: Batch, static: Any) -> Covariates:
    """The :class:`Covariates` of a fit on ``batch`` (ValueError/TypeError naming what is wrong)."""
    future = tuple(future_covariates or ())
    missing = [c for c in future if c not in batch.covariate_names]
    if missing:
        raise ValueError(f"future_covariates {missing} are not covariate columns of X (pass the targets as y "
                         f"and the covariates as the columns of X; covariates: {batch.covariate_names})")
    datetime = all(m.kind == "datetime" for m in batch.meta)
    if calendar_features == "auto":
        calendar = auto_calendar(batch.meta[0].freq) if datetime else ()
    elif calendar_features is None:
        calendar = ()
    else:
        if not datetime:
            raise ValueError(f"calendar_features={calendar_features!r} needs a DatetimeIndex; X has none "
                             "(use calendar_features=None or 'auto', which gives none here)")
        calendar = tuple(calendar_features)
    spec = Covariates(future, calendar)
    if static is None:
        return spec
    if not isinstance(static, pd.DataFrame):
        raise TypeError(f"static must be a pandas DataFrame (one row per series), got {type(static).__name__}")
    if static.shape[1] == 0 or LONG_ID in static.columns and static.shape[1] == 1:
        raise ValueError("static has no columns")
    rows = _static_rows(static, batch, "static")
    numeric, categories = [], {}
    for c in rows.columns:
        dtype = rows[c].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            if rows[c].isna().any():
                raise ValueError(f"static column {c!r} has missing values")
            categories[str(c)] = sorted(set(rows[c].astype(str)))
        else:
            numeric.append(str(c))
    spec = Covariates(future, calendar, tuple(numeric), categories)
    renamed = rows.rename(columns=str)
    spec.statics = spec.encode_static(renamed, Batch([np.zeros((0, 0))] * len(renamed), [], [], [], "frame",
                                                     True), "static")
    spec.ids = list(batch.id_values) if batch.kind == "long" else list(range(len(batch.values)))
    return spec
