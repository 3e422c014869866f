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

import contextlib
import ctypes
import math
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import tsrec.scan
from tsrec.scan import cupy as cb
from tsrec.scan import reference

ROOT = Path(__file__).resolve().parent
KERNELS = Path(tsrec.scan.__file__).resolve().parent / "kernels"
EMU_SRC = ROOT / "emulation" / "kernels_emu.cpp"



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
    if subprocess.run(
        ["g++", "-std=c++20", "-pthread", str(probe), "-o", str(tmp / "probe")], capture_output=True
    ).returncode:
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


# --------------------------------------------------------------------------- a fake CuPy
# tsrec.scan.cupy runs unchanged (its launch shapes, buffers, argument lists, autograd
# Functions) on CPU tensors; only the CuPy calls are replaced: from_dlpack gives numpy views
# (zero-copy, as on the GPU), and a kernel call runs the emulated kernel of that name.


class FakeKernel:
    def __init__(self, lib, name, cooperative, launches):
        self.lib, self.name, self.enable_cooperative_groups, self.launches = lib, name, cooperative, launches
        self.max_dynamic_shared_size_bytes = 48 * 1024
        self.kernel = SimpleNamespace(ptr=name)  # the CUfunction handle, for the occupancy query

    def __call__(self, grid, block, args, shared_mem=0):
        assert shared_mem <= max(48 * 1024, self.max_dynamic_shared_size_bytes)
        self.launches.append((self.name, tuple(grid), self.enable_cooperative_groups))
        _launch(self.lib, self.name, grid, block, args, shared_mem)


class FakeCupy:
    def __init__(self, lib, n_sm, smem_max, blocks_per_sm=1):
        self.lib = lib
        self.launches = []  # (kernel name, grid, cooperative) of every launch
        self.occupancy_queries = []
        attrs = {1: n_sm, 2: smem_max}
        runtime = SimpleNamespace(cudaDevAttrMultiProcessorCount=1, cudaDevAttrMaxSharedMemoryPerBlockOptin=2,
                                  deviceGetAttribute=lambda attr, dev: attrs[attr])

        def occupancy(func, threads, smem):
            self.occupancy_queries.append((func, threads, smem))
            return blocks_per_sm

        driver = SimpleNamespace(occupancyMaxActiveBlocksPerMultiprocessor=occupancy)
        self.cuda = SimpleNamespace(
            runtime=runtime, driver=driver, Device=lambda device_id=None: contextlib.nullcontext()
        )

    def RawModule(self, code, options=(), enable_cooperative_groups=False):  # noqa: N802 (CuPy's name)
        lib, launches = self.lib, self.launches
        return SimpleNamespace(get_function=lambda name: FakeKernel(lib, name, enable_cooperative_groups, launches))

    @staticmethod
    def from_dlpack(t):
        assert not t.requires_grad and not t.is_conj() and t.is_contiguous()
        assert t.data_ptr() % t.element_size() == 0, "a kernel argument misaligned for its element loads"
        return np.from_dlpack(t)


@pytest.fixture
def fake_gpu(lib, monkeypatch):
    """Point tsrec.scan.cupy at the emulated kernels; returns a setter for the pretend GPU."""

    def use(n_sm=4, smem_max=48 * 1024, lem_threads=64, blocks_per_sm=1):
        for f in (cb._module, cb._kernel, cb._device_limits):
            f.cache_clear()
        fake = FakeCupy(lib, n_sm, smem_max, blocks_per_sm)
        monkeypatch.setattr(cb, "_cp", lambda: fake)
        monkeypatch.setattr(cb, "LEM_THREADS", lem_threads)
        return fake

    monkeypatch.setattr(cb, "_on_device", lambda t: contextlib.nullcontext())
    # fresh buffers hold NaN, so an element a kernel forgets to write cannot pass
    real_empty, real_empty_like = torch.empty, torch.empty_like

    def nan_filled(t):
        return t.fill_(math.nan) if (t.is_floating_point() or t.is_complex()) else t

    monkeypatch.setattr(torch, "empty", lambda *a, **k: nan_filled(real_empty(*a, **k)))
    monkeypatch.setattr(torch, "empty_like", lambda *a, **k: nan_filled(real_empty_like(*a, **k)))
    use()
    yield use
    for f in (cb._module, cb._kernel, cb._device_limits):
        f.cache_clear()


# --------------------------------------------------------------------------- helpers


