"""Hyperparameter search with Optuna, with pruning on the training curve.

:func:`tune` runs an Optuna study over a forecaster's hyperparameters. Each
trial fits a clone of the estimator and reports the validation loss of every
epoch to Optuna (through the ``epoch_callback`` fit parameter of the
estimators), so that a pruner such as ``MedianPruner`` or ``HyperbandPruner``
stops bad trials after a few epochs. The study can live in shared storage, so
that several processes on one machine (a journal file) or on many machines (an
RDB URL such as ``postgresql://...``) work on it together.

Needs ``optuna`` (``pip install tsrec[optuna]``).

Example
-------
Two workers on one journal file (run the same command in two shells)::

    from tsrec import LRUForecaster
    from tsrec.tuning import tune

    study, best = tune(LRUForecaster(horizon=24), df, n_trials=40,
                       storage="study.journal", study_name="lru-etth1")
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

try:
    import optuna
    from optuna.distributions import (
        BaseDistribution,
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )
except ImportError as e:  # pragma: no cover - optuna is an optional dependency
    raise ImportError("tsrec.tuning needs optuna: pip install 'tsrec[optuna]'") from e

from .data import LONG_ID, _is_long_frame
from .estimators.base import BaseForecaster
from .training import TrainingDivergedError

__all__ = ["tune", "default_search_space", "make_storage", "SEARCH_SPACE"]

SearchSpace = Mapping[str, BaseDistribution] | Callable[["optuna.Trial"], dict[str, Any]]

#: Ranges tried for each known hyperparameter; :func:`default_search_space`
#: picks those that an estimator has.
SEARCH_SPACE: dict[str, BaseDistribution] = {
    # every forecaster
    "lr": FloatDistribution(1e-4, 1e-2, log=True),
    "d_model": CategoricalDistribution([16, 32, 64, 128]),
    "n_layers": IntDistribution(1, 4),
    "dropout": FloatDistribution(0.0, 0.3),
    "weight_decay": FloatDistribution(1e-4, 1e-1, log=True),
    "linear_path": CategoricalDistribution(["dense", "sparse"]),
    "theta_weight": FloatDistribution(0.0, 1.0),
    "partner": CategoricalDistribution(["theta", "damped"]),
    # state sizes (LRU, S4) and hidden sizes (LEM)
    "d_state": CategoricalDistribution([16, 32, 64, 128]),
    "d_hidden": CategoricalDistribution([16, 32, 64, 128]),
    # attention (Aaren, Transformer); every d_model choice is a multiple of 4
    "n_heads": CategoricalDistribution([1, 2, 4]),
    "window": CategoricalDistribution([64, 128, 256]),
    # LRU eigenvalue ring and phases at initialisation (r_min < 0.9 <= r_max always holds)
    "r_min": FloatDistribution(0.0, 0.85),
    "r_max": FloatDistribution(0.9, 0.999),
    "max_phase": FloatDistribution(math.pi / 50, 2 * math.pi, log=True),
}


def default_search_space(estimator: Any) -> dict[str, BaseDistribution]:
    """The default Optuna search space of a forecaster.

    Learning rate (log-uniform), ``d_model``, ``n_layers``, ``dropout``,
    ``weight_decay``, ``linear_path`` (dense or sparse), ``theta_weight`` and
    ``partner`` for every forecaster, plus its model's own knobs: ``d_state``, ``r_min``,
    ``r_max``, ``max_phase`` (LRU), ``n_heads`` (Aaren, Transformer),
    ``window`` (Transformer), ``d_state`` (S4), ``d_hidden`` (LEM). Ranges are in :data:`SEARCH_SPACE`.

    Parameters
    ----------
    estimator : tsrec forecaster
        Any estimator with ``get_params``; the space holds the entries of
        :data:`SEARCH_SPACE` that are among its parameters.

    Returns
    -------
    dict of str to optuna distribution
    """
    params = estimator.get_params(deep=False)
    return {name: dist for name, dist in SEARCH_SPACE.items() if name in params}


def make_storage(storage: Any) -> Any:
    """Optuna storage from a path or URL.

    Parameters
    ----------
    storage : None, str, path or optuna storage
        None: in memory (one process). A string with ``://`` (``sqlite:///x.db``,
        ``postgresql://user@host/db``): an RDB storage, for workers on several
        machines. Any other string or path: a journal file
        (``optuna.storages.journal.JournalFileBackend``), for workers on one
        machine or a shared file system with working file locks. An optuna
        storage object is returned as it is.
    """
    if storage is None or not isinstance(storage, (str, os.PathLike)):
        return storage
    storage = os.fspath(storage)
    if "://" in storage:
        return storage  # optuna builds an RDBStorage from the URL
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(storage))


def _suggest(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    if callable(space):
        params = space(trial)
        if not isinstance(params, Mapping):
            raise TypeError(f"a callable search_space must return a dict of parameters, got {type(params).__name__}")
        return dict(params)
    params = {}
    for name, dist in space.items():
        if isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        else:
            raise TypeError(f"search_space[{name!r}] must be an optuna Float/Int/CategoricalDistribution, "
                            f"got {type(dist).__name__}")
    return params


def _take(X: Any, rows: np.ndarray | slice) -> Any:
    if X is None:
        return None
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[rows]
    return np.asarray(X)[rows]


def _length(X: Any) -> int:
    return len(X) if isinstance(X, (pd.DataFrame, pd.Series)) else np.asarray(X).shape[0]


def _split_tail(X: Any, y: Any, holdout: float) -> tuple[Any, Any, Any, Any]:
    """(X_train, y_train, X_val, y_val): the last ``holdout`` share of every series as the validation part."""
    if _is_long_frame(X):
        pos = X.groupby(LONG_ID, sort=False).cumcount().to_numpy()
        size = X.groupby(LONG_ID, sort=False)[LONG_ID].transform("size").to_numpy()
        n_val = np.maximum(np.round(size * holdout), 1).astype(int)
        tail = pos >= size - n_val
        return X[~tail], None, X[tail], None
    if isinstance(X, (list, tuple)):
        parts = [_split_tail(x, None if y is None else y[i], holdout) for i, x in enumerate(X)]
        ys = (lambda k: None) if y is None else (lambda k: [p[k] for p in parts])
        return [p[0] for p in parts], ys(1), [p[2] for p in parts], ys(3)
    n = _length(X)
    n_val = max(int(round(n * holdout)), 1)
    if n - n_val < 2:
        raise ValueError(f"too few rows ({n}) to hold out {n_val} for validation")
    return _take(X, slice(0, n - n_val)), _take(y, slice(0, n - n_val)), _take(X, slice(n - n_val, n)), \
        _take(y, slice(n - n_val, n))


def _score(estimator: Any, X: Any, y: Any, scoring: Callable | None) -> float:
    return float(estimator.score(X, y) if scoring is None else scoring(estimator, X, y))


def _fit(estimator: Any, X: Any, y: Any, callback: Callable[[int, float], None] | None) -> Any:
    if callback is not None and isinstance(estimator, BaseForecaster):
        return estimator.fit(X, y, epoch_callback=callback)
    return estimator.fit(X, y)


def tune(
    estimator: Any,
    X: Any,
    search_space: SearchSpace | None = None,
    n_trials: int = 20,
    cv: Any = None,
    pruner: optuna.pruners.BasePruner | None = None,
    storage: Any = None,
    study_name: str | None = None,
    n_jobs: int = 1,
    y: Any = None,
    timeout: float | None = None,
    holdout: float = 0.2,
    scoring: Callable[[Any, Any, Any], float] | None = None,
    direction: str = "maximize",
    sampler: optuna.samplers.BaseSampler | None = None,
    refit: bool = True,
) -> tuple[optuna.Study, Any]:
    """Tune a forecaster's hyperparameters with Optuna.

    Each trial sets the sampled parameters on a clone of ``estimator``.
    With ``cv=None`` it fits on the series without its last ``holdout`` share
    and scores the forecasts over that tail (``estimator.score``, the tail
    continuing what was fitted); the validation loss of every training epoch
    is reported to the trial, and a trial that the pruner flags stops right
    away (``optuna.TrialPruned``). With ``cv`` (e.g. ``TimeSeriesSplit``) the
    objective is the mean score over the folds, the running mean reported
    after each fold.

    Parameters
    ----------
    estimator : tsrec forecaster
        The estimator to tune (not changed).
    X : DataFrame, ndarray, list or long frame
        The history, as for ``estimator.fit``.
    search_space : dict of str to optuna distribution, or callable, optional
        Parameter name -> ``FloatDistribution`` / ``IntDistribution`` /
        ``CategoricalDistribution``, or a function ``trial -> dict of params``.
        None: :func:`default_search_space`.
    n_trials : int, default=20
        Number of trials the study holds when this call ends, counting the
        trials of every worker sharing the study and of earlier calls (workers
        finishing at the same moment may add one more each).
    cv : int or splitter, optional
        None: one holdout tail. An int k: ``TimeSeriesSplit(k)``. A splitter
        whose test rows directly follow its training rows (``TimeSeriesSplit``
        with ``gap=0``); not for panels.
    pruner : optuna pruner, optional
        E.g. ``MedianPruner()`` or ``HyperbandPruner()``. None: Optuna's default
        (``MedianPruner``) for a new study.
    storage : None, str or optuna storage, optional
        Where the study lives (see :func:`make_storage`): a journal file path to
        share it between processes, an RDB URL between machines.
    study_name : str, optional
        Name of the study; the study is loaded when it exists in ``storage``.
    n_jobs : int, default=1
        Trials run in parallel threads of this process.
    y : optional
        Targets, when X holds covariates (as for ``estimator.fit``).
    timeout : float, optional
        Stop starting new trials after this many seconds.
    holdout : float, default=0.2
        Share of every series scored when ``cv`` is None.
    scoring : callable, optional
        ``scoring(fitted_estimator, X_val, y_val) -> float``; default
        ``estimator.score`` (negative MSE of rolling forecasts).
    direction : {"maximize", "minimize"}, default="maximize"
        Whether the score is higher-is-better (the default scoring) or not.
        The per-epoch validation losses are reported with the matching sign
        (negated when maximising), so pruners compare like with like.
    sampler : optuna sampler, optional
        Optuna's default (TPE) when None.
    refit : bool, default=True
        Fit the best parameters on all of X (and y) and return that estimator.

    Returns
    -------
    study : optuna.Study
        The study (``study.best_params``, ``study.trials_dataframe()``).
    best_estimator : estimator or None
        A clone of ``estimator`` with the best parameters, fitted on all of X
        (None when ``refit`` is False).

    Notes
    -----
    Trials whose training diverges (:class:`tsrec.training.TrainingDivergedError`)
    or whose score is NaN are recorded as failed; the search goes on. Each
    trial records the worker that ran it in ``trial.user_attrs["worker"]``.
    """
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be in (0, 1), got {holdout!r}")
    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    space = default_search_space(estimator) if search_space is None else search_space
    if isinstance(cv, int):
        from sklearn.model_selection import TimeSeriesSplit

        cv = TimeSeriesSplit(cv)
    if cv is not None and (isinstance(X, (list, tuple)) or _is_long_frame(X)):
        raise ValueError("cv splits one series; for a panel use cv=None (a holdout tail of every series)")
    sign = -1.0 if direction == "maximize" else 1.0
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker)
        params = _suggest(trial, space)
        try:
            trial.set_user_attr("params", json.loads(json.dumps(params)))
        except (TypeError, ValueError):
            trial.set_user_attr("params", repr(params))
        est = clone(estimator).set_params(**params)
        if cv is None:
            def report(epoch: int, val_loss: float) -> None:
                trial.report(sign * float(val_loss), epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {epoch + 1}")

            X_tr, y_tr, X_val, y_val = _split_tail(X, y, holdout)
            _fit(est, X_tr, y_tr, report)
            return _score(est, X_val, y_val, scoring)
        scores = []
        for k, (train, test) in enumerate(cv.split(X)):
            fold = clone(est)
            _fit(fold, _take(X, train), _take(y, train), None)
            scores.append(_score(fold, _take(X, test), _take(y, test), scoring))
            trial.report(float(np.mean(scores)), k)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {k + 1}")
        return float(np.mean(scores))

    study = optuna.create_study(storage=make_storage(storage), study_name=study_name, direction=direction,
                                pruner=pruner, sampler=sampler, load_if_exists=True)
    remaining = n_trials - len(study.trials)
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, timeout=timeout, n_jobs=n_jobs,
                       catch=(TrainingDivergedError,),
                       callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=None)])
    if not refit:
        return study, None
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise RuntimeError(f"no trial of study {study.study_name!r} completed; see study.trials for the failures")
    best = study.best_trial
    best_params = _suggest(optuna.trial.FixedTrial(best.params, best.number), space) if callable(space) \
        else {k: best.params[k] for k in space}
    best_estimator = clone(estimator).set_params(**best_params).fit(X, y)
    return study, best_estimator
