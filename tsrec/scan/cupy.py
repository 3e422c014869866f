"""CuPy backend of the scan cores: CUDA kernels on torch tensors, zero-copy.

The kernels live in ``tsrec/scan/kernels/*.cu`` and are compiled at first use by
CuPy (NVRTC, :class:`cupy.RawModule`), once per device. Tensors go to CuPy
through DLPack without a copy, and every kernel runs on torch's current CUDA
stream, so the calls order with the surrounding torch work as torch ops do.

This module imports CuPy lazily, inside the functions: importing it needs
neither CuPy nor a GPU; calling it needs both (:func:`tsrec.scan.cupy_available`).
The dispatch in :mod:`tsrec.scan` calls

- :func:`linear_scan_fwd` (forward only; :class:`tsrec.scan.linear.LinearScan`
  makes it differentiable with a reverse scan),
- :func:`aaren_scan` (fused forward kernel; backward in torch ops plus the
  reverse linear-scan kernel),
- :func:`lem_recurrence` (persistent forward kernel, fused backward through time
  kernel; the weight gradients are two GEMMs).

The pure functions :func:`linear_launch_config` and :func:`lem_launch_config`
choose the launch shapes, and :func:`cooperative_capacity` checks a cooperative
grid; they need no GPU and are tested on the CPU.

The LEM kernels meet at a barrier between the blocks of a group, which is safe only
when all those blocks run at once. They are therefore compiled and launched as
cooperative kernels (``enable_cooperative_groups``: ``cuLaunchCooperativeKernel``
either starts every block together or fails with an error, where a plain launch on
a busy GPU could leave blocks waiting for ones that never start), and the host
checks first that the grid fits the device (occupancy x SMs), since CuPy would
shrink a one-row grid silently.

Inputs read through complex128 (16-byte) loads, or any element load, must be
aligned to their element size; :func:`aligned` copies a tensor that is not
(memory imported from outside torch can be).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.resources
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = [
    "KERNEL_FILES",
    "kernel_source",
    "linear_scan_fwd",
    "aaren_scan",
    "lem_recurrence",
    "linear_launch_config",
    "lem_launch_config",
    "cooperative_capacity",
    "aligned",
]

#: the CUDA sources of this backend, in ``tsrec/scan/kernels``
KERNEL_FILES = ("linear_scan.cu", "aaren_scan.cu", "lem.cu")
#: the sources whose kernels synchronise across blocks: compiled and launched cooperatively
COOPERATIVE_FILES = ("lem.cu",)

#: steps per thread per tile (CH in the .cu files), per dtype
LINEAR_CHUNK = {torch.float32: 8, torch.float64: 8, torch.complex64: 8, torch.complex128: 4}
AAREN_CHUNK = 8
#: at most this many sub-chunks (threadIdx.y) per block: NY_MAX in the .cu files
NY_MAX = 16
LEM_THREADS = 256

_SUFFIX = {torch.float32: "f32", torch.float64: "f64", torch.complex64: "c64", torch.complex128: "c128"}


def kernel_source(name: str) -> str:
    """The text of the CUDA source ``name`` (one of :data:`KERNEL_FILES`)."""
    return importlib.resources.files("tsrec.scan").joinpath("kernels", name).read_text()


# --------------------------------------------------------------------------- launch shapes


def linear_launch_config(B: int, L: int, D: int, chunk: int, n_sm: int) -> tuple[int, int, int, int]:
    """Launch shape of the chunked linear scan for ``(B, L, D)`` inputs.

    Returns ``(blocks_x, ny, n_seg, seg_len)``: ``blocks_x`` blocks of 32
    columns, ``ny`` sub-chunks of ``chunk`` steps per block, and the time axis
    cut into ``n_seg`` segments of ``seg_len`` steps (``n_seg > 1`` only when
    the columns alone give fewer than two blocks per SM and the sequence is
    long enough for each segment to hold a few tiles).
    """
    ncol = B * D
    blocks_x = -(-ncol // 32)
    n_seg = 1
    min_seg = 4 * NY_MAX * chunk  # at least four full tiles per segment
    if blocks_x < 2 * n_sm and L >= 2 * min_seg:
        n_seg = min(-(-2 * n_sm // blocks_x), L // min_seg, 65535)
    seg_len = -(-L // n_seg)
    n_seg = -(-L // seg_len)
    ny = max(1, min(NY_MAX, -(-seg_len // chunk)))
    return blocks_x, ny, n_seg, seg_len


def lem_smem_bytes(H: int, U: int, BB: int, itemsize: int, backward: bool) -> int:
    """Dynamic shared memory of one LEM block (see the layouts in lem.cu)."""
    if backward:
        words = 4 * H * U + 4 * BB * (H + 1) + 2 * BB * U
    else:
        words = 4 * H * U + 2 * BB * (H + 1) + BB * U
    return words * itemsize


def lem_launch_config(
    B: int, H: int, itemsize: int, smem_max: int, n_sm: int, backward: bool = False
) -> tuple[int, int, int, int, int] | None:
    """Launch shape of the persistent LEM kernels, or None when the weights do not fit.

    Chooses P blocks per batch group (each keeping H/P units' weights in shared
    memory) and BB batch rows per group, at most ``n_sm`` blocks per launch (one
    block per SM keeps every block of a group resident, which the in-kernel
    barrier needs). The cost model is the per-step time of one launch: the dot
    products of the busiest thread plus a barrier when P > 1, times the number
    of launches the batch needs.

    Returns ``(P, U, BB, groups_per_launch, smem_bytes)``.
    """
    best = None
    for P in range(1, min(H, n_sm) + 1):
        U = -(-H // P)
        if -(-H // U) != P:  # P blocks of U units would leave a block empty
            continue
        for BB in sorted({min(B, x) for x in (64, 32, 16, 8, 4, 2, 1)}, reverse=True):
            smem = lem_smem_bytes(H, U, BB, itemsize, backward)
            if smem > smem_max:
                continue
            groups = -(-B // BB)
            per_launch = min(groups, n_sm // P)
            launches = -(-groups // per_launch)
            step = -(-BB * U // LEM_THREADS) * H * 8 + (5000 if P > 1 else 0)
            key = (launches * step, P * per_launch, P)
            if best is None or key < best[0]:
                best = (key, (P, U, BB, per_launch, smem))
    return None if best is None else best[1]


def cooperative_capacity(n_blocks: int, blocks_per_sm: int, n_sm: int) -> None:
    """Check that a cooperative grid of ``n_blocks`` blocks can be resident at once.

    Parameters
    ----------
    n_blocks : int
        Blocks in the grid (all dimensions).
    blocks_per_sm : int
        The kernel's occupancy: blocks of this size and shared memory one SM holds.
    n_sm : int
        Streaming multiprocessors of the device.

    Raises
    ------
    RuntimeError
        When ``blocks_per_sm * n_sm < n_blocks``: a cooperative launch cannot run
        that grid (and CuPy would shrink a one-dimensional one silently).
    """
    if blocks_per_sm * n_sm < n_blocks:
        raise RuntimeError(
            f"the LEM kernel needs its {n_blocks} blocks resident at once (a cooperative launch), but this "
            f"device holds {blocks_per_sm} per SM x {n_sm} SMs = {blocks_per_sm * n_sm}; use backend='torch'"
        )


# --------------------------------------------------------------------------- CuPy plumbing


@functools.cache
def _cp() -> Any:
    # absolute import of the real library (this module is tsrec.scan.cupy)
    return importlib.import_module("cupy")


@functools.cache
def _module(name: str, device_id: int) -> Any:
    cp = _cp()
    with cp.cuda.Device(device_id):
        return cp.RawModule(
            code=kernel_source(name), options=("-std=c++17",), enable_cooperative_groups=name in COOPERATIVE_FILES
        )


@functools.cache
def _kernel(name: str, func: str, device_id: int) -> Any:
    return _module(name, device_id).get_function(func)


@functools.cache
def _device_limits(device_id: int) -> tuple[int, int]:
    """(number of SMs, opt-in shared memory per block in bytes)."""
    rt = _cp().cuda.runtime
    n_sm = rt.deviceGetAttribute(rt.cudaDevAttrMultiProcessorCount, device_id)
    smem = rt.deviceGetAttribute(rt.cudaDevAttrMaxSharedMemoryPerBlockOptin, device_id)
    return int(n_sm), int(smem)


@contextlib.contextmanager
def _on_device(t: Tensor) -> Iterator[None]:
    """Make t's device current for torch and CuPy, and torch's current stream CuPy's."""
    cp = _cp()
    device_id = t.device.index  # a CUDA tensor's device always has its index
    with torch.cuda.device(device_id), cp.cuda.Device(device_id):
        with _cupy_stream(torch.cuda.current_stream(device_id)):
            yield


