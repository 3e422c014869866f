"""The model contract of DESIGN.md, checked once for all five model families.

Every tsrec network is a ``Stack``::

    forward(x, state=None) -> (yhat, state)   x (B, L, c_in), yhat (B, L, horizon, c_out)
    step(x_t, state)       -> (yhat_t, state) x_t (B, c_in), yhat_t (B, horizon, c_out)
    init_state(batch_size) -> state           a dict of batch-first tensors

and must give the same numbers however the sequence is fed: in one call, in chunks with the
carried state, or one step at a time. Each model's own file tests its equations and inits; this
file tests the contract they share. ``CASES`` holds the small settings for each model class (and
for the variants whose code paths differ), beside the state each must carry.
"""

from __future__ import annotations

import pytest
import torch

from tsrec.nn.aaren import AarenModel
from tsrec.nn.lem import LEMModel
from tsrec.nn.lru import LRUModel
from tsrec.nn.s4 import S4Model
from tsrec.nn.transformer import TransformerModel

DT = torch.float64
B, L, C_IN, C_OUT, H, D_MODEL, N_LAYERS = 3, 25, 3, 2, 4, 8, 2


def _state(**per_layer):
    """The expected state: key -> shape for each of the N_LAYERS layers."""
    return {f"{i}.{k}": shape for i in range(N_LAYERS) for k, shape in per_layer.items()}


# id -> (model class, small settings, expected state {key: shape}, tolerance of the float64 comparisons)
CASES = {
    "lru": (LRUModel, dict(d_state=4), _state(h=(B, 4)), 1e-10),
    "lem": (LEMModel, dict(d_hidden=6), _state(y=(B, 6), z=(B, 6)), 1e-10),
    "s4d-fft": (S4Model, dict(d_state=8, mode="s4d", kernel="fft", l_max=16), _state(x=(B, D_MODEL, 4)), 1e-10),
    "s4d-scan": (S4Model, dict(d_state=8, mode="s4d", kernel="scan", l_max=16), _state(x=(B, D_MODEL, 4)), 1e-10),
    "s4-dplr": (S4Model, dict(d_state=8, mode="s4", l_max=16), _state(x=(B, D_MODEL, 4)), 1e-10),  # L > l_max
    "aaren-torch": (AarenModel, dict(n_heads=2, backend="torch"), _state(l=(B, 2), o=(B, 2, 4)), 1e-12),
    "aaren-reference": (AarenModel, dict(n_heads=2, backend="reference"), _state(l=(B, 2), o=(B, 2, 4)), 1e-12),
    # a window far shorter than the sequence, and full attention within the cache
    "transformer-window": (TransformerModel, dict(n_heads=2, window=4, max_cache=64),
                           _state(k=(B, 4, 2, 4), v=(B, 4, 2, 4), pos=(B,)), 1e-12),
    "transformer-full": (TransformerModel, dict(n_heads=2, window=None, max_cache=64),
                         _state(k=(B, 64, 2, 4), v=(B, 64, 2, 4), pos=(B,)), 1e-12),
}


def build(case: str, seed: int = 0, **kw) -> torch.nn.Module:
    cls, settings, _, _ = CASES[case]
    torch.manual_seed(seed)
    params = dict(c_in=C_IN, c_out=C_OUT, horizon=H, d_model=D_MODEL, n_layers=N_LAYERS, **settings)
    return cls(**{**params, **kw})


def maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def assert_same_state(a: dict, b: dict, tol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].shape == b[k].shape and a[k].dtype == b[k].dtype, k
        if a[k].is_floating_point() or a[k].is_complex():
            assert maxdiff(a[k], b[k]) < tol, k
        else:  # positions and counters: exact
            assert torch.equal(a[k], b[k]), k


@pytest.fixture(params=list(CASES))
def case(request):
    return request.param


def test_forward_shapes_and_batch_first_state(case):
    _, _, expected, tol = CASES[case]
    model = build(case).to(DT).eval()
    x = torch.randn(B, L, C_IN, dtype=DT)
    yhat, state = model(x)
    assert yhat.shape == (B, L, H, C_OUT) and yhat.dtype == DT and torch.isfinite(yhat).all()
    assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
    assert {k: tuple(v.shape) for k, v in state.items()} == expected  # batch first, O(1) in L
    init = model.init_state(B)
    assert {k: tuple(v.shape) for k, v in init.items()} == expected
    assert all(v.device == x.device for v in init.values())
    # an explicit empty state is the same as none
    y0, s0 = model(x, init)
    assert maxdiff(y0, yhat) < tol
    assert_same_state(s0, state, tol)


def test_step_equals_forward(case):
    _, _, expected, tol = CASES[case]
    model = build(case, seed=1).to(DT).eval()
    x = torch.randn(B, L, C_IN, dtype=DT)
    yhat, final = model(x)
    state, outs = model.init_state(B), []
    for x_t in x.unbind(1):
        y_t, state = model.step(x_t, state)
        assert y_t.shape == (B, H, C_OUT)
        assert {k: tuple(v.shape) for k, v in state.items()} == expected  # the state does not grow
        outs.append(y_t)
    assert maxdiff(torch.stack(outs, 1), yhat) < tol
    assert_same_state(state, final, tol)


