"""LRU layer and model: equations, init, step == forward, state carry."""

from __future__ import annotations

import math

import torch

from tsrec.nn.lru import LRU, LRUModel


def direct_lru(layer: LRU, x: torch.Tensor) -> torch.Tensor:
    """The LRU equations written out, one step at a time, in complex128."""
    lam = torch.exp(torch.complex(-torch.exp(layer.nu_log), torch.exp(layer.theta_log))).to(torch.complex128)
    gamma = torch.exp(layer.gamma_log).to(torch.complex128)
    B = torch.complex(layer.B_re, layer.B_im).to(torch.complex128)
    C = torch.complex(layer.C_re, layer.C_im).to(torch.complex128)
    h = torch.zeros(x.shape[0], layer.d_state, dtype=torch.complex128)
    ys = []
    for t in range(x.shape[1]):
        h = lam * h + gamma * (x[:, t].to(torch.complex128) @ B.T)
        ys.append((h @ C.T).real + layer.D * x[:, t])
    return torch.stack(ys, 1)


def test_layer_matches_equations():
    torch.manual_seed(0)
    layer = LRU(8, 6).double()
    x = torch.randn(3, 17, 8, dtype=torch.float64)
    y, state = layer(x)
    ref = direct_lru(layer, x)
    assert torch.allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert state["h"].shape == (3, 6)


def test_ring_init():
    torch.manual_seed(0)
    layer = LRU(4, 4096, r_min=0.4, r_max=0.9, max_phase=math.pi / 4)
    mod = layer.eigenvalues().abs()
    assert mod.min() >= 0.4 - 1e-6 and mod.max() <= 0.9 + 1e-6
    # uniform by area: P(|lambda|^2 < (r_min^2 + r_max^2) / 2) = 1/2
    frac = (mod**2 < (0.4**2 + 0.9**2) / 2).float().mean().item()
    assert abs(frac - 0.5) < 0.05
    assert layer.eigenvalues().angle().max() <= math.pi / 4 + 1e-6
    gamma = torch.exp(layer.gamma_log)
    assert torch.allclose(gamma, torch.sqrt(1 - mod**2), atol=1e-6)


def test_model_step_equals_forward_and_chunks():
    torch.manual_seed(1)
    model = LRUModel(3, 2, horizon=5, d_model=8, d_state=4, n_layers=2).double().eval()
    x = torch.randn(2, 23, 3, dtype=torch.float64)
    y, final = model(x)
    assert y.shape == (2, 23, 5, 2)
    state = model.init_state(2)
    steps = []
    for t in range(23):
        yt, state = model.step(x[:, t], state)
        steps.append(yt)
    assert (torch.stack(steps, 1) - y).abs().max() < 1e-10
    y1, s1 = model(x[:, :9])
    y2, s2 = model(x[:, 9:], s1)
    assert (torch.cat([y1, y2], 1) - y).abs().max() < 1e-10
    assert all((s2[k] - final[k]).abs().max() < 1e-10 for k in final)


def test_gradients_finite():
    torch.manual_seed(2)
    model = LRUModel(2, 2, horizon=3, d_model=8, d_state=4)
    y, _ = model(torch.randn(4, 50, 2))
    y.square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
