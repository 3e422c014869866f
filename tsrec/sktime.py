"""sktime adapter: any tsrec forecaster as an sktime forecaster.

:class:`TsrecForecaster` wraps a tsrec estimator (``LRUForecaster()`` and the
others of :data:`tsrec.estimators.FORECASTERS`) so that it works wherever
sktime expects a forecaster: ``fit(y, X, fh)`` / ``predict(fh)``,
``update`` (mapped to ``partial_fit``), ``predict_quantiles`` and
``predict_interval``, ``evaluate``, pipelines and the tuners.

Needs ``sktime`` (``pip install tsrec[sktime]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

try:
    from sktime.forecasting.base import BaseForecaster as _SktimeBaseForecaster
except ImportError as e:  # pragma: no cover - sktime is an optional dependency
    raise ImportError("tsrec.sktime needs sktime: pip install 'tsrec[sktime]'") from e

__all__ = ["TsrecForecaster", "interpolate_quantiles"]


def _default_forecaster():
    from .estimators import LRUForecaster

    return LRUForecaster(loss="quantile")


def interpolate_quantiles(values: np.ndarray, trained: Any, wanted: Any) -> np.ndarray:
    """Quantiles at ``wanted`` levels from quantiles at ``trained`` levels.

    The quantile function is taken piecewise linear in the normal score
    ``z = Phi^-1(level)`` between the trained levels and extended linearly in
    ``z`` beyond the outermost ones (the slope of the outer segment), so that
    levels in the tails follow a normal-like spread. Trained levels come back
    exactly, and increasing ``values`` give increasing results (no crossing).

    Parameters
    ----------
    values : ndarray of shape (..., n_trained)
        Quantiles at the trained levels, increasing along the last axis.
    trained : sequence of float
        The trained levels, increasing, in (0, 1).
    wanted : sequence of float
        The levels wanted, in (0, 1).

    Returns
    -------
    ndarray of shape (..., n_wanted)
    """
    from scipy.stats import norm

    trained = np.asarray(trained, dtype=float)
    wanted = np.atleast_1d(np.asarray(wanted, dtype=float))
    if ((wanted <= 0) | (wanted >= 1)).any():
        raise ValueError(f"quantile levels must lie in (0, 1), got {wanted.tolist()}")
    values = np.asarray(values, dtype=float)
    if trained.size == 1:
        if not np.isclose(wanted, trained[0]).all():
            raise ValueError(f"the model was trained on the single quantile {trained[0]}; "
                             f"train at least two quantiles to predict others")
        return np.repeat(values, wanted.size, axis=-1)
    z, zw = norm.ppf(trained), norm.ppf(wanted)
    i = np.clip(np.searchsorted(z, zw) - 1, 0, z.size - 2)
    w = (zw - z[i]) / (z[i + 1] - z[i])
    lo, hi = values[..., i], values[..., i + 1]
    out = lo + w * (hi - lo)
    exact = np.isclose(wanted[:, None], trained[None, :])
    for k, j in zip(*np.nonzero(exact)):
        out[..., k] = values[..., j]
    return out


class TsrecForecaster(_SktimeBaseForecaster):
    """A tsrec forecaster as an sktime forecaster.

    ``fit`` clones ``forecaster`` with ``horizon = max(fh)`` (or keeps its
    horizon when no ``fh`` is given until ``predict``) and fits it on ``y``,
    with ``X`` as covariates observed at the same steps. ``predict`` picks the
    rows of ``fh`` from the forecast made after the cutoff; ``update`` continues
    the stream with ``partial_fit`` (gradient steps with ``update_params=True``,
    only the recurrent state moves otherwise), at a cost in the new rows only.

    Exogenous ``X`` are *past* covariates: the model reads them up to the
    cutoff. Columns of ``X`` named in the wrapped forecaster's
    ``future_covariates`` are also known ahead: the future ``X`` that sktime
    hands to ``predict`` must then cover the ``horizon`` steps after the cutoff
    (whatever ``fh``), and their values there are the model's ``X_future``;
    otherwise the future ``X`` is ignored. Data indexed by dates (a
    DatetimeIndex or a PeriodIndex) reach the forecaster as frames with their
    index (a PeriodIndex as its start timestamps), so its defaults take the
    season and the step from the dates as a direct ``fit`` does, and calendar
    features see them; such an index must be regular, as for a direct ``fit``
    (trading days may skip holidays), and ``update`` must continue it without a
    gap. Data with an integer index reach it as arrays (as do their
    covariates, then named by position), unless ``future_covariates`` or
    ``calendar_features`` need the frames. ``fh`` must be out of sample and at
    most the fitted horizon (pass ``fh`` to ``fit`` to set it); it may have
    gaps.

    Probabilistic forecasts need a forecaster trained with
    ``loss="quantile"``: the ``capability:pred_int`` tag follows the wrapped
    forecaster's ``loss`` (sktime raises ``NotImplementedError`` for the others).
    Levels that were trained come back as predicted; other levels are
    interpolated in the normal score between trained levels and extrapolated
    beyond them (see :func:`interpolate_quantiles`). Quantiles never cross.

    Parameters
    ----------
    forecaster : tsrec forecaster, default=None
        The estimator to wrap (it is cloned, never changed). None:
        ``LRUForecaster(loss="quantile")``.

    Attributes
    ----------
    forecaster_ : tsrec forecaster
        The fitted clone.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from tsrec import LRUForecaster
    >>> from tsrec.sktime import TsrecForecaster
    >>> y = load_airline()
    >>> f = TsrecForecaster(LRUForecaster(loss="quantile", d_model=16, d_state=16, n_layers=1,
    ...                                   max_epochs=2, random_state=0, device="cpu"))
    >>> f = f.fit(y, fh=[1, 2, 3])
    >>> f.predict().shape
    (3,)
    >>> f.predict_interval(coverage=0.8).shape
    (3, 2)
    """

    _tags = {
        "authors": ["tsrec developers"],
        "maintainers": ["tsrec developers"],
        "python_dependencies": ["torch"],
        "object_type": "forecaster",
        "y_inner_mtype": "pd.DataFrame",
        "X_inner_mtype": "pd.DataFrame",
        "capability:multivariate": True,
        "capability:exogenous": True,
        "capability:insample": False,
        "capability:pred_int": True,  # per instance: only for loss="quantile" (set in __init__)
        "capability:pred_int:insample": False,
        "capability:missing_values": False,
        "capability:categorical_in_X": False,
        "capability:update": True,
        "requires-fh-in-fit": False,
        "X-y-must-have-same-index": True,
        "enforce_index_type": None,
        "fit_is_empty": False,
    }
    # the model keeps its own bounded stream state; no need to store all of y and X
    _config = {"remember_data": False}

    def __init__(self, forecaster: Any = None) -> None:
        self.forecaster = forecaster
        super().__init__()
        self._y, self._X = None, None  # sktime's data memory, used only if remember_data is switched on
        self._sync_pred_int_tag()

    def _sync_pred_int_tag(self) -> None:
        inner = self.forecaster if self.forecaster is not None else _default_forecaster()
        self.set_tags(**{"capability:pred_int": getattr(inner, "loss", None) == "quantile",
                         "capability:missing_values": getattr(inner, "missing", "raise") == "mask"})

    def set_params(self, **params: Any) -> TsrecForecaster:
        """Set parameters (nested ones as ``forecaster__lr``); keeps the ``capability:pred_int`` tag current."""
        super().set_params(**params)
        self._sync_pred_int_tag()
        return self

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _covariates(X: pd.DataFrame | None, index: pd.Index) -> np.ndarray | None:
        if X is None:
            return None
        missing = index.difference(X.index)
        if len(missing):
            raise ValueError(f"X has no rows for {len(missing)} time points of y (e.g. {missing[0]}); "
                             f"X must be observed at the steps of y")
        return X.loc[index].to_numpy(dtype=np.float64)

    def _with_index(self, index: pd.Index) -> bool:
        """Whether data indexed by ``index`` go to the forecaster as frames with their index: where it holds dates
        (the defaults read the season and the step from them, as a direct ``fit`` on the same frame does) or
        where the covariates need names or dates; else as arrays."""
        if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
            return True
        inner = self.forecaster_ if hasattr(self, "forecaster_") else self.forecaster
        return inner is not None and bool(getattr(inner, "future_covariates", None) or
                                          getattr(inner, "calendar_features", None))

    @staticmethod
    def _frame(df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with string columns and a PeriodIndex as its start timestamps (the forecasts get sktime's index)."""
        df = df.rename(columns=str)
        return df.set_axis(df.index.to_timestamp()) if isinstance(df.index, pd.PeriodIndex) else df

    def _inputs(self, y: pd.DataFrame, X: pd.DataFrame | None) -> tuple[Any, Any]:
        """``(X, y)`` as the wrapped forecaster's ``fit`` / ``partial_fit`` take them (X None: ``(y, None)``)."""
        cov = self._covariates(X, y.index)
        if self._with_index(y.index):
            target = self._frame(y)
            cov = None if cov is None else self._frame(X.loc[y.index])
        else:
            target = y.to_numpy(dtype=np.float64)
        return (target, None) if cov is None else (cov, target)

    def _future(self, X: pd.DataFrame | None) -> np.ndarray | None:
        """The future covariates over the ``horizon`` steps after the cutoff, from sktime's future X."""
        names = getattr(self.forecaster_, "future_covariates", None)
        if not names:
            return None
        from sktime.forecasting.base import ForecastingHorizon

        H = self.forecaster_.horizon
        index = ForecastingHorizon(np.arange(1, H + 1), is_relative=True).to_absolute_index(self.cutoff)
        if X is None or len(index.difference(X.index)):
            raise ValueError(f"the forecaster has future_covariates {list(names)}: predict needs X covering the "
                             f"{H} steps after the cutoff ({index[0]} to {index[-1]})")
        return self._frame(X.loc[index])[list(names)].to_numpy(dtype=np.float64)

    def _steps(self, fh) -> np.ndarray:
        steps = np.asarray(fh.to_relative(self.cutoff).to_numpy(), dtype=np.int64)
        H = self.forecaster_.horizon
        if steps.min() < 1:
            raise NotImplementedError("TsrecForecaster can not perform in-sample prediction")
        if steps.max() > H:
            raise ValueError(f"fh reaches {int(steps.max())} steps ahead but the forecaster was fitted with "
                             f"horizon={H}; pass fh to fit (or set the wrapped forecaster's horizon)")
        return steps

    # ------------------------------------------------------------------ sktime
    def _fit(self, y: pd.DataFrame, X: pd.DataFrame | None = None, fh=None) -> TsrecForecaster:
        self._sync_pred_int_tag()
        inner = clone(self.forecaster) if self.forecaster is not None else _default_forecaster()
        if fh is not None:
            steps = np.asarray(fh.to_relative(self.cutoff).to_numpy(), dtype=np.int64)
            inner.set_params(horizon=int(steps.max()))
        self.forecaster_ = inner
        first, second = self._inputs(y, X)
        inner.fit(first, second)
        self._with_X = second is not None
        self._columns = y.columns
        self._last_index = y.index[-1]
        return self

    def _update(self, y: pd.DataFrame, X: pd.DataFrame | None = None, update_params: bool = True):
        y = y.loc[y.index > self._last_index]  # rows already streamed are skipped
        if len(y) == 0:
            return self
        if self._with_X and X is None:
            raise ValueError("the forecaster was fitted with X; update needs X at the new steps too")
        first, second = self._inputs(y, X if self._with_X else None)
        self.forecaster_.partial_fit(first, second, update_params=update_params)
        self._last_index = y.index[-1]
        return self

    def _predict(self, fh, X: pd.DataFrame | None = None) -> pd.DataFrame:
        steps = self._steps(fh)
        point = np.asarray(self.forecaster_.predict(X_future=self._future(X)))  # (horizon, n_targets)
        index = fh.to_absolute_index(self.cutoff)
        return pd.DataFrame(point[steps - 1], index=index, columns=self._columns)

    def _predict_quantiles(self, fh, X: pd.DataFrame | None, alpha: list[float]) -> pd.DataFrame:
        steps = self._steps(fh)
        inner = self.forecaster_
        q = np.asarray(inner.predict_quantiles(X_future=self._future(X)))  # sorted; a frame's (target, quantile)
        q = q.reshape(len(q), len(self._columns), -1)  # columns, or an array: (horizon, n_targets, n_trained)
        values = interpolate_quantiles(q[steps - 1], inner.quantiles, alpha)
        columns = self._get_columns(method="predict_quantiles", alpha=alpha)
        index = fh.to_absolute_index(self.cutoff)
        return pd.DataFrame(values.reshape(len(steps), -1), index=index, columns=columns)

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict]:
        """Cheap settings for sktime's conformance tests.

        Parameters
        ----------
        parameter_set : str, default="default"
            Unused (one set of test parameters).

        Returns
        -------
        list of dict
            A quantile LRU (probabilistic, with the default damped partner)
            and a mean-squared-error Aaren forecaster with the Theta partner
            (cheaper on sktime's short series), both tiny and trained for one
            epoch.
        """
        from .estimators import AarenForecaster, LRUForecaster

        small = dict(d_model=8, n_layers=1, max_epochs=1, batch_size=64, chunk_length=16, early_stopping=False,
                     device="cpu", random_state=0)
        return [
            {"forecaster": LRUForecaster(d_state=8, loss="quantile", **small)},
            {"forecaster": AarenForecaster(n_heads=2, partner="theta", **small)},
        ]
