"""Plain torch references for the scan cores.

Each function here is written as the equation reads, one step at a time, and
is differentiable by ordinary autograd. They are the oracles the fast
backends are tested against (in float64), and the fallback of last resort.
The time loop ``unbind``s the sequence first: indexing ``x[:, t]`` under
autograd makes the backward pass quadratic in the length.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["linear_scan_ref", "aaren_scan_ref", "aaren_attention_ref", "lem_recurrence_ref"]


def linear_scan_ref(a: Tensor, b: Tensor, h0: Tensor | None = None, reverse: bool = False) -> Tensor:
    """h_t = a_t * h_{t-1} + b_t over dim 1 of ``b`` (B, L, D).

    ``a`` is time-varying ``(B, L, D)`` or time-invariant ``(D,)``; ``h0`` is
    ``(B, D)`` or None (zeros). With ``reverse=True`` the scan runs from the
    last step to the first: h_t = a_t * h_{t+1} + b_t.
    """
    bs = b.unbind(1)
    as_ = a.unbind(1) if a.dim() == 3 else None
    order = range(len(bs) - 1, -1, -1) if reverse else range(len(bs))
    h = h0 if h0 is not None else torch.zeros_like(bs[0])
    out: list[Tensor] = [None] * len(bs)  # type: ignore[list-item]
    for t in order:
        at = as_[t] if as_ is not None else a
        h = at * h + bs[t]
        out[t] = h
    return torch.stack(out, dim=1)


def aaren_scan_ref(
    s: Tensor, v: Tensor, state: tuple[Tensor, Tensor, Tensor] | None = None
) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
    """Prefix softmax-weighted means by the (max, sum, weighted sum) recurrence.

    ``s`` are scores ``(B, L, K)`` and ``v`` values ``(B, L, K, E)``, K
    independent heads. Returns ``o`` ``(B, L, K, E)`` with
    o_t = sum_{i<=t} exp(s_i) v_i / sum_{i<=t} exp(s_i) (including the carried
    ``state`` = (m, u, w) of shapes (B, K), (B, K), (B, K, E)), and the state
    after the last step.

    A score of -inf has weight 0 (a step that changes nothing). While the
    running max ``m`` is still -inf (no weight yet), ``u`` and ``w`` keep their
    values and the output is ``w / u`` with ``u = 0`` read as 1: 0 without a
    state. No NaN arises, forward or backward.
    """
    if state is None:
        m = torch.full_like(s[:, 0], -torch.inf)
        u = torch.zeros_like(s[:, 0])
        w = torch.zeros_like(v[:, 0])
    else:
        m, u, w = state
    outs = []
    for st, vt in zip(s.unbind(1), v.unbind(1)):
        m_new = torch.maximum(m, st)
        # m_new = -inf (m and st both -inf): exp(-inf - (-inf)) would be NaN; rescale by 1,
        # add weight exp(-inf - 0) = 0
        none = torch.isneginf(m_new)
        m_safe = torch.where(none, 0, m_new)
        scale_old = torch.where(none, 1, torch.exp(m - m_safe))
        scale_new = torch.exp(st - m_safe)
        u = u * scale_old + scale_new
        w = w * scale_old.unsqueeze(-1) + scale_new.unsqueeze(-1) * vt
        m = m_new
        outs.append(w / torch.where(u == 0, 1, u).unsqueeze(-1))
    return torch.stack(outs, dim=1), (m, u, w)


def aaren_attention_ref(s: Tensor, v: Tensor) -> Tensor:
    """The same prefix means as a direct O(L^2) masked softmax (for tests)."""
    L = s.shape[1]
    mask = torch.ones(L, L, dtype=torch.bool, device=s.device).tril()
    scores = s.transpose(1, 2).unsqueeze(2).expand(-1, -1, L, -1)  # (B, K, Lq, Lk)
    scores = scores.masked_fill(~mask, -torch.inf)
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("bkqi,bike->bqke", weights, v)


def lem_recurrence_ref(
    u_proj: Tensor, weight: Tensor, weight_z: Tensor, dt: float, y0: Tensor | None = None, z0: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """The recurrent part of Long Expressive Memory (Rusch et al. 2021).

    ``u_proj`` ``(B, L, 4H)`` holds the input projections of every step,
    V u + b, in the order (dt1, dt2, z, y). ``weight`` ``(3H, H)`` stacks
    [W1; W2; Wz] (applied to y_{n-1}) and ``weight_z`` ``(H, H)`` is Wy
    (applied to the new z_n)::

        dt1 = dt * sigmoid(W1 y + V1 u)       dt2 = dt * sigmoid(W2 y + V2 u)
        z   = (1 - dt1) z + dt1 tanh(Wz y + Vz u)
        y   = (1 - dt2) y + dt2 tanh(Wy z + Vy u)

    Returns the sequences ``y`` and ``z``, each ``(B, L, H)``.
    """
    H = weight_z.shape[0]
    B = u_proj.shape[0]
    y = y0 if y0 is not None else u_proj.new_zeros(B, H)
    z = z0 if z0 is not None else u_proj.new_zeros(B, H)
    ys, zs = [], []
    for ut in u_proj.unbind(1):
        g1, g2, gz, gy = ut.split(H, dim=-1)
        r1, r2, rz = (y @ weight.T).split(H, dim=-1)
        dt1 = dt * torch.sigmoid(r1 + g1)
        dt2 = dt * torch.sigmoid(r2 + g2)
        z = (1 - dt1) * z + dt1 * torch.tanh(rz + gz)
        y = (1 - dt2) * y + dt2 * torch.tanh(z @ weight_z.T + gy)
        ys.append(y)
        zs.append(z)
    return torch.stack(ys, 1), torch.stack(zs, 1)
