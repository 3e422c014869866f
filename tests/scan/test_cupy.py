"""The CuPy backend of the scan cores.

Three groups of tests:

- everywhere: the CUDA sources compile (nvcc, for sm_80 and sm_90; NVRTC too when
  CuPy is installed), the backend imports without CuPy, launch shapes are sane;
- ``gpu`` (skipped without CuPy and a CUDA device): every kernel against the
  float64 torch reference, gradients against the reference's autograd and by
  gradcheck, dispatch, streams.

The kernels' logic also runs on the CPU in test_scan_cupy_emulated.py.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tsrec.scan
from tests._settings import not_installed
from tsrec.scan import cupy as cb
from tsrec.scan import reference

ARCHS = ("sm_80", "sm_90")

# --------------------------------------------------------------------------- everywhere


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc (the CUDA toolkit) to compile the kernels")
def test_kernels_compile_with_nvcc(tmp_path):
    procs = []
    for name in cb.KERNEL_FILES:
        src = tmp_path / name
        src.write_text(cb.kernel_source(name))
        for arch in ARCHS:
            rdc = ["-rdc=true"] if name in cb.COOPERATIVE_FILES else []  # as CuPy's cooperative modules
            cmd = ["nvcc", "-cubin", "-std=c++17", "--Werror", "all-warnings", f"-arch={arch}", *rdc, "-o",
                   str(tmp_path / f"{name}.{arch}.cubin"), str(src)]
            procs.append(
                (name, arch, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
            )
    failures = []
    for name, arch, proc in procs:
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            failures.append(f"{name} for {arch}:\n{out}")
    assert not failures, "\n".join(failures)


def _nvrtc_program():
    """CuPy's NVRTC program class, or None when CuPy is not installed. An installed CuPy whose NVRTC does not
    work fails the test: a broken optional dependency must not turn into a skip."""
    if not_installed("cupy"):
        return None
    from cupy.cuda import compiler

    prog = compiler._NVRTCProgram("__global__ void k() {}", "k.cu", (), (), name_expressions=None, method="cubin")
    prog.compile(("-arch=sm_80",))
    return compiler._NVRTCProgram


def test_kernels_compile_with_nvrtc():
    """As CuPy compiles them at run time: NVRTC, no headers, CuPy's default options."""
    program = _nvrtc_program()
    if program is None:
        pytest.skip("needs CuPy (not installed)")
    for name in cb.KERNEL_FILES:
        for arch in ARCHS:
            prog = program(cb.kernel_source(name), name, (), (), name_expressions=None, method="cubin")
            rdc = ("--device-c",) if name in cb.COOPERATIVE_FILES else ()  # CuPy's enable_cooperative_groups
            cubin, _ = prog.compile(
                ("-std=c++17", f"-arch={arch}", "--device-as-default-execution-space", "-ftz=true", *rdc)
            )
            assert len(cubin) > 0


def test_import_needs_no_cupy():
    code = (
        "import sys, tsrec, tsrec.scan, tsrec.scan.cupy as cb\n"
        "assert 'cupy' not in sys.modules, 'importing tsrec imported CuPy'\n"
        "assert cb.__name__ == 'tsrec.scan.cupy'\n"
        "assert all(cb.kernel_source(f) for f in cb.KERNEL_FILES)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(tsrec.scan.cupy_available(), reason="CuPy and a GPU are present")
def test_cupy_backend_without_cupy_says_so():
    x = torch.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="needs CuPy and a CUDA GPU"):
        tsrec.scan.linear_scan(torch.rand(4), x, backend="cupy")
    with pytest.raises(RuntimeError, match="needs CuPy and a CUDA GPU"):
        tsrec.scan.aaren_scan(x, x.unsqueeze(-1), backend="cupy")
    assert tsrec.scan.resolve_backend("auto", x) == "torch"


