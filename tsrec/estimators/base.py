"""The estimator contract shared by every tsrec forecaster.

:class:`BaseForecaster` holds all of it: input validation and scaling (through
:mod:`tsrec.data`), training (through :mod:`tsrec.training`), the stream state
that ``predict``, ``partial_fit`` and ``score`` continue from, and safe
persistence. A concrete forecaster only lists its hyperparameters in
``__init__`` (scikit-learn rules: stored unchanged) and builds its network in
``_build_model``.

The stream
----------
After ``fit`` (or the first ``partial_fit``) the estimator keeps, per series,
the last ``keep = (context or 0) + horizon`` raw rows (the *buffer*) and, for
``context=None``, the model state after every row before the buffer. The
forecast after the end of the stream is the model run over the buffer from
that state, so ``predict()`` costs O(keep), and ``partial_fit`` advances the
state over the new rows only. Memory is bounded by the parameters, the buffer
and the replay buffer, never by the length of the stream.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn

from ..data import (Batch, SeriesMeta, StandardScaler, advance_meta, meta_before, order_by_ids, sliding_windows,
                    to_batch, to_output)
from ..nn.blocks import State
from ..scan import BACKENDS
from ..training import TrainConfig, clone_tree, fit_windows, gradient_steps, make_optimizer, resolve_device

__all__ = ["BaseForecaster", "FORMAT_VERSION", "COMMON_PARAMS_DOC", "with_common_params"]

#: The parameters every forecaster shares, for the class docstrings (``%(common)s``).
COMMON_PARAMS_DOC = """horizon : int, default=1
        Number of future steps forecast at once.
    context : int or None, default=None
        None: the model is stateful over the whole history (trained on chunks
        of ``chunk_length`` steps). An int: a fixed look-back window of that
        many steps, the model restarting from a zero state on each window.
    chunk_length : int, default=128
        Length of the training chunks when ``context`` is None.
    d_model : int, default=64
        Width of the residual stream.
    n_layers : int
        Number of blocks.
    dropout : float, default=0.0
        Dropout inside the blocks.
    lr : float, default=3e-3
        AdamW learning rate (recurrence parameters get half of it and no weight decay).
    weight_decay : float, default=0.01
        AdamW weight decay of the weight matrices.
    max_epochs : int, default=20
        Passes over the training windows.
    batch_size : int, default=32
        Windows per optimiser step.
    early_stopping : bool, default=True
        Stop when the loss on a validation tail (the last
        ``validation_fraction`` of every series) has not improved for
        ``patience`` epochs, and restore the best weights.
    patience : int, default=5
        Epochs without improvement before stopping.
    validation_fraction : float, default=0.1
        Share of every series held out as the validation tail.
    stride : int, default=1
        Step between consecutive training windows (and validation windows).
    loss : {"mse", "mae", "quantile"}, default="mse"
        Training loss; "quantile" trains the pinball loss at ``quantiles``.
    quantiles : tuple of float, default=(0.1, 0.5, 0.9)
        Quantiles trained when ``loss="quantile"``.
    n_steps : int, default=1
        Gradient steps per ``partial_fit`` call.
    replay_size : int, default=0
        Windows kept in the reservoir replay buffer of ``partial_fit`` (0 = none).
    skip_last : bool, default=True
        Forecast the change from the last observed value.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where the model runs ("auto": CUDA when available).
    backend : {"auto", "torch", "cupy", "reference"}, default="auto"
        Scan backend (see :mod:`tsrec.scan`).
    random_state : int or None, default=None
        Seed of the weights and of the window order: the same seed, data and
        device give the same forecasts.
    verbose : bool, default=False
        Show a progress bar while training."""

FORMAT_VERSION = 1
_LOSSES = ("mse", "mae", "quantile")


@contextlib.contextmanager
def _seeded(seed: int | None, device: torch.device | None = None):
    """A context in which torch's global RNG is seeded (and restored afterwards).

    With ``device``, only the CPU generator and that device's are seeded and
    restored (cheap enough to do at every ``partial_fit``); without, every
    device's generator is seeded by ``torch.manual_seed``.
    """
    devices = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            if device is None:
                torch.manual_seed(seed)
            else:
                torch.default_generator.manual_seed(seed)
                if devices:
                    torch.cuda.manual_seed(seed)
        yield


def _json_id(uid: Any) -> Any:
    """A series id as JSON keeps it: ints and strings as they are, anything else as its string."""
    if isinstance(uid, np.generic):
        uid = uid.item()
    return uid if isinstance(uid, (str, int)) and not isinstance(uid, bool) else str(uid)


def _state_slice(state: State | None, i: int) -> State | None:
    return None if state is None else {k: v[i : i + 1] for k, v in state.items()}


def _state_cat(states: list[State]) -> State:
    return {k: torch.cat([s[k] for s in states], dim=0) for k in states[0]}



def with_common_params(cls: type) -> type:
    """Class decorator: put :data:`COMMON_PARAMS_DOC` where the docstring says ``%(common)s``."""
    if cls.__doc__:  # None under python -OO
        cls.__doc__ = cls.__doc__.replace("%(common)s", COMMON_PARAMS_DOC)
    return cls


@with_common_params
class BaseForecaster(BaseEstimator):
    """Base class of the tsrec forecasters (see the module docstring for the contract).

    Subclasses define ``__init__`` with every hyperparameter (common ones
    below, plus their model's) and ``_build_model(c_in, c_out)``.

    The common hyperparameters are documented in every subclass:

    Parameters
    ----------
    %(common)s
    """

    # ------------------------------------------------------------------ hooks
    def _build_model(self, c_in: int, c_out: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_model_params(self) -> None:
        """Subclasses validate their own hyperparameters here (raise ValueError)."""

    # ------------------------------------------------------------- sklearn face
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags

    def _check_params(self) -> None:
        def pos_int(name: str, minimum: int = 1) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")

        for name in ("horizon", "chunk_length", "max_epochs", "batch_size", "patience", "stride", "n_steps"):
            pos_int(name)
        pos_int("replay_size", 0)
        if self.context is not None:
            pos_int("context")
        for name in ("lr",):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0 or not math.isfinite(v):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not isinstance(self.weight_decay, numbers.Real) or not 0 <= self.weight_decay < math.inf:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if not isinstance(self.validation_fraction, numbers.Real) or not 0 <= self.validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must be in [0, 0.5), got {self.validation_fraction!r}")
        if not isinstance(self.loss, str) or self.loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {self.loss!r}")
        try:
            q = np.asarray(self.quantiles, dtype=float) if self.quantiles is not None else np.array([])
        except (TypeError, ValueError):
            q = np.array([np.nan])
        if self.loss == "quantile" and (q.ndim != 1 or q.size == 0 or not (q > 0).all() or not (q < 1).all()
                                        or (np.diff(q) <= 0).any()):
            raise ValueError(f"quantiles must be increasing numbers in (0, 1), got {self.quantiles!r}")
        if not isinstance(self.backend, str) or self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if not isinstance(self.device, str) or (self.device not in ("auto", "cpu", "cuda")
                                                and not self.device.startswith("cuda:")):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:n]', got {self.device!r}")
        if self.random_state is not None and (isinstance(self.random_state, bool)
                                              or not isinstance(self.random_state, numbers.Integral)):
            raise ValueError(f"random_state must be None or an int, got {self.random_state!r}")
        pos_int("d_model")
        pos_int("n_layers")
        for name in ("early_stopping", "skip_last", "verbose"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, numbers.Real) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        self._check_model_params()

    def _train_config(self, **overrides: Any) -> TrainConfig:
        cfg = TrainConfig(
            lr=float(self.lr), weight_decay=float(self.weight_decay), max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size), early_stopping=bool(self.early_stopping), patience=int(self.patience),
            loss=self.loss, quantiles=tuple(float(q) for q in self._quantiles()), verbose=bool(self.verbose),
            seed=self.random_state,
        )
        for k, v in overrides.items():
            setattr(cfg, k, v)
        return cfg

    def _quantiles(self) -> tuple[float, ...]:
        return tuple(self.quantiles) if self.loss == "quantile" else ()

    @property
    def _n_quantiles(self) -> int:
        return max(1, len(self._quantiles()))

    @property
    def _keep(self) -> int:
        return (self.context or 0) + self.horizon

    @property
    def _replay_window(self) -> int:
        """Rows of one replay window: a training window and its targets."""
        return self._window + self.horizon

    @property
    def _window(self) -> int:
        return self.context if self.context is not None else self.chunk_length

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, checkpoint_dir: str | Path | None = None,
            **fit_params: Any) -> "BaseForecaster":
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
            raises ValueError. ``max_epochs`` and ``verbose`` may change
            between the two runs.
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
        batch = to_batch(X, y)
        H = self.horizon
        shortest = min(len(v) for v in batch.values)
        if self.context is not None and shortest < self.context + H:
            raise ValueError(f"too few rows: a series has {shortest}, context + horizon = {self.context + H} needed")
        if shortest < H + 2:
            raise ValueError(f"too few rows: a series has {shortest}, at least horizon + 2 = {H + 2} needed")
        device = resolve_device(self.device)
        scaler = StandardScaler(batch.n_features)
        for v in batch.values:
            scaler.update(v)
        scaled = [scaler.transform(v).astype(np.float32) for v in batch.values]
        L = self._window if self.context is not None else min(self.chunk_length, shortest - H)
        train_parts, val_parts = [], []
        use_val = self.early_stopping and self.validation_fraction > 0
        for s in scaled:
            n_val = int(round(len(s) * self.validation_fraction)) if use_val else 0
            if n_val < H or len(s) - n_val < L + H:
                n_val = 0
            border = len(s) - n_val
            train_parts.append(s[:border])
            if n_val:
                val_parts.append(s[border - L :])  # windows whose forecast targets lie in the tail
        train = torch.from_numpy(sliding_windows(train_parts, L + H, self.stride))
        # validation windows share the training stride: with stride 1 a long tail costs more than an epoch
        val = torch.from_numpy(sliding_windows(val_parts, L + H, self.stride)) if val_parts else None
        if train.shape[0] == 0:
            raise ValueError(f"too few rows for one training window of {L + H} steps")
        fingerprint = None
        if checkpoint_dir is not None:
            params = {k: v for k, v in self.get_params(deep=False).items() if k not in ("max_epochs", "verbose")}
            fingerprint = json.dumps([type(self).__name__, params, batch.n_features, batch.n_targets], sort_keys=True,
                                     default=str)
        cfg = self._train_config(epoch_callback=fit_params.get("epoch_callback"), checkpoint_dir=checkpoint_dir,
                                 fingerprint=fingerprint)
        with _seeded(self.random_state):
            model = self._build_model(batch.n_features, batch.n_targets * self._n_quantiles).to(device)
            history = fit_windows(model, train, val, H, batch.n_targets, cfg, device)
        model.eval()
        stream = self._new_stream(model, batch, scaler, device)
        # commit only now: a failed fit leaves an earlier fit untouched
        self._set_fitted(model, scaler, batch, stream, history, device)
        return self

    def _set_fitted(self, model, scaler, batch: Batch, stream: dict, history: dict, device) -> None:
        self.model_ = model
        self.scaler_ = scaler
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

    def _new_stream(self, model: nn.Module, batch: Batch, scaler: StandardScaler, device) -> dict:
        keep = self._keep
        buffers, states = [], []
        for v in batch.values:
            buffers.append(v[-keep:].copy())
            if self.context is None:
                head = v[:-keep] if len(v) > keep else v[:0]
                states.append(self._advance(model, scaler, head, None, device))
        return {
            "buffers": buffers,
            "state": _state_cat(states) if states else None,
            "metas": list(batch.meta),
            "kind": batch.kind,
            "is_list": batch.is_list,
            "ids": list(batch.id_values),
            "replay": [],
            "replay_seen": 0,
            "tails": [v[-self._replay_window :].copy() for v in batch.values] if self.replay_size else None,
            "n_updates": 0,
        }

    @torch.no_grad()
    def _advance(self, model: nn.Module, scaler: StandardScaler, rows: np.ndarray, state: State | None,
                 device) -> State:
        """The model state after ``rows`` (raw), from ``state`` (zero when None)."""
        if state is None:
            state = model.init_state(1, device=device)
        if len(rows) == 0:
            return state
        x = torch.from_numpy(scaler.transform(rows).astype(np.float32)).to(device)[None]
        _, state = model(x, state)
        return state

    # -------------------------------------------------------------- forecasts
    @torch.no_grad()
    def _forecast_at(self, rows: np.ndarray, state: State | None, origins: np.ndarray) -> np.ndarray:
        """Scaled forecasts ``(len(origins), H, C_out)`` made at rows ``origins`` of ``rows`` (raw).

        ``state`` is the model state before ``rows[0]`` (context=None); with a
        fixed context each origin sees the ``context`` rows ending at it.
        """
        model, device = self.model_, self.device_
        seq = torch.from_numpy(self.scaler_.transform(rows).astype(np.float32)).to(device)
        if self.context is None:
            yhat, _ = model(seq[None], state)
            return yhat[0, torch.as_tensor(origins, device=device)].cpu().numpy()
        out = np.zeros((len(origins), self.horizon, model.c_out), dtype=np.float32)
        full = origins >= self.context - 1
        idx_full = np.nonzero(full)[0]
        for start in range(0, len(idx_full), 512):
            sel = idx_full[start : start + 512]
            wins = torch.stack([seq[o - self.context + 1 : o + 1] for o in origins[sel]])
            yhat, _ = model(wins)
            out[sel] = yhat[:, -1].cpu().numpy()
        for i in np.nonzero(~full)[0]:
            yhat, _ = model(seq[None, : origins[i] + 1])
            out[i] = yhat[0, -1].cpu().numpy()
        return out

    def _to_user_units(self, scaled: np.ndarray) -> np.ndarray:
        """(..., C_out) scaled forecasts -> user units (quantile channels share their target's scale)."""
        n_t = len(self.target_names_)
        scale = np.repeat(self.scaler_.scale[:n_t], self._n_quantiles)
        mean = np.repeat(self.scaler_.mean[:n_t], self._n_quantiles)
        return scaled * scale + mean

    def _history_forecasts(self, X: Any, y: Any) -> tuple[list[np.ndarray], Batch]:
        """Forecasts (user units, ``(H, C_out)``) after the end of each series of a new history."""
        batch = to_batch(X, y)
        self._check_columns(batch)
        shortest = min(len(v) for v in batch.values)
        if self.context is not None and shortest < self.context:
            raise ValueError(f"too few rows: a history has {shortest}, the model needs context = {self.context}")
        outs = []
        for v in batch.values:
            rows = v if self.context is None else v[-self.context :]
            f = self._forecast_at(rows, None, np.array([len(rows) - 1]))[0]
            outs.append(self._to_user_units(f))
        return outs, batch

    def _stream_forecasts(self) -> list[np.ndarray]:
        st = self._stream
        outs = []
        for i, buf in enumerate(st["buffers"]):
            f = self._forecast_at(buf, _state_slice(st["state"], i), np.array([len(buf) - 1]))[0]
            outs.append(self._to_user_units(f))
        return outs

    def _raw_forecasts(self, X: Any, y: Any) -> tuple[list[np.ndarray], list[SeriesMeta], str, bool, list]:
        check_is_fitted(self, "model_")
        if X is None:
            if y is not None:
                raise ValueError("pass y together with X (a new history), or neither")
            st = self._stream
            return self._stream_forecasts(), st["metas"], st["kind"], st["is_list"], st["ids"]
        outs, batch = self._history_forecasts(X, y)
        return outs, batch.meta, batch.kind, batch.is_list, batch.id_values

    def predict(self, X: Any = None, y: Any = None) -> Any:
        """Forecast the next ``horizon`` steps.

        Parameters
        ----------
        X : same kinds as for ``fit``, optional
            A history to forecast after. None: after the end of what was
            fitted or streamed.
        y : optional
            The history's targets, when the model was fitted with covariates.

        Returns
        -------
        DataFrame, ndarray or list
            The same kind as given (as fitted when X is None): a DataFrame with
            the future index and the target names, an array ``(horizon,
            n_targets)``, or a list of these for a panel. In user units. For a
            quantile model, the trained quantile nearest 0.5, taken after
            sorting (the same as that column of ``predict_quantiles``).
        """
        outs, metas, kind, is_list, ids = self._raw_forecasts(X, y)
        if self._n_quantiles > 1:
            q = np.asarray(self._quantiles())
            mid = int(np.argmin(np.abs(q - 0.5)))
            outs = [np.sort(o.reshape(o.shape[0], -1, len(q)), axis=-1)[..., mid] for o in outs]
        return to_output(outs, metas, self.target_names_, kind, is_list, ids)

    def predict_quantiles(self, X: Any = None, y: Any = None, quantiles: Any = None) -> Any:
        """Forecast quantiles (needs ``loss="quantile"``).

        Returns DataFrames whose columns are (target, quantile) pairs, sorted so
        that quantiles never cross, or arrays ``(horizon, n_targets, n_quantiles)``.
        ``quantiles`` must be a subset of the trained ones (default: all).
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
        outs, metas, kind, is_list, ids = self._raw_forecasts(X, y)
        res = []
        for o in outs:
            o = np.sort(o.reshape(o.shape[0], -1, len(trained)), axis=-1)[..., pos]  # no crossing
            res.append(o if kind == "array" else o.reshape(o.shape[0], -1))
        import pandas as pd

        cols = pd.MultiIndex.from_product([self.target_names_, [float(q) for q in want]])
        return to_output(res, metas, self.target_names_, kind, is_list, ids, columns=cols)

    # ---------------------------------------------------------------- stream
    def _check_columns(self, batch: Batch) -> None:
        if list(batch.target_names) != self.target_names_ or list(batch.covariate_names) != self.covariate_names_:
            if batch.kind == "array" and batch.n_targets == len(self.target_names_) and \
                    len(batch.covariate_names) == len(self.covariate_names_):
                return
            raise ValueError(
                f"columns differ from fit: got targets {batch.target_names} and covariates {batch.covariate_names}, "
                f"fitted with targets {self.target_names_} and covariates {self.covariate_names_}"
            )

    def _continue(self, X: Any, y: Any) -> tuple[Batch, list[SeriesMeta]]:
        batch = to_batch(X, y)
        self._check_columns(batch)
        if batch.kind == "long" and self._stream["kind"] == "long":
            batch = order_by_ids(batch, self._stream["ids"])  # continue each series by its id
        n = len(self._stream["buffers"])
        if len(batch.values) != n:
            raise ValueError(f"the stream has {n} series but {len(batch.values)} were given")
        metas = [advance_meta(m, new, len(v)) for m, new, v in zip(self._stream["metas"], batch.meta, batch.values)]
        return batch, metas

    def partial_fit(self, X: Any, y: Any = None, update_params: bool = True) -> "BaseForecaster":
        """Continue the stream with new rows.

        The state advances over the new rows only, with the current weights.
        With ``update_params`` the scaling statistics update online and then
        the weights take ``n_steps`` gradient steps on the new rows (truncated
        backpropagation from the carried, detached state; plus up to
        ``batch_size`` windows from the replay buffer when ``replay_size`` >
        0). With ``update_params=False`` nothing but the state and the buffer
        changes, so any chunking of a stream gives the same forecasts as one
        call.

        The first call on an unfitted estimator initialises it from ``X``.
        """
        if not hasattr(self, "model_"):
            return self._start_stream(X, y)
        if not isinstance(update_params, (bool, np.bool_)):
            raise TypeError(f"update_params must be True or False, got {update_params!r}")
        batch, metas = self._continue(X, y)
        st = self._stream
        scaler = StandardScaler.from_state(self.scaler_.state()) if update_params else self.scaler_
        n_updates = st.get("n_updates", 0)
        had_optimizer = self._optimizer is not None
        # a panel steps once per series: a failure at a later series must undo the earlier steps
        # (one series needs no copy: its steps undo themselves when they diverge)
        before = None
        if update_params and len(batch.values) > 1:
            before = (clone_tree(self.model_.state_dict()),
                      clone_tree(self._optimizer.state_dict()) if had_optimizer else None)
        try:
            if update_params:
                for v in batch.values:
                    scaler.update(v)
            # the state advances with the weights the rows arrive to (truncated BPTT carries the
            # state of the forward pass), then the weights step; nothing is committed before the
            # step, which leaves the weights and the optimizer as they were when it fails
            new_states, new_buffers, replay, seen = [], [], list(st["replay"]), st["replay_seen"]
            # replay candidates come from a tail of the last replay window of rows per series (only
            # while replay is on: a tail started afresh never spans a gap)
            tails = st.get("tails") if self.replay_size else None
            new_tails = []
            for i, (buf, v) in enumerate(zip(st["buffers"], batch.values)):
                ext = np.concatenate([buf, v], axis=0)
                n_adv = max(len(ext) - self._keep, 0)
                if self.context is None:
                    new_states.append(self._advance(self.model_, scaler, ext[:n_adv], _state_slice(st["state"], i),
                                                    self.device_))
                new_buffers.append(ext[n_adv:].copy())
                if self.replay_size:
                    tail = np.concatenate([tails[i], v], axis=0) if tails is not None else v
                    new_tails.append(tail[-self._replay_window :].copy())
                    if update_params:
                        replay, seen = self._reservoir(replay, seen, new_tails[-1])
            if update_params:
                # dropout draws from torch's global RNG: seed it per update so that a
                # stream is reproducible whatever else the process does
                seed = None if self.random_state is None else (int(self.random_state) * 1_000_003 + n_updates) % 2**63
                with _seeded(seed, self.device_) if seed is not None else contextlib.nullcontext():
                    self._gradient_update(batch, scaler)
        except BaseException:
            if before is not None:
                self.model_.load_state_dict(before[0])
                if before[1] is not None:
                    self._optimizer.load_state_dict(before[1])
            if update_params and not had_optimizer:
                self._optimizer = None
            raise
        self.scaler_ = scaler
        st.update(buffers=new_buffers, state=_state_cat(new_states) if new_states else None, metas=metas,
                  replay=replay, replay_seen=seen, tails=new_tails if self.replay_size else None,
                  n_updates=n_updates + bool(update_params))
        return self

    def _start_stream(self, X: Any, y: Any) -> "BaseForecaster":
        """First ``partial_fit`` on an unfitted estimator: a fresh model and an empty stream ending
        just before ``X``, then the usual update with ``X``."""
        self._check_params()
        batch = to_batch(X, y)
        device = resolve_device(self.device)
        with _seeded(self.random_state):
            model = self._build_model(batch.n_features, batch.n_targets * self._n_quantiles).to(device).eval()
        scaler = StandardScaler(batch.n_features)  # partial_fit adds X's rows
        empty = Batch([v[:0] for v in batch.values], [meta_before(m) for m in batch.meta], batch.target_names,
                      batch.covariate_names, batch.kind, batch.is_list, batch.id_values)
        stream = self._new_stream(model, empty, scaler, device)
        self._set_fitted(model, scaler, batch, stream, {"loss": [], "val_loss": [], "lr": []}, device)
        try:
            return self.partial_fit(X, y)
        except BaseException:
            for name in ("model_", "scaler_", "history_", "device_", "target_names_", "covariate_names_",
                         "n_features_in_", "feature_names_in_", "_stream", "_optimizer"):
                if hasattr(self, name):
                    delattr(self, name)
            raise

    def _gradient_update(self, batch: Batch, scaler: StandardScaler) -> None:
        st, device = self._stream, self.device_
        if self._optimizer is None:
            self._optimizer = make_optimizer(self.model_, self._train_config())
        cfg = self._train_config()
        extra = None
        if st["replay"]:
            gen = np.random.default_rng(st["replay_seen"])
            pick = gen.choice(len(st["replay"]), size=min(len(st["replay"]), self.batch_size), replace=False)
            extra = torch.from_numpy(np.stack([scaler.transform(st["replay"][j]) for j in pick]).astype(np.float32)).to(device)
        for i, (buf, v) in enumerate(zip(st["buffers"], batch.values)):
            ext = np.concatenate([buf, v], axis=0)
            if self.context is None:
                seq = torch.from_numpy(scaler.transform(ext).astype(np.float32)).to(device)[None]
                state = _state_slice(st["state"], i)
            else:
                W = self.context + self.horizon
                if len(ext) < W:
                    continue
                wins = sliding_windows([scaler.transform(ext)], W, 1)[-self.batch_size :]
                seq, state = torch.from_numpy(wins.astype(np.float32)).to(device), None
            gradient_steps(self.model_, self._optimizer, seq, state, self.horizon, len(self.target_names_), cfg,
                           n_steps=self.n_steps, extra=extra if i == 0 else None)

    def _reservoir(self, replay: list[np.ndarray], seen: int, tail: np.ndarray) -> tuple[list[np.ndarray], int]:
        """Offer the window ``tail`` (once it holds a whole replay window) to the reservoir."""
        if len(tail) < self._replay_window:
            return replay, seen
        seen += 1
        window = tail
        if len(replay) < self.replay_size:
            replay.append(window)
        else:
            j = int(np.random.default_rng(seen).integers(seen))
            if j < self.replay_size:
                replay[j] = window
        return replay, seen

    # ----------------------------------------------------------------- score
    def rolling_forecasts(self, X: Any, y: Any = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Forecasts made at every step of a continuation of the stream, and their targets.

        Returns, per series, ``forecasts`` ``(n_origins, H, n_targets)`` in
        user units (origins: the end of the stream and every row of X but the
        last) and ``actual`` of the same shape with NaN where the target lies
        beyond X. The stream itself does not move.
        """
        check_is_fitted(self, "model_")
        batch, _ = self._continue(X, y)
        st, H, n_t = self._stream, self.horizon, len(self.target_names_)
        preds, actuals = [], []
        for i, (buf, v) in enumerate(zip(st["buffers"], batch.values)):
            ext = np.concatenate([buf, v], axis=0)
            origins = np.arange(max(len(buf) - 1, 0), len(ext) - 1)
            f = self._to_user_units(self._forecast_at(ext, _state_slice(st["state"], i), origins))
            if self._n_quantiles > 1:
                q = np.asarray(self._quantiles())
                f = np.sort(f.reshape(*f.shape[:-1], n_t, len(q)), axis=-1)[..., int(np.argmin(np.abs(q - 0.5)))]
            pad = np.full((H, ext.shape[1]), np.nan)
            ext_pad = np.concatenate([ext, pad], axis=0)
            act = np.stack([ext_pad[o + 1 : o + 1 + H, :n_t] for o in origins])
            preds.append(f)
            actuals.append(act)
        return preds, actuals

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
            raise ValueError("X has no rows to score")
        return -float(np.mean(err**2))

    # ----------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Save to one safetensors file: weights, stream state and scaler as tensors,
        hyperparameters and fitted metadata as JSON (no pickle anywhere)."""
        from safetensors.torch import save_file

        check_is_fitted(self, "model_")
        st = self._stream
        tensors: dict[str, Tensor] = {f"model.{k}": v.detach().cpu().contiguous() for k, v in self.model_.state_dict().items()}
        if st["state"] is not None:
            tensors.update({f"state.{k}": v.detach().cpu().contiguous() for k, v in st["state"].items()})
        tensors.update({f"scaler.{k}": torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in self.scaler_.state().items()})
        tensors.update({f"buffer.{i}": torch.from_numpy(np.ascontiguousarray(b)) for i, b in enumerate(st["buffers"])})
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params(deep=False).items()}
        fitted = {
            "target_names": self.target_names_, "covariate_names": self.covariate_names_,
            "metas": [m.to_json() for m in st["metas"]], "kind": st["kind"], "is_list": st["is_list"],
            "ids": [_json_id(i) for i in st["ids"]], "c_in": self.model_.c_in, "c_out": self.model_.c_out,
            "n_series": len(st["buffers"]), "history": self.history_,
            "has_feature_names": hasattr(self, "feature_names_in_"),
        }
        meta = {"format": "tsrec", "format_version": str(FORMAT_VERSION), "class": type(self).__name__,
                "params": json.dumps(params), "fitted": json.dumps(fitted)}
        save_file(tensors, str(path), metadata=meta)

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> "BaseForecaster":
        """Load a forecaster written by :meth:`save`. Never unpickles.

        The file is read by safetensors (a JSON header and raw tensor bytes),
        and every part is checked before anything is built: the format marker
        and version, the class (a known tsrec forecaster, and ``cls`` or a
        subclass of it), the exact set of metadata, hyperparameter and fitted
        keys, the tensor names, and the shapes of the weights, state, scaler
        and buffers. Any mismatch raises ValueError.
        """
        from safetensors import SafetensorError
        from safetensors.torch import safe_open

        from . import FORECASTERS

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as e:
            raise ValueError(f"{path} is not a readable tsrec model file ({type(e).__name__}: {e})") from None
        if meta.get("format") != "tsrec":
            raise ValueError(f"{path} is not a tsrec model file (no tsrec format marker)")
        if meta.get("format_version") != str(FORMAT_VERSION):
            raise ValueError(f"{path} has format version {meta.get('format_version')!r}; this tsrec reads {FORMAT_VERSION}")
        if set(meta) != _META_KEYS:
            raise ValueError(f"{path} has unexpected metadata keys {sorted(set(meta) ^ _META_KEYS)}")
        name = meta.get("class")
        klass = FORECASTERS.get(name)
        if klass is None:
            raise ValueError(f"{path} holds an unknown estimator class {name!r}")
        if cls is not BaseForecaster and not issubclass(klass, cls):
            raise ValueError(f"{path} holds a {name}, not a {cls.__name__}")
        try:
            params, fitted = json.loads(meta["params"]), json.loads(meta["fitted"])
        except (KeyError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} has a damaged config: {e}") from None
        if not isinstance(params, dict) or not isinstance(fitted, dict):
            raise ValueError(f"{path} has a damaged config (params and fitted must be JSON objects)")
        known = set(klass._get_param_names())
        if set(params) != known:
            raise ValueError(f"{path} has unknown hyperparameters {sorted(set(params) - known)} or lacks "
                             f"{sorted(known - set(params))} for {name}")
        if set(fitted) != _FITTED_KEYS:
            raise ValueError(f"{path} has unexpected fitted keys {sorted(set(fitted) ^ _FITTED_KEYS)}")
        bad_names = [k for k in tensors if k.split(".", 1)[0] not in ("model", "state", "scaler", "buffer")]
        if bad_names:
            raise ValueError(f"{path} has unexpected tensors {bad_names[:5]}")
        if "quantiles" in params and isinstance(params["quantiles"], list):
            params["quantiles"] = tuple(params["quantiles"])
        if device is not None:
            params["device"] = device
        try:
            return cls._from_parts(klass, params, fitted, tensors)
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise ValueError(f"{path} is not a valid {name} file: {e}") from None

    @staticmethod
    def _from_parts(klass, params: dict, fitted: dict, tensors: dict[str, Tensor]) -> "BaseForecaster":
        """Build a fitted estimator from the checked parts of a saved file (raises on any inconsistency)."""
        est = klass(**params)
        est._check_params()
        dev = resolve_device(est.device)
        c_in, c_out, n_series = int(fitted["c_in"]), int(fitted["c_out"]), int(fitted["n_series"])
        n_t, n_c = len(fitted["target_names"]), len(fitted["covariate_names"])
        if c_in != n_t + n_c or c_out != n_t * est._n_quantiles or n_series < 1:
            raise ValueError(f"inconsistent sizes: c_in={c_in}, c_out={c_out}, {n_t} targets, {n_c} covariates, "
                             f"{n_series} series")
        if fitted["kind"] not in ("frame", "array", "long") or not all(
                isinstance(n, str) for n in fitted["target_names"] + fitted["covariate_names"]):
            raise ValueError("the fitted kind or column names are damaged")
        if len(fitted["metas"]) != n_series or len(fitted["ids"]) not in (0, n_series):
            raise ValueError("the series metadata do not match n_series")
        with _seeded(0):
            model = est._build_model(c_in, c_out)
        weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as e:
            raise ValueError(f"weights do not match the configuration: {e}") from None
        model.to(dev).eval()
        state = {k[len("state."):]: v.to(dev) for k, v in tensors.items() if k.startswith("state.")} or None
        if est.context is None:
            ref = model.init_state(n_series, device=dev)
            if state is None or set(state) != set(ref) or any(
                    state[k].shape != ref[k].shape or state[k].dtype != ref[k].dtype for k in ref):
                raise ValueError("the stream state does not match the model")
        elif state is not None:
            raise ValueError("a model with a fixed context carries no stream state")
        scaler_t = {k[len("scaler."):]: v for k, v in tensors.items() if k.startswith("scaler.")}
        if set(scaler_t) != {"count", "mean", "m2"} or scaler_t["count"].shape != (1,) or \
                scaler_t["mean"].shape != (c_in,) or scaler_t["m2"].shape != (c_in,):
            raise ValueError("the scaler statistics do not match the model")
        scaler = StandardScaler.from_state({k: v.numpy().astype(np.float64) for k, v in scaler_t.items()})
        buffers = [tensors[f"buffer.{i}"].numpy().astype(np.float64) for i in range(n_series)]
        if len([k for k in tensors if k.startswith("buffer.")]) != n_series or any(
                b.ndim != 2 or b.shape[1] != c_in or not 1 <= b.shape[0] <= est._keep for b in buffers):
            raise ValueError("the stream buffers do not match the model")
        if not all(np.isfinite(b).all() for b in buffers) or not np.isfinite(scaler.mean).all() or \
                not np.isfinite(scaler.m2).all():
            raise ValueError("the stream buffers or scaler hold NaN/inf")
        batch = Batch([np.zeros((0, c_in))], [], list(fitted["target_names"]), list(fitted["covariate_names"]),
                      fitted["kind"], bool(fitted["is_list"]), fitted["ids"])
        stream = {"buffers": buffers, "state": state, "metas": [SeriesMeta.from_json(m) for m in fitted["metas"]],
                  "kind": fitted["kind"], "is_list": bool(fitted["is_list"]), "ids": fitted["ids"], "replay": [],
                  "replay_seen": 0, "tails": None, "n_updates": 0}
        est._set_fitted(model, scaler, batch, stream, fitted.get("history", {}), dev)
        if not fitted.get("has_feature_names") and hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
        return est


_META_KEYS = {"format", "format_version", "class", "params", "fitted"}
_FITTED_KEYS = {"target_names", "covariate_names", "metas", "kind", "is_list", "ids", "c_in", "c_out", "n_series",
                "history", "has_feature_names"}
