"""Scan cores: the recurrences of the models, with backend dispatch.

``backend`` is one of ``"auto"`` (CuPy for CUDA tensors when CuPy works, the
torch path otherwise), ``"torch"`` (the tuned torch path of
:mod:`tsrec.scan.cpu`), ``"cupy"`` (CUDA kernels of :mod:`tsrec.scan.cupy`;
an error without a GPU and CuPy) or ``"reference"`` (the plain loops of
:mod:`tsrec.scan.reference`, differentiated by autograd).

This package knows nothing of forecasting; it imports only torch (and CuPy,
lazily, when that backend is asked for).
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from . import cpu, reference
from .linear import LinearScan

__all__ = ["BACKENDS", "cupy_available", "resolve_backend", "linear_scan", "aaren_scan", "lem_recurrence"]

BACKENDS = ("auto", "torch", "cupy", "reference")


@functools.cache
def cupy_available() -> bool:
    """Whether CuPy imports and sees a CUDA device."""
    try:
        import cupy  # noqa: F401

        return bool(cupy.cuda.is_available())
    except Exception:
        return False


def resolve_backend(backend: str, tensor: Tensor) -> str:
    """The concrete backend (``"torch"``, ``"cupy"`` or ``"reference"``) for ``tensor``."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "cupy" if tensor.is_cuda and cupy_available() else "torch"
    if backend == "cupy":
        if not cupy_available():
            raise RuntimeError("backend='cupy' needs CuPy and a CUDA GPU; install tsrec[gpu] or use backend='torch'")
        if not tensor.is_cuda:
            raise ValueError(
                "backend='cupy' needs CUDA tensors; move the model to a CUDA device or use backend='torch'")
    return backend


def _check_linear(a: Tensor, b: Tensor, h0: Tensor | None) -> None:
    if b.dim() != 3:
        raise ValueError(f"b must be (B, L, D), got shape {tuple(b.shape)}")
    if a.dim() == 3 and a.shape != b.shape:
        raise ValueError(f"time-varying a must match b's shape {tuple(b.shape)}, got {tuple(a.shape)}")
    if a.dim() == 1 and a.shape[0] != b.shape[2]:
        raise ValueError(f"time-invariant a must be (D,) with D={b.shape[2]}, got {tuple(a.shape)}")
    if a.dim() not in (1, 3):
        raise ValueError(f"a must be (B, L, D) or (D,), got shape {tuple(a.shape)}")
    if a.dtype != b.dtype or (h0 is not None and h0.dtype != b.dtype):
        raise TypeError(
            f"a, b and h0 must share one dtype, got {a.dtype}, {b.dtype}, {None if h0 is None else h0.dtype}")
    if h0 is not None and h0.shape != (b.shape[0], b.shape[2]):
        raise ValueError(f"h0 must be (B, D) = {(b.shape[0], b.shape[2])}, got {tuple(h0.shape)}")


def linear_scan(a: Tensor, b: Tensor, h0: Tensor | None = None, backend: str = "auto",
                out: Tensor | None = None) -> Tensor:
    """Linear recurrence h_t = a_t * h_{t-1} + b_t along dim 1.

    Parameters
    ----------
    a : Tensor
        Decay, time-varying ``(B, L, D)`` or time-invariant ``(D,)``; real or complex.
    b : Tensor
        Inputs ``(B, L, D)``, same dtype as ``a``.
    h0 : Tensor, optional
        Initial state ``(B, D)``; zeros when None.
    backend : {"auto", "torch", "cupy", "reference"}
        Where the recurrence runs (see the module docstring).
    out : Tensor, optional
        A contiguous ``(B, L, D)`` tensor of ``b``'s dtype and device to write
        the states into (it may be ``b`` itself: an in-place scan). Without
        autograd only. A large fresh output costs the operating system one
        more write pass (zeroing new pages), so reusing a buffer is the fast
        way to scan long sequences repeatedly.

    Returns
    -------
    Tensor
        All states ``h`` ``(B, L, D)`` (``out`` when given). Differentiable in
        ``a``, ``b`` and ``h0`` when ``out`` is None.
    """
    _check_linear(a, b, h0)
    which = resolve_backend(backend, b)
    if out is not None:
        if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (a, b, h0)):
            raise RuntimeError("linear_scan(out=...) does not support autograd: an input requires grad")
        if out.shape != b.shape or out.dtype != b.dtype or out.device != b.device or not out.is_contiguous():
            raise ValueError(f"out must be a contiguous tensor of shape {tuple(b.shape)}, dtype {b.dtype} on "
                             f"{b.device}; got {tuple(out.shape)}, {out.dtype} on {out.device}")
        if which == "torch":
            return cpu.linear_scan_fwd(a, b, h0, out=out)
        with torch.no_grad():
            return out.copy_(linear_scan(a, b, h0, backend=which))
    if which == "reference":
        return reference.linear_scan_ref(a, b, h0)
    if which == "cupy":
        from . import cupy as cupy_backend

        return LinearScan.apply(a.contiguous(), b.contiguous(), h0, cupy_backend.linear_scan_fwd)
    return LinearScan.apply(a, b, h0, cpu.linear_scan_fwd, cpu.linear_scan_bwd)


