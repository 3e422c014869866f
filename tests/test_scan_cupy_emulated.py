"""The CUDA scan kernels run on the CPU, through a small emulation of the CUDA model.

tests/emulation/cuda_emu.h runs each thread of a block as a std::thread and
__syncthreads as a std::barrier, so the kernels of tsrec/scan/kernels/*.cu
compile with g++ and run unchanged (same indexing, tiling, shared-memory
exchanges and in-kernel barriers between blocks). The launch shapes come from
the same pure functions as on the GPU (tsrec.scan.cupy.*_launch_config), and
the autograd Functions of tsrec.scan.cupy are run with their kernel calls
pointed at the emulated kernels. What this cannot check: CuPy/DLPack/stream
plumbing, NVRTC-only issues (see test_scan_cupy.py), races that only real
hardware shows, and speed.
"""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

import tsrec.scan
from tsrec.scan import cupy as cb
from tsrec.scan import reference

ROOT = Path(__file__).resolve().parent
KERNELS = Path(tsrec.scan.__file__).resolve().parent / "kernels"
EMU_SRC = ROOT / "emulation" / "kernels_emu.cpp"

NP_SUFFIX = {np.float32: "f32", np.float64: "f64", np.complex64: "c64", np.complex128: "c128"}
TORCH_TO_NP = {torch.float32: np.float32, torch.float64: np.float64, torch.complex64: np.complex64,
               torch.complex128: np.complex128}


