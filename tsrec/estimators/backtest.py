"""Backtests: the forecasts a fitted forecaster makes along a continuation of its stream.

:func:`historical_forecasts` is the body of
:meth:`BaseForecaster.historical_forecasts <tsrec.estimators.BaseForecaster.historical_forecasts>`.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ..data import Batch, SeriesMeta, future_index, user_labels
from ..training import lookahead
from .conformal import check_coverage, interval
from .params import is_int

if TYPE_CHECKING:
    from .base import BaseForecaster

__all__ = ["UPDATES", "historical_forecasts"]

#: What happens to the model between origins.
UPDATES = ("none", "partial_fit")


def historical_forecasts(est: BaseForecaster, X: Any, y: Any = None, stride: int = 1, update: str = "none",
                         coverage: float | None = None) -> pd.DataFrame:
    """Forecasts made at origins along ``X``, a continuation of the stream, beside the targets they forecast.

    The origins are the end of the stream (what was fitted or streamed) and
    every ``stride``-th row of ``X`` after it, up to the last row but one of each
    series (the last has no target in ``X``). At each origin the model forecasts
    ``horizon`` steps from the rows up to it.

    Parameters
    ----------
    est : BaseForecaster
        A fitted forecaster; its stream, weights and calibration do not move.
    X, y : as for ``partial_fit``
        Rows that continue the stream (every series of a panel).
    stride : int, default=1
        Rows between consecutive origins.
    update : {"none", "partial_fit"}, default="none"
        "none": the fitted model forecasts at every origin, all in one pass of
        the model per series (as :meth:`rolling_forecasts`). "partial_fit": a
        copy of the estimator is updated with the ``stride`` rows before each
        origin (``partial_fit`` with its weight update, replay and online
        calibration), as a deployed model that learns as the rows arrive; the
        series of a panel must then have the same number of rows.
    coverage : float, optional
        Add the conformal interval at this coverage (see ``predict_interval``):
        with "none" from the fitted calibration, with "partial_fit" from the
        copy's calibration at each origin. A model without enough calibration
        origins at the start raises ValueError, as ``predict_interval`` does.

    Returns
    -------
    DataFrame
        One row per series, target, origin and step, ordered so: ``unique_id``
        (the id of a long frame, the position in a list, 0 for a single series),
        ``target`` (the column name), ``cutoff`` (the stamp of the origin's last
        observed row; an integer position for arrays), ``ds`` (the stamp of the
        forecast step), ``y`` (the target, NaN where it lies beyond ``X``: those
        rows are kept so that every origin has all its steps; drop them with
        ``dropna(subset=["y"])``), ``y_hat`` (the forecast; a quantile model's
        trained quantile nearest 0.5) and, with ``coverage``, ``y_lower`` and
        ``y_upper``. In user units.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec import LRUForecaster
    >>> y = np.sin(np.arange(240) / 4)
    >>> f = LRUForecaster(horizon=2, d_model=8, d_state=8, n_layers=1, max_epochs=1, random_state=0,
    ...                   device="cpu").fit(y[:200])
    >>> bt = f.historical_forecasts(y[200:], stride=10)
    >>> list(bt.columns), len(bt), bt["cutoff"].unique().tolist()
    (['unique_id', 'target', 'cutoff', 'ds', 'y', 'y_hat'], 8, [199, 209, 219, 229])
    """
    check_is_fitted(est, "model_")
    if not is_int(stride) or stride < 1:
        raise ValueError(f"stride must be an integer >= 1, got {stride!r}")
    if not isinstance(update, str) or update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
    if coverage is not None:
        coverage = check_coverage(coverage)
    batch, _ = est._continue(X, y)
    est._flush_calibration()  # score what the stream holds (a cache: the estimator does not move)
    st = est._stream
    starts = [_start_meta(m, new) for m, new in zip(st.metas, batch.meta)]
    lengths = [len(v) for v in batch.values]
    if update == "partial_fit" and len(set(lengths)) > 1:
        raise ValueError(f"update='partial_fit' needs every series of X to have the same number of rows (they "
                         f"arrive together); got {sorted(set(lengths))}")
    if coverage is not None:  # the same error predict_interval gives, before any work
        interval(np.zeros((est.horizon, est.model_.c_out)), est._calibration, coverage, est._quantiles(),
                 est.scaler_.scale[: len(est.target_names_)])
    if update == "none":
        forecasts = _one_pass(est, batch, stride)
        bands = None
        if coverage is not None:
            bands = [np.stack([_band(est, f, coverage, i) for f in fs]) if len(fs) else None
                     for i, fs in enumerate(forecasts)]
    else:
        forecasts, bands = _updated(est, batch, starts, stride, coverage)
    uids = list(st.ids) if st.kind == "long" else (list(range(len(st.buffers))) if st.is_list else [0])
    parts = [_frame(est, uid, meta, v, f, None if bands is None else bands[i], stride)
             for i, (uid, meta, v, f) in enumerate(zip(uids, starts, batch.values, forecasts))]
    return pd.concat(parts, ignore_index=True)


def _start_meta(meta: SeriesMeta, new: SeriesMeta) -> SeriesMeta:
    """The stream's meta at its end, with the step learnt from X where a one-row stream did not know it."""
    if meta.freq is None and meta.last is not None:
        return replace(meta, freq=new.freq)
    return meta


def _band(est: BaseForecaster, forecast: np.ndarray, coverage: float, i: int) -> np.ndarray:
    scale = est._scaler_of(i).scale[: len(est.target_names_)]  # series i's own under scaling="series"
    return interval(forecast, est._flush_calibration(), coverage, est._quantiles(), scale)