def test_gpu_extra_and_gpu_run_script(tmp_path):
    """The gpu extra brings CuPy's run-time compiler (the ctk extra); benchmarks/gpu_run.sh names test files
    that exist and stops, non-zero and saying why, when CuPy cannot compile and run a kernel."""
    import tomllib

    root = Path(__file__).resolve().parents[2]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["gpu"]
    assert any(dep.replace(" ", "").startswith("cupy-cuda13x[ctk]") for dep in extra), extra
    script = (root / "benchmarks" / "gpu_run.sh").read_text()
    named = re.findall(r"tests/\S+\.py", script)
    assert named and all((root / path).is_file() for path in named), named
    # a Python that fails every command stands for a CuPy that cannot compile: the script must stop first
    failing = tmp_path / "python"
    failing.write_text("#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/calls\"\nexit 1\n")
    failing.chmod(0o755)
    proc = subprocess.run(["bash", str(root / "benchmarks" / "gpu_run.sh")], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": str(failing)})
    assert proc.returncode != 0 and "CuPy cannot compile or run a CUDA kernel" in proc.stderr
    assert "pytest" not in (tmp_path / "calls").read_text()


@pytest.mark.parametrize("B", [1, 3, 64])
@pytest.mark.parametrize("L", [1, 7, 129, 1000, 100_000])
@pytest.mark.parametrize("D", [1, 33, 4096])
def test_linear_launch_config(B, L, D):
    for chunk in (4, 8):
        blocks_x, ny, n_seg, seg_len = cb.linear_launch_config(B, L, D, chunk, n_sm=132)
        assert blocks_x * 32 >= B * D > (blocks_x - 1) * 32
        assert 1 <= ny <= cb.NY_MAX and (ny - 1) * chunk < seg_len
        assert n_seg * seg_len >= L > (n_seg - 1) * seg_len and n_seg <= 65535
        if n_seg > 1:
            assert blocks_x < 2 * 132 and seg_len >= 4 * cb.NY_MAX * chunk


def test_lem_launch_config_h100_like():
    """H = 256 float32 on an H100 (132 SMs, 227 KiB): weights split over a few blocks, all on chip."""
    for backward in (False, True):
        for B in (1, 16, 64, 1000):
            P, U, BB, groups, smem = cb.lem_launch_config(B, 256, 4, 232448, 132, backward)
            assert smem <= 232448 and P * groups <= 132 and P * U >= 256
            assert cb.lem_smem_bytes(256, U, BB, 4, backward) == smem
    # too large to stay on chip
    assert cb.lem_launch_config(8, 4096, 8, 232448, 132) is None


# --------------------------------------------------------------------------- GPU

def _no_gpu_reason() -> str | None:
    """Why the GPU tests cannot run: CuPy not installed, or no CUDA device. Any other error (a broken CuPy,
    a driver that fails) propagates and fails the run instead of skipping it."""
    if not_installed("cupy"):
        return "needs CuPy (not installed)"
    import cupy

    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as e:
        if e.status in (100, 35):  # cudaErrorNoDevice, cudaErrorInsufficientDriver (no driver: no device)
            return f"needs a CUDA device ({e})"
        raise
    return None if n > 0 else "needs a CUDA device (none found)"


NO_GPU = _no_gpu_reason()
gpu = pytest.mark.skipif(NO_GPU is not None, reason=NO_GPU or "")

REAL = {torch.complex64: torch.float32, torch.complex128: torch.float64}
WIDE = {torch.float32: torch.float64, torch.float64: torch.float64, torch.complex64: torch.complex128,
        torch.complex128: torch.complex128}
TOL = {torch.float32: 3e-5, torch.complex64: 3e-5, torch.float64: 1e-11, torch.complex128: 1e-11}


def rel_err(x: torch.Tensor, ref: torch.Tensor) -> float:
    x = x.detach().to(WIDE[x.dtype]).cpu()
    ref = ref.detach().to(x.dtype).cpu()
    finite = torch.isfinite(torch.view_as_real(x) if x.is_complex() else x)
    assert finite.all(), "non-finite values"
    return float((x - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


def rand(*shape, dtype, device="cuda", gen=None):
    if dtype.is_complex:
        return torch.complex(torch.randn(*shape, dtype=REAL[dtype], generator=gen),
                             torch.randn(*shape, dtype=REAL[dtype], generator=gen)).to(device)
    return torch.randn(*shape, dtype=dtype, generator=gen).to(device)


def decay(shape, dtype, gen=None, device="cuda"):
    mag = 0.5 + 0.5 * torch.rand(*shape, dtype=torch.float64, generator=gen)
    if dtype.is_complex:
        return (
            torch.polar(mag, 2 * math.pi * torch.rand(*shape, dtype=torch.float64, generator=gen)).to(dtype).to(device)
        )
    sign = torch.where(torch.rand(*shape, generator=gen) < 0.2, -1.0, 1.0).double()
    return (mag * sign).to(dtype).to(device)


LINEAR_SHAPES = [
    (2, 1, 3),  # L = 1
    (3, 37, 5),  # odd
    (2, 1000, 33),  # non-power-of-two, several tiles
    (8, 64, 4096),  # large B * D
    (1, 5003, 16),  # few columns, long: time segments
]


@gpu
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64, torch.complex128])
@pytest.mark.parametrize("tv", [True, False], ids=["time_varying", "time_invariant"])
@pytest.mark.parametrize("shape", LINEAR_SHAPES)
def test_linear_scan_fwd_matches_reference(dtype, tv, shape):
    B, L, D = shape
    for reverse in (False, True):
        b = rand(B, L, D, dtype=dtype)
        a = decay((B, L, D) if tv else (D,), dtype)
        h0 = rand(B, D, dtype=dtype)
        for h_init in (None, h0):
            out = cb.linear_scan_fwd(a, b, h_init, reverse=reverse)
            wide = WIDE[dtype]
            ref = reference.linear_scan_ref(
                a.to(wide), b.to(wide), None if h_init is None else h_init.to(wide), reverse
            )
            assert out.shape == b.shape and out.dtype == dtype
            assert rel_err(out, ref) < TOL[dtype], (shape, reverse, h_init is None)


@gpu
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128, torch.float32])
@pytest.mark.parametrize("tv", [True, False], ids=["time_varying", "time_invariant"])
def test_linear_scan_gradients_match_reference(dtype, tv):
    B, L, D = 3, 300, 40
    a = decay((B, L, D) if tv else (D,), dtype).requires_grad_()
    b = rand(B, L, D, dtype=dtype).requires_grad_()
    h0 = rand(B, D, dtype=dtype).requires_grad_()
    w = rand(B, L, D, dtype=dtype)
    out = tsrec.scan.linear_scan(a, b, h0, backend="cupy")
    got = torch.autograd.grad((out * w).real.sum() if dtype.is_complex else (out * w).sum(), (a, b, h0))
    wide = WIDE[dtype]
    leaves = [x.detach().to(wide).requires_grad_() for x in (a, b, h0)]
    ref = reference.linear_scan_ref(*leaves)
    loss = (ref * w.to(wide)).real.sum() if dtype.is_complex else (ref * w.to(wide)).sum()
    want = torch.autograd.grad(loss, leaves)
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    for g, r in zip(got, want, strict=True):
        assert rel_err(g, r) < tol


