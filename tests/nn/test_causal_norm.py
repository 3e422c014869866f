"""CausalInstanceNorm: running statistics against a float64 loop, the stream contract, gradients, levels."""

from __future__ import annotations

import pytest
import torch

from tsrec.nn.causal_norm import MEAN, SQ, CausalInstanceNorm
from tsrec.nn.lru import LRUModel
from tsrec.nn.s4 import S4Model

DT = torch.float64


def build(span: float = 8.0, n_quantiles: int = 1, seed: int = 0, inner_cls=LRUModel, eps: float = 1e-5,
          **kw) -> CausalInstanceNorm:
    torch.manual_seed(seed)
    inner = inner_cls(c_in=3, c_out=2 * n_quantiles, horizon=4, d_model=8, n_layers=2, n_quantiles=n_quantiles,
                      **kw)
    return CausalInstanceNorm(inner, n_norm=3, span=span, n_quantiles=n_quantiles, eps=eps).to(DT)


def test_statistics_equal_a_float64_loop():
    torch.manual_seed(1)
    model = build(span=6.0, d_state=4)
    x = 4 + 3 * torch.randn(2, 30, 3, dtype=DT)
    _, state = model(x)
    beta, mean, sq = 1 - 1 / 6.0, torch.zeros(2, 3, dtype=DT), torch.ones(2, 3, dtype=DT)
    for t in range(30):
        mean, sq = beta * mean + (1 - beta) * x[:, t], beta * sq + (1 - beta) * x[:, t] ** 2
    assert torch.allclose(state[MEAN], mean, rtol=1e-12, atol=0)
    assert torch.allclose(state[SQ], sq, rtol=1e-12, atol=0)


@pytest.mark.parametrize("inner_cls, kw", [(LRUModel, dict(d_state=4)), (S4Model, dict(d_state=8, l_max=16))])
def test_one_call_equals_chunks_equals_steps(inner_cls, kw):
    torch.manual_seed(2)
    model = build(inner_cls=inner_cls, **kw).eval()
    x = 10 + 5 * torch.randn(3, 25, 3, dtype=DT)
    y, state = model(x)
    y1, s1 = model(x[:, :11])
    y2, s2 = model(x[:, 11:], s1)
    assert (torch.cat([y1, y2], 1) - y).abs().max() < 1e-10
    steps, st = [], None
    for t in range(25):
        yt, st = model.step(x[:, t], st)
        steps.append(yt)
    assert (torch.stack(steps, 1) - y).abs().max() < 1e-10
    for k in state:
        assert (st[k] - state[k]).abs().max() < 1e-10, k
    assert torch.isfinite(y).all()


def test_forecast_follows_the_level_and_scale_of_the_input():
    """Scaled and shifted inputs (after the statistics have settled) give the same forecasts, scaled and shifted:
    the model sees the same normalised rows. The starting prior (0, 1) is the only thing not scaled, so it is
    set to the transformed series' own start, and ``eps`` (not scaled either) is negligible."""
    torch.manual_seed(3)
    model = build(span=4.0, d_state=4, eps=1e-14).eval()
    x = torch.randn(2, 40, 3, dtype=DT)
    a, b = 7.0, -3.0
    s0 = model.init_state(2, dtype=DT)
    s_ab = {**s0, MEAN: a * s0[MEAN] + b, SQ: a * a * s0[SQ] + 2 * a * b * s0[MEAN] + b * b}
    y, _ = model(x, s0)
    y_ab, _ = model(a * x + b, s_ab)
    assert (y_ab - (a * y + b)).abs().max() < 1e-9


def test_quantile_channels_share_their_target_statistics():
    torch.manual_seed(4)
    model = build(n_quantiles=3, d_state=4)
    x = 50 + torch.randn(1, 12, 3, dtype=DT)
    y, _ = model(x)
    assert y.shape == (1, 12, 4, 6)
    assert (y.mean() - 50).abs() < 10  # back in the input's units, around its level


def test_gradcheck():
    model = build(span=3.0, d_state=4)
    x = (2 + torch.randn(1, 6, 3, dtype=DT)).requires_grad_()
    assert torch.autograd.gradcheck(lambda v: model(v)[0], (x,))


def test_bad_arguments():
    inner = LRUModel(c_in=3, c_out=2, horizon=4, d_model=8, d_state=4, n_layers=1)
    with pytest.raises(ValueError, match="span"):
        CausalInstanceNorm(inner, n_norm=3, span=1.0)
    with pytest.raises(ValueError, match="n_norm"):
        CausalInstanceNorm(inner, n_norm=4, span=8)
    with pytest.raises(ValueError, match="targets"):
        CausalInstanceNorm(inner, n_norm=1, span=8)
    with pytest.raises(ValueError, match="expected x"):
        CausalInstanceNorm(inner, n_norm=3, span=8)(torch.randn(1, 5, 2))