def test_chunked_forward_equals_one_forward(case):
    _, _, _, tol = CASES[case]
    model = build(case, seed=2).to(DT).eval()
    x = torch.randn(B, L, C_IN, dtype=DT)
    yhat, final = model(x)
    ys, state = [], None
    for a, b in [(0, 9), (9, 10), (10, 22), (22, L)]:  # uneven chunks, one a single step
        y, state = model(x[:, a:b], state)
        ys.append(y)
    assert maxdiff(torch.cat(ys, 1), yhat) < tol
    assert_same_state(state, final, tol)


@pytest.mark.parametrize("dtype", [torch.float32, DT])
def test_state_after_is_the_forward_state_bit_for_bit(case, dtype):
    """``state_after`` (a stream's state advance) skips the forecasts' work and gives the state of ``forward``,
    the same numbers, from a fresh state and from a carried one, also inside the causal instance norm."""
    from tsrec.nn.causal_norm import CausalInstanceNorm

    model = build(case, seed=3).to(dtype).eval()
    x = 5 + 2 * torch.randn(B, L, C_IN, dtype=dtype)
    for net in (model, CausalInstanceNorm(model, n_norm=C_IN, span=8.0)):
        with torch.no_grad():
            _, carried = net(x[:, :7])
            for state in (None, carried):
                want, got = net(x[:, 7:], state)[1], net.state_after(x[:, 7:], state)
                assert want.keys() == got.keys()
                for k in want:
                    assert torch.equal(got[k], want[k]), k


def test_forward_last_from_a_state_is_the_forward_at_the_last_step(case):
    """``forward_last(x, state)`` (a stream's forecast after its buffer) is ``forward(x, state)[0][:, -1]``, also
    inside the causal instance norm: the same sums over fewer rows (float64 here, so equal to rounding)."""
    from tsrec.nn.causal_norm import CausalInstanceNorm

    model = build(case, seed=4).to(DT).eval()
    x = 5 + 2 * torch.randn(B, L, C_IN, dtype=DT)
    for net in (model, CausalInstanceNorm(model, n_norm=C_IN, span=8.0)):
        with torch.no_grad():
            _, carried = net(x[:, :7])
            for state in (None, carried):
                assert maxdiff(net.forward_last(x[:, 7:], state), net(x[:, 7:], state)[0][:, -1]) < 1e-10


def test_causal_and_rows_independent(case):
    """yhat[:, t] depends on x[:, :t + 1] of its own row only."""
    _, _, _, tol = CASES[case]
    model = build(case, seed=3).to(DT).eval()
    x = torch.randn(B, L, C_IN, dtype=DT)
    yhat, _ = model(x)
    later = x.clone()
    later[:, 12:] = torch.randn(B, L - 12, C_IN, dtype=DT) * 10
    y_later, _ = model(later)
    assert maxdiff(y_later[:, :12], yhat[:, :12]) < tol
    assert maxdiff(y_later[:, 12:], yhat[:, 12:]) > 1e-3  # and the later steps do see the change
    other = x.clone()
    other[1:] = torch.randn(B - 1, L, C_IN, dtype=DT) * 10
    y_other, _ = model(other)
    assert maxdiff(y_other[0], yhat[0]) < tol


def test_gradients_flow_through_chunks_and_state(case):
    """Training mode with dropout, two chunks with the carried state: every parameter gets a finite
    gradient, the inputs too, and every parameter of each layer's mixer a non-zero one."""
    model = build(case, seed=4, dropout=0.1).train()
    x = torch.randn(B, 16, C_IN, requires_grad=True)
    ya, state = model(x[:, :9], model.init_state(B))
    yb, state = model(x[:, 9:], state)
    loss = torch.cat([ya, yb], 1).square().mean()
    loss = loss + sum(v.real.sum() if v.is_complex() else v.sum() for v in state.values() if v.is_floating_point()
                      or v.is_complex()) * 1e-3
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert x.grad is not None and torch.isfinite(x.grad).all()
    for i, block in enumerate(model.blocks):
        for name, p in block.mixer.named_parameters():
            assert p.grad.abs().sum() > 0, f"block {i} mixer {name}"


@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_skip_last_adds_the_last_target_value(case, n_quantiles):
    """With a zeroed head the forecast is persistence: the last value of each target (the first
    c_out // n_quantiles input channels), never of a covariate, at every horizon step (and quantile)."""
    n_targets = C_OUT
    model = build(case, seed=5, c_out=n_targets * n_quantiles, n_quantiles=n_quantiles).to(DT).eval()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    x = torch.randn(B, L, C_IN, dtype=DT)
    x[..., n_targets:] += 100.0  # covariates far from the targets
    yhat, _ = model(x)
    expected = x[:, :, None, :n_targets].repeat_interleave(n_quantiles, dim=-1).expand(B, L, H, -1)
    assert torch.equal(yhat, expected)
    no_skip = build(case, seed=5, c_out=n_targets * n_quantiles, n_quantiles=n_quantiles, skip_last=False).to(DT)
    with torch.no_grad():
        no_skip.head.weight.zero_()
        no_skip.head.bias.zero_()
    assert torch.equal(no_skip(x)[0], torch.zeros_like(yhat))
