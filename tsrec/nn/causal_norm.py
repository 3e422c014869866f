"""Causal instance normalisation for a stream model: running statistics carried in the state.

A window model normalises each window by its own mean and standard deviation
(RevIN, :mod:`tsrec.nn.window`). A stream model (``context=None``) has no
window, so :class:`CausalInstanceNorm` normalises each row by exponentially
weighted statistics of the rows up to and including it::

    m_t = beta * m_{t-1} + (1 - beta) * x_t
    q_t = beta * q_{t-1} + (1 - beta) * x_t ** 2
    s_t = sqrt(max(q_t - m_t ** 2, 0) + eps)
    z_t = (x_t - m_t) / s_t

with ``beta = 1 - 1 / span``, starting from ``m = 0, q = 1`` (the global
scaling's mean and variance, so a stream starts as if unnormalised). The
wrapped model reads ``z``; its forecast made at row ``t`` is mapped back with
``m_t`` and ``s_t``. Both moments are one linear scan
(:func:`tsrec.scan.linear_scan`), and ``(m, q)`` travel in the state
(``"norm.mean"``, ``"norm.sq"``), so stepping row by row equals one call over
the rows and a stream's cost stays O(new rows).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..scan import linear_scan
from .blocks import State

__all__ = ["CausalInstanceNorm"]

MEAN, SQ = "norm.mean", "norm.sq"


class CausalInstanceNorm(nn.Module):
    """A stream model whose inputs are normalised by running statistics (see the module docstring).

    Parameters
    ----------
    inner : Stack
        The stream model; ``forward(x, state) -> (yhat (B, L, horizon, c_out), state)``.
    n_norm : int
        The first ``n_norm`` input channels are normalised (targets first, then
        covariates); channels after them (the mask channels of
        ``missing="mask"``) pass unchanged.
    span : float
        The statistics' time constant in rows (``beta = 1 - 1 / span``), > 1.
    n_quantiles : int, default=1
        Quantiles per target: output channel ``j`` belongs to target ``j // n_quantiles``.
    eps : float, default=1e-5
        Added to the variance.

    Examples
    --------
    >>> from tsrec.nn.lru import LRUModel
    >>> inner = LRUModel(c_in=2, c_out=1, horizon=3, d_model=8, d_state=4, n_layers=1)
    >>> model = CausalInstanceNorm(inner, n_norm=2, span=16)
    >>> x = 100 + torch.randn(2, 10, 2)
    >>> yhat, state = model(x)
    >>> yhat.shape, sorted(k for k in state if k.startswith("norm."))
    (torch.Size([2, 10, 3, 1]), ['norm.mean', 'norm.sq'])
    """

    def __init__(self, inner: nn.Module, n_norm: int, span: float, n_quantiles: int = 1, eps: float = 1e-5) -> None:
        super().__init__()
        if not 1 <= n_norm <= inner.c_in:
            raise ValueError(f"need 1 <= n_norm <= the inner model's {inner.c_in} inputs, got {n_norm}")
        if inner.c_out // n_quantiles > n_norm:
            raise ValueError(f"the targets (the first {inner.c_out // n_quantiles} inputs) must be normalised, "
                             f"got n_norm={n_norm}")
        if not span > 1:
            raise ValueError(f"span must be > 1 row, got {span}")
        self.inner, self.n_norm, self.span, self.n_quantiles, self.eps = inner, n_norm, float(span), n_quantiles, eps
        self.c_in, self.c_out, self.horizon = inner.c_in, inner.c_out, inner.horizon
        self.n_targets = self.c_out // n_quantiles

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        state = self.inner.init_state(batch_size, device=device, dtype=dtype)
        ref = next(iter(self.inner.parameters()))
        kw = dict(device=device or ref.device, dtype=dtype or ref.dtype)
        state[MEAN] = torch.zeros(batch_size, self.n_norm, **kw)
        state[SQ] = torch.ones(batch_size, self.n_norm, **kw)
        return state

    def statistics(self, x: Tensor, state: State | None) -> tuple[Tensor, Tensor]:
        """The running ``(mean, second moment)`` after each row of ``x`` ``(B, L, C)``: two ``(B, L, n_norm)``."""
        B, L, _ = x.shape
        n = self.n_norm
        xs = x[..., :n]
        beta = 1.0 - 1.0 / self.span
        if state is not None and MEAN in state:
            h0 = torch.cat([state[MEAN], state[SQ]], dim=-1).to(x.dtype)
        else:
            h0 = torch.cat([x.new_zeros(B, n), x.new_ones(B, n)], dim=-1)
        a = torch.full((2 * n,), beta, dtype=x.dtype, device=x.device)
        h = linear_scan(a, (1.0 - beta) * torch.cat([xs, xs * xs], dim=-1), h0)
        return h[..., :n], h[..., n:]

    def _normalised(self, x: Tensor, state: State | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(z, mean, sq, std)``: the rows ``x`` normalised by the running statistics from ``state``."""
        if x.dim() != 3 or x.shape[-1] != self.c_in:
            raise ValueError(f"expected x of shape (B, L, {self.c_in}), got {tuple(x.shape)}")
        mean, sq = self.statistics(x, state)
        std = torch.sqrt((sq - mean * mean).clamp_min(0.0) + self.eps)
        z = torch.cat([(x[..., : self.n_norm] - mean) / std, x[..., self.n_norm:]], dim=-1)
        return z, mean, sq, std

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        z, mean, sq, std = self._normalised(x, state)
        inner_state = None if state is None else {k: v for k, v in state.items() if k not in (MEAN, SQ)}
        yhat, new = self.inner(z, inner_state)
        nt, nq = self.n_targets, self.n_quantiles
        m, s = mean[..., None, :nt], std[..., None, :nt]  # (B, L, 1, targets)
        if nq > 1:
            m, s = m.repeat_interleave(nq, dim=-1), s.repeat_interleave(nq, dim=-1)
        new[MEAN], new[SQ] = mean[:, -1], sq[:, -1]
        return yhat * s + m, new

    def forward_last(self, x: Tensor, state: State | None = None) -> Tensor:
        """``forward(x, state)[0][:, -1]``, the forecast ``(B, horizon, c_out)`` after the last row, with the inner
        model's position-wise work after its last mixer at that row only (``Stack.forward_last``): equal up to
        float rounding (its matmuls run over fewer rows)."""
        z, mean, _, std = self._normalised(x, state)
        inner_state = None if state is None else {k: v for k, v in state.items() if k not in (MEAN, SQ)}
        yhat = self.inner.forward_last(z, inner_state)
        nt, nq = self.n_targets, self.n_quantiles
        m, s = mean[:, -1, None, :nt], std[:, -1, None, :nt]  # (B, 1, targets)
        if nq > 1:
            m, s = m.repeat_interleave(nq, dim=-1), s.repeat_interleave(nq, dim=-1)
        return yhat * s + m

    def state_after(self, x: Tensor, state: State | None = None) -> State:
        """``forward(x, state)[1]``, the same numbers, without the forecasts (see ``Stack.state_after``)."""
        z, mean, sq, _ = self._normalised(x, state)
        inner_state = None if state is None else {k: v for k, v in state.items() if k not in (MEAN, SQ)}
        inner = getattr(self.inner, "state_after", None)
        new = inner(z, inner_state) if inner is not None else self.inner(z, inner_state)[1]
        new[MEAN], new[SQ] = mean[:, -1], sq[:, -1]
        return new

    def step(self, x_t: Tensor, state: State | None) -> tuple[Tensor, State]:
        yhat, state = self.forward(x_t.unsqueeze(1), state)
        return yhat[:, 0], state