@gpu
@pytest.mark.gpu
def test_linear_scan_gradcheck():
    for dtype, shape in ((torch.float64, (2, 5, 3)), (torch.complex128, (2, 4, 2))):
        B, L, D = shape
        for a_shape in ((B, L, D), (D,)):
            a = decay(a_shape, dtype).requires_grad_()
            b = rand(B, L, D, dtype=dtype).requires_grad_()
            h0 = rand(B, D, dtype=dtype).requires_grad_()
            assert torch.autograd.gradcheck(
                lambda a, b, h0: tsrec.scan.linear_scan(a, b, h0, backend="cupy"), (a, b, h0)
            )


@gpu
@pytest.mark.gpu
def test_linear_scan_on_a_side_stream_and_non_contiguous_input():
    b = rand(4, 200, 96, dtype=torch.float32).transpose(0, 1).contiguous().transpose(0, 1)  # non-contiguous
    a = decay((96,), torch.float32)
    ref = reference.linear_scan_ref(a.double(), b.double())
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        out = tsrec.scan.linear_scan(a, b, backend="cupy")
    torch.cuda.current_stream().wait_stream(stream)
    assert rel_err(out, ref) < TOL[torch.float32]


def aaren_inputs(B, L, K, E, dtype, with_state, gen=None):
    s = 3 * torch.randn(B, L, K, dtype=dtype, generator=gen)
    v = torch.randn(B, L, K, E, dtype=dtype, generator=gen)
    state = None
    if with_state:
        state = (torch.randn(B, K, dtype=dtype, generator=gen), torch.randn(B, K, E, dtype=dtype, generator=gen))
    cuda = lambda x: x.cuda()  # noqa: E731
    return cuda(s), cuda(v), None if state is None else tuple(map(cuda, state))


