"""Fast CPU paths for the scan cores (and plain torch fallbacks for any device).

Linear scan
-----------
:func:`linear_scan_fwd` computes forward values only, without autograd; the
autograd wrapper :class:`tsrec.scan.linear.LinearScan` calls it for the
forward pass, and :func:`linear_scan_bwd` (a fused backward) for the gradients.
Dispatch, in order:

1. numba kernels (:mod:`tsrec.scan._numba_kernels`) when numba is installed
   (the ``fast`` extra), the tensors are on the CPU and the dtype is float32,
   float64, complex64 or complex128. One pass over the data, parallel over
   (batch row, block of channels) on ``torch.get_num_threads()`` threads,
   zero-copy through numpy. The scan is memory bound: forward reads ``a`` and
   ``b`` and writes ``h`` once. The backward kernel reads ``a``, ``h`` and the
   output gradient once and writes ``dh`` (= the gradient of ``b``) and the
   gradient of ``a``.
2. otherwise a time-major torch loop (L small ops), and the generic backward
   of :class:`~tsrec.scan.linear.LinearScan` (a reverse scan).

Other candidates measured (``benchmarks/scan_cpu.py``): the time-major torch
loop is several times slower than the kernels at (64, 512, 128); a
chunked-matmul form of the time-invariant scan (powers of ``a`` within chunks
of 32 steps, carry across chunks) moves the same bytes but does ``chunk``
times the arithmetic and loses by far on CPU, so it is not used. Set
``TSREC_NUMBA=0`` to force the torch path.

Notes. The kernels are compiled on first use for each dtype (seconds each)
and cached on disk by numba. A scan of at least ``_PARALLEL_MIN`` elements
is split into ``torch.get_num_threads()`` ranges of jobs run on Python
threads (the kernels release the GIL); numba's threading layer is not used,
so there is no second OpenMP team to spin beside torch's, and the kernels
are safe after ``fork`` and from several threads at once.

Large outputs (4 MiB and more) come from a small caching allocator
(:mod:`tsrec.scan._pool`): writing fresh memory (page faults, zeroing) is a
large part of a scan's time, so the memory of dropped outputs is reused, up
to 1 GiB of idle buffers (:func:`release_buffers` gives it back).

LEM recurrence
--------------
:func:`lem_recurrence` is an autograd Function (:class:`LEMRecurrence`) with
a hand-written backward through time. Per step, forward and backward, the two
dependent mat-vecs are ``addmm_`` into preallocated buffers and the
elementwise gate math is fused into two numba calls (or, without numba or off
the CPU, a few in-place torch ops); the weight gradients are two large GEMMs
after the loop.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch import Tensor

from ._pool import BufferPool

__all__ = ["linear_scan_fwd", "linear_scan_bwd", "lem_recurrence", "numba_available", "release_buffers"]

_NUMBA_DTYPES = (torch.float32, torch.float64, torch.complex64, torch.complex128)
_kernels = None  # the imported kernel module, False when numba is missing or disabled


def _numba_kernels():
    """The numba kernel module, or None (numba missing, or ``TSREC_NUMBA=0``)."""
    global _kernels
    if _kernels is None:
        _kernels = False
        if os.environ.get("TSREC_NUMBA", "1") != "0":
            try:
                from . import _numba_kernels as kernels

                _kernels = kernels
            except ImportError:
                pass
    return _kernels or None


def numba_available() -> bool:
    """Whether the numba kernels are in use for CPU tensors."""
    return _numba_kernels() is not None


def _kernels_for(*tensors: Tensor | None):
    """The kernel module if every tensor given is a CPU tensor of a dtype the kernels take."""
    for t in tensors:
        if t is not None and (t.device.type != "cpu" or t.dtype not in _NUMBA_DTYPES):
            return None
    return _numba_kernels()


_PARALLEL_MIN = 1 << 16  # elements below which one thread runs the whole scan
_threads: tuple[int, ThreadPoolExecutor] | None = None  # (pid, executor): a forked child makes its own


def _executor(n: int) -> ThreadPoolExecutor:
    global _threads
    if _threads is None or _threads[0] != os.getpid() or _threads[1]._max_workers < n:
        _threads = (os.getpid(), ThreadPoolExecutor(max_workers=n, thread_name_prefix="tsrec-scan"))
    return _threads[1]


def _run_jobs(kernel, n_jobs: int, n_elements: int, *args) -> None:
    """``kernel(*args, j0, j1)`` over the jobs ``[0, n_jobs)``, split over ``torch.get_num_threads()``
    Python threads (the kernels release the GIL) when the scan has at least ``_PARALLEL_MIN`` elements."""
    n = min(torch.get_num_threads(), n_jobs) if n_elements >= _PARALLEL_MIN else 1
    if n <= 1:
        kernel(*args, 0, n_jobs)
        return
    bounds = [n_jobs * k // n for k in range(n + 1)]
    futures = [_executor(n).submit(kernel, *args, bounds[k], bounds[k + 1]) for k in range(1, n)]
    kernel(*args, bounds[0], bounds[1])
    for f in futures:
        f.result()


def _np(t: Tensor):
    """A zero-copy numpy view of a contiguous CPU tensor (conjugation resolved)."""
    return t.detach().resolve_conj().resolve_neg().contiguous().numpy()


_NP_DTYPES = {torch.float32: np.float32, torch.float64: np.float64,
              torch.complex64: np.complex64, torch.complex128: np.complex128}


_POOL = BufferPool(min_bytes=1 << 22, max_idle_bytes=1 << 30)


def release_buffers() -> None:
    """Give back the memory of dropped scan outputs that the CPU path keeps for reuse (at most 1 GiB)."""
    _POOL.clear()


def _empty(*shape: int, dtype: torch.dtype, device: torch.device | str = "cpu") -> Tensor:
    """An uninitialised buffer; large CPU buffers come from the pool of dropped outputs.

    Writing fresh memory costs page faults and zeroing, one more pass over a
    large output; reused memory does not (:mod:`tsrec.scan._pool`). New
    buffers come from numpy, which asks for transparent huge pages.
    """
    if torch.device(device).type == "cpu" and dtype in _NP_DTYPES:
        return torch.from_numpy(_POOL.empty(shape, _NP_DTYPES[dtype]))
    return torch.empty(shape, dtype=dtype, device=device)


def _block(B: int, D: int) -> int:
    """Channels per job: whole rows when the batch alone gives every thread a few jobs."""
    jobs = 4 * torch.get_num_threads()
    if B >= jobs:
        return max(D, 1)
    return max(16, -(-D // -(-jobs // B)))


@torch.no_grad()
def linear_scan_fwd(a: Tensor, b: Tensor, h0: Tensor | None = None, reverse: bool = False,
                    out: Tensor | None = None) -> Tensor:
    """h_t = a_t h_{t-1} + b_t (or h_t = a_t h_{t+1} + b_t with ``reverse``), no autograd.

    Parameters
    ----------
    a : Tensor
        Decay, ``(B, L, D)`` or ``(D,)``.
    b : Tensor
        Inputs ``(B, L, D)``.
    h0 : Tensor, optional
        Initial state ``(B, D)`` (the state after the last step when ``reverse``); zeros when None.
    reverse : bool
        Scan from the last step to the first.
    out : Tensor, optional
        Contiguous ``(B, L, D)`` output buffer; may be ``b`` itself (each step
        reads its input before it writes its state).

    Returns
    -------
    Tensor
        ``h`` ``(B, L, D)``, contiguous (``out`` when given).
    """
    B, L, D = b.shape
    kernels = _kernels_for(a, b, h0)
    if kernels is None:
        h = _linear_scan_torch(a, b, h0, reverse)
        return h if out is None else out.copy_(h)
    if out is None:
        out = _empty(B, L, D, dtype=b.dtype)
    h0_ = h0 if h0 is not None else b.new_zeros(B, D)
    fn = kernels.scan_tv if a.dim() == 3 else kernels.scan_ti
    blk = _block(B, D)
    _run_jobs(fn, B * -(-D // blk), B * L * D, _np(a), _np(b), _np(h0_), out.detach().numpy(), reverse, blk)
    return out


def _linear_scan_torch(a: Tensor, b: Tensor, h0: Tensor | None, reverse: bool) -> Tensor:
    """The time-major torch loop (any device, any dtype)."""
    L = b.shape[1]
    bt = b.transpose(0, 1).contiguous()  # time-major: each step is one contiguous row block
    at = a.transpose(0, 1).contiguous() if a.dim() == 3 else a
    out = torch.empty_like(bt)
    h = h0.clone() if h0 is not None else torch.zeros_like(bt[0])
    steps = range(L - 1, -1, -1) if reverse else range(L)
    for t in steps:
        h = torch.addcmul(bt[t], at[t] if a.dim() == 3 else at, h)
        out[t] = h
    return out.transpose(0, 1).contiguous()


@torch.no_grad()
def linear_scan_bwd(
    a: Tensor, h: Tensor, h0: Tensor | None, grad_h: Tensor, need_grad_a: bool = True
) -> tuple[Tensor, Tensor | None, Tensor] | None:
    """Fused backward of h_t = a_t h_{t-1} + b_t in one pass, or None where no kernel applies.

    Parameters
    ----------
    a, h0 : Tensor
        As given to the forward pass (``h0`` None for zeros).
    h : Tensor
        The forward states ``(B, L, D)``.
    grad_h : Tensor
        Gradient of the loss with respect to ``h``.
    need_grad_a : bool
        Whether to compute the gradient of ``a``.

    Returns
    -------
    (grad_b, grad_a, grad_h0) or None
        ``grad_b`` is ``(B, L, D)``; ``grad_a`` has the shape of ``a`` (None
        unless ``need_grad_a``); ``grad_h0`` is ``(B, D)``. None when the
        tensors are not for the numba kernels: the caller then uses the
        generic reverse-scan backward.
    """
    kernels = _kernels_for(a, h, h0, grad_h)
    if kernels is None or grad_h.dtype != h.dtype:
        return None
    B, L, D = h.shape
    dh = _empty(B, L, D, dtype=h.dtype)
    dh0 = torch.empty(B, D, dtype=h.dtype)
    h0_ = h0 if h0 is not None else h.new_zeros(B, D)
    blk = _block(B, D)
    jobs = (B * -(-D // blk), B * L * D)
    if a.dim() == 3:
        da = _empty(B, L, D, dtype=h.dtype) if need_grad_a else h.new_empty(1, 1, 1)
        _run_jobs(kernels.scan_tv_bwd, *jobs, _np(a), _np(h), _np(h0_), _np(grad_h), dh.numpy(), da.numpy(),
                  dh0.numpy(), need_grad_a, blk)
    elif h.is_complex():
        # complex data as interleaved (re, im) floats (numpy views: a torch op per array costs more than the scan
        # of a small batch); per-row sums of the decay's gradient in double
        real = np.float32 if h.dtype == torch.complex64 else np.float64
        an = _np(a)
        rows = torch.zeros(B, 2 * D, dtype=torch.float64)
        _run_jobs(kernels.scan_ti_bwd_pairs, *jobs, np.ascontiguousarray(an.real), np.ascontiguousarray(an.imag),
                  _np(h).view(real), _np(h0_).view(real), _np(grad_h).view(real), dh.numpy().view(real), rows.numpy(),
                  dh0.numpy().view(real), need_grad_a, blk)
        da = torch.view_as_complex(rows.sum(0).view(D, 2)).to(h.dtype)
    else:
        # per-row sums of the shared decay's gradient, in double
        rows = torch.zeros(B, D, dtype=torch.float64)
        _run_jobs(kernels.scan_ti_bwd, *jobs, _np(a), _np(h), _np(h0_), _np(grad_h), dh.numpy(), rows.numpy(),
                  dh0.numpy(), need_grad_a, blk)
        da = rows.sum(0).to(h.dtype)
    return dh, (da if need_grad_a else None), dh0


# ---------------------------------------------------------------------------------------------
# LEM


class LEMRecurrence(torch.autograd.Function):
    """LEM over precomputed input projections, with a hand-written backward through time.

    Forward, per step n (``s = sigmoid``, gates in the order (1, 2, z, y) of ``u_proj``)::

        a = y_{n-1} W^T + u[:, :3H];  s1, s2, zh = s(a1), s(a2), tanh(az)
        z_n = z_{n-1} + dt s1 (zh - z_{n-1});  yh = tanh(z_n Wy^T + u[:, 3H:])
        y_n = y_{n-1} + dt s2 (yh - y_{n-1})

    Backward, with dy, dz the total gradients of y_n, z_n and gy_n, gz_n the
    incoming ones (the gates' gradients go to ``du`` in the same order)::

        du2 = dy dt (yh - y_{n-1}) s2 (1 - s2)      duy = dy dt s2 (1 - yh^2)
        dz  = gz_n + dz_{n+1} (1 - dt s1_{n+1}) + duy Wy
        du1 = dz dt (zh - z_{n-1}) s1 (1 - s1)      duz = dz dt s1 (1 - zh^2)
        dy_{n-1} = gy_{n-1} + dy (1 - dt s2) + [du1, du2, duz] W

    dW = sum_n [du1, du2, duz]_n^T y_{n-1} and dWy = sum_n duy_n^T z_n are one
    GEMM each after the loop. Two implementations of the loops:

    - numba (CPU, float32/float64, numba installed): time-major buffers; the
      forward keeps the gates (s1, s2, zh, yh) of every step, computed in
      place over a copy of ``u``: per step two ``addmm_``, one sigmoid over
      the three gates of the first (the kernel recovers tanh of the z gate
      from it), one tanh, and two fused numba calls for the state updates;
      the backward is two ``addmm_`` and two fused numba calls per step.
    - torch (anything else): the forward stores the four multipliers of
      ``du`` (``F``, laid out like ``du``) and ``1 - dt s1``, ``1 - dt s2``
      (``R``); the backward is four elementwise ops and two ``addmm`` per step.
    """

    @staticmethod
    def forward(ctx, u: Tensor, W: Tensor, Wz: Tensor, y0: Tensor | None, z0: Tensor | None,  # type: ignore[override]
                dt: float):
        B, L, H4 = u.shape
        H = H4 // 4
        y0_ = y0 if y0 is not None else u.new_zeros(B, H)
        z0_ = z0 if z0 is not None else u.new_zeros(B, H)
        train = any(ctx.needs_input_grad)  # False under no_grad or with constant inputs
        kernels = None
        if u.dtype in (torch.float32, torch.float64) and len({u.dtype, W.dtype, Wz.dtype, y0_.dtype, z0_.dtype}) == 1:
            kernels = _kernels_for(u, W, Wz, y0_, z0_)
        if kernels is not None:
            Y, Z, saved = _lem_fwd_numba(kernels, u, W, Wz, y0_, z0_, dt, train)
        else:
            Y, Z, saved = _lem_fwd_torch(u, W, Wz, y0_, z0_, dt, train)
        if train:
            ctx.kernels, ctx.dt = kernels, dt
            ctx.has_y0, ctx.has_z0 = y0 is not None, z0 is not None
            if kernels is None:
                saved = (y0_, Y, Z, *saved)
            ctx.save_for_backward(W, Wz, *saved)
        return Y, Z

    @staticmethod
    def backward(ctx, gY: Tensor, gZ: Tensor):  # type: ignore[override]
        W, Wz, *saved = ctx.saved_tensors
        if ctx.kernels is not None:
            du, dW, dWz, dy0, dz0 = _lem_bwd_numba(ctx.kernels, gY, gZ, W, Wz, *saved, ctx.dt,
                                                   ctx.needs_input_grad[1:3])
        else:
            du, dW, dWz, dy0, dz0 = _lem_bwd_torch(gY, gZ, W, Wz, *saved, ctx.needs_input_grad[1:3])
        n = ctx.needs_input_grad
        return (du, dW if n[1] else None, dWz if n[2] else None, dy0 if ctx.has_y0 and n[3] else None,
                dz0 if ctx.has_z0 and n[4] else None, None)


def _lem_fwd_numba(k, u, W, Wz, y0, z0, dt, train):
    B, L, H4 = u.shape
    H = H4 // 4
    # Time-major, so that each step is a contiguous block (torch's elementwise ops are several
    # times slower on strided views). Y[t], Z[t] are the states before step t.
    Y = _empty(L + 1, B, H, dtype=u.dtype)
    Z = _empty(L + 1, B, H, dtype=u.dtype)
    Y[0], Z[0] = y0, z0
    G3 = _empty(L if train else 1, B, 3 * H, dtype=u.dtype)  # gates s1, s2, zh of every step
    Gy = _empty(L if train else 1, B, H, dtype=u.dtype)  # gate yh
    c = np.array([dt, 1.0], dtype=_NP_DTYPES[u.dtype])
    y_out = _empty(B, L, H, dtype=u.dtype)  # the outputs, batch-major, written alongside
    z_out = _empty(B, L, H, dtype=u.dtype)
    G3n, Gyn, Yn, Zn, yon, zon = G3.numpy(), Gy.numpy(), Y.numpy(), Z.numpy(), y_out.numpy(), z_out.numpy()
    # views of every step, made in one call each (indexing per step costs microseconds)
    G3s, Gys, Ys, Zs = G3.unbind(0), Gy.unbind(0), Y.unbind(0), Z.unbind(0)
    u3, uy = u.detach()[..., : 3 * H].unbind(1), u.detach()[..., 3 * H :].unbind(1)
    WT, WzT = W.detach().t().contiguous(), Wz.detach().t().contiguous()  # GEMMs run faster on these
    if train:  # u, time-major, into the gate buffers; then the GEMMs add in place (faster than per step)
        G3.copy_(u.detach()[..., : 3 * H].transpose(0, 1))
        Gy.copy_(u.detach()[..., 3 * H :].transpose(0, 1))
    for t in range(L):
        j = t if train else 0
        if train:
            G3s[j].addmm_(Ys[t], WT)
        else:
            torch.addmm(u3[t], Ys[t], WT, out=G3s[j])
        G3s[j].sigmoid_()  # all three gates; the kernel turns the third into tanh
        k.lem_fwd_z(G3n, j, Zn, zon, t, c)
        if train:
            Gys[j].addmm_(Zs[t + 1], WzT)
        else:
            torch.addmm(uy[t], Zs[t + 1], WzT, out=Gys[j])
        Gys[j].tanh_()
        k.lem_fwd_y(G3n, Gyn, j, Yn, yon, t, c)
    return y_out, z_out, ((G3, Gy, Y, Z) if train else ())


def _lem_bwd_numba(k, gY, gZ, W, Wz, G3, Gy, Y, Z, dt, need_w):
    """Returns du (B, L, 4H), dW, dWy, dy0, dz0 (G3, Gy, Y, Z time-major from the forward)."""
    L, B, H = Gy.shape
    gY, gZ = gY.contiguous(), gZ.contiguous()
    du = _empty(L, B, 4 * H, dtype=Gy.dtype)  # time-major; returned transposed
    dy, dy_acc = gY[:, L - 1].clone(), torch.empty(B, H, dtype=Gy.dtype)
    dz, dz_acc = gZ[:, L - 1].clone(), torch.empty(B, H, dtype=Gy.dtype)
    c = np.array([dt, 1.0], dtype=_NP_DTYPES[Gy.dtype])
    G3n, Gyn, Yn, Zn, gYn, gZn, dun = (_np(x) for x in (G3, Gy, Y, Z, gY, gZ, du))
    dyn, dy_accn, dzn, dz_accn = dy.numpy(), dy_acc.numpy(), dz.numpy(), dz_acc.numpy()
    du3, duy = du[..., : 3 * H].unbind(0), du[..., 3 * H :].unbind(0)
    W, Wz = W.detach(), Wz.detach()
    for t in range(L - 1, -1, -1):
        k.lem_bwd_y(G3n, Gyn, Yn, dyn, dun, t, c)
        dz.addmm_(duy[t], Wz)  # dz held gz_t + dz_{t+1} (1 - dt s1_{t+1})
        k.lem_bwd_z(G3n, Zn, dyn, dzn, gYn, gZn, dun, dy_accn, dz_accn, t, c)
        dy_acc.addmm_(du3[t], W)
        dy, dy_acc, dyn, dy_accn = dy_acc, dy, dy_accn, dyn
        dz, dz_acc, dzn, dz_accn = dz_acc, dz, dz_accn, dzn
    flat = du.view(L * B, 4 * H)
    dW = flat[:, : 3 * H].t() @ Y[:-1].reshape(L * B, H) if need_w[0] else None
    dWz = flat[:, 3 * H :].t() @ Z[1:].reshape(L * B, H) if need_w[1] else None
    return du.transpose(0, 1), dW, dWz, dy, dz


def _lem_fwd_torch(u, W, Wz, y0, z0, dt, train):
    B, L, H4 = u.shape
    H = H4 // 4
    kw = dict(dtype=u.dtype, device=u.device)
    Y = _empty(B, L, H, **kw)
    Z = _empty(B, L, H, **kw)
    if train:
        F = _empty(B, L, 4, H, **kw)  # multipliers of du, gate order (1, 2, z, y)
        R = _empty(B, L, 2, H, **kw)  # 1 - dt s1, 1 - dt s2
        sp = torch.empty(B, 2 * H, **kw)
        q = torch.empty(B, 2 * H, **kw)
        ones = torch.ones(B, 2 * H, **kw)
        dt_t = torch.tensor(dt, **kw)
    A = torch.empty(B, H4, **kw)  # this step's s1, s2, zh, yh, computed in place over a copy of u
    s12, s1, s2, zh, yh = A[:, : 2 * H], A[:, :H], A[:, H : 2 * H], A[:, 2 * H : 3 * H], A[:, 3 * H :]
    diff = torch.empty(B, 2, H, **kw)  # zh - z_{n-1}, yh - y_{n-1}
    WT, WzT = W.detach().t().contiguous(), Wz.detach().t().contiguous()
    y, z = y0.detach(), z0.detach()
    us, Ys, Zs = u.detach().unbind(1), Y.unbind(1), Z.unbind(1)
    for t in range(L):
        A.copy_(us[t])
        A[:, : 3 * H].addmm_(y, WT)
        s12.sigmoid_()
        zh.tanh_()
        torch.sub(zh, z, out=diff[:, 0])
        z = torch.addcmul(z, s1, diff[:, 0], value=dt, out=Zs[t])
        yh.addmm_(z, WzT)
        yh.tanh_()
        torch.sub(yh, y, out=diff[:, 1])
        y = torch.addcmul(y, s2, diff[:, 1], value=dt, out=Ys[t])
        if train:  # the backward's multipliers, while this step's values are in cache
            Ft = F[:, t]
            torch.addcmul(s12, s12, s12, value=-1, out=sp)  # s (1 - s)
            torch.mul(diff, sp.view(B, 2, H), out=Ft[:, :2])
            torch.addcmul(ones, A[:, 2 * H :], A[:, 2 * H :], value=-1, out=q)  # 1 - tanh^2
            torch.mul(s12.view(B, 2, H), q.view(B, 2, H), out=Ft[:, 2:])
            Ft.mul_(dt)
            torch.addcmul(ones, s12, dt_t, value=-1, out=R[:, t].view(B, 2 * H))
    return Y, Z, ((F, R) if train else ())


def _lem_bwd_torch(gY, gZ, W, Wz, y0, Y, Z, F, R, need_w):
    """Returns du, dW, dWy, dy0, dz0 (Y, Z the outputs, F and R from the forward)."""
    B, L, _, H = F.shape
    du = _empty(B, L, 4 * H, dtype=F.dtype, device=F.device)
    du4 = du.view(B, L, 4, H)
    dy, dy_next = gY[:, L - 1].clone(), torch.empty(B, H, dtype=F.dtype, device=F.device)
    dz, cz = gZ[:, L - 1].clone(), torch.empty_like(dy_next)  # dz starts as gz_t + dz_{t+1} (1 - dt s1_{t+1})
    W, Wz = W.detach(), Wz.detach()
    for t in range(L - 1, -1, -1):
        dut = du4[:, t]
        Ft, Rt = F[:, t], R[:, t]
        torch.mul(dy.unsqueeze(1), Ft[:, 1::2], out=dut[:, 1::2])  # du2, duy
        dz.addmm_(dut[:, 3], Wz)
        torch.mul(dz.unsqueeze(1), Ft[:, 0::2], out=dut[:, 0::2])  # du1, duz
        if t > 0:
            torch.addcmul(gY[:, t - 1], dy, Rt[:, 1], out=dy_next)
            torch.addcmul(gZ[:, t - 1], dz, Rt[:, 0], out=cz)
        else:
            torch.mul(dy, Rt[:, 1], out=dy_next)
            torch.mul(dz, Rt[:, 0], out=cz)
        dy_next.addmm_(du[:, t, : 3 * H], W)
        dy, dy_next = dy_next, dy
        dz, cz = cz, dz
    dW = dWz = None
    if need_w[0]:
        y_prev = torch.cat([y0.unsqueeze(1), Y[:, :-1]], dim=1).reshape(B * L, H)
        dW = du[..., : 3 * H].reshape(B * L, 3 * H).t() @ y_prev
    if need_w[1]:
        dWz = du[..., 3 * H :].reshape(B * L, H).t() @ Z.reshape(B * L, H)
    return du, dW, dWz, dy, dz


def lem_recurrence(
    u_proj: Tensor, weight: Tensor, weight_z: Tensor, dt: float, y0: Tensor | None = None, z0: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """LEM recurrence with a fused backward; same contract as :func:`tsrec.scan.reference.lem_recurrence_ref`.

    Parameters
    ----------
    u_proj : Tensor
        Input projections ``(B, L, 4H)`` in gate order (dt1, dt2, z, y).
    weight : Tensor
        ``(3H, H)``, [W1; W2; Wz] applied to ``y_{n-1}``.
    weight_z : Tensor
        ``(H, H)``, Wy applied to ``z_n``.
    dt : float
        Time step.
    y0, z0 : Tensor, optional
        Initial states ``(B, H)``; zeros when None.

    Returns
    -------
    y, z : Tensor
        ``(B, L, H)`` each; differentiable in every tensor argument.
    """
    return LEMRecurrence.apply(u_proj, weight, weight_z, y0, z0, float(dt))
