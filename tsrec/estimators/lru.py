"""LRUForecaster: the Linear Recurrent Unit behind the tsrec estimator contract."""

from __future__ import annotations

import math

from torch import nn

from ..nn.lru import LRUModel
from .base import BaseForecaster, with_common_params

__all__ = ["LRUForecaster"]


@with_common_params
class LRUForecaster(BaseForecaster):
    """Forecaster on a stack of Linear Recurrent Units (Orvieto et al., 2023).

    Each layer is a diagonal complex linear recurrence with a stable ring
    initialisation of its eigenvalues, computed by :func:`tsrec.scan.linear_scan`;
    layers are joined by GELU, a GLU and residual connections.

    Parameters
    ----------
    d_state : int, default=64
        Complex state size of each LRU layer.
    r_min, r_max : float, default=0.9, 0.999
        Ring of the eigenvalue magnitudes at initialisation (uniform by area).
    max_phase : float, default=pi/10
        Largest eigenvalue phase at initialisation.
    %(common)s

    Examples
    --------
    >>> import numpy as np
    >>> from tsrec import LRUForecaster
    >>> y = np.sin(np.arange(200) / 5.0)
    >>> f = LRUForecaster(horizon=3, max_epochs=2, random_state=0).fit(y)
    >>> f.predict().shape
    (3, 1)
    """

    def __init__(
        self,
        horizon: int = 1,
        context: int | None = None,
        chunk_length: int = 128,
        d_model: int = 64,
        d_state: int = 64,
        n_layers: int = 2,
        dropout: float = 0.0,
        r_min: float = 0.9,
        r_max: float = 0.999,
        max_phase: float = math.pi / 10,
        lr: float = 3e-3,
        weight_decay: float = 0.01,
        max_epochs: int = 20,
        batch_size: int = 32,
        early_stopping: bool = True,
        patience: int = 5,
        validation_fraction: float = 0.1,
        stride: int = 1,
        loss: str = "mse",
        quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
        n_steps: int = 1,
        replay_size: int = 0,
        skip_last: bool = True,
        device: str = "auto",
        backend: str = "auto",
        random_state: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.horizon = horizon
        self.context = context
        self.chunk_length = chunk_length
        self.d_model = d_model
        self.d_state = d_state
        self.n_layers = n_layers
        self.dropout = dropout
        self.r_min = r_min
        self.r_max = r_max
        self.max_phase = max_phase
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.stride = stride
        self.loss = loss
        self.quantiles = quantiles
        self.n_steps = n_steps
        self.replay_size = replay_size
        self.skip_last = skip_last
        self.device = device
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose

    def _check_model_params(self) -> None:
        if not isinstance(self.d_state, int) or self.d_state < 1:
            raise ValueError(f"d_state must be an integer >= 1, got {self.d_state!r}")
        if not (0 <= self.r_min < self.r_max < 1):
            raise ValueError(f"need 0 <= r_min < r_max < 1, got r_min={self.r_min!r}, r_max={self.r_max!r}")
        if not self.max_phase > 0:
            raise ValueError(f"max_phase must be > 0, got {self.max_phase!r}")

    def _build_model(self, c_in: int, c_out: int) -> nn.Module:
        return LRUModel(
            c_in, c_out, self.horizon, d_model=self.d_model, d_state=self.d_state, n_layers=self.n_layers,
            dropout=self.dropout, r_min=self.r_min, r_max=self.r_max, max_phase=self.max_phase,
            skip_last=self.skip_last, n_quantiles=self._n_quantiles, backend=self.backend,
        )