@gpu
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(2, 1, 2, 3), (3, 37, 4, 5), (2, 1000, 3, 64), (1, 3001, 1, 7)])
@pytest.mark.parametrize("with_state", [False, True])
def test_aaren_forward_matches_reference(dtype, shape, with_state):
    s, v, state = aaren_inputs(*shape, dtype, with_state)
    o, (lse, o_last) = cb.aaren_scan(s, v, state)
    d = lambda x: x.double()  # noqa: E731
    o_r, (l_r, o_last_r) = tsrec.scan.aaren_scan(
        d(s), d(v), None if state is None else tuple(map(d, state)), backend="reference"
    )
    tol = 3e-5 if dtype == torch.float32 else 1e-11
    assert rel_err(o, o_r) < tol and rel_err(lse, l_r) < tol and rel_err(o_last, o_last_r) < tol
    # against the O(L^2) softmax as well (no state)
    if not with_state and shape[1] <= 1000:
        assert rel_err(o, reference.aaren_attention_ref(d(s), d(v))) < tol


@gpu
@pytest.mark.gpu
@pytest.mark.parametrize("with_state", [False, True])
def test_aaren_gradients(with_state):
    s, v, state = aaren_inputs(2, 50, 3, 4, torch.float64, with_state)
    leaves = [s.requires_grad_(), v.requires_grad_()] + ([x.requires_grad_() for x in state] if with_state else [])
    w_o, w_l = torch.randn_like(v), torch.randn_like(s[:, 0])
    o, (lse, ol) = tsrec.scan.aaren_scan(s, v, state, backend="cupy")
    got = torch.autograd.grad((o * w_o).sum() + (lse * w_l).sum() + ol.sum(), leaves)
    o_r, (l_r, ol_r) = tsrec.scan.aaren_scan(s, v, state, backend="reference")
    want = torch.autograd.grad((o_r * w_o).sum() + (l_r * w_l).sum() + ol_r.sum(), leaves)
    for g, r in zip(got, want, strict=True):
        assert rel_err(g, r) < 1e-9
    small = aaren_inputs(2, 6, 2, 3, torch.float64, with_state)
    args = [small[0].requires_grad_(), small[1].requires_grad_()] + (
        [x.requires_grad_() for x in small[2]] if with_state else []
    )

    def f(s, v, *st):
        o, (lse, ol) = tsrec.scan.aaren_scan(s, v, tuple(st) if st else None, backend="cupy")
        return o, lse

    assert torch.autograd.gradcheck(f, tuple(args))


@gpu
@pytest.mark.gpu
@pytest.mark.parametrize("with_state", [False, True])
def test_aaren_neg_inf_scores(with_state):
    """-inf scores (masked, padded, a whole head) have weight 0: finite outputs and gradients, as the reference."""
    s, v, state = aaren_inputs(2, 300, 2, 3, torch.float64, with_state)
    s[0, :150, 0] = -math.inf
    s[1, :, 1] = -math.inf
    s[0, 200, 1] = -math.inf
    leaves = [s.requires_grad_(), v.requires_grad_()] + ([x.requires_grad_() for x in state] if with_state else [])
    outs = [tsrec.scan.aaren_scan(s, v, state, backend=b) for b in ("cupy", "reference")]
    (o, (lse, ol)), (o_r, (l_r, ol_r)) = outs
    assert torch.equal(torch.isneginf(lse), torch.isneginf(l_r)) and torch.isneginf(lse[1, 1]) != with_state
    assert rel_err(o, o_r) < 1e-11 and rel_err(ol, ol_r) < 1e-11
    if not with_state:
        assert (o[1, :, 1] == 0).all() and (o[0, :150, 0] == 0).all()
    grads = [
        torch.autograd.grad(o.sum() + ol.sum() + lse.masked_fill(torch.isneginf(lse), 0).sum(), leaves)
        for o, (lse, ol) in outs
    ]
    for g, r in zip(*grads, strict=True):
        assert rel_err(g, r) < 1e-9