def rel_err(x, ref) -> float:
    x = torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x
    x = x.detach().to(torch.complex128 if x.is_complex() else torch.float64)
    ref = ref.detach().to(x.dtype)
    assert torch.isfinite(torch.view_as_real(x) if x.is_complex() else x).all(), "non-finite output"
    return float((x - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


def rand(*shape, dtype, gen):
    if dtype.is_complex:
        real = torch.float32 if dtype == torch.complex64 else torch.float64
        return torch.complex(
            torch.randn(*shape, generator=gen, dtype=real), torch.randn(*shape, generator=gen, dtype=real)
        )
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
@pytest.mark.parametrize("tv", [True, False], ids=["time_varying", "time_invariant"])
def test_linear_scan_matches_reference(fake_gpu, dtype, tv):
    gen = torch.Generator().manual_seed(1)
    wide = torch.complex128 if dtype.is_complex else torch.float64
    cases = [
        ((2, 1, 3), False, True), ((3, 37, 5), True, False), ((2, 203, 33), False, True), ((1, 150, 40), True, True)
    ]
    for (B, L, D), reverse, with_h0 in cases:
        b = rand(B, L, D, dtype=dtype, gen=gen)
        a = decay((B, L, D) if tv else (D,), dtype, gen)
        h0 = rand(B, D, dtype=dtype, gen=gen) if with_h0 else None
        ref = reference.linear_scan_ref(a.to(wide), b.to(wide), None if h0 is None else h0.to(wide), reverse=reverse)
        out = cb.linear_scan_fwd(a, b, h0, reverse=reverse)
        assert out.dtype == dtype and rel_err(out, ref) < TOL[dtype], (B, L, D, reverse, with_h0)


@pytest.mark.parametrize(
    "config", [(5, 40), (3, 77), (1, 230), (16, 230)], ids=["segments", "ragged", "one_row", "full"]
)
def test_linear_scan_launch_shapes(fake_gpu, monkeypatch, config):
    """Launch shapes the heuristic rarely picks: several time segments, ragged tiles, ny = 1."""
    ny, seg_len = config
    B, L, D = 2, 230, 20
    monkeypatch.setattr(
        cb, "linear_launch_config", lambda B, L, D, chunk, n_sm: (-(-(B * D) // 32), ny, -(-L // seg_len), seg_len)
    )
    gen = torch.Generator().manual_seed(7)
    b = rand(B, L, D, dtype=torch.float64, gen=gen)
    a = decay((B, L, D), torch.float64, gen)
    h0 = rand(B, D, dtype=torch.float64, gen=gen)
    for reverse in (False, True):
        assert rel_err(cb.linear_scan_fwd(a, b, h0, reverse), reference.linear_scan_ref(a, b, h0, reverse)) < 1e-12
        assert rel_err(
            cb.linear_scan_fwd(a[0, 0], b, None, reverse), reference.linear_scan_ref(a[0, 0], b, None, reverse)
        ) < 1e-12


def test_linear_scan_heuristic_segments(fake_gpu):
    """Few columns, a long sequence: the default launch cuts time into segments."""
    B, L, D = 1, 1100, 9
    assert cb.linear_launch_config(B, L, D, 4, n_sm=4)[2] > 1
    gen = torch.Generator().manual_seed(3)
    b = rand(B, L, D, dtype=torch.complex128, gen=gen)
    a = decay((D,), torch.complex128, gen)
    h0 = rand(B, D, dtype=torch.complex128, gen=gen)
    assert rel_err(cb.linear_scan_fwd(a, b, h0), reference.linear_scan_ref(a, b, h0)) < 1e-12


def misaligned(x: torch.Tensor) -> torch.Tensor:
    """A copy of x in foreign memory whose address is 8 bytes off a multiple of 16."""
    nbytes = x.numel() * x.element_size()
    raw = np.zeros(nbytes + 16, dtype=np.uint8)
    start = (8 - raw.ctypes.data) % 16
    raw[start : start + nbytes] = x.contiguous().view(torch.uint8).reshape(-1).numpy()  # bytes: no element loads
    t = torch.frombuffer(raw, dtype=x.dtype, count=x.numel(), offset=start).view(x.shape)
    assert t.data_ptr() % 16 == 8 and t.is_contiguous()
    return t


def test_aligned_copies_misaligned_complex128():
    """Host side: a contiguous complex128 tensor 8 bytes off is copied (16-byte loads), an aligned one is not."""
    x = torch.randn(3, 5, 4, dtype=torch.complex128)
    t = misaligned(x)
    fixed = cb.aligned(t)
    assert fixed.data_ptr() % 16 == 0 and torch.equal(fixed, x)
    assert cb._prep(t).data_ptr() % 16 == 0
    assert cb.aligned(x) is x
    assert cb.aligned(x[:, 1:]).data_ptr() == x[:, 1:].data_ptr()  # offset by whole elements: no copy
    f = torch.frombuffer(bytearray(8 * 5 + 12), dtype=torch.float64, count=5, offset=4)
    if f.data_ptr() % 8:  # float64 4 bytes off (when the bytearray itself is 8-aligned, as usual)
        assert cb.aligned(f).data_ptr() % 8 == 0


def test_linear_scan_misaligned_complex128_input(fake_gpu):
    """Misaligned complex128 a, b, h0 reach the kernel aligned (FakeCupy.from_dlpack checks) and scan correctly."""
    gen = torch.Generator().manual_seed(23)
    b = rand(2, 40, 5, dtype=torch.complex128, gen=gen)
    h0 = rand(2, 5, dtype=torch.complex128, gen=gen)
    for a in (decay((2, 40, 5), torch.complex128, gen), decay((5,), torch.complex128, gen)):
        out = cb.linear_scan_fwd(misaligned(a), misaligned(b), misaligned(h0))
        assert rel_err(out, reference.linear_scan_ref(a, b, h0)) < 1e-12


def test_linear_scan_gradients(fake_gpu):
    """LinearScan (reverse-scan backward, conj views) on the emulated kernel, against autograd."""
    from tsrec.scan.linear import LinearScan

    gen = torch.Generator().manual_seed(11)
    for tv in (True, False):
        b = rand(2, 19, 3, dtype=torch.complex128, gen=gen).requires_grad_()
        a = decay((2, 19, 3) if tv else (3,), torch.complex128, gen).requires_grad_()
        h0 = rand(2, 3, dtype=torch.complex128, gen=gen).requires_grad_()
        w = rand(2, 19, 3, dtype=torch.complex128, gen=gen)
        got = torch.autograd.grad((LinearScan.apply(a, b, h0, cb.linear_scan_fwd) * w).real.sum(), (a, b, h0))
        want = torch.autograd.grad((reference.linear_scan_ref(a, b, h0) * w).real.sum(), (a, b, h0))
        for g, r in zip(got, want, strict=True):
            assert rel_err(g, r) < 1e-12


# --------------------------------------------------------------------------- Aaren


def aaren_inputs(B, L, K, E, dtype, with_state, gen):
    s = 3 * torch.randn(B, L, K, generator=gen, dtype=torch.float64)
    v = torch.randn(B, L, K, E, generator=gen, dtype=torch.float64)
    state = None
    if with_state:
        state = (
            torch.randn(B, K, generator=gen, dtype=torch.float64),
            torch.randn(B, K, E, generator=gen, dtype=torch.float64),
        )
        state = tuple(x.to(dtype) for x in state)
    return s.to(dtype), v.to(dtype), state


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_aaren_forward_matches_reference(fake_gpu, dtype):
    gen = torch.Generator().manual_seed(5)
    for shape, with_state in [((2, 1, 2, 3), False), ((2, 45, 3, 4), True), ((1, 200, 2, 17), False)]:
        s, v, state = aaren_inputs(*shape, dtype, with_state, gen)
        d = lambda x: x.double()  # noqa: E731
        o_r, (l_r, ol_r) = tsrec.scan.aaren_scan(
            d(s), d(v), None if state is None else tuple(map(d, state)), backend="reference"
        )
        o, (lse, ol) = cb.aaren_scan(s, v, state)
        tol = 1e-5 if dtype == torch.float32 else 1e-12
        assert rel_err(o, o_r) < tol and rel_err(lse, l_r) < tol and rel_err(ol, ol_r) < tol
        if not with_state:
            assert rel_err(o, reference.aaren_attention_ref(d(s), d(v))) < tol


def test_aaren_gradients(fake_gpu):
    gen = torch.Generator().manual_seed(9)
    for with_state in (False, True):
        s, v, state = aaren_inputs(2, 23, 2, 3, torch.float64, with_state, gen)
        leaves = [s.requires_grad_(), v.requires_grad_()] + ([x.requires_grad_() for x in state] if with_state else [])
        w_o, w_l = (
            torch.randn(v.shape, generator=gen, dtype=torch.float64),
            torch.randn(2, 2, generator=gen, dtype=torch.float64),
        )
        o, (lse, ol) = cb.aaren_scan(s, v, state)
        got = torch.autograd.grad((o * w_o).sum() + (lse * w_l).sum() + ol.sum(), leaves)
        o_r, (l_r, ol_r) = tsrec.scan.aaren_scan(s, v, state, backend="reference")
        want = torch.autograd.grad((o_r * w_o).sum() + (l_r * w_l).sum() + ol_r.sum(), leaves)
        for g, r in zip(got, want, strict=True):
            assert rel_err(g, r) < 1e-10


@pytest.mark.parametrize("with_state", [False, True], ids=["no_state", "state"])
def test_aaren_neg_inf_scores(fake_gpu, with_state):
    """-inf scores (masked, padded; all of a head) give weight 0 in the kernel and its backward: no NaN,
    o = 0 where every score so far is -inf, values and gradients as the reference's."""
    gen = torch.Generator().manual_seed(21)
    s, v, state = aaren_inputs(2, 37, 2, 3, torch.float64, with_state, gen)
    s[0, :20, 0] = -math.inf  # past the first sub-chunks of a tile
    s[1, :, 1] = -math.inf
    s[0, 25, 1] = -math.inf
    if with_state:
        state[0][1, 1] = -math.inf  # an empty state
        state[1][1, 1] = 0
    leaves = [s.requires_grad_(), v.requires_grad_()] + ([x.requires_grad_() for x in state] if with_state else [])
    o, (lse, ol) = cb.aaren_scan(s, v, state)
    o_r, (l_r, ol_r) = tsrec.scan.aaren_scan(s, v, state, backend="reference")
    assert torch.equal(torch.isneginf(lse), torch.isneginf(l_r)) and torch.isneginf(lse[1, 1])
    assert rel_err(o, o_r) < 1e-12 and rel_err(ol, ol_r) < 1e-12
    assert rel_err(lse[~torch.isneginf(lse)], l_r[~torch.isneginf(l_r)]) < 1e-12
    assert (o[1, :, 1] == 0).all() and (o[0, :20, 0] == 0).all() == (not with_state)
    w_o = torch.randn(v.shape, generator=gen, dtype=torch.float64)
    got = torch.autograd.grad((o * w_o).sum() + ol.sum() + lse.masked_fill(torch.isneginf(lse), 0).sum(), leaves)
    want = torch.autograd.grad((o_r * w_o).sum() + ol_r.sum() + l_r.masked_fill(torch.isneginf(l_r), 0).sum(), leaves)
    for g, r in zip(got, want, strict=True):
        assert rel_err(g, r) < 1e-10
    assert (got[0][torch.isneginf(s)] == 0).all()


# --------------------------------------------------------------------------- LEM


def lem_inputs(B, L, H, dtype, gen, with_state=True):
    bound = 2 / math.sqrt(H)
    u = torch.randn(B, L, 4 * H, generator=gen, dtype=torch.float64)
    w = (2 * torch.rand(3 * H, H, generator=gen, dtype=torch.float64) - 1) * bound
    wy = (2 * torch.rand(H, H, generator=gen, dtype=torch.float64) - 1) * bound
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
            seen |= {
                ("split", P > 1), ("groups", groups > 1), ("launches", -(-B // BB) > groups), ("ragged", P * U > H)
            }
    assert {("split", True), ("groups", True), ("launches", True), ("ragged", True)} <= seen


@pytest.mark.parametrize("setup", LEM_SETUPS)
def test_lem_forward_matches_reference(fake_gpu, setup):
    smem_max, n_sm, threads = setup
    fake_gpu(n_sm=n_sm, smem_max=smem_max, lem_threads=threads)
    gen = torch.Generator().manual_seed(13)
    for B, L, H, dtype, with_state in LEM_FWD_CASES:
        u, w, wy, y0, z0 = lem_inputs(B, L, H, dtype, gen, with_state)
        y, z = cb.lem_recurrence(u, w, wy, 0.3, y0, z0)
        d = lambda x: None if x is None else x.double()  # noqa: E731
        y_r, z_r = reference.lem_recurrence_ref(d(u), d(w), d(wy), 0.3, d(y0), d(z0))
        tol = 2e-5 if dtype == torch.float32 else 1e-12
        assert rel_err(y, y_r) < tol and rel_err(z, z_r) < tol


@pytest.mark.parametrize("setup", LEM_SETUPS)
def test_lem_gradients(fake_gpu, setup):
    smem_max, n_sm, threads = setup
    fake_gpu(n_sm=n_sm, smem_max=smem_max, lem_threads=threads)
    gen = torch.Generator().manual_seed(17)
    for B, L, H, with_state in LEM_GRAD_CASES:
        leaves = [x.requires_grad_() for x in lem_inputs(B, L, H, torch.float64, gen, with_state) if x is not None]
        u, w, wy = leaves[:3]
        y0, z0 = (leaves[3], leaves[4]) if with_state else (None, None)
        gy = torch.randn(B, L, H, generator=gen, dtype=torch.float64)
        gz = torch.randn(B, L, H, generator=gen, dtype=torch.float64)
        y, z = cb.lem_recurrence(u, w, wy, 0.4, y0, z0)
        got = torch.autograd.grad((y * gy).sum() + (z * gz).sum(), leaves)
        y_r, z_r = reference.lem_recurrence_ref(u, w, wy, 0.4, y0, z0)
        want = torch.autograd.grad((y_r * gy).sum() + (z_r * gz).sum(), leaves)
        for g, r in zip(got, want, strict=True):
            assert rel_err(g, r) < 1e-11


def test_cooperative_capacity():
    """The host check of a cooperative grid: occupancy x SMs must cover every block."""
    cb.cooperative_capacity(8, 1, 8)
    cb.cooperative_capacity(8, 2, 4)
    for n_blocks, per_sm, n_sm in [(9, 1, 8), (8, 3, 2), (1, 0, 132)]:
        with pytest.raises(RuntimeError, match="resident at once"):
            cb.cooperative_capacity(n_blocks, per_sm, n_sm)


def test_lem_launches_are_cooperative(fake_gpu):
    """Both LEM kernels come from a cooperative module and are checked against the occupancy first;
    the other kernels launch as ordinary ones."""
    fake = fake_gpu(n_sm=8, smem_max=900, lem_threads=32)
    gen = torch.Generator().manual_seed(29)
    leaves = [x.requires_grad_() for x in lem_inputs(2, 4, 7, torch.float64, gen)]
    y, z = cb.lem_recurrence(*leaves[:3], 0.3, *leaves[3:])
    (y.sum() + z.sum()).backward()
    cb.linear_scan_fwd(torch.full((3,), 0.5, dtype=torch.float64), torch.ones(1, 4, 3, dtype=torch.float64))
    lem = [launch for launch in fake.launches if launch[0].startswith("lem_")]
    assert {name for name, _, _ in lem} == {"lem_forward_f64", "lem_backward_f64"}
    assert all(coop for _, _, coop in lem) and max(grid[0] for _, grid, _ in lem) > 1  # P > 1: a real barrier
    assert not any(coop for name, _, coop in fake.launches if not name.startswith("lem_"))
    assert len(fake.occupancy_queries) == len(lem) and all(q[1] == 32 for q in fake.occupancy_queries)


def test_lem_grid_beyond_occupancy_raises(fake_gpu, monkeypatch):
    """A grid the device cannot hold at once is refused before any launch (no spin, no trap)."""
    gen = torch.Generator().manual_seed(31)
    u, w, wy, y0, z0 = lem_inputs(4, 3, 6, torch.float64, gen)
    fake = fake_gpu(n_sm=2, smem_max=1 << 20, blocks_per_sm=1)
    # four blocks (P = 2 units' halves x 2 batch groups) on a device said to hold 1 x 2
    monkeypatch.setattr(cb, "lem_launch_config", lambda B, H, itemsize, smem_max, n_sm, backward=False: (
        2, 3, 2, 2, cb.lem_smem_bytes(H, 3, 2, itemsize, backward)))
    with pytest.raises(RuntimeError, match=r"4 blocks resident at once .* 1 per SM x 2 SMs"):
        cb.lem_recurrence(u, w, wy, 0.3, y0, z0)
    assert not fake.launches
    fake = fake_gpu(n_sm=2, smem_max=1 << 20, blocks_per_sm=2)  # twice the occupancy: it fits and runs
    y, z = cb.lem_recurrence(u, w, wy, 0.3, y0, z0)
    y_r, z_r = reference.lem_recurrence_ref(u, w, wy, 0.3, y0, z0)
    assert rel_err(y, y_r) < 1e-12 and rel_err(z, z_r) < 1e-12 and len(fake.launches) == 1


def test_lem_too_large_for_shared_memory_falls_back(fake_gpu):
    fake_gpu(n_sm=2, smem_max=600)
    gen = torch.Generator().manual_seed(19)
    u, w, wy, y0, z0 = lem_inputs(2, 3, 12, torch.float64, gen)
    y, z = cb.lem_recurrence(u, w, wy, 0.3, y0, z0)
    y_r, z_r = reference.lem_recurrence_ref(u, w, wy, 0.3, y0, z0)
    assert rel_err(y, y_r) < 1e-14 and rel_err(z, z_r) < 1e-14
