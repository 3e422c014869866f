"""The estimator contract shared by every tsrec forecaster.

:class:`BaseForecaster` holds it: input validation and scaling (through
:mod:`tsrec.data`), training (through :mod:`tsrec.training`), and the stream
(:class:`~tsrec.estimators.stream.Stream`) that ``predict``, ``partial_fit``
and ``score`` continue from. The hyperparameters are declared in
:mod:`tsrec.estimators.params`, the file format in
:mod:`tsrec.estimators.persistence`, the frame (window or stream model, settings
from the data) in :mod:`tsrec.estimators.frame`. A concrete forecaster lists
its hyperparameters in ``__init__`` (scikit-learn rules: stored unchanged),
declares its model's own in ``_model_params``, and builds its blocks in
``_build_stack``.
"""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..data import Batch, SeriesMeta, StandardScaler, check_columns, meta_before, scales_differ, to_batch, to_output
from ..nn.blocks import Stack, State
from ..nn.covariates import lookahead
from ..nn.online import OnlineRidge
from ..nn.window import WindowModel, memoised_partners
from ..training import (
    TrainConfig,
    choose_theta_weight,
    fit_windows,
    gradient_steps,
    is_plain_window_model,
    make_optimizer,
    refit,
    resolve_device,
    ridge_host,
    seeded,
    set_theta_weight,
    training_windows,
    validation_windows,
)
from . import backtest, online, persistence
from .conformal import (
    Calibration,
    StepForecasts,
    check_coverage,
    errors_of,
    interval,
    interval_output,
    newest_last,
    newest_last_order,
    validation_origins,
)
from .covariates import Covariates, resolve_covariates
from .frame import (
    AUTO_THETA_HORIZONS,
    RIDGE_SHARES,
    Frame,
    auto_naive_share,
    auto_ridge_share,
    auto_stride,
    auto_theta_weight,
    build_model,
    check_ridge_share,
    coarse_share,
    daily_or_finer,
    frame_of,
    history_rows,
    history_share,
    holds_one_season,
    monthly_or_coarser,
    wants_seasonal_skip,
)
from .params import COMMON_PARAMS, FITTED_ATTRIBUTES, Param, check_params, render_docstring
from .stream import (
    Scalers,
    Stream,
    forecast_at,
    forecast_many,
    forecast_panel,
    forecast_states,
    replay_sample,
    scaler_of,
    update_batch,
    update_window_counts,
)

__all__ = ["BaseForecaster"]

#: Rows a state-only stream collects before their calibration origins are scored in one pass.
PENDING_ROWS = 1024