@gpu
@pytest.mark.gpu
def test_linear_scan_misaligned_complex128():
    """complex128 memory from outside torch, 8 bytes off a 16-byte boundary: copied, not loaded misaligned."""
    import cupy

    B, L, D = 2, 300, 40
    a, b = decay((B, L, D), torch.complex128), rand(B, L, D, dtype=torch.complex128)
    n = a.numel() * 16
    raw = cupy.cuda.alloc(2 * n + 32)
    views = []
    for i, x in enumerate((a, b)):
        ptr = raw + (i * (n + 16) + 8)  # raw is 256-aligned: ptr is 8 mod 16
        cupy.ndarray((n,), cupy.uint8, memptr=ptr)[...] = cupy.from_dlpack(x.view(torch.uint8).reshape(-1))
        views.append(torch.from_dlpack(cupy.ndarray(x.shape, cupy.complex128, memptr=ptr)))
    assert all(t.data_ptr() % 16 == 8 for t in views)
    out = cb.linear_scan_fwd(*views)
    torch.cuda.synchronize()
    assert rel_err(out, reference.linear_scan_ref(a, b)) < 1e-11


def lem_inputs(B, L, H, dtype, with_state=True):
    bound = 1 / math.sqrt(H)
    u = torch.randn(B, L, 4 * H, dtype=torch.float64)
    w = (2 * torch.rand(3 * H, H, dtype=torch.float64) - 1) * bound
    wy = (2 * torch.rand(H, H, dtype=torch.float64) - 1) * bound
    y0 = torch.randn(B, H, dtype=torch.float64) if with_state else None
    z0 = torch.randn(B, H, dtype=torch.float64) if with_state else None
    return [None if x is None else x.to(dtype).cuda() for x in (u, w, wy, y0, z0)]


@gpu
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(2, 1, 5), (3, 37, 24), (16, 200, 128), (4, 64, 256), (70, 50, 64), (2, 20, 300)])
def test_lem_forward_matches_reference(dtype, shape):
    B, L, H = shape
    for with_state in (False, True):
        u, w, wy, y0, z0 = lem_inputs(B, L, H, dtype, with_state)
        y, z = cb.lem_recurrence(u, w, wy, 0.25, y0, z0)
        d = lambda x: None if x is None else x.double()  # noqa: E731
        y_r, z_r = reference.lem_recurrence_ref(d(u), d(w), d(wy), 0.25, d(y0), d(z0))
        tol = 5e-5 if dtype == torch.float32 else 1e-11
        assert rel_err(y, y_r) < tol and rel_err(z, z_r) < tol


@gpu
@pytest.mark.gpu
@pytest.mark.parametrize("shape", [(3, 30, 17), (8, 40, 256)])
def test_lem_gradients_match_reference(shape):
    B, L, H = shape
    for with_state in (False, True):
        leaves = [x.requires_grad_() for x in lem_inputs(B, L, H, torch.float64, with_state) if x is not None]
        u, w, wy = leaves[:3]
        y0, z0 = (leaves[3], leaves[4]) if with_state else (None, None)
        gy, gz = (
            torch.randn(B, L, H, dtype=torch.float64, device="cuda"),
            torch.randn(B, L, H, dtype=torch.float64, device="cuda"),
        )
        y, z = tsrec.scan.lem_recurrence(u, w, wy, 0.3, y0, z0, backend="cupy")
        got = torch.autograd.grad((y * gy).sum() + (z * gz).sum(), leaves)
        y_r, z_r = reference.lem_recurrence_ref(u, w, wy, 0.3, y0, z0)
        want = torch.autograd.grad((y_r * gy).sum() + (z_r * gz).sum(), leaves)
        for g, r in zip(got, want, strict=True):
            assert rel_err(g, r) < 1e-9


