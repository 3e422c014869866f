"""LRU layer: the equations and the ring init (the model contract is checked in test_contract.py)."""

from __future__ import annotations

import math

import torch

from tsrec.nn.lru import LRU


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