@render_docstring
class BaseForecaster(BaseEstimator):
    """Base class of the tsrec forecasters (see the module docstring for the contract).

    Subclasses define ``__init__`` with every hyperparameter (common ones
    below, plus their model's, declared in ``_model_params``) and
    ``_build_stack(c_in, c_out, skip_last)``, the network of their blocks
    (which the direct head runs over segments; see :mod:`tsrec.estimators.frame`).

    The common hyperparameters are documented in every subclass:

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(attributes)s
    """

    #: the model's own hyperparameters (names, defaults, docs, rules), after the common ones
    _model_params: tuple[Param, ...] = ()

    # ------------------------------------------------------- hooks, sklearn face
    def _build_stack(self, c_in: int, c_out: int, skip_last: bool) -> Stack:  # pragma: no cover - abstract
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = self.missing == "mask"
        tags.non_deterministic = self.random_state is None
        return tags

    def _check_params(self) -> None:
        """Validate every hyperparameter by its declared rule (ValueError naming it)."""
        check_params(self, COMMON_PARAMS + self._model_params)

    def _train_config(self, **overrides: Any) -> TrainConfig:
        """The training loop's settings from the hyperparameters (``overrides``: other TrainConfig fields)."""
        return TrainConfig(
            lr=float(self.lr), weight_decay=float(self.weight_decay), max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size), early_stopping=bool(self.early_stopping), patience=int(self.patience),
            weight_average=bool(self.weight_average),
            loss=self.loss, quantiles=tuple(float(q) for q in self._quantiles()), verbose=bool(self.verbose),
            seed=self.random_state, lr_schedule=self.lr_schedule, **overrides,
        )

    def _quantiles(self) -> tuple[float, ...]:  # the trained quantiles (none without the quantile loss)
        return tuple(self.quantiles) if self.loss == "quantile" else ()

    @property
    def _n_quantiles(self) -> int:
        return max(1, len(self._quantiles()))

    @property
    def _keep(self) -> int:
        return (self.frame_.window_rows or 0) + self.horizon

    @property
    def _replay_window(self) -> int:
        """Rows of one replay window: a training window and its targets."""
        return (self.frame_.context or self.chunk_length) + self.horizon

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, checkpoint_dir: str | Path | None = None, static: Any = None,
            **fit_params: Any) -> BaseForecaster:
        """Fit the forecaster on a history.

        Parameters
        ----------
        X : DataFrame, Series, ndarray, long DataFrame, or list of these
            Rows are time steps, columns channels (see :func:`tsrec.data.to_batch`).
            A list (or a long ``unique_id``/``ds``/``y`` frame) is a panel:
            one global model is fitted on all series.
        y : same kind as X, optional
            Targets; when given, the columns of X are covariates observed at
            the same steps. When None every column of X is a target.
        checkpoint_dir : str or Path, optional
            Write a checkpoint there after every epoch (weights as
            safetensors; optimizer and RNG states through ``torch.save``, read
            back with ``weights_only=True``; epoch and history as JSON). If it
            already holds a checkpoint of the same fit (same hyperparameters,
            data and seed), training resumes from it, so a fit interrupted
            (KeyboardInterrupt, a killed process) and restarted gives the
            same model as an uninterrupted one. A checkpoint of another fit
            raises ValueError. ``verbose`` may change between the two runs,
            and ``max_epochs`` too with ``lr_schedule="constant"`` (a
            schedule is planned over ``max_epochs``).
        static : DataFrame, optional
            Static covariates, one row per series: indexed by ``unique_id``
            for a long frame, in the order of the series for a list (or one
            row for one series). Numeric columns are used as they are,
            categorical ones (strings, categories, bools) one-hot encoded and
            embedded. Every series needs a complete row. They are saved with
            the model; ``predict``, ``partial_fit`` and ``score`` use them
            for the fitted series (see ``predict`` for new ones).
        **fit_params
            ``epoch_callback(epoch, val_loss)``: called after every epoch,
            once its checkpoint is written (used for Optuna pruning).

        Returns
        -------
        self
        """
        self._check_params()
        unknown = set(fit_params) - {"epoch_callback"}
        if unknown:
            raise TypeError(f"unknown fit parameters {sorted(unknown)}")
        batch = to_batch(X, y, missing=self.missing)
        covariates = resolve_covariates(self.future_covariates, self.calendar_features, batch, static)
        batch = covariates.augment(batch, covariates.statics)
        c_rows = batch.values[0].shape[1]
        H = self.horizon
        shortest = min(len(v) for v in batch.values)
        if shortest < H + 2:
            raise ValueError(f"too few rows: a series has {shortest}, at least horizon + 2 = {H + 2} needed")
        frame = frame_of(self, batch)
        if self.start_padding and frame.context is None:
            raise ValueError("start_padding=True needs a fixed context (an int or 'auto'); context=None reads "
                             "every series from its first row")
        if frame.context is not None and shortest < frame.context + H and not self.start_padding:
            raise ValueError(f"too few rows: a series has {shortest}, context + horizon = {frame.context + H} needed "
                             "(start_padding=True pads the start of shorter series)")
        device = resolve_device(self.device)
        scaler = StandardScaler(c_rows)
        for v in batch.values:
            scaler.update(v)
        series = self._series_scalers(batch, fitting=True)
        scaled = [(series[i] if series else scaler).transform(v).astype(np.float32) for i, v in enumerate(batch.values)]
        L = frame.context if frame.context is not None else min(self.chunk_length, shortest - H)
        val_fraction = self.validation_fraction if self.early_stopping else 0.0
        stride = auto_stride([len(v) for v in scaled], L + H) if self.stride == "auto" else self.stride
        train, val = training_windows(scaled, L, H, val_fraction, stride, bool(self.start_padding))
        if train.shape[0] == 0:
            raise ValueError(f"too few rows for one training window of {L + H} steps")
        if frame.direct and self.theta_weight == "auto":
            frame = replace(frame, theta_weight=auto_theta_weight(train.shape[0] * stride, frame, scaled[0][:, 0]),
                            one_season=holds_one_season(frame),
                            seasonal_skip=wants_seasonal_skip(self, frame, train.shape[0] * stride,
                                                              [v[:, 0] for v in scaled]))
        if frame.direct and self.partner == "damped" and (frame.period or 1) > 1:  # blended with seasonal naive
            frame = replace(frame, naive_blend=True)
        freq = batch.meta[0].freq if batch.meta and batch.meta[0].kind == "datetime" else None
        if frame.direct and self.partner == "damped" and daily_or_finer(freq):  # fitted for the horizon ahead
            frame = replace(frame, horizon_errors=True)
        fingerprint = None
        if checkpoint_dir is not None:
            # max_epochs may grow between the runs where the learning rate does not follow a schedule over them
            free = ("max_epochs", "verbose") if self.lr_schedule == "constant" else ("verbose",)
            params = {k: v for k, v in self.get_params(deep=False).items() if k not in free}
            fingerprint = json.dumps([type(self).__name__, params, batch.n_features, batch.n_targets], sort_keys=True,
                                     default=str)
        cfg = self._train_config(epoch_callback=fit_params.get("epoch_callback"), checkpoint_dir=checkpoint_dir,
                                 fingerprint=fingerprint)
        # the validation windows are forecast after every epoch, for each share tried and for calibration:
        # their partner forecasts are computed once
        with memoised_partners():
            with seeded(self.random_state):
                model = self._build_model(c_rows, batch.n_targets, batch.covariate_names, frame, covariates)
                model = model.to(device)
                check_ridge_share(self.ridge_share, model, len(batch.values), val is not None, self.cross_ridge_rows)
                rows = history_rows(self, frame) if is_plain_window_model(model) else 0
                if rows:  # the partner reads the rows before the window (a plain window model or ensemble only)
                    frame = replace(frame, partner_rows=rows)
                    frame = replace(frame, theta_weight=history_share(frame, frame.theta_weight,
                                                                      [s[:, 0] for s in scaled]))
                    model.partner_rows, model.theta_weight = rows, frame.theta_weight
                    if (frame.period or 1) > 1:  # rows of one season may be forecast less that season; the
                        # partner is blended with seasonal naive where that backtests better
                        frame = replace(frame, history_one_season=True, history_blend=True,
                                        tail_season=monthly_or_coarser(freq), positive_differences=True)
                        model.history_one_season = model.history_blend = model.positive_differences = True
                        model.tail_season = frame.tail_season
                    if val is not None:  # validation windows read as forecasts do, with the rows before them
                        val = validation_windows(scaled, L, H, val_fraction, stride, rows)
                initial = copy.deepcopy(model) if self.refit and val is not None else None
                history = fit_windows(model, train, val, H, batch.n_targets, cfg, device)
            model.eval()
            chosen = frame.direct and self.theta_weight == "auto" and val is not None \
                and val.shape[0] * stride >= AUTO_THETA_HORIZONS * H
            if chosen:
                frame = replace(frame, theta_weight=choose_theta_weight(model, val, H, batch.n_targets, cfg, device))
            if (chosen and self.ridge_share == "auto") or (self.ridge_share != "auto" and self.ridge_share > 0):
                grid = RIDGE_SHARES if self.ridge_share == "auto" else (float(self.ridge_share),)
                frame = replace(frame, ridge_share=auto_ridge_share(model, train, val, len(batch.values),
                                                                    batch.n_targets, H, cfg, device, grid))
            if self.theta_weight == "auto":  # a share of (seasonal) naive, if the validation windows ask for it
                share, period = auto_naive_share(self, frame, model, freq, val, batch.n_targets, cfg, device)
                frame = replace(frame, naive_share=share, naive_period=period)
            share = None if chosen or not is_plain_window_model(model) else coarse_share(self, frame, freq,
                                                                                            len(batch.values))
            if share is not None:  # a long coarse series: more to its damped partner
                frame = replace(frame, theta_weight=share)
                set_theta_weight(model, share)
            calibration = self._validation_calibration(model, batch, series or scaler, device, frame, L,
                                                       val_fraction)
            if initial is not None:  # what the held-out windows chose stays; the weights learn from them too
                with seeded(self.random_state):  # its dropout draws as the first training's did
                    history = refit(model, initial, training_windows(scaled, L, H, 0.0, stride,
                                                                     bool(self.start_padding))[0],
                                    history, H, batch.n_targets, cfg, device)
            stream = self._new_stream(model, batch, series or scaler, device, frame)
        # commit only now: a failed fit leaves an earlier fit untouched
        self._set_fitted(model, scaler, batch, stream, history, device, frame, series, covariates)
        self._calibration = calibration
        return self

    def _build_model(self, c_rows: int, n_targets: int, covariate_names: list[str], frame: Frame,
                     covariates: Covariates) -> nn.Module:
        """The network for rows of ``c_rows`` channels (targets, covariates of X, then ``covariates``' own)."""
        future = covariates.future_channels(n_targets, covariate_names)
        model = build_model(self, c_rows, n_targets * self._n_quantiles, frame, future, covariates.n_static)
        return online.with_correction(self, model, frame, n_targets)  # online_update="ridge": the fast weights

    def _series_scalers(self, batch: Batch, empty: bool = False, fitting: bool = False) -> list[StandardScaler] | None:
        """The statistics of each series of ``batch`` (``empty``: none yet) where its series are scaled one by one,
        else None: at a fit (``fitting``) as ``scaling`` says ("auto": where the series' scales differ,
        :func:`~tsrec.data.scales_differ`), after it as the fit chose."""
        if fitting:
            per_series = self.scaling == "series" or self.scaling == "auto" and scales_differ(batch.values,
                                                                                              batch.n_targets)
        else:
            per_series = self.series_scalers_ is not None
        if not per_series:
            return None
        n = batch.values[0].shape[1]  # the rows' channels (with calendar and static ones)
        return [StandardScaler(n) if empty else StandardScaler(n).update(v) for v in batch.values]

    def _scaler_of(self, i: int) -> StandardScaler:
        """The scaler of series ``i`` of the stream."""
        return self.series_scalers_[i] if self.series_scalers_ is not None else self.scaler_

    def _set_fitted(self, model: nn.Module, scaler: StandardScaler, batch: Batch, stream: Stream, history: dict,
                    device: torch.device, frame: Frame, series_scalers: list[StandardScaler] | None = None,
                    covariates: Covariates | None = None) -> None:  # every attribute of FITTED_ATTRIBUTES
        self.covariates_ = covariates if covariates is not None else Covariates()
        self.model_ = model
        self.frame_ = frame
        self.scaler_ = scaler
        self.series_scalers_ = series_scalers
        self.history_ = history
        self.device_ = device
        self.target_names_ = list(batch.target_names)
        self.covariate_names_ = list(batch.covariate_names)
        self.n_features_in_ = len(batch.covariate_names) if batch.covariate_names else batch.n_targets
        if batch.kind != "array":
            self.feature_names_in_ = np.asarray(batch.covariate_names or batch.target_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._stream = stream
        self._optimizer = None
        self._calibration = Calibration.empty(self.horizon, batch.n_targets, self._n_quantiles)
        self._pending = None
        self._deferred = ()

    def _new_stream(self, model: nn.Module, batch: Batch, scaler: StandardScaler | list[StandardScaler],
                    device: torch.device,
                    frame: Frame) -> Stream:
        context = frame.context
        return Stream.start(batch, model, scaler, keep=(frame.window_rows or 0) + self.horizon,
                            stateful=context is None,
                            replay_window=(context or self.chunk_length) + self.horizon if self.replay_size else None,
                            device=device)

    # -------------------------------------------------------------- forecasts
    def _forecast_at(self, rows: np.ndarray, state: State | None, origins: np.ndarray,
                     scaler: StandardScaler | None = None) -> np.ndarray:
        """Scaled forecasts ``(len(origins), H, C_out)`` at rows ``origins`` of ``rows`` (see :func:`forecast_at`),
        scaled by ``scaler`` (default ``scaler_``)."""
        context, model = self.frame_.context, self.model_
        return forecast_at(model, scaler or self.scaler_, rows, state, origins, context, self.horizon, self.device_)

    def _to_user_units(self, scaled: np.ndarray, scaler: StandardScaler | None = None) -> np.ndarray:
        """(..., C_out) scaled forecasts -> user units by ``scaler`` (default ``scaler_``; quantile channels
        share their target's scale)."""
        n_t, scaler = len(self.target_names_), scaler or self.scaler_
        scale = np.repeat(scaler.scale[:n_t], self._n_quantiles)
        mean = np.repeat(scaler.mean[:n_t], self._n_quantiles)
        return scaled * scale + mean

    def _median(self, forecasts: np.ndarray) -> np.ndarray:
        """(..., C_out) -> (..., n_targets): the trained quantile nearest 0.5, after sorting (no-op otherwise)."""
        if self._n_quantiles == 1:
            return forecasts
        q = np.asarray(self._quantiles())
        ordered = np.sort(forecasts.reshape(*forecasts.shape[:-1], -1, len(q)), axis=-1)  # no crossing
        return ordered[..., int(np.argmin(np.abs(q - 0.5)))]

    def _validation_calibration(self, model: nn.Module, batch: Batch, scalers: Scalers, device: torch.device,
                                frame: Frame, length: int, validation_fraction: float) -> Calibration:
        """Split conformal at ``fit``: the errors of the trained model's forecasts at the origins of the
        validation tail (evenly thinned to the calibration's size; none without a tail), each series' in its
        own scaled units under ``scaling="series"``."""
        H, n_t, n_q = self.horizon, batch.n_targets, self._n_quantiles
        cal = Calibration.empty(H, n_t, n_q)
        per_series = [validation_origins(len(v), length, H, validation_fraction) for v in batch.values]
        total = sum(len(o) for o in per_series)
        errors = []
        for i, (v, origins) in enumerate(zip(batch.values, per_series)):
            scaler = scaler_of(scalers, i)
            n_keep = len(origins) * cal.size // total if total > cal.size else len(origins)
            origins = origins[np.linspace(0, len(origins) - 1, n_keep).round().astype(int)]  # distinct, ordered
            if not len(origins):
                continue
            f = forecast_at(model, scaler, v, None, origins, frame.context, H, device)
            f = f * np.repeat(scaler.scale[:n_t], n_q) + np.repeat(scaler.mean[:n_t], n_q)
            actual = np.stack([v[o + 1 : o + 1 + H, :n_t] for o in origins])
            errors.append(errors_of(f, actual, scaler.scale[:n_t], n_q))
        return cal.added(np.concatenate(errors)) if errors else cal

    def _pending_with(self, values: list[np.ndarray]) -> list[tuple]:
        """Online calibration, deferred: per series ``(rows, state, first)``, the rows since the last scoring
        (from the stream's buffer then, with the state before it) and then ``values``; the origins from
        ``first`` on whose ``horizon`` targets those rows hold are yet to be scored."""
        st, H = self._stream, self.horizon
        pending = self._pending or [(buf, state, max(len(buf) - H, 0)) for buf, state in zip(st.buffers, st.states())]
        return [(np.concatenate([rows, v], axis=0), state, first) for (rows, state, first), v in zip(pending, values)]

    def _scored(self, pending: list[tuple] | None, share: bool = False) -> Calibration:
        """The calibration with the pending origins scored: each origin's forecast, with the weights and
        scaling that held while the rows arrived (those of ``partial_fit(update_params=False)`` calls, and of
        an updating call before its update), against its targets, in one pass per series.

        ``share`` (an updating call on a panel): the series take turns (see :meth:`_turns`). Each series scores
        at most its last ``size`` origins, the calibration's window: a longer chunk's earlier errors would be
        pushed out of it unread (a 2,000-row chunk of an hourly series scored in half the time).
        """
        H, context, size = self.horizon, self.frame_.context, self._calibration.size
        pending = pending or []
        origins = [np.arange(first, len(rows) - H) for rows, _, first in pending]
        if share:
            origins = self._turns(origins)
        origins = [o[-size:] if size else o[:0] for o in origins]
        scaled = None
        if context is not None:  # no state: every series' windows in one batched pass
            scaled = forecast_many(self.model_, [self._scaler_of(i) for i in range(len(pending))],
                                   [rows for rows, _, _ in pending], origins, context, H, self.device_)
        return self._with_errors(pending, origins, scaled)

    def _turns(self, origins: list[np.ndarray]) -> list[np.ndarray]:
        """The origins an updating call on a panel scores: the series take turns. A call scores every ``k``-th
        series (rotating with the update count), ``k`` the smallest that keeps the call's origins at most those
        of its longest series or an eighth of the calibration window, whichever is more; one series is never
        thinned. A 100-series panel would otherwise score 100 times the origins of one series per call, more
        than the rolling window keeps."""
        if len(origins) > 1:
            counts = [len(o) for o in origins]
            cap = max(max(counts), self._calibration.size // 8, 1)
            k = -(-sum(counts) // cap)
            if k > 1:
                turn = self._stream.n_updates % k
                origins = [o if i % k == turn else o[:0] for i, o in enumerate(origins)]
        return origins

    def _with_errors(self, pending: list[tuple], origins: list[np.ndarray],
                     scaled: list[np.ndarray] | None) -> Calibration:
        """The calibration plus the errors at ``origins`` of each pending series (every series' newest last,
        :func:`~tsrec.estimators.conformal.newest_last`): their scaled forecasts ``scaled`` (per series; None:
        forecast here, from each series' state)."""
        H, n_t = self.horizon, len(self.target_names_)
        if scaled is None and self._batched_state_scoring:  # a stateful model: the series' forwards batched
            scaled = forecast_states(self.model_, [self._scaler_of(i) for i in range(len(pending))],
                                     [rows for rows, _, _ in pending], [state for _, state, _ in pending], origins,
                                     H, self.device_)
        out = []
        for i, ((rows, state, _), o) in enumerate(zip(pending, origins)):
            if len(o):
                scaler = self._scaler_of(i)
                f = scaled[i] if scaled is not None else self._forecast_at(rows, state, o, scaler)
                f = self._to_user_units(f, scaler)
                actual = np.stack([rows[k + 1 : k + 1 + H, :n_t] for k in o])
                out.append(errors_of(f, actual, scaler.scale[:n_t], self._n_quantiles))
        calibration = self._settled()
        return calibration.added(newest_last(out)) if out else calibration

    def _ridge_scored(self, pending: list[tuple], n_new: list[int]) -> tuple[Calibration, tuple]:
        """An updating call of ``online_update="ridge"``: the calibration as :meth:`_scored` gives it (the
        series taking turns) and the correction's new statistics and solution (see
        :func:`tsrec.estimators.online.ridge_scored`), from one forecast per origin: the origins whose targets
        the call's rows complete (``n_new`` rows per series), every series'."""
        H = self.horizon
        rows = [r for r, _, _ in pending]
        origins = [np.arange(first, len(r) - H) for r, _, first in pending]
        turns = self._turns(origins)
        new = [o[o >= len(r) - n - H] for o, r, n in zip(origins, rows, n_new)]
        union = [np.union1d(a, b) for a, b in zip(turns, new)]
        scaled, solution = online.ridge_scored(self.model_, [self._scaler_of(i) for i in range(len(rows))], rows,
                                               union, [np.isin(u, b) for u, b in zip(union, new)], n_new,
                                               self.online_forgetting, self.online_alpha,
                                               self.scaler_.scale[: len(self.target_names_)], self.device_)
        scaled = [f[np.isin(u, t)] for f, u, t in zip(scaled, union, turns)]
        return self._with_errors(pending, turns, scaled), solution

    def _flush_calibration(self) -> Calibration:
        """Score the deferred and the pending origins into the calibration (an idempotent cache: nothing
        observable changes)."""
        if self._deferred:
            self._calibration, self._deferred = self._settled(), ()
        if self._pending is not None:
            self._calibration, self._pending = self._scored(self._pending), None
        return self._calibration

    #: leave the origins an updating call scores from its gradient step unscored until the calibration is read
    #: (False: scored in the call, as before; the same errors)
    _defer_step_scoring = True

    def _settled(self, deferred: tuple[StepForecasts, ...] | None = None) -> Calibration:
        """The calibration with the deferred origins (``deferred``, default those of the estimator) scored in."""
        calibration = self._calibration
        for step in self._deferred if deferred is None else deferred:
            calibration = calibration.added(step.errors(self.model_))
        return calibration

    def _deferred_with(self, step: StepForecasts) -> tuple[StepForecasts, ...]:
        """The deferred origins with ``step``'s after them, less those that the newer ones push out of the
        calibration's window (so that a stream that never reads it keeps constant memory)."""
        kept, n = [], 0
        for s in (*self._deferred, step)[::-1]:
            if n >= self._calibration.size:
                break
            kept.append(s)
            n += len(s)
        return tuple(kept[::-1])

    def _with_lookahead(self, rows: list[np.ndarray], metas: list[SeriesMeta], X_future: Any,
                        ids: list | None) -> list[np.ndarray]:
        """``rows`` with the ``horizon`` rows a model with known-future covariates reads after their end."""
        cov = self.covariates_
        if not (cov.future or cov.calendar):
            if X_future is not None:
                raise ValueError("X_future was given but the model has no future_covariates")
            return rows
        ahead = cov.lookahead_rows(X_future, metas, rows, self.horizon, len(self.target_names_),
                                   self.covariate_names_, ids)
        return [np.concatenate([r, a], axis=0) for r, a in zip(rows, ahead)]

    def _history_forecasts(self, X: Any, y: Any, X_future: Any = None,
                           static: Any = None) -> tuple[list[np.ndarray], Batch]:
        """Forecasts (user units, ``(H, C_out)``) after the end of each series of a new history."""
        batch = to_batch(X, y, missing=self.missing)
        check_columns(batch, self.target_names_, self.covariate_names_)
        batch = self.covariates_.augment(batch, self.covariates_.statics_for(batch, static))
        shortest = min(len(v) for v in batch.values)
        context = self.frame_.context
        if context is not None and shortest < context and not self.start_padding:
            raise ValueError(f"too few rows: a history has {shortest}, the model needs context = {context}")
        # scaled series by series: each history by its own statistics (it need not be a series of the stream)
        scalers = self._series_scalers(batch) or [self.scaler_] * len(batch.values)
        rows = [v if context is None else v[-self.frame_.window_rows:] for v in batch.values]
        ends = [len(r) - 1 for r in rows]
        rows = self._with_lookahead(rows, batch.meta, X_future, batch.id_values)
        return [self._to_user_units(self._forecast_at(r, None, np.array([e]), sc)[0], sc)
                for r, e, sc in zip(rows, ends, scalers)], batch

    def _stream_forecasts(self, X_future: Any = None) -> list[np.ndarray]:
        """Forecasts (user units, ``(H, C_out)``) after the end of each series of the stream."""
        st = self._stream
        if lookahead(self.model_) or X_future is not None:  # each series with its known future rows
            rows = self._with_lookahead(st.buffers, st.metas, X_future, st.ids)
            return [self._to_user_units(self._forecast_at(r, st.state_of(i), np.array([len(buf) - 1]),
                                                          self._scaler_of(i))[0], self._scaler_of(i))
                    for i, (r, buf) in enumerate(zip(rows, st.buffers))]
        scalers = self.series_scalers_ if self.series_scalers_ is not None else self.scaler_
        scaled = forecast_panel(self.model_, scalers, st.buffers, st.state, self.frame_.context, self.device_)
        if self._batched_bookkeeping and self.series_scalers_ is None:  # one shared scaling: one op for the panel
            return list(self._to_user_units(scaled))
        return [self._to_user_units(f, self._scaler_of(i)) for i, f in enumerate(scaled)]

    def _raw_forecasts(self, X: Any, y: Any, X_future: Any = None,
                       static: Any = None) -> tuple[list[np.ndarray], list[SeriesMeta], str, bool, list]:
        check_is_fitted(self, "model_")
        if X is None:
            if y is not None:
                raise ValueError("pass y together with X (a new history), or neither")
            if static is not None:
                raise ValueError("static= describes the series of a new history X; the fitted series keep "
                                 "their statics")
            st = self._stream
            return self._stream_forecasts(X_future), st.metas, st.kind, st.is_list, st.ids
        outs, batch = self._history_forecasts(X, y, X_future, static)
        return outs, batch.meta, batch.kind, batch.is_list, batch.id_values

    def predict(self, X: Any = None, y: Any = None, X_future: Any = None, static: Any = None) -> Any:
        """Forecast the next ``horizon`` steps.

        Parameters
        ----------
        X : same kinds as for ``fit``, optional
            A history to forecast after. None: after the end of what was
            fitted or streamed.
        y : optional
            The history's targets, when the model was fitted with covariates.
        X_future : DataFrame, ndarray, list of these, or long frame, optional
            Needed (only) with ``future_covariates``: their values over the
            next ``horizon`` steps. A frame with those columns (others are
            ignored) whose index starts at the first step after the series'
            end; an array ``(horizon, n_future_covariates)`` in the order of
            ``future_covariates``; a list of these for a panel given as a
            list; a long frame (``unique_id``, ``ds`` and the columns) for a
            long panel. More than ``horizon`` rows: the first ``horizon`` are
            used. Calendar features need nothing here.
        static : DataFrame, optional
            Static rows of the series of a new history ``X`` (as for
            ``fit``). Without it, a model fitted with statics uses the saved
            row of each series: by ``unique_id`` for a long frame, by position
            for a list of as many series as fitted; a series not seen at fit
            raises ValueError.

        Returns
        -------
        DataFrame, ndarray or list
            The same kind as given (as fitted when X is None): a DataFrame with
            the future index and the target names, an array ``(horizon,
            n_targets)``, or a list of these for a panel. In user units. For a
            quantile model, the trained quantile nearest 0.5, taken after
            sorting (the same as that column of ``predict_quantiles``).
        """
        outs, metas, kind, is_list, ids = self._raw_forecasts(X, y, X_future, static)
        outs = [self._median(o) for o in outs]
        return to_output(outs, metas, self.target_names_, kind, is_list, ids)

    def predict_quantiles(self, X: Any = None, y: Any = None, quantiles: Any = None, X_future: Any = None,
                          static: Any = None) -> Any:
        """Forecast quantiles (needs ``loss="quantile"``).

        Returns DataFrames whose columns are (target, quantile) pairs, sorted so
        that quantiles never cross, or arrays ``(horizon, n_targets, n_quantiles)``.
        ``quantiles`` must be a subset of the trained ones (default: all).
        ``X_future`` and ``static`` as for :meth:`predict`.
        """
        check_is_fitted(self, "model_")
        if self.loss != "quantile":
            raise ValueError("predict_quantiles needs a model trained with loss='quantile'")
        trained = np.asarray(self._quantiles())
        want = trained if quantiles is None else np.atleast_1d(np.asarray(quantiles, dtype=float))
        pos = []
        for q in want:
            hit = np.nonzero(np.isclose(trained, q))[0]
            if not len(hit):
                raise ValueError(f"quantile {q} was not trained; trained quantiles are {trained.tolist()}")
            pos.append(int(hit[0]))
        outs, metas, kind, is_list, ids = self._raw_forecasts(X, y, X_future, static)
        res = [np.sort(o.reshape(o.shape[0], -1, len(trained)), axis=-1)[..., pos] for o in outs]  # no crossing
        return to_output(res, metas, self.target_names_, kind, is_list, ids, quantiles=want)

    def predict_interval(self, X: Any = None, y: Any = None, coverage: float = 0.8, X_future: Any = None,
                         static: Any = None) -> Any:
        """Forecast intervals at ``coverage`` from conformal calibration (see :mod:`tsrec.estimators.conformal`).

        Per horizon step and target, the interval holds the forecast error
        quantile of the calibration origins: those of the validation tail at
        ``fit`` (split conformal), then the most recent origins whose targets
        ``partial_fit`` brought (a rolling window). A point model's interval is
        the forecast plus/minus that quantile of the absolute errors; a quantile
        model's is its trained quantile interval nearest ``[(1 - coverage) / 2,
        (1 + coverage) / 2]`` widened or narrowed by the conformal correction
        (CQR). A model fitted without a validation tail (``early_stopping=False``,
        ``validation_fraction=0`` or series too short for one) has no calibration
        until ``partial_fit`` brings targets: ValueError until then.

        Parameters
        ----------
        X, y : optional
            A history to forecast after, as for :meth:`predict` (the calibration stays the fitted one).
        coverage : float, default=0.8
            The share of targets the intervals should hold, in (0, 1).
        X_future, static : optional
            As for :meth:`predict` (a model with ``future_covariates`` needs ``X_future``).

        Returns
        -------
        DataFrame, ndarray or list
            Frames whose columns are (target, "lower") and (target, "upper")
            pairs (long frames: ``unique_id``, ``ds`` and those), or arrays
            ``(horizon, n_targets, 2)``; a list for a panel. In user units.

        Examples
        --------
        >>> import numpy as np
        >>> from tsrec import LRUForecaster
        >>> y = np.sin(np.arange(300) / 4) + 0.1 * np.random.default_rng(0).standard_normal(300)
        >>> f = LRUForecaster(horizon=3, d_model=8, d_state=8, n_layers=1, max_epochs=2, random_state=0,
        ...                   device="cpu", validation_fraction=0.3).fit(y)
        >>> band = f.predict_interval(coverage=0.8)
        >>> band.shape, bool((band[..., 0] < f.predict()).all() and (f.predict() < band[..., 1]).all())
        ((3, 1, 2), True)
        """
        check_is_fitted(self, "model_")
        coverage = check_coverage(coverage)
        outs, metas, kind, is_list, ids = self._raw_forecasts(X, y, X_future, static)
        n_t = len(self.target_names_)
        if self.series_scalers_ is None:
            scalers = [self.scaler_] * len(outs)
        elif X is None:
            scalers = [self._scaler_of(i) for i in range(len(outs))]
        else:  # each history by its own statistics, as its forecast
            scalers = self._series_scalers(to_batch(X, y, missing=self.missing))
        cal = self._flush_calibration()
        bands = [interval(o, cal, coverage, self._quantiles(), sc.scale[:n_t]) for o, sc in zip(outs, scalers)]
        return interval_output(bands, metas, self.target_names_, kind, is_list, ids, coverage)

    # ---------------------------------------------------------------- stream
    def _continue(self, X: Any, y: Any) -> tuple[Batch, list[SeriesMeta]]:
        if isinstance(X, Batch):  # rows that historical_forecasts cut from a batch this method returned
            return self._stream.seam(X, fill=self.missing == "mask")  # (already with the covariates' channels)
        batch = to_batch(X, y, missing=self.missing)
        check_columns(batch, self.target_names_, self.covariate_names_)
        batch, metas = self._stream.seam(batch, fill=self.missing == "mask")
        return self.covariates_.augment(batch, self.covariates_.statics), metas

    def partial_fit(self, X: Any, y: Any = None, update_params: bool = True) -> BaseForecaster:
        """Continue the stream with new rows.

        The state advances over the new rows only, with the current weights.
        With ``update_params`` the scaling statistics update online and then
        the weights take ``n_steps`` gradient steps on the new rows (truncated
        backpropagation from the carried, detached state; plus up to
        ``batch_size`` windows from the replay buffer when ``replay_size`` >
        0). A panel advances all its series in one batched pass and steps on
        one batch of every series' new rows: their sequences for
        ``context=None`` (the loss averages every new target), the newest
        ``max(1, batch_size // n_series)`` windows of each series for a window
        model; series may bring different numbers of rows. With
        ``update_params=False`` nothing but the state, the buffer and
        the calibration changes, so any chunking of a stream gives the same
        forecasts as one call. In both modes each origin whose ``horizon``
        targets the new rows complete joins the conformal calibration of
        :meth:`predict_interval` (forecast with the weights before the update).

        With ``online_update="ridge"`` an updating call takes no gradient
        step: every origin whose ``horizon`` targets the new rows complete
        (every series and target) joins the statistics of the online ridge
        correction, which is solved once per call (see
        :mod:`tsrec.estimators.online`), and, where ``fit`` gave the model a
        ridge partner, to its sums, whose map is solved again;
        ``update_params=False`` leaves both as they are. The scaling
        statistics update as above. (Under ``"sgd"`` the ridge map stays as
        ``fit`` left it.)

        The first call on an unfitted estimator initialises it from ``X``.
        """
        if not hasattr(self, "model_"):
            return self._start_stream(X, y)
        if not isinstance(update_params, (bool, np.bool_)):
            raise TypeError(f"update_params must be True or False, got {update_params!r}")
        if update_params and self.online_update == "ridge":
            self._check_params()
            if not isinstance(self.model_, OnlineRidge):
                raise ValueError("online_update='ridge' needs a model fitted with it (its correction is built at "
                                 "fit); this one was fitted with online_update='sgd': refit it")
        batch, metas = self._continue(X, y)
        st = self._stream
        scaler = StandardScaler.from_state(self.scaler_.state()) if update_params else self.scaler_
        series = self.series_scalers_
        if update_params and series is not None:
            series = [StandardScaler.from_state(sc.state()) for sc in series]
        had_optimizer = self._optimizer is not None
        ridge = update_params and self.online_update == "ridge"  # the correction moves, the weights do not
        # every series trains in one batched gradient_steps call, whose steps undo themselves when they diverge
        try:
            if update_params:
                self._update_scalers(scaler, series, batch.values)
            # the state advances with the weights the rows arrive to (truncated BPTT's order), then the weights
            # step; nothing is committed before the step, which leaves everything as it was when it fails
            new = st.continued(batch.values, metas, self.model_, series or scaler, keep=self._keep,
                               stateful=self.frame_.context is None, replay_size=self.replay_size,
                               replay_window=self._replay_window, offer=update_params, device=self.device_)
            # the origins these rows complete join the calibration, scored before the weights move (deferred
            # and batched while they do not: a state-only call stays cheap)
            pending = self._pending_with(batch.values)
            calibration, deferred, solution = self._calibration, self._deferred, None
            # online_update="ridge": a ridge partner's map takes the windows these rows complete (committed with
            # the rest, below)
            streamed = online.streamed_ridge(ridge_host(self.model_), series or [scaler] * len(pending),
                                             [p[0] for p in pending], [len(v) for v in batch.values],
                                             self.device_) if ridge else None
            # the origins to score from the forward of the gradient step (None: scored here, by their own pass)
            in_step = self._scored_in_step(pending, [len(v) for v in batch.values]) if update_params else None
            if ridge:
                (calibration, solution), pending = self._ridge_scored(pending, [len(v) for v in batch.values]), None
                deferred = ()
            elif in_step is None and (update_params or max(len(p[0]) for p in pending) > PENDING_ROWS):
                calibration, deferred, pending = self._scored(pending, share=update_params), (), None
            if update_params and not ridge:
                # dropout draws from torch's global RNG: seeded per update, a stream is reproducible
                seed = None if self.random_state is None else (int(self.random_state) * 1_000_003 + st.n_updates)
                with seeded(seed % 2**63, self.device_) if seed is not None else contextlib.nullcontext():
                    scored = self._gradient_update(batch, series or scaler, pending, in_step)
                if in_step is not None:
                    deferred, pending = deferred if scored is None else self._deferred_with(scored), None
                    if not self._defer_step_scoring:
                        calibration, deferred = self._settled(deferred), ()
        except BaseException:
            if update_params and not had_optimizer:
                self._optimizer = None
            raise
        self.scaler_ = scaler
        self.series_scalers_ = series
        new.n_updates = st.n_updates + bool(update_params)
        self._stream = new
        self._calibration, self._pending, self._deferred = calibration, pending, deferred
        if solution is not None:
            self.model_.set_solution(*solution)
        if streamed is not None:
            host = ridge_host(self.model_)
            host.set_ridge(share=host.ridge_share, **streamed)
        return self

    def _start_stream(self, X: Any, y: Any) -> BaseForecaster:
        """First ``partial_fit`` on an unfitted estimator: a fresh model and an empty stream ending
        just before ``X``, then the usual update with ``X``."""
        self._check_params()
        batch = to_batch(X, y, missing=self.missing)
        covariates = resolve_covariates(self.future_covariates, self.calendar_features, batch, None)
        batch = covariates.augment(batch, covariates.statics)
        c_rows = batch.values[0].shape[1]
        device = resolve_device(self.device)
        frame = frame_of(self, batch, streaming=True)
        with seeded(self.random_state):
            model = self._build_model(c_rows, batch.n_targets, batch.covariate_names, frame, covariates)
            model = model.to(device).eval()
        scaler = StandardScaler(c_rows)  # partial_fit adds X's rows
        empty = Batch([v[:0] for v in batch.values], [meta_before(m) for m in batch.meta], batch.target_names,
                      batch.covariate_names, batch.kind, batch.is_list, batch.id_values)
        series = self._series_scalers(batch, empty=True, fitting=True)
        stream = self._new_stream(model, empty, series or scaler, device, frame)
        self._set_fitted(model, scaler, batch, stream, {"loss": [], "val_loss": [], "lr": []}, device, frame, series,
                         covariates)
        try:
            return self.partial_fit(X, y)
        except BaseException:
            for attribute in FITTED_ATTRIBUTES:
                if hasattr(self, attribute.name):
                    delattr(self, attribute.name)
            raise

    #: a panel's shared scaling statistics take every series' new rows in one merge, and its stream forecasts go
    #: to user units in one vectorised op (False: series by series, as before; the same up to float64 rounding)
    _batched_bookkeeping = True

    def _update_scalers(self, scaler: StandardScaler, series: list[StandardScaler] | None,
                        values: list[np.ndarray]) -> None:
        """Merge the new rows ``values`` (one array per series) into ``scaler`` (pooled) and each series' own."""
        if self._batched_bookkeeping and len(values) > 1:
            scaler.update(np.concatenate(values, axis=0))
        else:
            for v in values:
                scaler.update(v)
        for sc, v in zip(series or [], values):
            sc.update(v)

    def _gradient_update(self, batch: Batch, scaler: StandardScaler | list[StandardScaler],
                         pending: list[tuple] | None = None,
                         in_step: list[np.ndarray] | None = None) -> StepForecasts | None:
        """``n_steps`` gradient steps on one batch holding every series' new rows and the replay windows.

        The loss is the mean over every scored target of the batch: a panel's
        series weigh by their new targets (dense), or each gives its newest
        ``max(1, batch_size // n_series)`` windows (window model; see
        :func:`~tsrec.estimators.stream.update_batch`). ``in_step`` (from
        :meth:`_scored_in_step`): these origins of ``pending``, forecast by the first step (before any weight moves),
        are returned to be scored; else None."""
        cfg, st, device = self._train_config(), self._stream, self.device_
        if self._optimizer is None:
            self._optimizer = make_optimizer(self.model_, cfg)
        extra = replay_sample(st, scaler, self.batch_size, device)
        todo = update_batch(st, batch.values, scaler, self.frame_.context, self.horizon, self.batch_size, device)
        if todo is None and extra is None:
            return None
        seq, state, lengths = todo if todo is not None else (extra[:0], None, None)
        scored: list[StepForecasts] = []

        def score(forecasts: torch.Tensor, windows: torch.Tensor) -> None:
            scored.append(self._step_scored(pending, in_step, forecasts, windows, batch, scaler))

        gradient_steps(self.model_, self._optimizer, seq, state, self.horizon, len(self.target_names_), cfg,
                       n_steps=self.n_steps, extra=extra, lengths=lengths,
                       on_forecast=score if in_step is not None else None)
        if in_step is not None and not scored:
            raise RuntimeError("the gradient step made no forecasts to score the calibration from")
        return scored[0] if scored else None

    #: forecast a stateful model's calibration origins of every series in batched forwards (False: series by
    #: series, as before; see :func:`~tsrec.estimators.stream.forecast_states`)
    _batched_state_scoring = True

    #: score an updating call's calibration origins from the gradient step's forward where it can (see
    #: :meth:`_scored_in_step`; False: always by a forward of their own, as before)
    _calibration_from_step = True

    def _scored_in_step(self, pending: list[tuple], n_new: list[int]) -> list[np.ndarray] | None:
        """The origins an updating call scores (as :meth:`_scored`, the series taking turns), when its gradient
        step's forward forecasts each of them the same way: else None.

        That holds for a :class:`~tsrec.nn.window.WindowModel` with instance normalisation (whose forecasts
        in user units do not depend on the global scaling, which the step's windows take after its update,
        but through the normalisation's ``eps``), no active dropout (the step runs in training mode; its forecasts
        take the Theta share as the model's own forward does, :func:`~tsrec.training.window_loss`), and origins
        among the newest windows of each series that the step trains on
        (:func:`~tsrec.estimators.stream.update_window_counts`)."""
        model, context, H = self.model_, self.frame_.context, self.horizon
        if not (self._calibration_from_step and context is not None and type(model) is WindowModel
                and model.instance_norm in (True, "robust") and not model._dropout and self.online_update != "ridge"
                and not model.partner_rows):  # (the step's windows show the partner the window alone)
            return None
        ext = [len(b) + n for b, n in zip(self._stream.buffers, n_new)]
        counts = update_window_counts(ext, context, H, self.batch_size)
        if not sum(counts):
            return None
        origins = self._turns([np.arange(first, len(rows) - H) for rows, _, first in pending])
        for (rows, _, _), o, k in zip(pending, origins, counts):
            if len(o) and len(rows) - 1 - H - int(o.min()) >= k:  # the oldest origin's window is not in the batch
                return None
        return origins

    def _step_scored(self, pending: list[tuple], origins: list[np.ndarray], forecasts: torch.Tensor,
                     windows: torch.Tensor, batch: Batch,
                     scaler: StandardScaler | list[StandardScaler]) -> StepForecasts | None:
        """The ``origins`` (of :meth:`_scored_in_step`) of ``pending`` as the gradient step forecast them: its
        network's ``forecasts`` of its ``windows``, made in the scaling ``scaler`` (after the update), to be scored
        in the scaling before it, as :meth:`_scored` scores them (None: no origin)."""
        H, n_q, n_t = self.horizon, self._n_quantiles, len(self.target_names_)
        ext = [len(b) + len(v) for b, v in zip(self._stream.buffers, batch.values)]
        counts = update_window_counts(ext, self.frame_.context, H, self.batch_size)
        starts = np.cumsum([0, *counts])
        at, to_scaled, to_user, targets, scale = [], [], [], [], []
        for i, ((rows, _, _), o) in enumerate(zip(pending, origins)):
            if not len(o):
                continue
            # the newest window ends at the last row: origin len(rows) - 1 - H, at place starts[i + 1] - 1
            at.append(starts[i + 1] - 1 - (len(rows) - 1 - H - o))
            new, old = scaler_of(scaler, i), self._scaler_of(i)
            ratio = np.repeat(new.scale[:n_t] / old.scale[:n_t], n_q)
            shift = np.repeat((new.mean[:n_t] - old.mean[:n_t]) / old.scale[:n_t], n_q)
            to_scaled.append(np.repeat(np.stack([ratio, shift])[:, None], len(o), axis=1))
            user = np.stack([np.repeat(old.scale[:n_t], n_q), np.repeat(old.mean[:n_t], n_q)])
            to_user.append(np.repeat(user[:, None], len(o), axis=1))
            targets.append(np.stack([rows[k + 1 : k + 1 + H, :n_t] for k in o]))
            scale.append(np.repeat(old.scale[None, None, :n_t], len(o), axis=0))
        if not at:
            return None
        # in the order _scored gives the series' errors: every series' newest last
        order = newest_last_order([len(a) for a in at])
        at = torch.as_tensor(np.concatenate(at)[order], device=forecasts.device)
        return StepForecasts(forecasts[at], windows[at], np.concatenate(to_scaled, axis=1)[:, order],
                             np.concatenate(to_user, axis=1)[:, order], np.concatenate(targets)[order],
                             np.concatenate(scale)[order], n_q)

    # ----------------------------------------------------------------- score
    def rolling_forecasts(self, X: Any, y: Any = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Forecasts made at every step of a continuation of the stream, and their targets.

        Returns, per series, ``forecasts`` ``(n_origins, H, n_targets)`` in
        user units (origins: the end of the stream and every row of X but the
        last) and ``actual`` of the same shape with NaN where the target lies
        beyond X. With known-future covariates (``future_covariates`` or
        calendar features) an origin's future values come from the rows of X
        that follow it, so the origins less than ``horizon`` rows before the
        end of X have no forecast: NaN there (``score`` leaves them out).
        The stream itself does not move.
        """
        check_is_fitted(self, "model_")
        batch, _ = self._continue(X, y)
        st, H, n_t = self._stream, self.horizon, len(self.target_names_)
        preds, actuals = [], []
        for i, (buf, v) in enumerate(zip(st.buffers, batch.values)):
            ext = np.concatenate([buf, v], axis=0)
            origins = np.arange(max(len(buf) - 1, 0), len(ext) - 1)
            f = self._median(backtest.forecasts_at(self, i, ext, origins))  # NaN where the known future runs out
            pad = np.full((H, ext.shape[1]), np.nan)
            ext_pad = np.concatenate([ext, pad], axis=0)
            act = np.stack([ext_pad[o + 1 : o + 1 + H, :n_t] for o in origins])
            preds.append(f)
            actuals.append(act)
        return preds, actuals

    def historical_forecasts(self, X: Any, y: Any = None, stride: int = 1, update: str = "none",
                             coverage: float | None = None) -> pd.DataFrame:
        """Backtest: the forecasts made at origins along a continuation ``X`` of the stream, beside their targets.

        See :func:`tsrec.estimators.backtest.historical_forecasts` for the
        parameters and the returned long frame. The estimator's stream,
        weights and calibration do not move.
        """
        return backtest.historical_forecasts(self, X, y, stride=stride, update=update, coverage=coverage)

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared error of rolling forecasts over ``X``.

        ``X`` continues what was fitted (as ``TimeSeriesSplit`` hands it over).
        Forecasts are made at the end of the fitted stream and at every row of
        X, each scored against the rows of X that it forecasts, in user units.
        Higher is better; the estimator's stream does not move.
        """
        preds, actuals = self.rolling_forecasts(X, y)
        err = np.concatenate([(p - a).ravel() for p, a in zip(preds, actuals)])
        err = err[~np.isnan(err)]
        if err.size == 0:
            ahead = lookahead(self.model_)
            raise ValueError("X has no rows to score" + (
                f": with known-future covariates an origin needs the {ahead} rows after it in X" if ahead else ""))
        return -float(np.mean(err**2))

    # ----------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Save to one safetensors file: weights, stream state and scaler as tensors, hyperparameters and
        fitted metadata as JSON (no pickle anywhere; see :mod:`tsrec.estimators.persistence`)."""
        self._flush_calibration()  # the file holds the scored calibration
        persistence.save(self, path)

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> BaseForecaster:
        """Load a forecaster written by :meth:`save` (``cls`` or a subclass of it). Never unpickles.

        Every part of the file is checked before anything is built (see
        :func:`tsrec.estimators.persistence.load`); any mismatch raises ValueError.
        ``device`` overrides the saved ``device`` hyperparameter.
        """
        return persistence.load(cls, path, device)
