"""TransformerForecaster: the causal Transformer baseline behind the tsrec estimator contract."""

from __future__ import annotations

from typing import Any

from ..nn.blocks import Stack
from ..nn.transformer import TransformerModel
from .base import BaseForecaster
from .params import Param, divisor_of, integer, render_docstring

__all__ = ["TransformerForecaster"]


def _heads(name: str, value: Any, est: Any) -> None:
    """A divisor of ``d_model`` that leaves an even head size (rotary embeddings)."""
    divisor_of("d_model")(name, value, est)
    if (est.d_model // value) % 2:
        raise ValueError(f"d_model / n_heads must be even for rotary embeddings, got {est.d_model // value}")


@render_docstring
class TransformerForecaster(BaseForecaster):
    """Forecaster on a causal pre-norm Transformer (the attention baseline).

    Multi-head causal self-attention on ``scaled_dot_product_attention`` with
    rotary position embeddings, so scores depend on the distance between
    steps only; attention looks back at most ``window`` steps, and the
    streaming state is a KV cache of that many steps (bounded memory).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    %(attributes)s

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec import TransformerForecaster
    >>> y = np.sin(np.arange(200) / 5.0)
    >>> f = TransformerForecaster(horizon=3, d_model=8, n_heads=2, max_epochs=2, random_state=0).fit(y)
    >>> f.predict().shape
    (3, 1)
    """

    _model_params = (
        Param("n_heads", 4, "int", "Heads per layer; ``d_model / n_heads`` must be even (rotary embeddings).", _heads),
        Param("n_layers", 2, "int", "Number of Transformer blocks.", integer()),
        Param("window", 256, "int or None",
              "Steps each position attends back to (its KV cache size). None: full causal attention within a "
              "chunk plus a cache of ``max_cache`` steps.", integer(none=True)),
        Param("max_cache", 1024, "int", "KV cache bound when ``window`` is None.", integer()),
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
        window: int | None = 256,
        max_cache: int = 1024,
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
        self.window = window
        self.max_cache = max_cache
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
        return TransformerModel(
            c_in, c_out, self.horizon, d_model=self.d_model, n_heads=self.n_heads, n_layers=self.n_layers,
            window=self.window, max_cache=self.max_cache, dropout=self.dropout, skip_last=skip_last,
            n_quantiles=self._n_quantiles,
        )
