"""S4Forecaster: structured state space models (S4D, S4) behind the tsrec estimator contract."""

from __future__ import annotations

from typing import Any

from ..nn.blocks import Stack
from ..nn.s4 import DISCRETIZATIONS, INITS, MODES, S4Model
from .base import BaseForecaster
from .params import Param, integer, is_int, one_of, render_docstring, rule

__all__ = ["S4Forecaster"]


def _discretization(name: str, value: Any, est: Any) -> None:
    """One of the discretisations (or None), and the bilinear one for ``mode="s4"``."""
    one_of((None, *DISCRETIZATIONS))(name, value, est)
    if est.mode == "s4" and (est.init != "legs" or value == "zoh"):
        raise ValueError("mode='s4' needs init='legs' and the bilinear discretisation")


@render_docstring
class S4Forecaster(BaseForecaster):
    """Forecaster on structured state spaces: S4D (diagonal) or S4 (DPLR HiPPO-LegS).

    Each layer runs ``d_model`` independent linear time-invariant state space
    models; training convolves with their kernels by FFT, streaming steps the
    recurrence with an O(1) state (Gu et al.).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec import S4Forecaster
    >>> y = np.sin(np.arange(200) / 5.0)
    >>> f = S4Forecaster(horizon=3, d_model=8, d_state=8, max_epochs=2, random_state=0).fit(y)
    >>> f.predict().shape
    (3, 1)
    """

    _model_params = (
        Param("d_state", 64, "int", "State size N of each SSM (N/2 conjugate pairs are stored).",
              rule(lambda v: is_int(v) and v >= 2 and v % 2 == 0, "an even integer >= 2")),
        Param("n_layers", 2, "int", "Number of S4 blocks.", integer()),
        Param("mode", "s4d", '{"s4d", "s4"}',
              "Diagonal (Vandermonde kernel) or diagonal-plus-low-rank (Cauchy kernel).", one_of(MODES)),
        Param("init", "legs", '{"legs", "inv", "lin"}',
              'Initialisation of A (S4D-LegS, S4D-Inv, S4D-Lin); "s4" mode takes "legs".', one_of(INITS)),
        Param("discretization", None, '{"zoh", "bilinear"} or None', "None: zoh for s4d, bilinear for s4.",
              _discretization),
    )

    def __init__(
        self,
        horizon: int = 1,
        context: int | str | None = "auto",
        head: str = "auto",
        patch_len: int | str = "auto",
        instance_norm: bool | str = "robust",
        channel_independent: bool = True,
        chunk_length: int = 128,
        d_model: int = 64,
        d_state: int = 64,
        n_layers: int = 2,
        mode: str = "s4d",
        init: str = "legs",
        discretization: str | None = None,
        dropout: float = 0.0,
        lr: float = 3e-3,
        lr_schedule: str = "onecycle",
        weight_decay: float = 0.01,
        max_epochs: int = 20,
        batch_size: int = 32,
        early_stopping: bool = True,
        patience: int = 5,
        weight_average: bool = False,
        validation_fraction: float = 0.1,
        refit: bool = False,
        stride: int | str = "auto",
        start_padding: bool = False,
        loss: str = "mae",
        quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
        n_steps: int = 1,
        replay_size: int = 0,
        skip_last: bool = True,
        linear_path: str = "dense",
        theta_weight: float | str = "auto",
        ridge_share: float | str = "auto",
        cross_ridge_rows: int = 0,
        partner: str = "damped",
        ensemble_size: int = 1,
        device: str = "auto",
        backend: str = "auto",
        random_state: int | None = None,
        verbose: bool = False,
        future_covariates: tuple[str, ...] | None = None,
        calendar_features: str | tuple[str, ...] | None = None,
        missing: str = "raise",
        scaling: str = "auto",
        online_update: str = "sgd",
        online_alpha: float | str = "auto",
        online_forgetting: float = 0.9999,
        online_lags: int | None = 24,
        persistence_blend: int | None = None,
    ) -> None:
        self.horizon = horizon
        self.context = context
        self.head = head
        self.patch_len = patch_len
        self.instance_norm = instance_norm
        self.channel_independent = channel_independent
        self.chunk_length = chunk_length
        self.d_model = d_model
        self.d_state = d_state
        self.n_layers = n_layers
        self.mode = mode
        self.init = init
        self.discretization = discretization
        self.dropout = dropout
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.patience = patience
        self.weight_average = weight_average
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.stride = stride
        self.start_padding = start_padding
        self.loss = loss
        self.quantiles = quantiles
        self.n_steps = n_steps
        self.replay_size = replay_size
        self.skip_last = skip_last
        self.linear_path = linear_path
        self.theta_weight = theta_weight
        self.ridge_share = ridge_share
        self.cross_ridge_rows = cross_ridge_rows
        self.partner = partner
        self.ensemble_size = ensemble_size
        self.device = device
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose
        self.future_covariates = future_covariates
        self.calendar_features = calendar_features
        self.missing = missing
        self.scaling = scaling
        self.online_update = online_update
        self.online_alpha = online_alpha
        self.online_forgetting = online_forgetting
        self.online_lags = online_lags
        self.persistence_blend = persistence_blend

    def _build_stack(self, c_in: int, c_out: int, skip_last: bool) -> Stack:
        return S4Model(
            c_in, c_out, self.horizon, d_model=self.d_model, d_state=self.d_state, n_layers=self.n_layers,
            mode=self.mode, init=self.init, discretization=self.discretization, dropout=self.dropout,
            skip_last=skip_last, n_quantiles=self._n_quantiles, backend=self.backend,
        )
