"""Linear Recurrent Unit (Orvieto et al., 2023; arXiv 2303.06349).

    lambda = exp(-exp(nu_log) + i exp(theta_log))            |lambda| < 1
    h_t    = lambda * h_{t-1} + gamma * (B_re + i B_im) x_t   gamma = exp(gamma_log)
    y_t    = Re(C h_t) + D * x_t

lambda is time-invariant, so the scan reads only the inputs; B x and C h are
GEMMs around a per-state :func:`tsrec.scan.linear_scan`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..scan import linear_scan
from .blocks import Block, Stack, State

__all__ = ["LRU", "LRUModel", "check_ring"]



def check_ring(r_min: float, r_max: float) -> None:
    """Raise ValueError unless ``0 <= r_min < r_max < 1`` (the ring of the eigenvalue init)."""
    if not 0 <= r_min < r_max < 1:
        raise ValueError(f"need 0 <= r_min < r_max < 1, got r_min={r_min!r}, r_max={r_max!r}")

class LRU(nn.Module):
    """One LRU layer, ``(B, L, d_model) -> (B, L, d_model)`` with a complex state of ``d_state``.

    Parameters
    ----------
    d_model, d_state : int
        Width of the input/output and of the diagonal complex state.
    r_min, r_max : float
        Ring of the eigenvalue init, 0 <= r_min < r_max < 1 (uniform by area).
    max_phase : float
        Phases are drawn uniformly in [0, max_phase].
    backend : str
        Scan backend (see :mod:`tsrec.scan`).
    """

    #: parameters of the recurrence: lower learning rate, no weight decay
    recurrent_parameters = ("nu_log", "theta_log", "gamma_log", "B_re", "B_im")

    def __init__(
        self, d_model: int, d_state: int, r_min: float = 0.9, r_max: float = 0.999, max_phase: float = math.pi / 10,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        check_ring(r_min, r_max)
        self.d_state, self.backend = d_state, backend
        u1, u2 = torch.rand(d_state), torch.rand(d_state)
        nu_log = torch.log(-0.5 * torch.log(u1 * (r_max**2 - r_min**2) + r_min**2))
        theta_log = torch.log(max_phase * u2)
        mod = torch.exp(-torch.exp(nu_log))
        self.nu_log = nn.Parameter(nu_log)
        self.theta_log = nn.Parameter(theta_log)
        self.gamma_log = nn.Parameter(torch.log(torch.sqrt(1 - mod**2)))
        self.B_re = nn.Parameter(torch.randn(d_state, d_model) / math.sqrt(2 * d_model))
        self.B_im = nn.Parameter(torch.randn(d_state, d_model) / math.sqrt(2 * d_model))
        self.C_re = nn.Parameter(torch.randn(d_model, d_state) / math.sqrt(d_state))
        self.C_im = nn.Parameter(torch.randn(d_model, d_state) / math.sqrt(d_state))
        self.D = nn.Parameter(torch.randn(d_model))

    def eigenvalues(self) -> Tensor:
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        return {"h": torch.zeros(batch_size, self.d_state, dtype=cdtype, device=device)}

    #: ``forward(x, state, last=True)`` gives the output of the last step only (see Block.forward_last)
    reads_last = True

    def forward(self, x: Tensor, state: State | None = None, last: bool = False) -> tuple[Tensor, State]:
        """``(B, L, d_model)`` -> ``(B, L, d_model)`` (with ``last``, ``(B, 1, d_model)``: the last step's
        output, the read-out of the other steps skipped) and the state after the last step."""
        lam = self.eigenvalues()
        gamma = torch.exp(self.gamma_log).unsqueeze(-1)
        n = self.d_state
        # x is real: B x is one real GEMM giving (re, im) pairs, viewed as complex (a complex GEMM costs four),
        # and Re(C h) one against C's (re, -im) pairs over h's interleaved (re, im) floats
        pairs = torch.stack([self.B_re * gamma, self.B_im * gamma], 1).reshape(2 * n, -1)
        bu = torch.view_as_complex((x @ pairs.T).unflatten(-1, (n, 2)))  # (B, L, d_state)
        h0 = None if state is None else state["h"].to(bu.dtype)
        h = linear_scan(lam.to(bu.dtype), bu, h0, backend=self.backend)
        c = torch.stack([self.C_re, -self.C_im], -1).reshape(self.C_re.shape[0], 2 * n)
        h_out, x_out = (h[:, -1:], x[:, -1:]) if last else (h, x)
        y = torch.view_as_real(h_out).reshape(*h_out.shape[:-1], 2 * n) @ c.T + self.D * x_out
        return y, {"h": h[:, -1]}


class LRUModel(Stack):
    """A stack of LRU blocks: encoder -> n_layers x [norm -> LRU -> GELU -> GLU -> residual] -> head."""

    def __init__(
        self, c_in: int, c_out: int, horizon: int, d_model: int = 64, d_state: int = 64, n_layers: int = 2,
        dropout: float = 0.0, r_min: float = 0.9, r_max: float = 0.999, max_phase: float = math.pi / 10,
        skip_last: bool = True, n_quantiles: int = 1, backend: str = "auto",
    ) -> None:
        blocks = [
            Block(LRU(d_model, d_state, r_min, r_max, max_phase, backend), d_model, dropout, kind="glu")
            for _ in range(n_layers)
        ]
        super().__init__(blocks, c_in, c_out, horizon, d_model, skip_last, n_quantiles)
