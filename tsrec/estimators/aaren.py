"""AarenForecaster: Aaren (attention as an RNN) behind the tsrec estimator contract."""

from __future__ import annotations

from ..nn.aaren import AarenModel
from ..nn.blocks import Stack
from .base import BaseForecaster
from .params import Param, divisor_of, integer, render_docstring

__all__ = ["AarenForecaster"]


@render_docstring
class AarenForecaster(BaseForecaster):
    """Forecaster on Aaren, attention as a recurrent network (Feng et al., 2024).

    Each layer attends with a learned query token per head over all steps so
    far; the softmax-weighted prefix means come from a stable linear scan, so
    a new step costs O(1) time and memory. Layers are stacked like Transformer
    blocks (pre-norm, FFN, residual).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec import AarenForecaster
    >>> y = np.sin(np.arange(200) / 5.0)
    >>> f = AarenForecaster(horizon=3, d_model=8, n_heads=2, max_epochs=2, random_state=0).fit(y)
    >>> f.predict().shape
    (3, 1)
    """

    _model_params = (
        Param("n_heads", 4, "int", "Heads per layer; must divide ``d_model``.", divisor_of("d_model")),
        Param("n_layers", 2, "int", "Number of Aaren blocks.", integer()),
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
        n_heads: int = 4,
        n_layers: int = 2,
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
        self.n_heads = n_heads
        self.n_layers = n_layers
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
        return AarenModel(
            c_in, c_out, self.horizon, d_model=self.d_model, n_heads=self.n_heads, n_layers=self.n_layers,
            dropout=self.dropout, skip_last=skip_last, n_quantiles=self._n_quantiles, backend=self.backend,
        )
