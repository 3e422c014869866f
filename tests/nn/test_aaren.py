"""Aaren layer: direct-attention oracle, chunked state, gradcheck (the model contract: test_contract.py)."""

import math

import pytest
import torch

from tsrec.nn.aaren import Aaren

DT = torch.float64
BACKENDS = ["torch", "reference"]


def rel_err(a, b):
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


def direct_attention(layer: Aaren, x: torch.Tensor) -> torch.Tensor:
    """O(L^2) masked softmax attention of the learned query over the causal prefix."""
    B, L, _ = x.shape
    K, E = layer.n_heads, layer.d_head
    k = (x @ layer.key.weight.T).reshape(B, L, K, E)  # the key projection has no bias
    v = (x @ layer.value.weight.T + layer.value.bias).reshape(B, L, K, E)
    s = torch.einsum("blke,ke->bkl", k, layer.query) / math.sqrt(E)  # (B, K, L): score of each key
    scores = s.unsqueeze(2).expand(B, K, L, L)  # (B, K, t, i)
    mask = torch.ones(L, L, dtype=torch.bool).tril()
    weights = torch.softmax(scores.masked_fill(~mask, -torch.inf), dim=-1)
    o = torch.einsum("bkti,bike->btke", weights, v).reshape(B, L, K * E)
    return o @ layer.out.weight.T + layer.out.bias


@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_matches_direct_attention(backend):
    torch.manual_seed(0)
    layer = Aaren(12, n_heads=3, backend=backend).to(DT)
    x = torch.randn(3, 17, 12, dtype=DT) * 2
    y, state = layer(x)
    assert rel_err(y, direct_attention(layer, x)) < 1e-12
    assert state["l"].shape == (3, 3) and state["o"].shape == (3, 3, 4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_layer_chunks_and_init_state(backend):
    torch.manual_seed(1)
    layer = Aaren(8, n_heads=2, backend=backend).to(DT)
    x = torch.randn(2, 20, 8, dtype=DT)
    y_full, s_full = layer(x)
    y0, s = layer(x[:, :7], layer.init_state(2, dtype=DT))  # from an explicit empty state
    y1, s = layer(x[:, 7:8], s)
    y2, s = layer(x[:, 8:], s)
    assert rel_err(torch.cat([y0, y1, y2], 1), y_full) < 1e-12
    assert rel_err(s["o"], s_full["o"]) < 1e-12
    assert rel_err(s["l"], s_full["l"]) < 1e-12


def test_long_stream_stays_finite():
    # large scores: the log-sum-exp state must not overflow
    torch.manual_seed(4)
    layer = Aaren(4, n_heads=2).to(DT)
    with torch.no_grad():
        layer.query.mul_(50)
    x = torch.randn(1, 2000, 4, dtype=DT) * 5
    y, state = layer(x)
    assert torch.isfinite(y).all() and torch.isfinite(state["l"]).all()
    assert rel_err(y, direct_attention(layer, x)) < 1e-10


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_layer(backend):
    torch.manual_seed(6)
    layer = Aaren(4, n_heads=2, backend=backend).to(DT)
    x = torch.randn(2, 5, 4, dtype=DT, requires_grad=True)
    l0 = torch.randn(2, 2, dtype=DT, requires_grad=True)
    o0 = torch.randn(2, 2, 2, dtype=DT, requires_grad=True)

    def f(x, l0, o0):
        y, s = layer(x, {"l": l0, "o": o0})
        return y, s["l"], s["o"]

    assert torch.autograd.gradcheck(f, (x, l0, o0))


def test_bad_heads():
    with pytest.raises(ValueError, match="divide"):
        Aaren(10, n_heads=3)
