"""S4/S4D layer: kernels against direct computations, FFT vs scan vs step, state carry, gradcheck.

The model contract (step == forward, chunks, gradients) is checked in test_contract.py.
"""

import contextlib
import math

import pytest
import torch
from torch.func import functional_call

from tsrec.nn.s4 import S4, hippo_legs, legs_nplr, ssm_init

DT = torch.float64
CDT = torch.complex128
DIAG_CASES = [(d, i) for d in ("zoh", "bilinear") for i in ("legs", "inv", "lin")]


@contextlib.contextmanager
def default_float64():
    """Build layers in float64 from the start (the init is computed in float64)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(DT)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def maxdiff(a, b):
    return (a - b).abs().max().item()


def full(v):
    return torch.cat([v, v.conj()], dim=-1)


def direct_diag(layer: S4):
    """Abar, Bbar of the diagonal system written out from the definitions."""
    dt = torch.exp(layer.log_dt)[:, None]
    A = torch.complex(-torch.exp(layer.log_A_real), layer.A_imag)
    B = torch.view_as_complex(layer.B)
    if layer.discretization == "zoh":
        return torch.exp(dt * A), (torch.exp(dt * A) - 1) / A * B
    return (1 + dt * A / 2) / (1 - dt * A / 2), dt * B / (1 - dt * A / 2)


def dense_dplr(layer: S4):
    """Materialise A = Lambda - P P* (all N modes), discretise bilinearly, solve C back from C~."""
    dt = torch.exp(layer.log_dt)[:, None, None]
    Lam = full(torch.complex(-torch.exp(layer.log_A_real), layer.A_imag))
    P = full(torch.view_as_complex(layer.P))
    B = full(torch.view_as_complex(layer.B))
    Ct = full(torch.view_as_complex(layer.C_tilde))
    N = Lam.shape[-1]
    eye = torch.eye(N, dtype=CDT)
    A = torch.diag_embed(Lam) - P.unsqueeze(-1) @ P.conj().unsqueeze(-2)
    inv = torch.linalg.inv(eye - dt / 2 * A)
    Abar = inv @ (eye + dt / 2 * A)
    Bbar = (inv @ (dt * B.unsqueeze(-1))).squeeze(-1)
    power = eye.expand_as(Abar)
    for _ in range(layer.l_max):
        power = power @ Abar
    C = (Ct.unsqueeze(-2) @ torch.linalg.inv(eye - power)).squeeze(-2)  # C~ = C (eye - Abar^l_max)
    return A, Abar, Bbar, C


def direct_conv(K, u, D):
    """y_l = sum_{j<=l} K_j u_{l-j} + D u_l for u (B, L, H), K (H, L): no FFT."""
    L = u.shape[1]
    y = torch.stack([sum(K[:, j] * u[:, t - j] for j in range(t + 1)) for t in range(L)], dim=1)
    return y + D * u


def run_steps(layer, x, state=None):
    ys = []
    for t in range(x.shape[1]):
        y, state = layer(x[:, t : t + 1], state)
        ys.append(y)
    return torch.cat(ys, 1), state


# ----------------------------------------------------------------------------------------------- inits
@pytest.mark.parametrize("N", [8, 16])
def test_legs_nplr_reconstructs_hippo(N):
    A, B = hippo_legs(N)
    assert A[3, 1] == -math.sqrt(7) * math.sqrt(3) and A[2, 2] == -3 and A[1, 2] == 0 and B[4] == 3
    W, P, Bt, V = legs_nplr(N)
    Vf = torch.cat([V, V.conj()], dim=1)
    assert maxdiff(Vf.conj().T @ Vf, torch.eye(N, dtype=CDT)) < 1e-12  # unitary with the conjugates
    Af = torch.diag(full(W)) - full(P).unsqueeze(-1) @ full(P).conj().unsqueeze(0)
    assert maxdiff(Vf @ Af @ Vf.conj().T, A.to(CDT)) < 1e-11 * N
    assert maxdiff(Vf @ full(Bt), B.to(CDT)) < 1e-11 * N
    assert torch.all(W.real == -0.5) and torch.all(W.imag < 0)


@pytest.mark.parametrize("init", ["legs", "inv", "lin"])
def test_inits_are_stable(init):
    torch.manual_seed(0)
    with default_float64():
        layer = S4(3, 16, init=init)
    A = layer.eigenvalues()
    assert A.shape == (3, 8) and torch.all(A.real < 0)
    assert torch.allclose(A.real, torch.full_like(A.real, -0.5))
    n = torch.arange(8, dtype=DT)
    expected = {"lin": math.pi * n, "inv": (16 / math.pi) * (16 / (2 * n + 1) - 1), "legs": legs_nplr(16)[0].imag}[init]
    assert maxdiff(A.imag, expected.expand(3, 8)) < 1e-12
    dt = torch.exp(layer.log_dt)
    assert torch.all(dt >= 1e-3 * (1 - 1e-12)) and torch.all(dt <= 1e-1 * (1 + 1e-12))


def test_dplr_init_has_hippo_spectrum():
    with default_float64():  # the spectrum of the non-normal LegS matrix is sensitive to rounding
        layer = S4(2, 8, mode="s4", l_max=4)
    A = dense_dplr(layer)[0]
    eig = torch.linalg.eigvals(A[0])  # similar to HiPPO-LegS, whose eigenvalues are its diagonal -(n+1)
    assert maxdiff(torch.sort(eig.real).values, -torch.arange(8, 0, -1, dtype=DT)) < 1e-6
    assert eig.imag.abs().max() < 1e-6


def test_bad_arguments():
    with pytest.raises(ValueError, match="init"):
        S4(4, 8, mode="s4", init="lin")
    with pytest.raises(ValueError, match="bilinear"):
        S4(4, 8, mode="s4", discretization="zoh")
    with pytest.raises(ValueError, match="diagonal"):
        S4(4, 8, mode="s4", kernel="scan")
    with pytest.raises(ValueError, match="even"):
        ssm_init("lin", 7)
    for kw in ({"mode": "s5"}, {"init": "foo"}, {"discretization": "euler"}, {"kernel": "x"}):
        with pytest.raises(ValueError):
            S4(4, 8, **kw)


def test_recurrent_parameters_are_parameters():
    for mode in ("s4d", "s4"):
        layer = S4(4, 8, mode=mode)
        names = dict(layer.named_parameters())
        assert set(layer.recurrent_parameters) <= set(names)
        assert ("P" in layer.recurrent_parameters) == (mode == "s4")
        assert "C" not in layer.recurrent_parameters and "C_tilde" not in layer.recurrent_parameters


# ----------------------------------------------------------------------------------------------- S4D
@pytest.mark.parametrize("disc,init", DIAG_CASES)
def test_s4d_kernel_and_forward_match_direct(disc, init):
    torch.manual_seed(1)
    layer = S4(3, 8, init=init, discretization=disc).to(DT)
    L = 17
    Abar, Bbar = direct_diag(layer)
    C = torch.view_as_complex(layer.C)
    K = torch.stack([2 * (C * Bbar * Abar**t).sum(-1).real for t in range(L)], dim=-1)
    assert maxdiff(layer.kernel_values(L), K) < 1e-12
    x = torch.randn(2, L, 3, dtype=DT)
    y, _ = layer(x)
    assert maxdiff(y, direct_conv(K, x, layer.D)) < 1e-12  # FFT padded: no wrap-around


@pytest.mark.parametrize("disc,init", DIAG_CASES)
def test_s4d_fft_scan_step_agree(disc, init):
    torch.manual_seed(2)
    fft = S4(4, 8, init=init, discretization=disc, kernel="fft").to(DT)
    scan = S4(4, 8, init=init, discretization=disc, kernel="scan", backend="torch").to(DT)
    ref = S4(4, 8, init=init, discretization=disc, kernel="scan", backend="reference").to(DT)
    scan.load_state_dict(fft.state_dict())
    ref.load_state_dict(fft.state_dict())
    x = torch.randn(3, 25, 4, dtype=DT)
    x0 = torch.randn(3, 4, 4, dtype=CDT)
    for state in (None, {"x": x0}):
        y_fft, s_fft = fft(x, state)
        y_scan, s_scan = scan(x, state)
        y_ref, s_ref = ref(x, state)
        y_step, s_step = run_steps(fft, x, state)
        for y, s in ((y_scan, s_scan), (y_ref, s_ref), (y_step, s_step)):
            assert maxdiff(y, y_fft) < 1e-10 and maxdiff(s["x"], s_fft["x"]) < 1e-10


@pytest.mark.parametrize("disc", ["zoh", "bilinear"])
def test_s4d_state_carry_explicit(disc):
    """From x0: output l gains 2 Re(C Abar^(l+1) x0), the state ends at Abar^L x0 + sum Abar^(L-1-l) Bbar u_l."""
    torch.manual_seed(3)
    layer = S4(2, 6, discretization=disc).to(DT)
    x = torch.randn(2, 9, 2, dtype=DT)
    x0 = torch.randn(2, 2, 3, dtype=CDT)
    y, s = layer(x, {"x": x0})
    y_zero, s_zero = layer(x)
    Abar, Bbar = direct_diag(layer)
    C = torch.view_as_complex(layer.C)
    extra = torch.stack([2 * (C * Abar ** (t + 1) * x0).sum(-1).real for t in range(9)], 1)
    assert maxdiff(y - y_zero, extra) < 1e-12
    xL = sum(Abar ** (8 - t) * Bbar * x[:, t, :, None] for t in range(9))
    assert maxdiff(s_zero["x"], xL) < 1e-12
    assert maxdiff(s["x"], xL + Abar**9 * x0) < 1e-12


def test_zoh_and_bilinear_differ():
    torch.manual_seed(4)
    zoh = S4(4, 8, discretization="zoh").to(DT)
    bil = S4(4, 8, discretization="bilinear").to(DT)
    bil.load_state_dict(zoh.state_dict())
    with torch.no_grad():
        zoh.log_dt.fill_(math.log(0.5))  # a coarse step makes the difference plain
        bil.log_dt.fill_(math.log(0.5))
    x = torch.randn(2, 30, 4, dtype=DT)
    y_z, _ = zoh(x)
    y_b, _ = bil(x)
    assert torch.isfinite(y_z).all() and torch.isfinite(y_b).all()
    assert maxdiff(y_z, y_b) > 1e-3 * y_z.abs().max()


# ----------------------------------------------------------------------------------------------- S4 (DPLR)
@pytest.mark.parametrize("l_max", [12, 13])
def test_dplr_kernel_matches_dense(l_max):
    torch.manual_seed(5)
    layer = S4(3, 8, mode="s4", l_max=l_max).to(DT)
    with torch.no_grad():  # move away from the init so that every term matters
        for p in (layer.P, layer.B, layer.A_imag):
            p.add_(0.3 * torch.randn_like(p))
        layer.log_dt.copy_(torch.log(torch.tensor([0.01, 0.3, 1.0], dtype=DT)))
    _, Abar, Bbar, C = dense_dplr(layer)
    powers = [torch.linalg.matrix_power(Abar, t) for t in range(l_max)]
    K = torch.stack([(C.unsqueeze(-2) @ Ap @ Bbar.unsqueeze(-1)).squeeze((-1, -2)) for Ap in powers], -1)
    assert K.imag.abs().max() < 1e-10  # conjugate-symmetric system: a real kernel
    for L in (l_max, 5):
        assert maxdiff(layer.kernel_values(L), K.real[:, :L]) < 1e-10
    assert maxdiff(layer.output_matrix(), C[:, :4]) < 1e-10
    x = torch.randn(2, l_max, 3, dtype=DT)
    assert maxdiff(layer(x)[0], direct_conv(K.real, x, layer.D)) < 1e-10
    with pytest.raises(ValueError, match="l_max"):
        layer.kernel_values(l_max + 1)


def test_dplr_step_chunks_and_long_inputs():
    torch.manual_seed(6)
    layer = S4(3, 8, mode="s4", l_max=10).to(DT)
    x = torch.randn(2, 27, 3, dtype=DT)  # longer than l_max: runs in chunks
    x0 = torch.randn(2, 3, 4, dtype=CDT)
    for state in (None, {"x": x0}):
        y, s = layer(x, state)
        y_step, s_step = run_steps(layer, x, state)
        assert maxdiff(y_step, y) < 1e-10 and maxdiff(s_step["x"], s["x"]) < 1e-10
        ya, sa = layer(x[:, :7], state)
        yb, sb = layer(x[:, 7:], sa)
        assert maxdiff(torch.cat([ya, yb], 1), y) < 1e-10 and maxdiff(sb["x"], s["x"]) < 1e-10
    # the state carry against the dense system
    _, Abar, Bbar, C = dense_dplr(layer)
    xf = full(x0)
    y0, _ = layer(x[:, :6])
    y1, s1 = layer(x[:, :6], {"x": x0})
    extra = torch.stack(
        [(C.unsqueeze(-2) @ torch.linalg.matrix_power(Abar, t + 1) @ xf.unsqueeze(-1)).squeeze((-1, -2))
         for t in range(6)], 1
    )
    assert maxdiff(y1 - y0, extra.real) < 1e-10
    xL = torch.linalg.matrix_power(Abar, 6) @ xf.unsqueeze(-1)
    driven = sum(torch.linalg.matrix_power(Abar, 5 - t) @ Bbar.unsqueeze(-1) * x[:, t, :, None, None] for t in range(6))
    xL = xL.squeeze(-1) + driven.squeeze(-1)
    assert maxdiff(s1["x"], xL[..., :4]) < 1e-10


def test_step_cache_follows_parameter_updates():
    torch.manual_seed(7)
    layer = S4(2, 8, mode="s4", l_max=8).to(DT)
    x = torch.randn(1, 1, 2, dtype=DT)
    with torch.no_grad():
        y1, _ = layer(x)
        layer.C_tilde.mul_(2.0)
        y2, _ = layer(x)
    ref, _ = layer(x)  # with autograd: computed afresh
    assert maxdiff(y2, ref) < 1e-12 and maxdiff(y1, y2) > 1e-6


# ----------------------------------------------------------------------------------------------- models
@pytest.mark.parametrize(
    "kw", [{"mode": "s4d"}, {"mode": "s4d", "discretization": "bilinear", "kernel": "scan"}, {"mode": "s4", "l_max": 6}]
)
def test_gradcheck_layer(kw):
    torch.manual_seed(9)
    layer = S4(2, 4, backend="torch", **kw).to(DT)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    x = torch.randn(2, 5, 2, dtype=DT, requires_grad=True)
    x0 = torch.randn(2, 2, 2, dtype=CDT, requires_grad=True)

    def f(x, x0, *ps):
        y, s = functional_call(layer, dict(zip(names, ps, strict=True)), (x, {"x": x0}))
        return y, torch.view_as_real(s["x"])

    assert torch.autograd.gradcheck(f, (x, x0, *params))