@gpu
@pytest.mark.gpu
def test_lem_gradcheck():
    u, w, wy, y0, z0 = (x.requires_grad_() for x in lem_inputs(2, 4, 3, torch.float64))
    f = lambda *args: tsrec.scan.lem_recurrence(*args[:3], 0.4, *args[3:], backend="cupy")  # noqa: E731
    assert torch.autograd.gradcheck(f, (u, w, wy, y0, z0))


@gpu
@pytest.mark.gpu
def test_lem_cooperative_launch(monkeypatch):
    """The LEM kernels come from a cooperative module; a grid beyond occupancy x SMs is refused before any launch,
    and the CUDA context stays usable; split weights (P > 1) run right."""
    dev = torch.cuda.current_device()
    assert cb._kernel("lem.cu", "lem_forward_f32", dev).enable_cooperative_groups
    assert not cb._kernel("linear_scan.cu", "linear_scan_f32_ti", dev).enable_cooperative_groups
    n_sm, smem_max = cb._device_limits(dev)
    real = cb.lem_launch_config
    # far more blocks than the device holds at once (at most 2048 threads, 8 blocks, per SM):
    # P = 64 blocks of one unit per group, n_sm groups of one row in one launch
    too_many = lambda B, H, itemsize, smem, n, backward=False: (  # noqa: E731
        H, 1, 1, B, cb.lem_smem_bytes(H, 1, 1, itemsize, backward))
    monkeypatch.setattr(cb, "lem_launch_config", too_many)
    u, w, wy, y0, z0 = lem_inputs(n_sm, 3, 64, torch.float32)
    with pytest.raises(RuntimeError, match="resident at once"):
        cb.lem_recurrence(u, w, wy, 0.3, y0, z0)
    u, w, wy, y0, z0 = lem_inputs(4, 20, 64, torch.float32)
    # P = 4 blocks share the weights, one group per launch
    monkeypatch.setattr(cb, "lem_launch_config", lambda B, H, itemsize, smem, n, backward=False: real(
        B, H, itemsize, cb.lem_smem_bytes(H, -(-H // 4), 1, itemsize, backward), 4, backward))
    assert cb.lem_launch_config(4, 64, 4, smem_max, n_sm)[0] > 1
    y, z = cb.lem_recurrence(u, w, wy, 0.3, y0, z0)
    d = lambda x: x.double()  # noqa: E731
    y_r, z_r = reference.lem_recurrence_ref(d(u), d(w), d(wy), 0.3, d(y0), d(z0))
    assert rel_err(y, y_r) < 5e-5 and rel_err(z, z_r) < 5e-5


@gpu
@pytest.mark.gpu
def test_auto_dispatch_on_cuda_goes_to_cupy(monkeypatch):
    calls = []

    def spy(name):
        real = getattr(cb, name)

        def wrapped(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        monkeypatch.setattr(cb, name, wrapped)

    for name in ("linear_scan_fwd", "aaren_scan", "lem_recurrence"):
        spy(name)
    x = torch.randn(2, 5, 4, device="cuda")
    assert tsrec.scan.resolve_backend("auto", x) == "cupy"
    tsrec.scan.linear_scan(torch.rand(4, device="cuda"), x)
    tsrec.scan.aaren_scan(x, x.unsqueeze(-1))
    u, w, wy, _, _ = lem_inputs(2, 5, 4, torch.float32)
    tsrec.scan.lem_recurrence(u, w, wy, 0.5)
    assert calls == ["linear_scan_fwd", "aaren_scan", "lem_recurrence"]
    # CPU tensors stay on the torch path
    assert tsrec.scan.resolve_backend("auto", x.cpu()) == "torch"
