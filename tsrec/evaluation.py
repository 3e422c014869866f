"""Prequential (test-then-train) evaluation of a forecaster on a stream.

:func:`prequential` replays a series as a stream: the forecaster is fitted on
a warm-up head, then at every origin it forecasts the next ``horizon`` rows
*before* they are revealed, and only then learns from the revealed rows with
``partial_fit``. Every forecast is therefore out of sample, and the run
measures what a deployed streaming model would have scored, how fast it
ingests rows and how much memory it holds.

Any object with ``fit(X)``, ``partial_fit(X, update_params=...)`` and
``predict()`` (returning ``(horizon, n_targets)`` values, an array or a
DataFrame) can be evaluated, so baselines run through the same harness (see
:class:`Persistence` and :class:`SeasonalNaive`).
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .data import to_batch

__all__ = ["PrequentialResult", "prequential", "Persistence", "SeasonalNaive", "rss_mb"]


def rss_mb() -> dict[str, float]:
    """Resident set size of this process: ``{"rss": current MB, "peak": peak MB}``.

    Read from ``/proc/self/status`` (Linux); elsewhere the peak comes from
    :func:`resource.getrusage` and the current value is NaN.
    """
    out = {"rss": float("nan"), "peak": float("nan")}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    out["rss"] = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    out["peak"] = int(line.split()[1]) / 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["peak"] = peak / 2**20 if sys.platform == "darwin" else peak / 1024
    return out


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@dataclass
class PrequentialResult:
    """What :func:`prequential` measured.

    Attributes
    ----------
    errors : DataFrame
        One row per forecast origin (indexed by the label of the origin's row
        in the stream): ``mse`` and ``mae`` of that forecast, averaged over
        the horizon steps and the targets.
    mse, mae : float
        Means of ``errors`` over all origins (so the MSE is averaged over the
        horizon steps, the targets and the origins alike).
    mse_by_horizon : ndarray ``(horizon,)``
        MSE of each horizon step, averaged over origins and targets.
    n_origins : int
        Number of forecasts scored.
    n_observations : int
        Rows revealed to the model with ``partial_fit`` after the warm-up.
    fit_seconds : float
        Time of the warm-up fit.
    predict_seconds, update_seconds : float
        Total time spent in ``predict`` and in ``partial_fit`` after the warm-up.
    throughput : float
        ``n_observations / (predict_seconds + update_seconds)``: rows per
        second the model ingests while forecasting at every origin.
    peak_rss_mb : float
        Peak resident memory of the process during the stream (after the
        warm-up), in MB. NaN where it cannot be measured.
    rss_growth_mb : float
        Resident memory at the end of the stream minus at its start, in MB.
    """

    errors: pd.DataFrame
    mse: float
    mae: float
    mse_by_horizon: np.ndarray
    n_origins: int
    n_observations: int
    fit_seconds: float
    predict_seconds: float
    update_seconds: float
    throughput: float
    peak_rss_mb: float
    rss_growth_mb: float
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """The scalar results as a dict (one row of a results table)."""
        return {
            "mse": self.mse, "mae": self.mae, "n_origins": self.n_origins, "n_observations": self.n_observations,
            "fit_seconds": self.fit_seconds, "throughput": self.throughput, "peak_rss_mb": self.peak_rss_mb,
            "rss_growth_mb": self.rss_growth_mb,
        }


def _rows(stream: Any, start: int, stop: int) -> Any:
    if isinstance(stream, (pd.DataFrame, pd.Series)):
        return stream.iloc[start:stop]
    return stream[start:stop]


def prequential(
    estimator: Any,
    stream: Any,
    horizon: int | None = None,
    warmup: int | float = 0.1,
    step: int = 1,
    update_params: bool = True,
    update_every: int = 1,
    fit_method: str | None = "fit",
) -> PrequentialResult:
    """Test-then-train evaluation of ``estimator`` on one series.

    The protocol, with ``T`` rows, ``w`` warm-up rows and horizon ``H``:

    1. ``estimator.fit(stream[:w])`` (or ``partial_fit`` with
       ``fit_method="partial_fit"``, or nothing with ``fit_method=None``);
       its time is ``fit_seconds``.
    2. The origins are ``o = w - 1, w - 1 + step, ...`` as long as
       ``o + H <= T - 1`` (every forecast has all its ``H`` targets in the
       stream). At each origin, in this order:

       a. *test*: ``estimator.predict()`` forecasts rows ``o+1 .. o+H`` from
          what it has seen, which is rows ``0 .. o`` exactly; the first ``H``
          forecast steps are scored against those rows (squared and absolute
          errors, averaged over the steps and the targets);
       b. *reveal and train*: if there is a next origin, rows
          ``o+1 .. o+step`` are passed to
          ``estimator.partial_fit(rows, update_params=u)``, where ``u`` is
          ``update_params`` on every ``update_every``-th chunk and False on the
          others (the state advances over every row; the weights learn on
          one chunk in ``update_every``).

    3. ``mse``/``mae`` are the means over all scored (origin, step, target)
       entries; ``throughput`` is the number of revealed rows divided by the
       time spent in ``predict`` and ``partial_fit`` after the warm-up; memory
       is the process RSS read from ``/proc`` (peak and growth over the stream).

    The forecasts are compared with the stream in its own units: standardise
    the stream beforehand (e.g. by the warm-up rows' mean and std) to report
    errors on the usual scale. Chunks are handed to the estimator as slices of
    ``stream``, of the same kind (a DataFrame's slices keep its index, so
    index checks at the seams apply; a numpy array is the fastest).

    Parameters
    ----------
    estimator : forecaster
        A tsrec forecaster, or any object with ``fit``, ``partial_fit(X,
        update_params=...)`` and ``predict()``. It is fitted in place.
    stream : DataFrame, Series or ndarray
        One series; every column is a target.
    horizon : int, optional
        Steps scored per forecast; default the estimator's ``horizon``. May be
        smaller than the estimator's horizon (the first steps are scored).
    warmup : int or float, default=0.1
        Warm-up rows: a count (int >= 1) or a fraction of the stream in (0, 1).
    step : int, default=1
        Rows revealed between two forecasts (1 = forecast at every row).
    update_params : bool, default=True
        Whether ``partial_fit`` may update the weights (False: the state only).
    update_every : int, default=1
        Update the weights on one chunk in this many (see above).
    fit_method : {"fit", "partial_fit"} or None, default="fit"
        How the warm-up rows are learned. None: the estimator has already
        learned exactly ``stream[:w]`` (e.g. a copy of one fitted on it) and is
        used as it is.

    Returns
    -------
    PrequentialResult
    """
    if fit_method not in ("fit", "partial_fit", None):
        raise ValueError(f"fit_method must be 'fit', 'partial_fit' or None, got {fit_method!r}")
    for name, v in (("step", step), ("update_every", update_every)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    batch = to_batch(stream, what="stream")
    if batch.is_list or len(batch.values) != 1:
        raise ValueError("prequential evaluates one series; pass a DataFrame, Series or array, not a panel")
    values = batch.values[0]
    T, n_t = values.shape
    H = horizon if horizon is not None else getattr(estimator, "horizon", None)
    if H is None or isinstance(H, bool) or not isinstance(H, (int, np.integer)) or H < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {H!r}")
    if isinstance(warmup, float) and not isinstance(warmup, bool):
        if not 0 < warmup < 1:
            raise ValueError(f"a fractional warmup must lie in (0, 1), got {warmup}")
        w = int(warmup * T)
    elif isinstance(warmup, (int, np.integer)) and not isinstance(warmup, bool):
        w = int(warmup)
    else:
        raise TypeError(f"warmup must be an int (rows) or a float (fraction), got {type(warmup).__name__}")
    if w < 1 or w + H > T:
        raise ValueError(f"need 1 <= warmup and warmup + horizon <= {T} rows, got warmup={w}, horizon={H}")
    origins = np.arange(w - 1, T - H, step)

    t0 = time.perf_counter()
    if fit_method is not None:
        getattr(estimator, fit_method)(_rows(stream, 0, w))
    fit_seconds = time.perf_counter() - t0

    mse = np.empty(len(origins))
    mae = np.empty(len(origins))
    by_h = np.zeros(H)
    t_pred = t_upd = 0.0
    n_obs = 0
    _reset_peak_rss()
    rss0 = rss_mb()["rss"]
    for i, o in enumerate(origins):
        t0 = time.perf_counter()
        pred = estimator.predict()
        t1 = time.perf_counter()
        f = np.asarray(pred.to_numpy() if isinstance(pred, pd.DataFrame) else pred, dtype=np.float64)
        if f.ndim == 1:
            f = f[:, None]
        if f.shape[0] < H or f.shape[1] != n_t:
            raise ValueError(f"the estimator forecast shape {f.shape}, expected at least ({H}, {n_t})")
        err = f[:H] - values[o + 1 : o + 1 + H]
        sq = err**2
        mse[i] = sq.mean()
        mae[i] = np.abs(err).mean()
        by_h += sq.mean(1)
        t_pred += t1 - t0
        if i + 1 < len(origins):
            upd = update_params and (i % update_every == update_every - 1)
            t0 = time.perf_counter()
            estimator.partial_fit(_rows(stream, o + 1, o + 1 + step), update_params=upd)
            t_upd += time.perf_counter() - t0
            n_obs += step
    mem = rss_mb()
    index = pd.Index(_labels(stream, origins), name="origin")
    errors = pd.DataFrame({"mse": mse, "mae": mae}, index=index)
    spent = t_pred + t_upd
    return PrequentialResult(
        errors=errors, mse=float(mse.mean()), mae=float(mae.mean()), mse_by_horizon=by_h / len(origins),
        n_origins=len(origins), n_observations=n_obs, fit_seconds=fit_seconds, predict_seconds=t_pred,
        update_seconds=t_upd, throughput=n_obs / spent if spent > 0 and n_obs else float("nan"),
        peak_rss_mb=mem["peak"], rss_growth_mb=mem["rss"] - rss0,
    )


def _labels(stream: Any, origins: np.ndarray) -> Any:
    if isinstance(stream, (pd.DataFrame, pd.Series)):
        return stream.index[origins]
    return origins


class _Baseline:
    """Shared bookkeeping of the numpy baselines: they keep the last ``memory`` rows."""

    memory = 1

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def fit(self, X: Any, y: Any = None) -> _Baseline:
        batch = to_batch(X, y)
        if batch.is_list:
            raise ValueError("the baselines forecast one series")
        self.last_ = batch.values[0][-self.memory :, : batch.n_targets].copy()
        self.n_targets_ = batch.n_targets
        return self

    def partial_fit(self, X: Any, y: Any = None, update_params: bool = True) -> _Baseline:
        if not hasattr(self, "last_"):
            return self.fit(X, y)
        rows = np.asarray(X.to_numpy() if isinstance(X, (pd.DataFrame, pd.Series)) else X, dtype=np.float64)
        rows = rows.reshape(len(rows), -1)[:, : self.n_targets_]
        self.last_ = np.concatenate([self.last_, rows])[-self.memory :]
        return self


class Persistence(_Baseline):
    """Forecast every future step as the last observed value (a streaming baseline)."""

    def predict(self) -> np.ndarray:
        return np.repeat(self.last_[-1:], self.horizon, axis=0)


class SeasonalNaive(_Baseline):
    """Forecast step k as the value one season before it: ``y[t + k - season]`` (repeated)."""

    def __init__(self, horizon: int = 1, season: int = 24) -> None:
        super().__init__(horizon)
        self.season = season

    @property
    def memory(self) -> int:  # type: ignore[override]
        return self.season

    def predict(self) -> np.ndarray:
        last = self.last_
        if len(last) < self.season:
            return np.repeat(last[-1:], self.horizon, axis=0)
        idx = np.arange(self.horizon) % self.season
        return last[idx]