def _compile(out: Path) -> None:
    cmd = ["g++", "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-I", str(KERNELS), str(EMU_SRC), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    if shutil.which("g++") is None:
        pytest.skip("needs g++ for the CPU emulation of the CUDA kernels")
    tmp = tmp_path_factory.mktemp("emu")
    probe = tmp / "probe.cpp"
    probe.write_text("#include <barrier>\nint main() { std::barrier<> b(1); b.arrive_and_wait(); }\n")
    if subprocess.run(["g++", "-std=c++20", "-pthread", str(probe), "-o", str(tmp / "probe")], capture_output=True).returncode:
        pytest.skip("g++ lacks C++20 <barrier>")
    out = tmp / "libemu.so"
    try:
        _compile(out)
    except subprocess.CalledProcessError as err:  # a kernel that does not compile is a failure, not a skip
        pytest.fail(f"emulation build failed:\n{err.stderr[-4000:]}")
    return ctypes.CDLL(str(out))


def _arg(x):
    if isinstance(x, np.ndarray):
        assert x.flags.c_contiguous
        return ctypes.c_void_p(x.ctypes.data)
    if isinstance(x, np.int32):
        return ctypes.c_int(int(x))
    if isinstance(x, np.int64):
        return ctypes.c_longlong(int(x))
    if isinstance(x, np.float32):
        return ctypes.c_float(float(x))
    if isinstance(x, np.float64):
        return ctypes.c_double(float(x))
    raise TypeError(type(x))


def _launch(lib, name, grid, block, args, smem=0):
    grid = tuple(grid) + (1,) * (2 - len(grid))
    block = tuple(block) + (1,) * (2 - len(block))
    fn = getattr(lib, "emu_" + name)
    fn.restype = None
    fn(*(ctypes.c_uint(v) for v in grid + block), ctypes.c_size_t(smem), *(_arg(x) for x in args))


# --------------------------------------------------------------------------- emulated host code
# Each mirrors the launch sequence of its counterpart in tsrec/scan/cupy.py, on numpy arrays.


def emu_linear_scan(lib, a, b, h0=None, reverse=False, n_sm=4, config=None):
    B, L, D = b.shape
    sfx = NP_SUFFIX[b.dtype.type]
    kind = "tv" if a.ndim == 3 else "ti"
    chunk = 4 if b.dtype == np.complex128 else 8
    blocks_x, ny, n_seg, seg_len = config or cb.linear_launch_config(B, L, D, chunk, n_sm)
    assert n_seg == -(-L // seg_len) and ny <= cb.NY_MAX
    out = np.full_like(b, np.nan)
    sizes = (np.int64(B), np.int64(L), np.int64(D), np.int64(seg_len))
    carry, has = (b, 0) if h0 is None else (h0, 1)
    if n_seg > 1:
        ncol = B * D
        sa, sh, cin = (np.full((n_seg, ncol), np.nan, dtype=b.dtype) for _ in range(3))
        _launch(lib, f"linear_scan_summary_{sfx}_{kind}", (blocks_x, n_seg), (32, ny), (a, b, sa, sh, *sizes, np.int32(reverse)))
        _launch(lib, f"linear_scan_carry_{sfx}", (-(-ncol // 256),), (256,),
                (sa, sh, carry, cin, np.int64(ncol), np.int32(n_seg), np.int32(has)))
        carry, has = cin, 1
    _launch(lib, f"linear_scan_{sfx}_{kind}", (blocks_x, n_seg), (32, ny), (a, b, carry, out, *sizes, np.int32(has), np.int32(reverse)))
    return out


def emu_aaren_fwd(lib, s, v, l0, o0, write_l):
    B, L, K, E = v.shape
    o = np.full_like(v, np.nan)
    l_all = np.full_like(s, np.nan)
    l_last = np.full((B, K), np.nan, dtype=s.dtype)
    ny = max(1, min(cb.NY_MAX, -(-L // cb.AAREN_CHUNK)))
    has = l0 is not None
    _launch(lib, f"aaren_scan_{NP_SUFFIX[s.dtype.type]}", (-(-(B * K * E) // 32),), (32, ny),
            (s, v, l0 if has else s, o0 if has else v, o, l_all, l_last, np.int64(B), np.int64(L), np.int64(K),
             np.int64(E), np.int32(has), np.int32(write_l)))
    return o, l_all, l_last


def _np(t):
    return None if t is None else np.ascontiguousarray(t.detach().resolve_conj().numpy())


def _lem_cfg(B, H, itemsize, backward, smem_max, n_sm):
    cfg = cb.lem_launch_config(B, H, itemsize, smem_max, n_sm, backward)
    assert cfg is not None
    return cfg


def emu_lem_fwd(lib, u, w, wy, dt, y0, z0, save_gates, smem_max, n_sm, threads):
    u, w, wy, y0, z0 = map(_np, (u, w, wy, y0, z0))
    B, L, H4 = u.shape
    H = H4 // 4
    P, U, BB, groups, smem = _lem_cfg(B, H, u.itemsize, False, smem_max, n_sm)
    y = np.full((B, L, H), np.nan, dtype=u.dtype)
    z = np.full_like(y, np.nan)
    gates = np.full_like(u, np.nan)
    rows = groups * BB
    for r0 in range(0, B, rows):
        r1 = min(B, r0 + rows)
        nb = r1 - r0
        ys, zs = y[r0:r1], z[r0:r1]
        args = (u[r0:r1], w, wy, y0[r0:r1] if y0 is not None else ys, z0[r0:r1] if z0 is not None else zs, ys, zs,
                gates[r0:r1], np.zeros(groups, dtype=np.uint64), np.int64(nb), np.int64(L), np.int32(H), np.int32(U),
                np.int32(BB), u.dtype.type(dt), np.int32(y0 is not None), np.int32(z0 is not None), np.int32(save_gates))
        _launch(lib, f"lem_forward_{NP_SUFFIX[u.dtype.type]}", (P, -(-nb // BB)), (threads,), args, smem)
    t = torch.from_numpy
    return t(y), t(z), (t(gates) if save_gates else None)


def emu_lem_bwd(lib, w, wy, y, z, y0, z0, gates, gy, gz, dt, smem_max, n_sm, threads):
    w, wy, y, z, y0, z0, gates, gy, gz = map(_np, (w, wy, y, z, y0, z0, gates, gy, gz))
    B, L, H = y.shape
    P, U, BB, groups, smem = _lem_cfg(B, H, y.itemsize, True, smem_max, n_sm)
    du = np.full_like(gates, np.nan)
    dy0 = np.full((B, H), np.nan, dtype=y.dtype)
    dz0 = np.full_like(dy0, np.nan)
    rows = groups * BB
    for r0 in range(0, B, rows):
        r1 = min(B, r0 + rows)
        nb = r1 - r0
        ys, zs = y[r0:r1], z[r0:r1]
        args = (w, wy, ys, zs, y0[r0:r1] if y0 is not None else ys, z0[r0:r1] if z0 is not None else zs, gates[r0:r1],
                gy[r0:r1], gz[r0:r1], du[r0:r1], dy0[r0:r1], dz0[r0:r1], np.zeros(groups, dtype=np.uint64),
                np.int64(nb), np.int64(L), np.int32(H), np.int32(U), np.int32(BB), y.dtype.type(dt),
                np.int32(y0 is not None), np.int32(z0 is not None))
        _launch(lib, f"lem_backward_{NP_SUFFIX[y.dtype.type]}", (P, -(-nb // BB)), (threads,), args, smem)
    t = torch.from_numpy
    return t(du), t(dy0), t(dz0)


# --------------------------------------------------------------------------- helpers


def rel_err(x, ref) -> float:
    x = torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x
    x = x.to(torch.complex128 if x.is_complex() else torch.float64)
    ref = ref.to(x.dtype)
    assert torch.isfinite(torch.view_as_real(x) if x.is_complex() else x).all(), "non-finite output"
    return float((x - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


def rand(*shape, dtype, gen):
    if dtype.is_complex:
        real = torch.float32 if dtype == torch.complex64 else torch.float64
        return torch.complex(torch.randn(*shape, generator=gen, dtype=real), torch.randn(*shape, generator=gen, dtype=real))
    return torch.randn(*shape, generator=gen, dtype=dtype)


def decay(shape, dtype, gen):
    """|a| in (0.5, 1): a stable recurrence with long memory."""
    mag = 0.5 + 0.5 * torch.rand(*shape, generator=gen, dtype=torch.float64)
    if dtype.is_complex:
        phase = 2 * math.pi * torch.rand(*shape, generator=gen, dtype=torch.float64)
        return torch.polar(mag, phase).to(dtype)
    sign = torch.where(torch.rand(*shape, generator=gen) < 0.2, -1.0, 1.0).double()
    return (mag * sign).to(dtype)


TOL = {torch.float32: 2e-5, torch.complex64: 2e-5, torch.float64: 1e-12, torch.complex128: 1e-12}


# --------------------------------------------------------------------------- linear scan


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64, torch.complex128])
@pytest.mark.parametrize("tv", [True, False])
def test_linear_scan_matches_reference(lib, dtype, tv):
    gen = torch.Generator().manual_seed(hash((str(dtype), tv)) % 2**31)
    for (B, L, D), reverse, with_h0 in [((2, 1, 3), False, True), ((3, 37, 5), True, False), ((2, 203, 33), False, True),
                                        ((1, 150, 40), True, True)]:
        b = rand(B, L, D, dtype=dtype, gen=gen)
        a = decay((B, L, D) if tv else (D,), dtype, gen)
        h0 = rand(B, D, dtype=dtype, gen=gen) if with_h0 else None
        wide = torch.complex128 if dtype.is_complex else torch.float64
        ref64 = reference.linear_scan_ref(a.to(wide), b.to(wide), None if h0 is None else h0.to(wide), reverse=reverse)
        out = emu_linear_scan(lib, _np(a), _np(b), _np(h0), reverse)
        assert rel_err(out, ref64) < TOL[dtype], (B, L, D, reverse, with_h0)


@pytest.mark.parametrize("config_of", ["segments", "uneven", "one_thread_row"])
def test_linear_scan_segments_and_tiles(lib, config_of):
    """Launch shapes the heuristic rarely picks: several time segments, ragged tiles."""
    gen = torch.Generator().manual_seed(7)
    B, L, D = 2, 230, 20
    b = rand(B, L, D, dtype=torch.float64, gen=gen)
    a = decay((B, L, D), torch.float64, gen)
    h0 = rand(B, D, dtype=torch.float64, gen=gen)
    blocks_x = -(-(B * D) // 32)
    seg_len = {"segments": 40, "uneven": 77, "one_thread_row": 230}[config_of]
    ny = {"segments": 5, "uneven": 3, "one_thread_row": 1}[config_of]
    config = (blocks_x, ny, -(-L // seg_len), seg_len)
    for reverse in (False, True):
        ref = reference.linear_scan_ref(a, b, h0, reverse=reverse)
        out = emu_linear_scan(lib, _np(a), _np(b), _np(h0), reverse, config=config)
        assert rel_err(out, ref) < 1e-12
        out = emu_linear_scan(lib, _np(a[0, 0]), _np(b), None, reverse, config=config)  # time-invariant
        assert rel_err(out, reference.linear_scan_ref(a[0, 0], b, None, reverse=reverse)) < 1e-12


def test_linear_scan_heuristic_segments(lib):
    """Few columns, long sequence: the default launch cuts time into segments."""
    B, L, D = 1, 1100, 9
    blocks_x, ny, n_seg, seg_len = cb.linear_launch_config(B, L, D, 8, n_sm=4)
    assert n_seg > 1
    gen = torch.Generator().manual_seed(3)
    b = rand(B, L, D, dtype=torch.complex128, gen=gen)
    a = decay((D,), torch.complex128, gen)
    h0 = rand(B, D, dtype=torch.complex128, gen=gen)
    out = emu_linear_scan(lib, _np(a), _np(b), _np(h0), False, n_sm=4)
    assert rel_err(out, reference.linear_scan_ref(a, b, h0)) < 1e-12


def test_linear_scan_backward_with_emulated_kernel(lib, monkeypatch):
    """LinearScan (reverse-scan backward) on top of the emulated kernel: gradients match autograd."""
    from tsrec.scan.linear import LinearScan

    def fwd(a, b, h0=None, reverse=False):
        return torch.from_numpy(emu_linear_scan(lib, _np(a), _np(b), _np(h0), reverse))

    gen = torch.Generator().manual_seed(11)
    for tv in (True, False):
        b = rand(2, 19, 3, dtype=torch.complex128, gen=gen).requires_grad_()
        a = decay((2, 19, 3) if tv else (3,), torch.complex128, gen).requires_grad_()
        h0 = rand(2, 3, dtype=torch.complex128, gen=gen).requires_grad_()
        w = rand(2, 19, 3, dtype=torch.complex128, gen=gen)
        loss = (LinearScan.apply(a, b, h0, fwd) * w).real.sum()
        got = torch.autograd.grad(loss, (a, b, h0))
        loss_ref = (reference.linear_scan_ref(a, b, h0) * w).real.sum()
        want = torch.autograd.grad(loss_ref, (a, b, h0))
        for g, r in zip(got, want):
            assert rel_err(g, r) < 1e-12


# --------------------------------------------------------------------------- Aaren


def _aaren_patch(lib, monkeypatch):
    def fwd(s, v, l0, o0, write_l):
        o, l_all, l_last = emu_aaren_fwd(lib, _np(s), _np(v), _np(l0), _np(o0), write_l)
        return torch.from_numpy(o), torch.from_numpy(l_all), torch.from_numpy(l_last)

    def scan(a, b, h0=None, reverse=False):
        return torch.from_numpy(emu_linear_scan(lib, _np(a), _np(b), _np(h0), reverse))

    monkeypatch.setattr(cb, "_aaren_fwd", fwd)
    monkeypatch.setattr(cb, "linear_scan_fwd", scan)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_aaren_forward_matches_reference(lib, dtype):
    gen = torch.Generator().manual_seed(5)
    for (B, L, K, E), with_state in [((2, 1, 2, 3), False), ((2, 45, 3, 4), True), ((1, 200, 2, 17), False)]:
        s = 3 * torch.randn(B, L, K, generator=gen, dtype=torch.float64)
        v = torch.randn(B, L, K, E, generator=gen, dtype=torch.float64)
        state = (torch.randn(B, K, generator=gen, dtype=torch.float64), torch.randn(B, K, E, generator=gen, dtype=torch.float64)) if with_state else None
        ref_o, (ref_l, ref_olast) = tsrec.scan.aaren_scan(s, v, state, backend="reference")
        o, l_all, l_last = emu_aaren_fwd(lib, _np(s.to(dtype)), _np(v.to(dtype)), *(
            (_np(state[0].to(dtype)), _np(state[1].to(dtype))) if with_state else (None, None)), True)
        tol = 1e-5 if dtype == torch.float32 else 1e-12
        assert rel_err(o, ref_o) < tol
        assert rel_err(l_last, ref_l) < tol
        # l_t is the running log-sum-exp (with the carried l0)
        s_ext = torch.cat([state[0].unsqueeze(1), s], 1) if with_state else s
        ref_l_all = torch.logcumsumexp(s_ext, 1)[:, (1 if with_state else 0):]
        assert rel_err(l_all, ref_l_all) < tol


def test_aaren_gradients_with_emulated_kernels(lib, monkeypatch):
    _aaren_patch(lib, monkeypatch)
    gen = torch.Generator().manual_seed(9)
    B, L, K, E = 2, 23, 2, 3
    for with_state in (False, True):
        s = (2 * torch.randn(B, L, K, generator=gen, dtype=torch.float64)).requires_grad_()
        v = torch.randn(B, L, K, E, generator=gen, dtype=torch.float64).requires_grad_()
        leaves = [s, v]
        state = None
        if with_state:
            state = tuple(x.requires_grad_() for x in (torch.randn(B, K, generator=gen, dtype=torch.float64),
                                                       torch.randn(B, K, E, generator=gen, dtype=torch.float64)))
            leaves += list(state)
        w_o = torch.randn(B, L, K, E, generator=gen, dtype=torch.float64)
        w_l = torch.randn(B, K, generator=gen, dtype=torch.float64)
        o, (l, ol) = cb.aaren_scan(s, v, state)
        got = torch.autograd.grad((o * w_o).sum() + (l * w_l).sum() + ol.sum(), leaves)
        o_r, (l_r, ol_r) = tsrec.scan.aaren_scan(s, v, state, backend="reference")
        want = torch.autograd.grad((o_r * w_o).sum() + (l_r * w_l).sum() + ol_r.sum(), leaves)
        for g, r in zip(got, want):
            assert rel_err(g, r) < 1e-10


# --------------------------------------------------------------------------- LEM


def lem_inputs(B, L, H, dtype, gen, with_state=True):
    bound = 1 / math.sqrt(H)
    u = torch.randn(B, L, 4 * H, generator=gen, dtype=torch.float64)
    w = (2 * torch.rand(3 * H, H, generator=gen, dtype=torch.float64) - 1) * bound * 2
    wy = (2 * torch.rand(H, H, generator=gen, dtype=torch.float64) - 1) * bound * 2
    y0 = torch.randn(B, H, generator=gen, dtype=torch.float64) if with_state else None
    z0 = torch.randn(B, H, generator=gen, dtype=torch.float64) if with_state else None
    return [None if x is None else x.to(dtype) for x in (u, w, wy, y0, z0)]


# (smem_max, n_sm, threads) of a pretend GPU: from one block holding all weights to up to 7
# blocks sharing them, several batch groups, several launches, fewer threads than tasks
LEM_SETUPS = [(1 << 20, 8, 64), (2000, 8, 32), (1200, 16, 256), (900, 16, 32), (1000, 4, 32)]
LEM_FWD_CASES = [(3, 9, 7, torch.float64, True), (5, 4, 12, torch.float32, False), (1, 1, 3, torch.float64, True)]
LEM_GRAD_CASES = [(3, 6, 7, True), (5, 5, 6, False)]


def test_lem_setups_cover_the_launch_shapes():
    """The setups do exercise split weights (P > 1), several groups and several launches."""
    seen = set()
    for smem_max, n_sm, _ in LEM_SETUPS:
        shapes = [(B, H, 4 if dt == torch.float32 else 8, False) for B, _, H, dt, _ in LEM_FWD_CASES]
        shapes += [(B, H, 8, bw) for B, _, H, _ in LEM_GRAD_CASES for bw in (False, True)]
        for B, H, itemsize, backward in shapes:
            cfg = cb.lem_launch_config(B, H, itemsize, smem_max, n_sm, backward)
            assert cfg is not None
            P, U, BB, groups, smem = cfg
            assert smem <= smem_max and P * groups <= n_sm and P * U >= H > (P - 1) * U
            seen |= {("split", P > 1), ("groups", groups > 1), ("launches", -(-B // BB) > groups), ("ragged", P * U > H)}
    assert {("split", True), ("groups", True), ("launches", True), ("ragged", True)} <= seen


@pytest.mark.parametrize("setup", LEM_SETUPS)
def test_lem_forward_matches_reference(lib, setup):
    smem_max, n_sm, threads = setup
    gen = torch.Generator().manual_seed(13)
    for B, L, H, dtype, with_state in LEM_FWD_CASES:
        u, w, wy, y0, z0 = lem_inputs(B, L, H, dtype, gen, with_state)
        y, z, gates = emu_lem_fwd(lib, u, w, wy, 0.3, y0, z0, True, smem_max, n_sm, threads)
        d = lambda x: None if x is None else x.double()  # noqa: E731
        y_r, z_r = reference.lem_recurrence_ref(d(u), d(w), d(wy), 0.3, d(y0), d(z0))
        tol = 2e-5 if dtype == torch.float32 else 1e-12
        assert rel_err(y, y_r) < tol and rel_err(z, z_r) < tol
        assert torch.isfinite(gates).all()


@pytest.mark.parametrize("setup", LEM_SETUPS)
def test_lem_gradients_with_emulated_kernels(lib, monkeypatch, setup):
    smem_max, n_sm, threads = setup
    monkeypatch.setattr(cb, "_lem_fwd", lambda u, w, wy, dt, y0, z0, save_gates: emu_lem_fwd(
        lib, u, w, wy, dt, y0, z0, save_gates, smem_max, n_sm, threads))
    monkeypatch.setattr(cb, "_lem_bwd", lambda w, wy, y, z, y0, z0, gates, gy, gz, dt: emu_lem_bwd(
        lib, w, wy, y, z, y0, z0, gates, gy, gz, dt, smem_max, n_sm, threads))
    gen = torch.Generator().manual_seed(17)
    for B, L, H, with_state in LEM_GRAD_CASES:
        leaves = [x.requires_grad_() for x in lem_inputs(B, L, H, torch.float64, gen, with_state) if x is not None]
        u, w, wy = leaves[:3]
        y0, z0 = (leaves[3], leaves[4]) if with_state else (None, None)
        wy_out = torch.randn(B, L, H, generator=gen, dtype=torch.float64)
        wz_out = torch.randn(B, L, H, generator=gen, dtype=torch.float64)
        y, z = cb._LEMRecurrence.apply(u, w, wy, 0.4, y0, z0)
        got = torch.autograd.grad((y * wy_out).sum() + (z * wz_out).sum(), leaves)
        y_r, z_r = reference.lem_recurrence_ref(u, w, wy, 0.4, y0, z0)
        want = torch.autograd.grad((y_r * wy_out).sum() + (z_r * wz_out).sum(), leaves)
        for g, r in zip(got, want):
            assert rel_err(g, r) < 1e-11