def forecasts_at(est: BaseForecaster, i: int, rows: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Forecasts ``(len(origins), H, C_out)`` (user units) of stream series ``i`` at ``origins`` of ``rows`` (the
    series' buffer, then new rows); NaN at origins whose known-future rows run past ``rows``."""
    sc = est._scaler_of(i)
    out = np.full((len(origins), est.horizon, len(est.target_names_) * est._n_quantiles), np.nan)
    known = origins[origins + lookahead(est.model_) < len(rows)]  # origins ascend: a prefix
    if len(known):
        out[: len(known)] = est._to_user_units(est._forecast_at(rows, est._stream.state_of(i), known, sc), sc)
    return out


def _one_pass(est: BaseForecaster, batch: Batch, stride: int) -> list[np.ndarray]:
    """Forecasts ``(n_origins, H, C_out)`` (user units) per series, every origin in one call of the model."""
    st, out = est._stream, []
    for i, (buf, v) in enumerate(zip(st.buffers, batch.values)):
        out.append(forecasts_at(est, i, np.concatenate([buf, v], axis=0), len(buf) - 1 + np.arange(0, len(v), stride)))
    return out


def _updated(est: BaseForecaster, batch: Batch, starts: list[SeriesMeta], stride: int,
             coverage: float | None) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Forecasts (and intervals) of a copy of ``est`` that ``partial_fit`` s the ``stride`` rows before each origin."""
    twin = copy.deepcopy(est)
    n = len(batch.values[0])
    per_origin, per_band = [], []
    done = 0
    for p in range(0, n, stride):
        if p > done:
            twin.partial_fit(_rows(batch, starts, done, p))
            done = p
        st = twin._stream
        fs = [forecasts_at(twin, i, np.concatenate([buf, v[p:]], axis=0), np.array([len(buf) - 1]))[0]
              for i, (buf, v) in enumerate(zip(st.buffers, batch.values))]
        per_origin.append(fs)
        if coverage is not None:
            per_band.append([_band(twin, f, coverage, i) for i, f in enumerate(fs)])
    forecasts = [np.stack([fs[i] for fs in per_origin]) for i in range(len(batch.values))]
    bands = [np.stack([b[i] for b in per_band]) for i in range(len(batch.values))] if coverage is not None else None
    return forecasts, bands


def _labels(meta: SeriesMeta, n: int) -> np.ndarray:
    """The labels of positions 0..n after a stream that ends at ``meta`` (0: its last row)."""
    if meta.last is None:  # an empty stream (begun by partial_fit) has no last label: count from X's first
        raise ValueError("the stream has no rows to continue from")
    if meta.kind == "datetime":
        return pd.date_range(start=meta.last, periods=n + 1, freq=meta.freq).to_numpy()
    return np.concatenate([[int(meta.last)], np.asarray(future_index(meta, n), dtype=np.int64)])


def _rows(batch: Batch, starts: list[SeriesMeta], a: int, b: int) -> Batch:
    """Rows ``a:b`` of every series of ``batch`` (which continues streams ending at ``starts``), as a Batch."""
    metas = []
    for m in starts:
        labels = _labels(m, b)
        first, last = labels[a + 1], labels[b]
        if m.kind == "datetime":
            first, last = pd.Timestamp(first), pd.Timestamp(last)
        else:
            first, last = int(first), int(last)
        metas.append(replace(m, last=last, freq=m.freq if m.kind != "none" else 1, first=first))
    return Batch([v[a:b] for v in batch.values], metas, batch.target_names, batch.covariate_names, batch.kind,
                 batch.is_list, batch.id_values)


def _frame(est: BaseForecaster, uid: Any, meta: SeriesMeta, v: np.ndarray, forecasts: np.ndarray,
           bands: np.ndarray | None, stride: int) -> pd.DataFrame:
    """The long frame of one series: forecasts ``(n_origins, H, C_out)``, bands ``(n_origins, H, n_t, 2)``."""
    H, names = est.horizon, est.target_names_
    n_t, n_o = len(names), forecasts.shape[0]
    stamps = user_labels(meta, pd.Index(_labels(meta, len(v) + H)))  # periods for a series given with a PeriodIndex
    pos = np.arange(0, len(v), stride)  # origin positions (0: the end of the stream)
    steps = pos[:, None] + np.arange(1, H + 1)[None, :]  # (n_o, H) positions of the forecast steps
    padded = np.concatenate([v[:, :n_t], np.full((H, n_t), np.nan)], axis=0)
    actual = padded[steps - 1]  # X row j is position j + 1
    y_hat = est._median(forecasts)
    # rows ordered by target, origin, step
    cols = {
        "unique_id": np.repeat(np.array([uid], dtype=object), n_t * n_o * H),
        "target": np.repeat(np.asarray(names, dtype=object), n_o * H),
        "cutoff": stamps.take(np.tile(np.repeat(pos, H), n_t)).to_numpy(),
        "ds": stamps.take(np.tile(steps.ravel(), n_t)).to_numpy(),
        "y": actual.transpose(2, 0, 1).ravel(),
        "y_hat": y_hat.transpose(2, 0, 1).ravel(),
    }
    if bands is not None:
        cols["y_lower"] = bands[..., 0].transpose(2, 0, 1).ravel()
        cols["y_upper"] = bands[..., 1].transpose(2, 0, 1).ravel()
    out = pd.DataFrame(cols)
    out["unique_id"] = out["unique_id"].infer_objects()
    return out