@functools.lru_cache(maxsize=32)
def _cupy_stream(torch_stream: torch.cuda.Stream) -> Any:
    """A CuPy handle on a torch stream (CuPy >= 14: Stream.from_external; before: ExternalStream)."""
    cp = _cp()
    if hasattr(cp.cuda.Stream, "from_external"):
        return cp.cuda.Stream.from_external(torch_stream)
    return cp.cuda.ExternalStream(torch_stream.cuda_stream, torch_stream.device.index)


def _cu(t: Tensor) -> Any:
    """A CuPy view of t (no copy). t must be contiguous, resolved, and on the current device."""
    return _cp().from_dlpack(t.detach())


def aligned(t: Tensor) -> Tensor:
    """``t``, or a copy of it when its data pointer is not a multiple of its element size.

    The kernels load elements whole (a complex128 as one 16-byte access); torch's
    allocator aligns far more, but ``.contiguous()`` keeps the pointer of a tensor
    made from foreign memory (DLPack, ``frombuffer``), which may be misaligned.
    ``t`` must be contiguous. The copy goes byte by byte, since loading the
    misaligned elements themselves is what fails.
    """
    if t.data_ptr() % t.element_size() == 0:
        return t
    return t.reshape(-1).view(torch.uint8).clone().view(t.dtype).view(t.shape)


