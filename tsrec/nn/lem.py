"""Long Expressive Memory (Rusch, Mishra, Erichson, Mahoney, 2021; arXiv 2110.04744).

With sigma the logistic sigmoid and ``dt`` a hyperparameter::

    dt1_n = dt * sigma(W1 y_{n-1} + V1 u_n + b1)
    dt2_n = dt * sigma(W2 y_{n-1} + V2 u_n + b2)
    z_n   = (1 - dt1_n) * z_{n-1} + dt1_n * tanh(Wz y_{n-1} + Vz u_n + bz)
    y_n   = (1 - dt2_n) * y_{n-1} + dt2_n * tanh(Wy z_n   + Vy u_n + by)    # the new z_n

The input projections V u + b of every step are one matmul before the loop;
the recurrent part runs in :func:`tsrec.scan.lem_recurrence`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..scan import lem_recurrence
from .blocks import Block, Stack, State

__all__ = ["LEM", "LEMModel"]

#: Default time step. The gates make each step's retention 1 - dt * sigma(.) in (1 - dt, 1):
#: dt = 0.2 starts every unit at a memory of ~10 steps (sigma ~ 1/2), lets the gates
#: reach arbitrarily long memory (sigma -> 0) and keeps the fastest unit at ~5 steps.
#: Close to the tuned 0.2371 of the paper's long (4000-step) heart-rate regression;
#: the fastest reaction to the newest value goes through the residual path of the block.
DEFAULT_DT = 0.2


class LEM(nn.Module):
    """One LEM layer, ``(B, L, d_model) -> (B, L, d_model)`` with hidden states y, z of size ``d_hidden``.

    Input Linear(d_model -> 4 d_hidden) in the gate order (dt1, dt2, z, y), the
    LEM recurrence, then an output Linear(d_hidden -> d_model) of the y sequence.

    Parameters
    ----------
    d_model : int
        Width of the input and output.
    d_hidden : int
        Size H of each of the hidden states y and z.
    dt : float
        The time step of the discretised ODE, in (0, 1]. Smaller means longer
        memory and slower reaction (see :data:`DEFAULT_DT`).
    backend : str
        Backend of :func:`tsrec.scan.lem_recurrence`.

    Notes
    -----
    Every cell parameter (input weights and biases, W1, W2, Wz, Wy) is drawn
    from U(-1/sqrt(H), 1/sqrt(H)), as in the paper; the output Linear keeps
    torch's default init. The state starts at y = z = 0.
    """

    def __init__(self, d_model: int, d_hidden: int, dt: float = DEFAULT_DT, backend: str = "auto") -> None:
        super().__init__()
        if not 0 < dt <= 1:
            raise ValueError(f"dt must be in (0, 1], got {dt}")
        self.d_model, self.d_hidden, self.dt, self.backend = d_model, d_hidden, float(dt), backend
        H = d_hidden
        self.inp = nn.Linear(d_model, 4 * H)  # [V1; V2; Vz; Vy] u + b
        self.weight = nn.Parameter(torch.empty(3 * H, H))  # [W1; W2; Wz], applied to y_{n-1}
        self.weight_z = nn.Parameter(torch.empty(H, H))  # Wy, applied to the new z_n
        self.out = nn.Linear(H, d_model)
        bound = 1.0 / math.sqrt(H)
        for p in (self.inp.weight, self.inp.bias, self.weight, self.weight_z):
            nn.init.uniform_(p, -bound, bound)

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        zeros = torch.zeros(batch_size, self.d_hidden, device=device, dtype=dtype)
        return {"y": zeros, "z": zeros.clone()}

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        u = self.inp(x)  # (B, L, 4H)
        y0 = None if state is None else state["y"].to(u.dtype)
        z0 = None if state is None else state["z"].to(u.dtype)
        y, z = lem_recurrence(u, self.weight, self.weight_z, self.dt, y0, z0, backend=self.backend)
        return self.out(y), {"y": y[:, -1], "z": z[:, -1]}


class LEMModel(Stack):
    """A stack of LEM blocks: encoder -> n_layers x [norm -> LEM -> GELU -> GLU -> residual] -> head.

    Parameters
    ----------
    c_in, c_out, horizon : int
        Input channels, output channels and forecast steps (see :class:`tsrec.nn.blocks.Stack`).
    d_model : int
        Width of the residual stream.
    d_hidden : int
        Size of LEM's hidden states y and z.
    n_layers : int
        Number of blocks.
    dt : float
        LEM time step; the default 0.2 gives ~10-step memory at init and lets the
        gates reach much longer memory (see :data:`DEFAULT_DT`).
    dropout : float
        Dropout in the blocks.
    skip_last : bool
        Add the last observed target value to the forecasts (learn the change).
    n_quantiles : int
        Quantiles per target (output channels are (target, quantile) pairs).
    backend : str
        Backend of the LEM recurrence.
    """

    def __init__(
        self, c_in: int, c_out: int, horizon: int, d_model: int = 64, d_hidden: int = 64, n_layers: int = 1,
        dt: float = DEFAULT_DT, dropout: float = 0.0, skip_last: bool = True, n_quantiles: int = 1,
        backend: str = "auto",
    ) -> None:
        blocks = [Block(LEM(d_model, d_hidden, dt, backend), d_model, dropout, kind="glu") for _ in range(n_layers)]
        super().__init__(blocks, c_in, c_out, horizon, d_model, skip_last, n_quantiles)
