"""Scan cores: the fast CPU paths against the float64 references.

The first run compiles the numba kernels (about a minute for all dtypes);
later runs load them from numba's cache.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck

from tests._settings import not_installed
from tsrec import scan
from tsrec.scan import aaren_scan, cpu, lem_recurrence, linear_scan, reference, resolve_backend

WIDE = {torch.float32: torch.float64, torch.complex64: torch.complex128,
        torch.float64: torch.float64, torch.complex128: torch.complex128}


def make_scan(B, L, D, dtype, time_varying, with_h0, seed=0):
    """Random decays inside the unit circle, inputs and an optional initial state."""
    g = torch.Generator().manual_seed(seed)
    shape = (B, L, D) if time_varying else (D,)
    r = 0.5 + 0.49 * torch.rand(shape, generator=g, dtype=torch.float64)
    if dtype.is_complex:
        a = torch.polar(r, 2 * math.pi * torch.rand(shape, generator=g, dtype=torch.float64))
        b = torch.complex(torch.randn(B, L, D, generator=g, dtype=torch.float64),
                          torch.randn(B, L, D, generator=g, dtype=torch.float64))
        h0 = torch.complex(torch.randn(B, D, generator=g, dtype=torch.float64),
                           torch.randn(B, D, generator=g, dtype=torch.float64))
    else:
        a = r * torch.sign(torch.randn(shape, generator=g, dtype=torch.float64))
        b = torch.randn(B, L, D, generator=g, dtype=torch.float64)
        h0 = torch.randn(B, D, generator=g, dtype=torch.float64)
    return a.to(dtype), b.to(dtype), (h0.to(dtype) if with_h0 else None)


def rel_err(x, ref):
    x, ref = x.to(ref.dtype), ref
    return ((x - ref).abs().max() / ref.abs().max().clamp_min(1e-30)).item()


def wide(*xs):
    return [None if x is None else x.detach().to(WIDE[x.dtype]) for x in xs]


def require_numba() -> None:
    """Skip when numba is not installed (or TSREC_NUMBA=0 turns the kernels off); an installed numba that
    fails to import, or whose kernels tsrec does not use, fails the test instead of skipping it."""
    if os.environ.get("TSREC_NUMBA", "1") == "0":
        pytest.skip("numba kernels turned off by TSREC_NUMBA=0")
    if not_installed("numba"):
        pytest.skip("numba not installed")
    from tsrec.scan import _numba_kernels  # noqa: F401  (raises if the kernels do not compile or import)

    assert cpu.numba_available(), "numba is installed but tsrec.scan.cpu does not use its kernels"


@pytest.fixture(params=["numba", "torch-loop"])
def scan_path(request, monkeypatch):
    """Run a test on the numba kernels and on the plain torch fallback."""
    if request.param == "numba":
        require_numba()
    else:
        monkeypatch.setattr(cpu, "_kernels", False)
    return request.param


# ------------------------------------------------------------------ linear scan: values


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("time_varying", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
@pytest.mark.parametrize("L", [1, 2, 17])
def test_linear_scan_matches_reference(scan_path, dtype, time_varying, with_h0, L):
    a, b, h0 = make_scan(3, L, 5, dtype, time_varying, with_h0)
    h = linear_scan(a, b, h0, backend="torch")
    assert h.shape == b.shape and h.dtype == dtype
    assert rel_err(h, reference.linear_scan_ref(a, b, h0)) < 1e-12


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("time_varying", [True, False])
def test_linear_scan_fwd_reverse(scan_path, dtype, time_varying):
    a, b, h0 = make_scan(2, 9, 7, dtype, time_varying, True)
    for reverse in (False, True):
        h = cpu.linear_scan_fwd(a, b, h0, reverse=reverse)
        assert rel_err(h, reference.linear_scan_ref(a, b, h0, reverse=reverse)) < 1e-12


@pytest.mark.parametrize("dtype", [torch.float32, torch.complex64])
@pytest.mark.parametrize("time_varying", [True, False])
def test_linear_scan_float32_close_to_float64(scan_path, dtype, time_varying):
    a, b, h0 = make_scan(4, 301, 70, dtype, time_varying, True, seed=1)
    a, b, h0 = (x.requires_grad_() for x in (a, b, h0))
    h = linear_scan(a, b, h0, backend="torch")
    g = torch.randn_like(h)
    grads = torch.autograd.grad(h, (a, b, h0), g)
    aw, bw, hw, gw = (x.requires_grad_() for x in wide(a, b, h0, g))
    hr = reference.linear_scan_ref(aw, bw, hw)
    grads_r = torch.autograd.grad(hr, (aw, bw, hw), gw)
    assert rel_err(h, hr) < 1e-5
    for x, xr in zip(grads, grads_r, strict=True):
        assert x.shape == xr.shape
        assert rel_err(x, xr) < 1e-5


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("time_varying", [True, False])
@pytest.mark.parametrize("threads", [2, 3])
def test_linear_scan_split_over_threads(monkeypatch, dtype, time_varying, threads):
    """The numba path split into job ranges on several threads gives the reference values and gradients."""
    require_numba()
    monkeypatch.setattr(cpu, "_PARALLEL_MIN", 0)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b, h0 = make_scan(5, 33, 70, dtype, time_varying, True, seed=3)
        a, b, h0 = (x.requires_grad_() for x in (a, b, h0))
        h = linear_scan(a, b, h0, backend="torch")
        g = torch.randn_like(h)
        grads = torch.autograd.grad(h, (a, b, h0), g)
    finally:
        torch.set_num_threads(before)
    ar, br, hr0 = (x.detach().clone().requires_grad_() for x in (a, b, h0))
    hr = reference.linear_scan_ref(ar, br, hr0)
    grads_r = torch.autograd.grad(hr, (ar, br, hr0), g)
    assert rel_err(h, hr) < 1e-12
    for x, xr in zip(grads, grads_r, strict=True):
        assert rel_err(x, xr) < 1e-12


@pytest.mark.parametrize("time_varying", [True, False])
def test_linear_scan_into_out(scan_path, time_varying):
    a, b, h0 = make_scan(3, 19, 6, torch.complex128, time_varying, True, seed=4)
    ref = reference.linear_scan_ref(a, b, h0)
    out = torch.full_like(b, float("nan"))
    assert linear_scan(a, b, h0, backend="torch", out=out) is out
    assert rel_err(out, ref) < 1e-12
    inplace = b.clone()
    linear_scan(a, inplace, h0, backend="torch", out=inplace)  # out may be b itself
    assert rel_err(inplace, ref) < 1e-12
    reverse = torch.empty_like(b)
    cpu.linear_scan_fwd(a, b, h0, reverse=True, out=reverse)
    assert rel_err(reverse, reference.linear_scan_ref(a, b, h0, reverse=True)) < 1e-12


def test_linear_scan_out_errors():
    a, b, h0 = make_scan(2, 5, 3, torch.float64, False, True)
    with pytest.raises(ValueError, match="out must be a contiguous tensor of shape"):
        linear_scan(a, b, h0, out=torch.empty(2, 5, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="dtype"):
        linear_scan(a, b, h0, out=torch.empty(2, 5, 3))
    with pytest.raises(RuntimeError, match="does not support autograd"):
        linear_scan(a, b.requires_grad_(), h0, out=torch.empty_like(b))
    with torch.no_grad():  # without grad mode the same call is fine
        out = linear_scan(a, b, h0, out=torch.empty_like(b))
    assert rel_err(out, reference.linear_scan_ref(a, b.detach(), h0)) < 1e-12


def test_linear_scan_noncontiguous_and_conj_inputs(scan_path):
    a, b, h0 = make_scan(3, 12, 6, torch.complex128, True, True)
    bt = b.transpose(0, 2).contiguous().transpose(0, 2)  # same values, other strides
    h = linear_scan(a.conj(), bt, h0, backend="torch")
    assert rel_err(h, reference.linear_scan_ref(a.conj().resolve_conj(), b, h0)) < 1e-12


# ------------------------------------------------------------------ linear scan: gradients


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("time_varying", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
def test_linear_scan_gradcheck(scan_path, dtype, time_varying, with_h0):
    a, b, h0 = make_scan(2, 5, 3, dtype, time_varying, with_h0)
    inputs = tuple(x.requires_grad_() for x in (a, b, h0) if x is not None)
    fn = (lambda a, b, h0: linear_scan(a, b, h0, backend="torch")) if with_h0 else (
        lambda a, b: linear_scan(a, b, backend="torch"))
    assert gradcheck(fn, inputs)


def test_linear_scan_grads_match_reference_with_partial_requires_grad(scan_path):
    a, b, h0 = make_scan(2, 6, 4, torch.complex128, False, True)
    b.requires_grad_()
    h = linear_scan(a, b, h0, backend="torch")
    (gb,) = torch.autograd.grad(h.real.sum() + h.imag.square().sum(), (b,))
    b2 = b.detach().clone().requires_grad_()
    hr = reference.linear_scan_ref(a, b2, h0)
    (gbr,) = torch.autograd.grad(hr.real.sum() + hr.imag.square().sum(), (b2,))
    assert rel_err(gb, gbr) < 1e-12


@settings(max_examples=15, deadline=None)
@given(
    B=st.integers(1, 3),
    L=st.integers(1, 40),
    D=st.integers(1, 70),
    dtype=st.sampled_from([torch.float32, torch.float64, torch.complex64, torch.complex128]),
    time_varying=st.booleans(),
    with_h0=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_linear_scan_property(B, L, D, dtype, time_varying, with_h0, seed):
    a, b, h0 = make_scan(B, L, D, dtype, time_varying, with_h0, seed)
    inputs = [x.requires_grad_() for x in (a, b, h0) if x is not None]
    h = linear_scan(a, b, h0, backend="torch")
    g = torch.randn_like(h)
    grads = torch.autograd.grad(h, inputs, g)
    inputs_r = [x.requires_grad_() for x in wide(*inputs)]
    hr = reference.linear_scan_ref(*inputs_r) if with_h0 else reference.linear_scan_ref(*inputs_r, None)
    grads_r = torch.autograd.grad(hr, inputs_r, g.to(hr.dtype))
    tol = 1e-12 if dtype in (torch.float64, torch.complex128) else 1e-5
    assert rel_err(h, hr) < tol
    for x, xr in zip(grads, grads_r, strict=True):
        assert rel_err(x, xr) < tol


def test_linear_scan_nan_propagates(scan_path):
    a, b, h0 = make_scan(2, 10, 4, torch.complex64, True, True)
    b[0, 3, 1] = float("nan")
    h = linear_scan(a, b, h0, backend="torch")
    assert torch.isnan(h[0, 3:, 1]).all()
    assert torch.isfinite(h[0, :3]).all() and torch.isfinite(h[1]).all()


# ------------------------------------------------------------------ Aaren


@pytest.mark.parametrize("split", [None, 7])
def test_aaren_scan_matches_attention(split):
    g = torch.Generator().manual_seed(3)
    B, L, K, E = 2, 19, 3, 4
    s = 3 * torch.randn(B, L, K, generator=g, dtype=torch.float64)
    v = torch.randn(B, L, K, E, generator=g, dtype=torch.float64)
    expected = reference.aaren_attention_ref(s, v)
    if split is None:
        o, (lse, last) = aaren_scan(s, v, backend="torch")
    else:  # two calls, the state carried from the first into the second
        o1, state = aaren_scan(s[:, :split], v[:, :split], backend="torch")
        o2, (lse, last) = aaren_scan(s[:, split:], v[:, split:], state, backend="torch")
        o = torch.cat([o1, o2], dim=1)
    assert rel_err(o, expected) < 1e-12
    assert rel_err(lse, torch.logsumexp(s, dim=1)) < 1e-12
    assert rel_err(last, expected[:, -1]) < 1e-12


def test_aaren_scan_gradients():
    g = torch.Generator().manual_seed(4)
    s = torch.randn(2, 6, 2, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 6, 2, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda s, v: aaren_scan(s, v, backend="torch")[0], (s, v))


def masked_aaren_inputs(B=2, L=6, K=2, E=3, seed=5):
    """Scores with -inf at the first steps, one head masked throughout, a hole later; and a state
    whose first entry is empty (l0 = -inf)."""
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(B, L, K, generator=g, dtype=torch.float64)
    s[0, :2, 0] = -math.inf
    s[1, :, 1] = -math.inf
    s[0, 4, 1] = -math.inf
    v = torch.randn(B, L, K, E, generator=g, dtype=torch.float64)
    l0 = torch.randn(B, K, generator=g, dtype=torch.float64)
    l0[1, 1] = -math.inf
    o0 = torch.zeros(B, K, E, dtype=torch.float64)
    return s, v, (l0, o0)


@pytest.mark.parametrize("backend", ["torch", "reference"])
def test_aaren_scan_neg_inf_scores(backend):
    """A -inf score has weight 0; where every score so far is -inf, o is 0 and l is -inf; no NaN."""
    s, v, state = masked_aaren_inputs()
    for carried in (None, state):
        leaves = [x.clone().requires_grad_() for x in (s, v)]
        o, (lse, last) = aaren_scan(*leaves, carried, backend=backend)
        assert torch.isfinite(o).all() and torch.isfinite(last).all() and not torch.isnan(lse).any()
        defined = torch.isfinite(s).cumsum(1) > 0  # some weight so far
        expected = reference.aaren_attention_ref(s, v)  # a softmax: NaN where nothing is defined
        if carried is None:
            assert (o[~defined] == 0).all() and torch.isneginf(lse[1, 1])
            assert torch.allclose(o[defined], expected[defined], rtol=0, atol=1e-12)
        else:  # the empty state of head (1, 1) has o0 = 0 and every score -inf: still 0 and -inf
            assert (o[1, :, 1] == 0).all() and torch.isneginf(lse[1, 1])
        grads = torch.autograd.grad(o.sum() + last.sum() + lse.masked_fill(torch.isneginf(lse), 0).sum(), leaves)
        assert all(torch.isfinite(x).all() for x in grads)
        assert (grads[0][torch.isneginf(s)] == 0).all()


@pytest.mark.parametrize("backend", ["torch", "reference"])
def test_aaren_scan_neg_inf_gradcheck(backend):
    s, v, (l0, o0) = masked_aaren_inputs(L=5)

    def fn(s, v, *state):
        o, (lse, last) = aaren_scan(s, v, state or None, backend=backend)
        return o, lse.masked_fill(torch.isneginf(lse.detach()), 0), last

    leaves = [x.requires_grad_() for x in (s, v, l0, o0)]
    assert gradcheck(fn, tuple(leaves[:2]))
    assert gradcheck(fn, tuple(leaves))


# ------------------------------------------------------------------ LEM


def make_lem(B, L, H, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    bound = 1 / math.sqrt(H)
    u = torch.randn(B, L, 4 * H, generator=g, dtype=torch.float64)
    W = (2 * torch.rand(3 * H, H, generator=g, dtype=torch.float64) - 1) * 3 * bound
    Wz = (2 * torch.rand(H, H, generator=g, dtype=torch.float64) - 1) * 3 * bound
    y0 = torch.randn(B, H, generator=g, dtype=torch.float64)
    z0 = torch.randn(B, H, generator=g, dtype=torch.float64)
    return [x.to(dtype) for x in (u, W, Wz, y0, z0)]


@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("L", [1, 13])
def test_lem_matches_reference(scan_path, with_state, L):
    u, W, Wz, y0, z0 = make_lem(3, L, 6)
    if not with_state:
        y0 = z0 = None
    inputs = [x.requires_grad_() for x in (u, W, Wz, y0, z0) if x is not None]
    y, z = cpu.lem_recurrence(u, W, Wz, 0.4, y0, z0)
    yr, zr = reference.lem_recurrence_ref(u, W, Wz, 0.4, y0, z0)
    assert rel_err(y, yr) < 1e-12 and rel_err(z, zr) < 1e-12
    gy, gz = torch.randn_like(y), torch.randn_like(z)
    grads = torch.autograd.grad((y * gy).sum() + (z * gz).sum(), inputs)
    grads_r = torch.autograd.grad((yr * gy).sum() + (zr * gz).sum(), inputs)
    for x, xr in zip(grads, grads_r, strict=True):
        assert rel_err(x, xr) < 1e-12


def test_lem_only_y_used(scan_path):
    u, W, Wz, y0, z0 = make_lem(2, 5, 4)
    inputs = [x.requires_grad_() for x in (u, W, Wz, y0, z0)]
    y, _ = lem_recurrence(u, W, Wz, 0.7, y0, z0, backend="torch")
    yr, _ = reference.lem_recurrence_ref(u, W, Wz, 0.7, y0, z0)
    for x, xr in zip(torch.autograd.grad(y.sum(), inputs), torch.autograd.grad(yr.sum(), inputs), strict=True):
        assert rel_err(x, xr) < 1e-12


def test_lem_no_grad_and_frozen_weights(scan_path):
    u, W, Wz, y0, z0 = make_lem(2, 9, 5)
    yr, zr = reference.lem_recurrence_ref(u, W, Wz, 0.3, y0, z0)
    with torch.no_grad():
        y, z = cpu.lem_recurrence(u, W, Wz, 0.3, y0, z0)
    assert rel_err(y, yr) < 1e-12 and rel_err(z, zr) < 1e-12
    u.requires_grad_()  # weights frozen: only du
    y, z = cpu.lem_recurrence(u, W, Wz, 0.3, y0, z0)
    (du,) = torch.autograd.grad(y.sum() + z.sum(), (u,))
    u2 = u.detach().clone().requires_grad_()
    yr, zr = reference.lem_recurrence_ref(u2, W, Wz, 0.3, y0, z0)
    (dur,) = torch.autograd.grad(yr.sum() + zr.sum(), (u2,))
    assert rel_err(du, dur) < 1e-12


def test_lem_gradcheck(scan_path):
    inputs = tuple(x.requires_grad_() for x in make_lem(2, 4, 3))
    assert gradcheck(lambda u, W, Wz, y0, z0: cpu.lem_recurrence(u, W, Wz, 0.3, y0, z0), inputs)


def test_lem_float32_close_to_float64(scan_path):
    u, W, Wz, y0, z0 = make_lem(4, 200, 16, torch.float32, seed=2)
    inputs = [x.requires_grad_() for x in (u, W, Wz, y0, z0)]
    y, z = cpu.lem_recurrence(u, W, Wz, 0.2, y0, z0)
    grads = torch.autograd.grad(y.sum() + z.square().sum(), inputs)
    inputs_r = [x.requires_grad_() for x in wide(*inputs)]
    yr, zr = reference.lem_recurrence_ref(*inputs_r[:3], 0.2, *inputs_r[3:])
    grads_r = torch.autograd.grad(yr.sum() + zr.square().sum(), inputs_r)
    assert rel_err(y, yr) < 1e-5 and rel_err(z, zr) < 1e-5
    for x, xr in zip(grads, grads_r, strict=True):
        assert rel_err(x, xr) < 1e-4


def test_lem_nan_propagates(scan_path):
    u, W, Wz, y0, z0 = make_lem(2, 8, 4)
    u[1, 2, 0] = float("nan")  # a gate of sample 1 at step 2
    y, z = cpu.lem_recurrence(u, W, Wz, 0.5, y0, z0)
    assert torch.isnan(z[1, 2, 0]) and torch.isnan(y[1, 2:]).all() and torch.isnan(z[1, 3:]).all()
    assert torch.isfinite(y[0]).all() and torch.isfinite(z[0]).all()
    assert torch.isfinite(y[1, :2]).all() and torch.isfinite(z[1, :2]).all()


# ------------------------------------------------------------------ dispatch


def test_resolve_backend_errors():
    x = torch.zeros(1)
    with pytest.raises(ValueError, match="backend"):
        resolve_backend("numpy", x)
    if not scan.cupy_available():
        with pytest.raises(RuntimeError, match="[Cc]u[Pp]y"):
            resolve_backend("cupy", x)
    assert resolve_backend("auto", x) == "torch"
    assert resolve_backend("reference", x) == "reference"


def test_linear_scan_shape_errors():
    with pytest.raises(ValueError):
        linear_scan(torch.zeros(4), torch.zeros(2, 3, 5))
    with pytest.raises(TypeError):
        linear_scan(torch.zeros(5, dtype=torch.float64), torch.zeros(2, 3, 5))


# ------------------------------------------------------------------ output buffer pool


def test_buffer_pool_reuses_only_dropped_buffers():
    from tsrec.scan._pool import BufferPool

    pool = BufferPool(min_bytes=1024, max_idle_bytes=1 << 20)
    first = torch.from_numpy(pool.empty((64, 8), np.float64))
    first.fill_(1.0)
    view = first[10:20]  # a view keeps the buffer in use
    del first
    second = torch.from_numpy(pool.empty((64, 8), np.float64))
    assert second.data_ptr() != view.data_ptr() - 10 * 8 * 8  # in use: never handed out twice
    del view
    third = torch.from_numpy(pool.empty((8, 64), np.float64))  # same size, now idle: reused
    assert len(pool._buffers) == 2 and pool.idle_bytes() == 0
    del second, third
    assert pool.idle_bytes() == 2 * 64 * 8 * 8
    pool.clear()
    assert pool.idle_bytes() == 0 and not pool._buffers
    small = pool.empty((4, 4), np.float32)  # below min_bytes: a plain array, not pooled
    assert small.shape == (4, 4) and not pool._buffers


def test_buffer_pool_keeps_idle_bytes_bounded():
    from tsrec.scan._pool import BufferPool

    pool = BufferPool(min_bytes=1024, max_idle_bytes=3 * 8192)
    for n in range(1, 8):  # seven sizes, each dropped at once
        pool.empty((n * 1024,), np.float64)
    assert pool.idle_bytes() <= 3 * 8192 + 7 * 8192  # at most the bound plus the newest buffer


def test_scans_into_reused_buffers_stay_exact():
    """Scan outputs from recycled (uninitialised, previously written) memory: every element is rewritten."""
    require_numba()
    for seed in range(3):
        a, b, h0 = make_scan(8, 300, 256, torch.complex128, seed % 2 == 0, True, seed=seed)  # 9.8 MB outputs
        leaves = [x.requires_grad_() for x in (a, b, h0)]
        h = linear_scan(*leaves, backend="torch")
        g = torch.randn_like(h)
        grads = torch.autograd.grad(h, leaves, g)
        ref_leaves = [x.detach().clone().requires_grad_() for x in leaves]
        hr = reference.linear_scan_ref(*ref_leaves)
        grads_r = torch.autograd.grad(hr, ref_leaves, g)
        assert rel_err(h, hr) < 1e-12
        for x, xr in zip(grads, grads_r, strict=True):
            assert rel_err(x, xr) < 1e-12
        del h, grads, hr, grads_r
    assert cpu._POOL.idle_bytes() > 0
    cpu.release_buffers()