def _prep(t: Tensor) -> Tensor:
    return aligned(t.detach().resolve_conj().resolve_neg().contiguous())


def _launch(
    kernel: Any, grid: tuple[int, ...], block: tuple[int, ...], args: tuple, smem: int = 0,
    cooperative: bool = False, device_id: int | None = None,
) -> None:
    """Launch ``kernel`` (a cooperative one on ``device_id``: the grid checked against the occupancy first)."""
    if smem > 48 * 1024 and kernel.max_dynamic_shared_size_bytes < smem:
        kernel.max_dynamic_shared_size_bytes = smem
    if cooperative:  # all blocks resident at once, or a clear error before the launch
        if not kernel.enable_cooperative_groups:
            raise RuntimeError("a kernel that synchronises across blocks must come from a cooperative module")
        per_sm = _cp().cuda.driver.occupancyMaxActiveBlocksPerMultiprocessor(
            kernel.kernel.ptr, math.prod(block), smem
        )
        cooperative_capacity(math.prod(grid), int(per_sm), _device_limits(device_id)[0])
    kernel(grid, block, args, shared_mem=smem)


# --------------------------------------------------------------------------- linear scan


@torch.no_grad()
def linear_scan_fwd(a: Tensor, b: Tensor, h0: Tensor | None = None, reverse: bool = False) -> Tensor:
    """h_t = a_t h_{t-1} + b_t (or h_t = a_t h_{t+1} + b_t with ``reverse``), no autograd.

    Parameters
    ----------
    a : Tensor
        ``(B, L, D)`` or ``(D,)``, on a CUDA device; float32, float64, complex64 or complex128.
    b : Tensor
        ``(B, L, D)``, same dtype and device.
    h0 : Tensor, optional
        ``(B, D)``; zeros when None.
    reverse : bool
        Run from the last step to the first.

    Returns
    -------
    Tensor
        ``h`` ``(B, L, D)``, contiguous.
    """
    if b.dtype not in _SUFFIX:
        raise TypeError(f"the CuPy linear scan takes float32/64 or complex64/128, got {b.dtype}")
    B, L, D = b.shape
    a, b = _prep(a), _prep(b)
    h0 = None if h0 is None else _prep(h0)
    out = torch.empty_like(b)
    if out.numel() == 0:
        return out
    suffix = _SUFFIX[b.dtype]
    kind = "tv" if a.dim() == 3 else "ti"
    dev = b.device.index
    n_sm, _ = _device_limits(dev)
    blocks_x, ny, n_seg, seg_len = linear_launch_config(B, L, D, LINEAR_CHUNK[b.dtype], n_sm)
    sizes = (np.int64(B), np.int64(L), np.int64(D), np.int64(seg_len))
    with _on_device(b):
        ca, cb, cout = _cu(a), _cu(b), _cu(out)
        carry, has_carry = cb, 0  # cb: any valid pointer when there is no carry
        if h0 is not None:
            carry, has_carry = _cu(h0), 1
        if n_seg > 1:
            ncol = B * D
            sums = torch.empty((3, n_seg, ncol), dtype=b.dtype, device=b.device)
            c_a, c_h, c_in = _cu(sums[0]), _cu(sums[1]), _cu(sums[2])
            _launch(
                _kernel("linear_scan.cu", f"linear_scan_summary_{suffix}_{kind}", dev),
                (blocks_x, n_seg), (32, ny), (ca, cb, c_a, c_h, *sizes, np.int32(reverse)),
            )
            _launch(
                _kernel("linear_scan.cu", f"linear_scan_carry_{suffix}", dev),
                (-(-ncol // 256),), (256,),
                (c_a, c_h, carry, c_in, np.int64(ncol), np.int32(n_seg), np.int32(has_carry)),
            )
            carry, has_carry = c_in, 1
        _launch(
            _kernel("linear_scan.cu", f"linear_scan_{suffix}_{kind}", dev),
            (blocks_x, n_seg), (32, ny), (ca, cb, carry, cout, *sizes, np.int32(has_carry), np.int32(reverse)),
        )
    return out


# --------------------------------------------------------------------------- Aaren scan


def _aaren_fwd(s: Tensor, v: Tensor, l0: Tensor | None, o0: Tensor | None, write_l: bool):
    B, L, K, E = v.shape
    o = torch.empty_like(v)
    l_all = torch.empty_like(s) if write_l else None
    l_last = torch.empty((B, K), dtype=s.dtype, device=s.device)
    if L == 0:
        l_last.copy_(l0) if l0 is not None else l_last.fill_(-math.inf)
        return o, l_all, l_last
    if o.numel() == 0:
        return o, l_all, l_last.fill_(-math.inf)
    dev = v.device.index
    blocks_x = -(-(B * K * E) // 32)
    ny = max(1, min(NY_MAX, -(-L // AAREN_CHUNK)))
    with _on_device(v):
        cs, cv, co, cl_last = _cu(s), _cu(v), _cu(o), _cu(l_last)
        cl_all = _cu(l_all) if write_l else co
        has_state = l0 is not None
        cl0, co0 = (_cu(l0), _cu(o0)) if has_state else (cs, cv)
        _launch(
            _kernel("aaren_scan.cu", f"aaren_scan_{_SUFFIX[v.dtype]}", dev),
            (blocks_x,), (32, ny),
            (cs, cv, cl0, co0, co, cl_all, cl_last, np.int64(B), np.int64(L), np.int64(K), np.int64(E),
             np.int32(has_state), np.int32(write_l)),
        )
    return o, l_all, l_last


def _shift_left(x: Tensor) -> Tensor:
    """x[:, t + 1] at t, zero at the end (dim 1)."""
    return torch.cat([x[:, 1:], torch.zeros_like(x[:, :1])], dim=1)


class _AarenScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, s: Tensor, v: Tensor, l0: Tensor | None, o0: Tensor | None):  # type: ignore[override]
        s, v = _prep(s), _prep(v)
        l0 = None if l0 is None else _prep(l0)
        o0 = None if o0 is None else _prep(o0)
        need_grad = any(ctx.needs_input_grad)
        o, l_all, l_last = _aaren_fwd(s, v, l0, o0, write_l=need_grad)
        if need_grad:
            ctx.save_for_backward(s, v, o0, o, l_all)
        ctx.has_state = l0 is not None
        return o, l_last

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_o: Tensor, grad_l: Tensor):  # type: ignore[override]
        # o_t = (1 - g_t) o_{t-1} + g_t v_t,  l_t = logaddexp(l_{t-1}, s_t),  g_t = exp(s_t - l_t):
        #   dO_t = grad_o_t + (1 - g_{t+1}) dO_{t+1}                       (reverse linear scan)
        #   dg_t = sum_e dO_t (v_t - o_{t-1}),  dv_t = g_t dO_t
        #   dL_t = -g_t dg_t + (1 - g_{t+1}) dL_{t+1} (+ grad_l at t = L-1)  (reverse linear scan)
        #   ds_t = g_t (dg_t + dL_t),  dl0 = (1 - g_0) dL_0,  do0 = (1 - g_0) dO_0
        s, v, o0, o, l_all = ctx.saved_tensors
        B, L, K, E = v.shape
        g = torch.exp(s - l_all).masked_fill_(torch.isneginf(s), 0)  # a -inf score: g = 0, not NaN
        a_next = _shift_left(1 - g)  # (B, L, K)
        grad_o = grad_o.contiguous()
        d_o = linear_scan_fwd(
            a_next.unsqueeze(-1).expand(B, L, K, E).reshape(B, L, K * E), grad_o.reshape(B, L, K * E), None,
            reverse=True,
        ).reshape(B, L, K, E)
        o_start = o0 if ctx.has_state else torch.zeros_like(o[:, 0])
        o_prev = torch.cat([o_start.unsqueeze(1), o[:, :-1]], dim=1)
        dg = (d_o * (v - o_prev)).sum(-1)
        c = -g * dg
        c[:, -1] += grad_l
        d_l = linear_scan_fwd(a_next, c, None, reverse=True)
        ds = g * (dg + d_l)
        dv = g.unsqueeze(-1) * d_o
        dl0 = do0 = None
        if ctx.has_state:
            keep = 1 - g[:, 0]
            dl0 = keep * d_l[:, 0]
            do0 = keep.unsqueeze(-1) * d_o[:, 0]
        return ds, dv, dl0, do0


def aaren_scan(
    s: Tensor, v: Tensor, state: tuple[Tensor, Tensor] | None = None
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """Prefix softmax-weighted means on the GPU; as :func:`tsrec.scan.aaren_scan`.

    Parameters
    ----------
    s : Tensor
        Scores ``(B, L, K)``, float32 or float64, on a CUDA device.
    v : Tensor
        Values ``(B, L, K, E)``, same dtype and device.
    state : tuple of Tensor, optional
        ``(l, o)`` of shapes ``(B, K)`` and ``(B, K, E)``; None starts empty.

    Returns
    -------
    o : Tensor
        ``(B, L, K, E)``.
    state : tuple of Tensor
        ``(l, o)`` after the last step. Differentiable in ``s``, ``v`` and the state
        (first order only).

    Notes
    -----
    A ``-inf`` score has weight 0, as in :func:`tsrec.scan.aaren_scan`: no NaN, forward
    or backward; o is 0 (the carried mean) where every score so far is ``-inf``.
    """
    if s.dtype not in (torch.float32, torch.float64) or v.dtype != s.dtype:
        raise TypeError(f"the CuPy Aaren scan takes float32 or float64 s and v of one dtype, got {s.dtype}, {v.dtype}")
    l0, o0 = (None, None) if state is None else state
    if state is not None and (l0.dtype != s.dtype or o0.dtype != s.dtype):
        raise TypeError("the state must have the dtype of s and v")
    o, l_last = _AarenScan.apply(s, v, l0, o0)
    if v.shape[1] == 0:
        return o, (l_last, o0 if o0 is not None else v.new_zeros(v.shape[0], v.shape[2], v.shape[3]))
    return o, (l_last, o[:, -1])


# --------------------------------------------------------------------------- LEM


def _lem_launches(B: int, H: int, dtype: torch.dtype, device_id: int, backward: bool):
    n_sm, smem_max = _device_limits(device_id)
    return lem_launch_config(B, H, torch.empty((), dtype=dtype).element_size(), smem_max, n_sm, backward)


def _lem_fwd(u: Tensor, w: Tensor, wy: Tensor, dt: float, y0: Tensor | None, z0: Tensor | None, save_gates: bool):
    B, L, H4 = u.shape
    H = H4 // 4
    cfg = _lem_launches(B, H, u.dtype, u.device.index, backward=False)
    y = torch.empty((B, L, H), dtype=u.dtype, device=u.device)
    z = torch.empty_like(y)
    gates = torch.empty_like(u) if save_gates else None
    P, U, BB, groups, smem = cfg
    rows = groups * BB
    dev = u.device.index
    kernel = _kernel("lem.cu", f"lem_forward_{_SUFFIX[u.dtype]}", dev)
    scalar = np.float32 if u.dtype == torch.float32 else np.float64
    with _on_device(u):
        cw, cwy = _cu(w), _cu(wy)
        for r0 in range(0, B, rows):
            r1 = min(B, r0 + rows)
            nb = r1 - r0
            counters = torch.zeros(groups, dtype=torch.int64, device=u.device)
            cy, cz = _cu(y[r0:r1]), _cu(z[r0:r1])
            cy0 = _cu(y0[r0:r1]) if y0 is not None else cy
            cz0 = _cu(z0[r0:r1]) if z0 is not None else cz
            cg = _cu(gates[r0:r1]) if save_gates else cy
            _launch(
                kernel, (P, -(-nb // BB)), (LEM_THREADS,),
                (_cu(u[r0:r1]), cw, cwy, cy0, cz0, cy, cz, cg, _cu(counters), np.int64(nb), np.int64(L),
                 np.int32(H), np.int32(U), np.int32(BB), scalar(dt), np.int32(y0 is not None),
                 np.int32(z0 is not None), np.int32(save_gates)),
                smem, cooperative=True, device_id=dev,
            )
    return y, z, gates


def _lem_bwd(w, wy, y, z, y0, z0, gates, gy, gz, dt):
    B, L, H = y.shape
    P, U, BB, groups, smem = _lem_launches(B, H, y.dtype, y.device.index, backward=True)
    du = torch.empty_like(gates)
    dy0 = torch.empty((B, H), dtype=y.dtype, device=y.device)
    dz0 = torch.empty_like(dy0)
    rows = groups * BB
    dev = y.device.index
    kernel = _kernel("lem.cu", f"lem_backward_{_SUFFIX[y.dtype]}", dev)
    scalar = np.float32 if y.dtype == torch.float32 else np.float64
    with _on_device(y):
        cw, cwy = _cu(w), _cu(wy)
        for r0 in range(0, B, rows):
            r1 = min(B, r0 + rows)
            nb = r1 - r0
            counters = torch.zeros(groups, dtype=torch.int64, device=y.device)
            cyr, czr = _cu(y[r0:r1]), _cu(z[r0:r1])
            cy0 = _cu(y0[r0:r1]) if y0 is not None else cyr
            cz0 = _cu(z0[r0:r1]) if z0 is not None else czr
            _launch(
                kernel, (P, -(-nb // BB)), (LEM_THREADS,),
                (cw, cwy, cyr, czr, cy0, cz0, _cu(gates[r0:r1]), _cu(gy[r0:r1]), _cu(gz[r0:r1]), _cu(du[r0:r1]),
                 _cu(dy0[r0:r1]), _cu(dz0[r0:r1]), _cu(counters), np.int64(nb), np.int64(L), np.int32(H),
                 np.int32(U), np.int32(BB), scalar(dt), np.int32(y0 is not None), np.int32(z0 is not None)),
                smem, cooperative=True, device_id=dev,
            )
    return du, dy0, dz0


class _LEMRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, w, wy, dt, y0, z0):  # type: ignore[override]
        u, w, wy = _prep(u), _prep(w), _prep(wy)
        y0 = None if y0 is None else _prep(y0)
        z0 = None if z0 is None else _prep(z0)
        need_grad = any(ctx.needs_input_grad)
        y, z, gates = _lem_fwd(u, w, wy, dt, y0, z0, save_gates=need_grad)
        if need_grad:
            ctx.save_for_backward(w, wy, y, z, y0, z0, gates)
        ctx.dt = dt
        ctx.has_y0, ctx.has_z0 = y0 is not None, z0 is not None
        return y, z

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: Tensor, grad_z: Tensor):  # type: ignore[override]
        w, wy, y, z, y0, z0, gates = ctx.saved_tensors
        B, L, H = y.shape
        du, dy0, dz0 = _lem_bwd(w, wy, y, z, y0, z0, gates, _prep(grad_y), _prep(grad_z), ctx.dt)
        y_start = y0 if y0 is not None else torch.zeros_like(y[:, 0])
        y_prev = torch.cat([y_start.unsqueeze(1), y[:, :-1]], dim=1).reshape(B * L, H)
        du_flat = du.reshape(B * L, 4 * H)
        dw = du_flat[:, : 3 * H].T @ y_prev
        dwy = du_flat[:, 3 * H :].T @ z.reshape(B * L, H)
        return du, dw, dwy, None, (dy0 if ctx.has_y0 else None), (dz0 if ctx.has_z0 else None)


def lem_recurrence(
    u_proj: Tensor,
    weight: Tensor,
    weight_z: Tensor,
    dt: float,
    y0: Tensor | None = None,
    z0: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The LEM recurrence on the GPU; as :func:`tsrec.scan.reference.lem_recurrence_ref`.

    Parameters
    ----------
    u_proj : Tensor
        ``(B, L, 4H)`` input projections in the order (dt1, dt2, z, y); float32 or float64, CUDA.
    weight : Tensor
        ``(3H, H)`` = [W1; W2; Wz].
    weight_z : Tensor
        ``(H, H)`` = Wy.
    dt : float
        Time step.
    y0, z0 : Tensor, optional
        ``(B, H)`` initial states; zeros when None.

    Returns
    -------
    y, z : Tensor
        ``(B, L, H)`` each; differentiable in every tensor input (first order only).
        When H is too large for the weights to stay in shared memory (beyond about
        a thousand in float32 on an H100), this falls back to the torch loop.

    Raises
    ------
    RuntimeError
        When the device cannot hold all blocks of the cooperative launch at once
        (see :func:`cooperative_capacity`), before any kernel starts.
    """
    dtypes = {t.dtype for t in (u_proj, weight, weight_z, y0, z0) if t is not None}
    if len(dtypes) != 1 or u_proj.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"the CuPy LEM recurrence takes float32 or float64 tensors of one dtype, got {dtypes}")
    B, L, H4 = u_proj.shape
    H = H4 // 4
    if B * L == 0:
        empty = u_proj.new_zeros(B, L, H)
        return empty, empty.clone()
    dev = u_proj.device.index  # a CUDA tensor's device always has its index
    fits = all(_lem_launches(B, H, u_proj.dtype, dev, backward=bw) is not None for bw in (False, True))
    if not fits:
        from .reference import lem_recurrence_ref

        return lem_recurrence_ref(u_proj, weight, weight_z, dt, y0, z0)
    return _LEMRecurrence.apply(u_proj, weight, weight_z, float(dt), y0, z0)
