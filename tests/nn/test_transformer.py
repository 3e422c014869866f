"""Causal attention with RoPE and a bounded KV cache: direct oracle, step and chunks, bounded state.

The model contract (step == forward, chunks, gradients) is checked in test_contract.py.
"""

import math

import pytest
import torch

from tsrec.nn.transformer import CausalSelfAttention, rope

DT = torch.float64


def rel_err(a, b):
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


def direct_rope(x, pos, base=10000.0):
    """RoPE written per pair, as a loop-free oracle: (x_i, x_{i+D/2}) rotated by pos * base^(-2i/D)."""
    D = x.shape[-1]
    out = torch.empty_like(x)
    for i in range(D // 2):
        theta = pos.to(DT) * base ** (-2 * i / D)  # (B, L)
        c, s = torch.cos(theta)[..., None], torch.sin(theta)[..., None]
        out[..., i] = x[..., i] * c - x[..., i + D // 2] * s
        out[..., i + D // 2] = x[..., i] * s + x[..., i + D // 2] * c
    return out


def direct_attention(layer: CausalSelfAttention, x: torch.Tensor, window) -> torch.Tensor:
    """O(L^2) masked softmax over the whole sequence: key j visible to query t iff 0 <= t - j <= window."""
    B, L, d = x.shape
    H, D = layer.n_heads, layer.d_head
    qkv = (x @ layer.qkv.weight.T + layer.qkv.bias).reshape(B, L, 3, H, D)
    pos = torch.arange(L).expand(B, L)
    q, k, v = direct_rope(qkv[:, :, 0], pos), direct_rope(qkv[:, :, 1], pos), qkv[:, :, 2]
    scores = torch.einsum("bthd,bjhd->bhtj", q, k) / math.sqrt(D)
    t = torch.arange(L)
    dist = t[:, None] - t[None, :]
    mask = dist >= 0
    if window is not None:
        mask &= dist <= window
    weights = torch.softmax(scores.masked_fill(~mask, -torch.inf), dim=-1)
    o = torch.einsum("bhtj,bjhd->bthd", weights, v).reshape(B, L, d)
    return o @ layer.out.weight.T + layer.out.bias


def test_rope_matches_pairwise_and_is_relative():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 3, 8, dtype=DT)
    pos = torch.randint(0, 10**6, (2, 5))
    assert rel_err(rope(x, pos), direct_rope(x, pos)) < 1e-12
    # scores depend only on the distance, even far into a stream and in float32
    q, k = torch.randn(1, 1, 1, 16), torch.randn(1, 1, 1, 16)
    near = (rope(q, torch.tensor([[7]])) * rope(k, torch.tensor([[3]]))).sum()
    far = (rope(q, torch.tensor([[10**9 + 7]])) * rope(k, torch.tensor([[10**9 + 3]]))).sum()
    assert abs(near - far) < 1e-5 * (q.norm() * k.norm())


@pytest.mark.parametrize("window", [None, 1, 4, 100])
def test_layer_matches_direct_attention(window):
    torch.manual_seed(1)
    layer = CausalSelfAttention(12, n_heads=3, window=window, max_cache=64).to(DT)
    x = torch.randn(2, 19, 12, dtype=DT)
    y, state = layer(x)
    assert rel_err(y, direct_attention(layer, x, window)) < 1e-12
    assert state["k"].shape == (2, layer.cache_size, 3, 4) and state["pos"].tolist() == [19, 19]


@pytest.mark.parametrize("window,L", [(5, 23), (40, 23), (None, 23)])
def test_layer_step_and_chunks_match_direct(window, L):
    # beyond the window (5 < 23), within it (40), and full attention within max_cache (None)
    torch.manual_seed(2)
    layer = CausalSelfAttention(8, n_heads=2, window=window, max_cache=32).to(DT)
    x = torch.randn(3, L, 8, dtype=DT)
    ref = direct_attention(layer, x, window)
    state, outs = layer.init_state(3, dtype=DT), []
    for x_t in x.unbind(1):
        y_t, state = layer(x_t.unsqueeze(1), state)
        outs.append(y_t)
    assert rel_err(torch.cat(outs, 1), ref) < 1e-12
    # uneven chunks, some longer than the window, from a fresh (None) state
    ys, state = [], None
    for a, b in [(0, 7), (7, 8), (8, 20), (20, L)]:
        y, state = layer(x[:, a:b], state)
        ys.append(y)
    assert rel_err(torch.cat(ys, 1), ref) < 1e-12


def test_rows_at_different_positions():
    # states of series at different points of their streams can share a batch
    torch.manual_seed(3)
    layer = CausalSelfAttention(8, n_heads=2, window=6).to(DT)
    xa, xb = torch.randn(1, 9, 8, dtype=DT), torch.randn(1, 3, 8, dtype=DT)
    nxt = torch.randn(2, 5, 8, dtype=DT)
    _, sa = layer(xa)
    _, sb = layer(xb)
    joint = {k: torch.cat([sa[k], sb[k]]) for k in sa}
    y, s = layer(nxt, joint)
    ya, _ = layer(nxt[:1], sa)
    yb, _ = layer(nxt[1:], sb)
    assert rel_err(y, torch.cat([ya, yb])) < 1e-12
    assert rel_err(ya, direct_attention(layer, torch.cat([xa, nxt[:1]], 1), 6)[:, 9:]) < 1e-12
    assert rel_err(yb, direct_attention(layer, torch.cat([xb, nxt[1:]], 1), 6)[:, 3:]) < 1e-12
    assert s["pos"].tolist() == [14, 8]


def test_no_window_cache_is_bounded():
    # window=None keeps the last max_cache steps: stepping sees at most max_cache past steps
    torch.manual_seed(4)
    layer = CausalSelfAttention(8, n_heads=2, window=None, max_cache=6).to(DT)
    x = torch.randn(2, 20, 8, dtype=DT)
    state, outs = layer.init_state(2, dtype=DT), []
    for x_t in x.unbind(1):
        y_t, state = layer(x_t.unsqueeze(1), state)
        assert state["k"].shape == (2, 6, 2, 4)
        outs.append(y_t)
    steps = torch.cat(outs, 1)
    assert rel_err(steps[:, :7], layer(x[:, :7])[0]) < 1e-12  # full attention up to max_cache + 1 steps
    assert rel_err(steps, direct_attention(layer, x, 6)) < 1e-12  # then a window of max_cache


def test_gradcheck_layer_with_cache():
    torch.manual_seed(7)
    layer = CausalSelfAttention(4, n_heads=1, window=3).to(DT)
    _, state = layer(torch.randn(2, 2, 4, dtype=DT))  # cache partly filled
    k0 = state["k"].clone().requires_grad_()
    v0 = state["v"].clone().requires_grad_()
    x = torch.randn(2, 4, 4, dtype=DT, requires_grad=True)

    def f(x, k0, v0):
        y, s = layer(x, {"k": k0, "v": v0, "pos": state["pos"]})
        return y, s["k"], s["v"]

    assert torch.autograd.gradcheck(f, (x, k0, v0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="divide"):
        CausalSelfAttention(10, n_heads=3)
    with pytest.raises(ValueError, match="even"):
        CausalSelfAttention(6, n_heads=2)
    with pytest.raises(ValueError, match="window"):
        CausalSelfAttention(8, n_heads=2, window=0)