def aaren_scan(
    s: Tensor, v: Tensor, state: tuple[Tensor, Tensor] | None = None, backend: str = "auto"
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """Prefix softmax-weighted means o_t = sum_{i<=t} e^{s_i} v_i / sum_{i<=t} e^{s_i}.

    Uses the stable first-order form of Aaren (Feng et al. 2024): with
    l_t = logcumsumexp(s)_t and g_t = exp(s_t - l_t), o_t = (1 - g_t) o_{t-1} + g_t v_t,
    a linear scan with decay in [0, 1).

    Parameters
    ----------
    s : Tensor
        Scores ``(B, L, K)`` (K heads).
    v : Tensor
        Values ``(B, L, K, E)``.
    state : tuple of Tensor, optional
        ``(l, o)``: log of the running sum of weights ``(B, K)`` and the running
        mean ``(B, K, E)`` carried from earlier steps; None starts empty.
        (This is the (m, u, w) state of the paper as l = m + log u, o = w / u.)
    backend : str
        As for :func:`linear_scan`.

    Returns
    -------
    o : Tensor
        ``(B, L, K, E)``.
    state : tuple of Tensor
        ``(l, o)`` after the last step.

    Notes
    -----
    A score of ``-inf`` (a masked or padded step) has weight 0: it leaves ``l`` and
    ``o`` as they were and gets a zero gradient. At steps where every score so far
    is ``-inf`` (and the state, if any, is empty: ``l = -inf``) no weight exists; the
    output there is defined as the carried mean, 0 without a state, and ``l`` is
    ``-inf``. Outputs and gradients stay finite (every backend).
    """
    if s.dim() != 3 or v.dim() != 4 or v.shape[:3] != s.shape:
        raise ValueError(f"expected s (B, L, K) and v (B, L, K, E), got {tuple(s.shape)} and {tuple(v.shape)}")
    which = resolve_backend(backend, s)
    if which == "reference":
        m_u_w = None
        if state is not None:
            l0, o0 = state
            m_u_w = (l0, torch.ones_like(l0), o0)
        o, (m, u, w) = reference.aaren_scan_ref(s, v, m_u_w)
        empty = torch.isneginf(m)  # no weight so far: l = -inf, o the carried mean
        u = torch.where(empty, 1, u)
        return o, (torch.where(empty, -torch.inf, m + torch.log(u)), w / u.unsqueeze(-1))
    if which == "cupy":
        from . import cupy as cupy_backend

        return cupy_backend.aaren_scan(s, v, state)
    B, L, K, E = v.shape
    # A score of -inf (and an empty state, l0 = -inf) computes as the most negative finite
    # number: the same result without exp(-inf - (-inf)) = NaN, forward and in logcumsumexp's
    # backward; the weight of a -inf score is then set to exactly 0.
    # Finite scores (the usual case) skip the masking: measured 18-39% of the call on the CPU.
    lowest = torch.finfo(s.dtype).min
    masked = torch.isneginf(s)
    any_masked = bool(masked.any()) or (state is not None and bool(torch.isneginf(state[0]).any()))
    s_fin = s.masked_fill(masked, lowest) if any_masked else s
    if state is not None:
        l0, o0 = state
        s_ext = torch.cat([(l0.clamp_min(lowest) if any_masked else l0).unsqueeze(1), s_fin], dim=1)
        lse = torch.logcumsumexp(s_ext, dim=1)[:, 1:]
        h0 = o0.reshape(B, K * E)
    else:
        lse = torch.logcumsumexp(s_fin, dim=1)
        h0 = None
    g = torch.exp(s_fin - lse)
    g = (g.masked_fill(masked, 0) if any_masked else g).unsqueeze(-1)  # (B, L, K, 1), in [0, 1]
    a = (1 - g).expand(B, L, K, E).reshape(B, L, K * E)
    b = (g * v).reshape(B, L, K * E)
    o = linear_scan(a, b, h0, backend="torch").reshape(B, L, K, E)
    l_last = lse[:, -1]
    if any_masked:  # no weight at all so far: l stays -inf
        empty = masked.all(dim=1) if state is None else masked.all(dim=1) & torch.isneginf(state[0])
        l_last = torch.where(empty, -torch.inf, l_last)
    return o, (l_last, o[:, -1])


def lem_recurrence(
    u_proj: Tensor,
    weight: Tensor,
    weight_z: Tensor,
    dt: float,
    y0: Tensor | None = None,
    z0: Tensor | None = None,
    backend: str = "auto",
) -> tuple[Tensor, Tensor]:
    """The recurrent part of LEM over precomputed input projections.

    See :func:`tsrec.scan.reference.lem_recurrence_ref` for the equations and
    shapes. Returns ``(y, z)``, each ``(B, L, H)``.
    """
    H = weight_z.shape[0]
    if u_proj.dim() != 3 or u_proj.shape[-1] != 4 * H or weight.shape != (3 * H, H) or weight_z.shape != (H, H):
        raise ValueError(
            f"expected u_proj (B, L, 4H), weight (3H, H), weight_z (H, H) with H={H}; got "
            f"{tuple(u_proj.shape)}, {tuple(weight.shape)}, {tuple(weight_z.shape)}"
        )
    which = resolve_backend(backend, u_proj)
    if which == "cupy":
        from . import cupy as cupy_backend

        return cupy_backend.lem_recurrence(u_proj, weight, weight_z, dt, y0, z0)
    if which == "torch":
        return cpu.lem_recurrence(u_proj, weight, weight_z, dt, y0, z0)
    return reference.lem_recurrence_ref(u_proj, weight, weight_z, dt, y0, z0)
