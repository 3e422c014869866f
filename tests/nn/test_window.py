"""WindowModel: instance normalisation, segments aligned to the window end, the direct head, every body."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.nn.aaren import AarenModel
from tsrec.nn.damped import damped_forecast
from tsrec.nn.lem import LEMModel
from tsrec.nn.lru import LRUModel
from tsrec.nn.ridge import cross_forecast, ridge_sums, solve_ridge
from tsrec.nn.s4 import S4Model
from tsrec.nn.theta import one_season_forecast, theta_forecast
from tsrec.nn.transformer import TransformerModel
from tsrec.nn.window import (
    PARTNERS,
    PeriodLinear,
    WindowModel,
    memoised_partners,
    partner_forecast,
    seasonal_naive,
    window_moments,
)

BODIES = {
    "lru": lambda c_in, c_out, h: LRUModel(c_in, c_out, h, d_model=8, d_state=4, n_layers=2, skip_last=False),
    "lem": lambda c_in, c_out, h: LEMModel(c_in, c_out, h, d_model=8, d_hidden=8, skip_last=False),
    "s4": lambda c_in, c_out, h: S4Model(c_in, c_out, h, d_model=8, d_state=4, n_layers=1, skip_last=False),
    "aaren": lambda c_in, c_out, h: AarenModel(c_in, c_out, h, d_model=8, n_heads=2, n_layers=1, skip_last=False),
    "transformer": lambda c_in, c_out, h: TransformerModel(c_in, c_out, h, d_model=8, n_heads=2, n_layers=1,
                                                           window=None, skip_last=False),
}


def window_model(body: str, c_in=3, n_targets=2, horizon=5, context=20, patch_len=6, n_quantiles=1, **kw):
    c_out = n_targets * n_quantiles
    channels = WindowModel.body_channels(c_in, c_out, patch_len, kw.get("channel_independent", False), n_quantiles)
    return WindowModel(BODIES[body](*channels, horizon), c_in, c_out, horizon, context, patch_len,
                       n_quantiles=n_quantiles, **kw)


def stepped(model, z):
    """The normalised forecast of ``model`` (context 20, patch 6, 3 channels, 2 targets) from its normalised
    window ``z`` (4, 20, 3), by hand: the body stepped over the four segments (the oldest padded at the front
    with zeros), plus the linear path."""
    segs = torch.cat([torch.zeros(4, 4, 3, dtype=z.dtype), z], 1).reshape(4, 4, 18)
    state = model.body.init_state(4)
    for k in range(4):
        y, state = model.body.step(segs[:, k], state)
    return y + model.linear(z[..., :2].transpose(1, 2)).transpose(1, 2)


@pytest.mark.parametrize("body", BODIES)
def test_forecast_equals_body_stepped_over_the_segments(body):
    """The forecast is the body's output after the last segment: stepping the body one segment at a time
    (its O(1) streaming step) gives the same, with the oldest segment padded at the front (20 = 4 x 6 - 4)."""
    torch.manual_seed(0)
    model = window_model(body).double().eval()
    with torch.no_grad():
        model.linear.weight.normal_()  # the linear path takes part in the check too
    x = torch.randn(4, 20, 3, dtype=torch.float64) * 3 + 1
    out = model(x)
    assert out.shape == (4, 5, 2)
    mean, std = x.mean(1, keepdim=True), torch.sqrt(x.var(1, keepdim=True, unbiased=False) + model.eps)
    z = (x - mean) / std
    expected = stepped(model, z) * std[..., :2] + mean[..., :2]
    torch.testing.assert_close(out, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("body", ["lru", "aaren"])
def test_last_value_norm_equals_the_body_on_the_window_minus_its_last_row(body):
    """instance_norm="last": the body and the linear path read the window minus its last row (per channel), and
    that row's targets are added back to the forecast; no scaling. Checked against the segments stepped by hand
    (float64, fresh random weights and window)."""
    torch.manual_seed(3)
    model = window_model(body, instance_norm="last").double().eval()
    with torch.no_grad():
        for prm in model.parameters():
            prm.normal_(0, 0.3)
    x = torch.randn(4, 20, 3, dtype=torch.float64) * 3 + 1
    last = x[:, -1:]
    z = x - last
    torch.testing.assert_close(model(x), stepped(model, z) + last[..., :2], rtol=1e-9, atol=1e-9)
    # shift-equivariant, not scale-equivariant: a level shift moves the forecast by the same amount
    b = torch.tensor([-5.0, 3.0, 7.0], dtype=torch.float64)
    torch.testing.assert_close(model(x + b), model(x) + b[:2], rtol=1e-9, atol=1e-9)
    assert not torch.allclose(model(10 * x), 10 * model(x), rtol=1e-3)


def test_last_value_norm_has_gradients_and_rejects_other_values():
    torch.manual_seed(4)
    model = window_model("lru", context=12, patch_len=4, instance_norm="last").double()
    x = torch.randn(2, 12, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: model(v), (x,), eps=1e-6, atol=1e-5)
    with pytest.raises(ValueError, match="instance_norm must be True, False, 'robust' or 'last'"):
        window_model("lru", instance_norm="mean")


@pytest.mark.parametrize("body", ["lru", "s4"])
def test_instance_norm_makes_the_forecast_equivariant(body):
    """Each window is normalised by its own statistics: scaling and shifting a channel's window scales and
    shifts its forecast the same way (and covariates' scale does not matter)."""
    torch.manual_seed(1)
    model = window_model(body, eps=1e-14).double().eval()  # exact up to eps / var
    x = torch.randn(3, 20, 3, dtype=torch.float64)
    a = torch.tensor([10.0, 0.1, 1000.0], dtype=torch.float64)
    b = torch.tensor([-5.0, 3.0, 7.0], dtype=torch.float64)
    torch.testing.assert_close(model(x * a + b), model(x) * a[:2] + b[:2], rtol=1e-8, atol=1e-8)
    raw = window_model(body, instance_norm=False).double().eval()
    raw.load_state_dict(model.state_dict())
    assert not torch.allclose(raw(x * a + b), raw(x) * a[:2] + b[:2], rtol=1e-3)


@pytest.mark.parametrize("body", ["lru", "s4"])
def test_robust_norm_makes_the_forecast_equivariant(body):
    """The robust statistics (median, median absolute deviation, clipped moments) move with a channel's
    scale and shift as the plain ones do."""
    torch.manual_seed(5)
    model = window_model(body, instance_norm="robust", eps=1e-14).double().eval()
    x = torch.randn(3, 20, 3, dtype=torch.float64)
    x[0, 2:5] -= 40.0  # a fault in one window: clipped in its statistics
    a = torch.tensor([10.0, 0.1, 1000.0], dtype=torch.float64)
    b = torch.tensor([-5.0, 3.0, 7.0], dtype=torch.float64)
    torch.testing.assert_close(model(x * a + b), model(x) * a[:2] + b[:2], rtol=1e-8, atol=1e-8)


def test_robust_moments_are_the_plain_ones_on_clean_windows():
    """Windows without values beyond five robust standard deviations are not clipped: the same moments."""
    torch.manual_seed(6)
    x = torch.randn(64, 96, 3, dtype=torch.float64) * torch.rand(64, 1, 3, dtype=torch.float64) * 10
    x = x.clamp(-2.5 * x.std(1, keepdim=True), 2.5 * x.std(1, keepdim=True))  # nothing far from the median
    for plain, robust in zip(window_moments(x, 1e-5), window_moments(x, 1e-5, robust=True)):
        torch.testing.assert_close(robust, plain, rtol=1e-12, atol=1e-12)


def test_robust_moments_ignore_a_fault_and_keep_a_window_of_mostly_one_value():
    torch.manual_seed(7)
    clean = torch.randn(8, 100, 1, dtype=torch.float64)
    faulty = clean.clone()
    faulty[:, 40:50] = -30.0  # a sensor fault over a tenth of the window
    std_clean = window_moments(clean, 1e-5)[1]
    std_plain, std_robust = window_moments(faulty, 1e-5)[1], window_moments(faulty, 1e-5, robust=True)[1]
    assert (std_plain > 6 * std_clean).all()  # the fault sets the plain scale
    assert (std_robust < 2.5 * std_clean).all() and (std_robust > 0.8 * std_clean).all()  # clipped at 5 robust sd
    # over half the window at one value (an intermittent series): the median absolute deviation is 0, and the
    # window is not clipped, so its spikes still set the scale
    sparse = torch.zeros(8, 100, 1, dtype=torch.float64)
    sparse[:, ::10] = torch.rand(8, 10, 1, dtype=torch.float64) * 5 + 1
    for plain, robust in zip(window_moments(sparse, 1e-5), window_moments(sparse, 1e-5, robust=True)):
        torch.testing.assert_close(robust, plain, rtol=1e-12, atol=1e-12)
    assert torch.isfinite(window_moments(torch.ones(2, 10, 1), 1e-5, robust=True)[1]).all()  # a constant window


def test_untrained_heads_forecast_the_window_mean():
    """Both heads start at zero weight: before training the forecast is the mean of each target's window."""
    torch.manual_seed(2)
    model = window_model("lru").double().eval()
    with torch.no_grad():
        model.body.head.weight.zero_()
        model.body.head.bias.zero_()
    x = torch.randn(2, 20, 3, dtype=torch.float64) + torch.tensor([4.0, -2.0, 0.0], dtype=torch.float64)
    expected = x[..., :2].mean(1, keepdim=True).expand(2, 5, 2)
    torch.testing.assert_close(model(x), expected, rtol=1e-12, atol=1e-12)


def test_quantile_channels_share_their_targets_scale():
    torch.manual_seed(3)
    model = window_model("lru", n_quantiles=3, eps=1e-14).double().eval()
    x = torch.randn(2, 20, 3, dtype=torch.float64)
    out, scaled = model(x), model(x * 100 + 1)
    assert out.shape == (2, 5, 6)
    torch.testing.assert_close(scaled, out * 100 + 1, rtol=1e-8, atol=1e-8)


def test_affine_is_inverted_on_the_output():
    """A learned affine after the normalisation is undone on the forecast: with heads that copy the last
    normalised value, the forecast is the last observed value whatever the affine."""
    torch.manual_seed(4)
    model = window_model("lru", affine=True, context=12, patch_len=4, n_targets=1, c_in=1).double().eval()
    with torch.no_grad():
        model.body.head.weight.zero_()
        model.body.head.bias.zero_()
        model.linear.weight.zero_()
        model.linear.weight[:, -1] = 1.0  # the last normalised (affine) value, for every step
        model.affine_weight.fill_(2.5)
        model.affine_bias.fill_(-0.7)
    x = torch.randn(3, 12, 1, dtype=torch.float64)
    torch.testing.assert_close(model(x), x[:, -1:].expand(3, 5, 1), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_channel_independence_is_each_target_alone(n_quantiles):
    """With channel independence each target is forecast by the shared body from its own values and the
    covariates: the same as the model run on that target alone (with the covariates), targets batched."""
    torch.manual_seed(6)
    model = window_model("lru", c_in=4, n_targets=3, n_quantiles=n_quantiles, channel_independent=True).double()
    model.eval()
    with torch.no_grad():
        model.linear.weight.normal_()
    x = torch.randn(2, 20, 4, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.2, 3.0], dtype=torch.float64)
    out = model(x)
    assert out.shape == (2, 5, 3 * n_quantiles)
    one = WindowModel(model.body, 2, n_quantiles, 5, 20, 6, n_quantiles=n_quantiles, channel_independent=True)
    one.linear = model.linear
    for j in range(3):
        alone = one(torch.stack([x[..., j], x[..., 3]], dim=-1))
        torch.testing.assert_close(out[..., j * n_quantiles : (j + 1) * n_quantiles], alone, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("partner", ["theta", "damped", "one_season"])
@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_theta_combination_out_of_training_mode_only(n_quantiles, partner):
    """With ``theta_weight`` w, eval mode forecasts (1 - w) * network + w * partner of each target's window
    (Theta or damped Holt, seasonal with ``theta_period``; with ``one_season`` Theta less the window's one
    season, whatever the partner); with quantiles every quantile moves by
    w * (partner - median), so the spread is the network's. Training mode forecasts the network alone, which
    is what the loss trains."""
    torch.manual_seed(8)
    kw = dict(c_in=3, n_targets=2, n_quantiles=n_quantiles, context=40, patch_len=5, instance_norm="robust")
    net = window_model("lru", **kw).double()
    comb = window_model("lru", **kw, theta_weight=0.3, theta_period=6, median_index=n_quantiles // 2,
                        partner="damped" if partner == "one_season" else partner,
                        one_season=partner == "one_season").double()
    comb.load_state_dict(net.state_dict())
    t = torch.arange(40, dtype=torch.float64)
    x = torch.randn(4, 40, 3, dtype=torch.float64) + torch.sin(2 * torch.pi * t / 6)[None, :, None]
    net.eval(), comb.train()
    plain = net(x)
    torch.testing.assert_close(comb(x), plain, rtol=0, atol=0)
    comb.eval()
    forecast = {"theta": theta_forecast, "damped": damped_forecast, "one_season": one_season_forecast}[partner]
    theta = forecast(x[..., :2].transpose(1, 2).reshape(8, 40), 5, 6).reshape(4, 2, 5).transpose(1, 2)
    median = plain[..., n_quantiles // 2 :: n_quantiles]
    want = plain + (0.3 * (theta - median)).repeat_interleave(n_quantiles, dim=-1)
    torch.testing.assert_close(comb(x), want, rtol=1e-12, atol=1e-12)
    if n_quantiles > 1:  # the spread of each target's quantiles is the network's
        torch.testing.assert_close(comb(x)[..., 2] - comb(x)[..., 0], plain[..., 2] - plain[..., 0])
    with pytest.raises(ValueError, match="theta_weight"):
        window_model("lru", theta_weight=1.5)
    with pytest.raises(ValueError, match="median_index"):
        window_model("lru", theta_weight=0.5, median_index=1)
    with pytest.raises(ValueError, match="partner"):
        window_model("lru", theta_weight=0.5, partner="holt")
    with pytest.raises(ValueError, match="one_season"):
        window_model("lru", theta_weight=0.5, one_season=True)  # no period
    with pytest.raises(ValueError, match="one_season"):
        window_model("lru", theta_weight=0.5, theta_period=40, context=40, patch_len=5, one_season=True)


@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_naive_share_moves_the_combination_towards_seasonal_naive(n_quantiles):
    """With ``naive_share`` s, eval mode forecasts (1 - s) * combination + s * seasonal naive (each target's last
    ``theta_period`` values repeated; every quantile with its median), after the partner's share; 1 gives
    seasonal naive itself and training mode the network alone. A share needs a period of 2 or more that the
    window holds."""
    torch.manual_seed(29)
    kw = dict(c_in=3, n_targets=2, n_quantiles=n_quantiles, context=40, patch_len=5, instance_norm="robust",
              theta_period=6, median_index=n_quantiles // 2, partner="damped")
    comb = window_model("lru", **kw, theta_weight=0.3).double()
    both = window_model("lru", **kw, theta_weight=0.3, naive_share=0.2).double()
    both.load_state_dict(comb.state_dict())
    x = torch.randn(4, 40, 3, dtype=torch.float64) + torch.sin(2 * torch.pi * torch.arange(40.0) / 6)[None, :, None]
    comb.eval(), both.eval()
    season = x[:, -6:, :2].repeat(1, 2, 1)[:, :5]  # the last six rows, repeated over the horizon of five
    torch.testing.assert_close(seasonal_naive(x[..., :2], 6, 5), season, rtol=0, atol=0)
    before = comb(x)
    median = before[..., n_quantiles // 2 :: n_quantiles]
    want = before + (0.2 * (season - median)).repeat_interleave(n_quantiles, dim=-1)
    torch.testing.assert_close(both(x), want, rtol=1e-12, atol=1e-12)
    both.naive_share = 1.0
    torch.testing.assert_close(both(x)[..., n_quantiles // 2 :: n_quantiles], season, rtol=1e-12, atol=1e-12)
    both.train()
    comb.train()
    torch.testing.assert_close(both(x), comb(x), rtol=0, atol=0)
    for bad in (dict(naive_share=1.5), dict(naive_share=0.2, theta_period=None),
                dict(naive_share=0.2, theta_period=1), dict(naive_share=0.2, theta_period=41)):
        with pytest.raises(ValueError, match="naive_share"):
            window_model("lru", **{**kw, **bad})


@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_naive_period_one_moves_the_combination_towards_the_last_value(n_quantiles):
    """With ``naive_period=1`` the share goes to naive: (1 - s) * combination + s * each target's last value
    (every quantile with its median), with or without a partner's period; training mode is the network alone.
    ``naive_period`` must be an int from 1 to the context."""
    torch.manual_seed(30)
    kw = dict(c_in=3, n_targets=2, n_quantiles=n_quantiles, context=40, patch_len=5, instance_norm=True,
              median_index=n_quantiles // 2, partner="damped")
    x = torch.randn(4, 40, 3, dtype=torch.float64).cumsum(1)
    last = x[:, -1:, :2].expand(4, 5, 2)
    torch.testing.assert_close(seasonal_naive(x[..., :2], 1, 5), last, rtol=0, atol=0)
    for period in (None, 6):  # (the partner's period, if any, is not what the share repeats)
        comb = window_model("lru", **kw, theta_weight=0.4, theta_period=period).double()
        both = window_model("lru", **kw, theta_weight=0.4, theta_period=period, naive_share=0.5,
                            naive_period=1).double()
        both.load_state_dict(comb.state_dict())
        comb.eval(), both.eval()
        before = comb(x)
        median = before[..., n_quantiles // 2 :: n_quantiles]
        want = before + (0.5 * (last - median)).repeat_interleave(n_quantiles, dim=-1)
        torch.testing.assert_close(both(x), want, rtol=1e-12, atol=1e-12)
        assert not torch.isnan(both(x)).any()
        both.train(), comb.train()
        torch.testing.assert_close(both(x), comb(x), rtol=0, atol=0)
    for bad in (0, 41, 1.0, True, "1"):
        with pytest.raises(ValueError, match="naive_period"):
            window_model("lru", **kw, naive_share=0.5, naive_period=bad)


@pytest.mark.parametrize("partner", ["theta", "damped"])
def test_memoised_partners_compute_each_window_once_and_change_nothing(partner, monkeypatch):
    """Inside ``memoised_partners`` a batch of windows seen before is looked up: the same forecasts, one call per
    distinct batch (its values, horizon and period), none kept after the block; over the size limit it computes."""
    g = torch.Generator().manual_seed(7)
    y = torch.randn(6, 40, generator=g, dtype=torch.float64).cumsum(1)
    calls = []
    real = PARTNERS[partner]
    monkeypatch.setitem(PARTNERS, partner, lambda rows, h, p, **kw: calls.append(rows.shape) or real(rows, h, p, **kw))
    plain = real(y, 5, 4)
    with memoised_partners():
        for _ in range(3):
            assert torch.equal(partner_forecast(partner, y.clone(), 5, 4), plain)
        assert len(calls) == 1
        partner_forecast(partner, y, 6, 4)  # another horizon,
        partner_forecast(partner, y, 5, None)  # another period,
        partner_forecast(partner, y.float(), 5, 4)  # another dtype,
        other = y.clone()
        other[3, 17] += 1e-12  # another value
        assert not torch.equal(partner_forecast(partner, other, 5, 4), plain)
        assert len(calls) == 5
    partner_forecast(partner, y, 5, 4)  # the block is over: computed again
    assert len(calls) == 6
    with memoised_partners(max_bytes=plain.numel() * 8 - 1):  # too small to keep one forecast
        partner_forecast(partner, y, 5, 4)
        assert torch.equal(partner_forecast(partner, y, 5, 4), plain)
    assert len(calls) == 8


def test_gradcheck_small_double():
    torch.manual_seed(5)
    model = window_model("lru", c_in=2, n_targets=1, horizon=2, context=6, patch_len=3).double()
    x = torch.randn(2, 6, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: model(t), (x,), eps=1e-6, atol=1e-5)


def test_bad_arguments():
    body = BODIES["lru"](8, 1, 3)
    with pytest.raises(ValueError, match="patch_len"):
        WindowModel(body, 1, 1, 3, context=4, patch_len=8)
    with pytest.raises(ValueError, match="body"):
        WindowModel(body, 1, 1, 3, context=16, patch_len=4)
    with pytest.raises(ValueError, match="targets must be among the inputs"):
        WindowModel(BODIES["lru"](8, 2, 3), 1, 2, 3, context=16, patch_len=8)
    model = WindowModel(body, 1, 1, 3, context=16, patch_len=8)
    with pytest.raises(ValueError, match=r"\(B, 16, 1\)"):
        model(torch.randn(2, 15, 1))


def test_ensemble_forecasts_the_members_mean_and_trains_each_on_its_own_loss():
    """WindowEnsemble: the forecast is the members' mean; the loss is the mean of the members' losses, so a
    member's gradient is its own loss's (divided by the number of members) and never another member's."""
    from tsrec.nn.window import WindowEnsemble
    from tsrec.training import TrainConfig, forecast_loss, window_loss

    torch.manual_seed(0)
    members = [window_model("lru", channel_independent=True) for _ in range(3)]
    ensemble = WindowEnsemble(members).double()
    x = torch.randn(6, 25, 3, dtype=torch.float64)  # context 20 + horizon 5
    each = torch.stack([m(x[:, :20]) for m in ensemble.members])
    torch.testing.assert_close(ensemble(x[:, :20]), each.mean(0))
    assert not torch.allclose(each[0], each[1])  # different initialisations
    cfg = TrainConfig(loss="mse")
    loss = window_loss(ensemble, x, 5, 2, cfg)
    alone = [forecast_loss(f, x[:, 20:, :2], None, cfg) for f in each]
    torch.testing.assert_close(loss, torch.stack(alone).mean())
    loss.backward()
    grads = [p.grad.clone() for p in ensemble.members[1].parameters()]
    ensemble.zero_grad()
    (alone[1] / 3).backward()
    for g, p in zip(grads, ensemble.members[1].parameters(), strict=True):
        torch.testing.assert_close(g, p.grad)


def test_ensemble_members_must_agree():
    from tsrec.nn.window import WindowEnsemble

    with pytest.raises(ValueError, match="at least one"):
        WindowEnsemble([])
    with pytest.raises(ValueError, match="agree"):
        WindowEnsemble([window_model("lru"), window_model("lru", horizon=4)])


@pytest.mark.parametrize("window", [None, 3, 64])
def test_attention_body_cache_is_bounded_by_the_segments_without_changing_the_forecast(window):
    """A window model's Transformer body runs fresh over its segments only, so its KV cache is bounded by
    their number (a longer one would be built at every call and never read); the forecast is the same."""
    from tsrec.nn.transformer import CausalSelfAttention

    torch.manual_seed(5)
    body = TransformerModel(18, 2, 5, d_model=8, n_heads=2, n_layers=2, window=window, max_cache=512,
                            skip_last=False)
    model = WindowModel(body, c_in=3, c_out=2, horizon=5, context=20, patch_len=6).double().eval()
    layers = [m for m in model.modules() if isinstance(m, CausalSelfAttention)]
    assert len(layers) == 2 and all(m.cache_size == min(window or 512, 4) for m in layers)
    x = torch.randn(3, 20, 3, dtype=torch.float64)
    bounded = model(x)
    for m in layers:
        m.max_steps = None
    torch.testing.assert_close(bounded, model(x), rtol=1e-12, atol=1e-12)


def dense_equivalent(m: PeriodLinear) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``Linear(context -> horizon)`` that ``m`` is: output ``h`` reads input ``l`` iff they share a phase
    (counted from the window's end), with the weight of their slots."""
    p, pad = m.period, m.n_in * m.period - m.context
    weight = torch.zeros(m.horizon, m.context, dtype=m.weight.dtype)
    for h in range(m.horizon):
        for i in range(m.context):
            if (i + pad) % p == h % p:
                weight[h, i] = m.weight[h // p, (i + pad) // p]
    return weight, m.bias[torch.arange(m.horizon) // p]


@pytest.mark.parametrize("context, horizon, period", [(20, 7, 4), (24, 24, 24), (30, 50, 7), (9, 3, 1), (5, 8, 12)])
def test_period_linear_is_a_phase_structured_dense_map(context, horizon, period):
    """Fresh random weights and windows, float64: the period-sparse map equals the dense map with its structure
    (each phase reads only its own past, one weight per pair of slots), gradients included."""
    gen = torch.Generator().manual_seed(context * 100 + period)
    m = PeriodLinear(context, horizon, period).double()
    assert (m.weight == 0).all() and (m.bias == 0).all()  # it starts as no path at all
    assert m.weight.shape == (-(-horizon // period), -(-context // period))
    with torch.no_grad():
        m.weight.copy_(torch.randn(m.weight.shape, generator=gen, dtype=torch.float64))
        m.bias.copy_(torch.randn(m.bias.shape, generator=gen, dtype=torch.float64))
    x = torch.randn(3, 2, context, generator=gen, dtype=torch.float64)
    weight, bias = dense_equivalent(m)
    want = x @ weight.T + bias
    got = m(x)
    assert got.shape == (3, 2, horizon) and torch.isfinite(got).all()
    assert ((got - want).abs().max() / want.abs().max()).item() < 1e-12

    def call(xx, w, b):
        return torch.func.functional_call(m, {"weight": w, "bias": b}, (xx,))

    args = (x[:1], m.weight.detach(), m.bias.detach())
    assert torch.autograd.gradcheck(call, tuple(t.clone().requires_grad_() for t in args))


def test_the_linear_path_of_a_window_model():
    """``linear_path``: dense (period 1), period-sparse, or none; the choice is checked."""
    dense = window_model("lru", context=48, horizon=24, patch_len=8)
    sparse = window_model("lru", context=48, horizon=24, patch_len=8, linear_path="sparse", period=12)
    none = window_model("lru", context=48, horizon=24, patch_len=8, linear_path="none", period=12)
    assert dense.linear.weight.shape == (24, 48) and sparse.linear.weight.shape == (2, 4) and none.linear is None
    n = {k: sum(p.numel() for p in m.parameters()) for k, m in (("d", dense), ("s", sparse), ("n", none))}
    assert n["d"] - n["n"] == 24 * 48 + 24 and n["s"] - n["n"] == 2 * 4 + 2
    with pytest.raises(ValueError, match="linear_path must be one of"):
        window_model("lru", linear_path="diagonal")


def test_a_partner_that_reads_more_rows_than_the_network():
    """With ``partner_rows``, windows of that many rows forecast as the network on their last ``context`` rows
    combined with :func:`history_forecast` of all of them (less leading NaN, the rows before a series' first);
    windows of ``context`` rows forecast as without it; training mode is the network alone; with a seasonal
    ``theta_period`` the partner reads the rows with their season; the model refuses other shapes and settings
    where the partner could not read the rows."""
    from tsrec.nn.damped import history_blend_forecast, history_forecast

    torch.manual_seed(3)
    kw = dict(c_in=1, n_targets=1, horizon=4, context=8, patch_len=2, instance_norm="robust", theta_weight=0.6,
              partner="damped")
    plain = window_model("lru", **kw).double().eval()
    long = window_model("lru", **kw, partner_rows=30).double().eval()
    long.load_state_dict(plain.state_dict())
    x = torch.randn(5, 30, 1, dtype=torch.float64).cumsum(1) + 0.3 * torch.arange(30.0, dtype=torch.float64)[:, None]
    x[1, :12] = float("nan")  # a series of 18 rows
    plain.theta_weight = 0.0
    network = plain(x[:, -8:])
    partner = history_forecast(x[..., 0], 4)[..., None]
    torch.testing.assert_close(long(x), 0.4 * network + 0.6 * partner, rtol=1e-12, atol=1e-12)
    assert torch.isfinite(long(x)).all()
    plain.theta_weight = 0.6
    torch.testing.assert_close(long(x[:, -8:]), plain(x[:, -8:]), rtol=0, atol=0)
    long.train()
    torch.testing.assert_close(long(x), network, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"\(B, 8, 1\) or \(B, 30, 1\)"):
        long(x[:, -20:])
    seasonal = window_model("lru", **kw, partner_rows=30, theta_period=4).double().eval()
    seasonal.load_state_dict(plain.state_dict())
    torch.testing.assert_close(seasonal(x), 0.4 * network + 0.6 * history_forecast(x[..., 0], 4, 4)[..., None],
                               rtol=1e-12, atol=1e-12)
    for bad in (dict(partner_rows=8), dict(partner="theta", partner_rows=30)):
        with pytest.raises(ValueError, match="partner_rows"):
            window_model("lru", **{**kw, **bad})
    with pytest.raises(ValueError, match="naive_blend"):
        window_model("lru", **{**kw, "partner": "theta", "naive_blend": True})
    blended = window_model("lru", **kw, partner_rows=30, theta_period=4, history_blend=True).double().eval()
    blended.load_state_dict(plain.state_dict())  # that partner blended with seasonal naive where that backtests
    torch.testing.assert_close(blended(x), 0.4 * network + 0.6 * history_blend_forecast(x[..., 0], 4, 4)[..., None],
                               rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="history_blend needs partner_rows"):
        window_model("lru", **{**kw, "history_blend": True})


@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_seasonal_skip_adds_the_last_season(etth1, n_quantiles):
    """With ``seasonal_skip``, every window's skip is its targets' last season repeated instead of their last
    value, in training mode and out of it (every quantile alike). With ``skip_per_window`` too (how models of
    format 22 forecast) only a target whose window's first differences pass the seasonality test takes it, and a
    target that does not pass keeps the last value. Real hourly windows of ETTh1 (a daily cycle) beside random
    walks."""
    from tsrec.nn.theta import is_seasonal

    torch.manual_seed(36)
    kw = dict(c_in=3, n_targets=2, n_quantiles=n_quantiles, context=72, patch_len=6, theta_period=24,
              skip_last=True, median_index=n_quantiles // 2)
    last = window_model("lru", **kw).double()
    season = window_model("lru", **kw, seasonal_skip=True).double()
    per_window = window_model("lru", **kw, seasonal_skip=True, skip_per_window=True).double()
    season.load_state_dict(last.state_dict())
    per_window.load_state_dict(last.state_dict())
    hourly = torch.tensor(etth1[["HUFL", "OT", "MUFL"]].to_numpy()[:4 * 72].reshape(4, 72, 3))
    walks = torch.randn(4, 72, 3, dtype=torch.float64).cumsum(1)
    x = torch.cat([hourly, walks])
    x[4:, :, 0] = hourly[:, :, 0]  # the walks' first target cycles too: passes and fails in one window
    mean, std = window_moments(x, last.eps)
    z = ((x - mean) / std)[..., :2]
    shows = is_seasonal(torch.diff(z.transpose(1, 2).reshape(16, 72), dim=1), 24).reshape(8, 1, 2)
    assert shows[:4].any() and not shows[4:, :, 1].any()  # both outcomes occur
    change = seasonal_naive(z, 24, 5) - z[:, -1:]
    want = (change * std[..., :2]).repeat_interleave(n_quantiles, dim=-1)
    want_shown = (torch.where(shows, change, 0.0) * std[..., :2]).repeat_interleave(n_quantiles, dim=-1)
    for mode in (False, True):
        last.train(mode), season.train(mode), per_window.train(mode)
        torch.testing.assert_close(season(x) - last(x), want, rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(per_window(x) - last(x), want_shown, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="seasonal_skip"):
        window_model("lru", **{**kw, "skip_last": False}, seasonal_skip=True)
    with pytest.raises(ValueError, match="seasonal_skip"):
        window_model("lru", **{**kw, "theta_period": None}, seasonal_skip=True)
    with pytest.raises(ValueError, match="skip_per_window needs seasonal_skip"):
        window_model("lru", **kw, skip_per_window=True)


@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_ridge_share_moves_the_combination_towards_the_ridge_forecast(n_quantiles):
    """With a ridge map (W, b) and share r, eval mode moves the partner's combination r of the way to the ridge
    forecast ``x[-context:] @ W + b`` of each target (every quantile with its median), before the naive share;
    training mode is the network alone. Without a share the model holds no ridge buffers (and its state dict
    none), with one it saves them; a map of the wrong shape is refused."""
    torch.manual_seed(31)
    kw = dict(c_in=3, n_targets=2, n_quantiles=n_quantiles, context=40, patch_len=5, instance_norm="robust",
              theta_period=6, median_index=n_quantiles // 2, partner="damped", theta_weight=0.3)
    comb = window_model("lru", **kw).double()
    both = window_model("lru", **kw).double()
    both.load_state_dict(comb.state_dict())
    assert both.ridge_weight is None and "ridge_weight" not in both.state_dict()
    weight, bias = torch.randn(40, 5, dtype=torch.float64) / 40, torch.randn(5, dtype=torch.float64)
    sums = (*ridge_sums(torch.randn(30, 45, 3), 40, 5, 2), 1e-3)
    both.set_ridge(weight, bias, 0.25, sums)
    assert {"ridge_weight", "ridge_bias", "ridge_gram", "ridge_cross", "ridge_penalty"} <= set(both.state_dict())
    x = torch.randn(4, 40, 3, dtype=torch.float64)
    comb.eval(), both.eval()
    ridge = torch.einsum("blt,lh->bht", x[..., :2], weight) + bias[None, :, None]
    before = comb(x)
    median = before[..., n_quantiles // 2 :: n_quantiles]
    want = before + (0.25 * (ridge - median)).repeat_interleave(n_quantiles, dim=-1)
    torch.testing.assert_close(both(x), want, rtol=1e-12, atol=1e-12)
    naive = window_model("lru", **kw, naive_share=0.2).double()  # the naive share comes after the ridge's
    naive.load_state_dict(comb.state_dict())
    naive.set_ridge(weight, bias, 0.25)
    naive.eval()
    season = seasonal_naive(x[..., :2], 6, 5)
    moved = want + (0.2 * (season - want[..., n_quantiles // 2 :: n_quantiles])).repeat_interleave(n_quantiles, -1)
    torch.testing.assert_close(naive(x), moved, rtol=1e-12, atol=1e-12)
    both.train(), comb.train()
    torch.testing.assert_close(both(x), comb(x), rtol=0, atol=0)
    loaded = window_model("lru", **kw, ridge_share=0.25).double()  # as a saved model is rebuilt
    loaded.load_state_dict(both.state_dict())
    loaded.eval(), both.eval()
    torch.testing.assert_close(loaded(x), both(x), rtol=0, atol=0)
    both.set_ridge(weight, bias, 0.0)
    assert both.ridge_weight is None and both.ridge_share == 0.0
    torch.testing.assert_close(both(x), comb.eval()(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="the ridge map must be \\(40, 5\\)"):
        both.set_ridge(weight[:10], bias, 0.5)
    with pytest.raises(ValueError, match="ridge_share"):
        window_model("lru", **kw, ridge_share=1.5)


def test_ridge_with_adds_windows_to_the_sums_and_solves_them_again():
    """A model given the sums of some windows and then ``ridge_with`` more of them returns the ridge of all the
    windows (the sums of their union, solved at the same penalty; float64 against scikit-learn's Ridge with an
    unpenalised intercept), in a form ``set_ridge`` takes; the model itself does not change. A model without
    sums returns None; sums of the wrong shape are refused."""
    from sklearn.linear_model import Ridge

    g = torch.Generator().manual_seed(5)
    series = torch.randn(700, 2, generator=g, dtype=torch.float64).cumsum(0) * 0.1
    windows = series.unfold(0, 45, 1).transpose(1, 2)  # (656, 45, 2)
    first, later = windows[:400], windows[400:]
    model = window_model("lru", c_in=2, n_targets=2, context=40, patch_len=5, theta_weight=0.2,
                         theta_period=4).double()
    weight, bias = solve_ridge(*ridge_sums(first, 40, 5, 2), 1e-3)
    model.set_ridge(weight, bias, 0.5, (*ridge_sums(first, 40, 5, 2), 1e-3))
    gram = model.ridge_gram.clone()
    new = model.ridge_with(later)
    new_weight, new_bias, new_sums = new["weight"], new["bias"], new["sums"]
    torch.testing.assert_close(model.ridge_gram, gram, rtol=0, atol=0)
    rows = windows.transpose(1, 2).reshape(-1, 45).numpy()
    oracle = Ridge(alpha=1e-3 * len(rows)).fit(rows[:, :40], rows[:, 40:])
    np.testing.assert_allclose(new_weight.numpy(), oracle.coef_.T, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(new_bias.numpy(), oracle.intercept_, rtol=1e-6, atol=1e-9)
    model.set_ridge(new_weight, new_bias, 0.5, new_sums)
    assert float(model.ridge_gram[-1, -1]) == len(rows)
    model.set_ridge(weight, bias, 0.5)
    assert model.ridge_with(later) is None
    with pytest.raises(ValueError, match="the ridge sums must be"):
        model.set_ridge(weight, bias, 0.5, (gram[:-1, :-1], new_sums[1], 1e-3))



def test_a_cross_channel_map_makes_the_ridge_forecast_the_mean_of_two_maps_and_streams_with_the_other():
    """With ``cross_ridge_rows`` and a cross-channel map, the ridge forecast the share moves towards is the mean of
    the own map's and the cross map's (its last rows of every target, each minus its last); a model rebuilt with
    the same settings loads its state. ``ridge_with`` adds windows to both maps' sums: the cross map it returns
    is the solve of the union's sums. A cross map of the wrong shape is refused and changes nothing; so is one on
    a model without ``cross_ridge_rows``, and rows beyond the context."""
    torch.manual_seed(3)
    kw = dict(c_in=3, n_targets=2, context=40, patch_len=5, theta_period=6, partner="damped", theta_weight=0.3)
    g = torch.Generator().manual_seed(9)
    series = torch.randn(500, 3, generator=g, dtype=torch.float64).cumsum(0) * 0.1
    windows = series.unfold(0, 45, 1).transpose(1, 2)  # (456, 45, 3)
    first, later = windows[:300], windows[300:]
    own_sums = (*ridge_sums(first, 40, 5, 2), 1e-3)
    cross_sums = (*ridge_sums(first, 12, 5, 2, cross_channel=True), 1e-2)
    own, cross = solve_ridge(*own_sums), solve_ridge(*cross_sums)
    model = window_model("lru", **kw, cross_ridge_rows=12).double()
    plain = window_model("lru", **kw).double()
    plain.load_state_dict(model.state_dict())
    model.set_ridge(*own, 0.5, own_sums, (*cross, cross_sums))
    plain.set_ridge(*own, 0.5, own_sums)
    assert model.cross_ridge_weight.shape == (24, 10) and model.cross_ridge_gram.shape == (25, 25)
    # the Cholesky solves give column-major maps; the model keeps row-major copies, as a loaded model has, so
    # that the two forecast alike to the bit (a matrix product's rounding may depend on the layout)
    assert not own[0].is_contiguous() and not cross[0].is_contiguous()
    assert all(t.is_contiguous() for t in (model.ridge_weight, model.ridge_gram, model.ridge_cross,
                                           model.cross_ridge_weight, model.cross_ridge_gram, model.cross_ridge_xy))
    x = windows[300:304, :40]
    model.eval(), plain.eval()
    by_own = torch.einsum("blt,lh->bht", x[..., :2], own[0]) + own[1][None, :, None]
    by_cross = cross_forecast(x[..., :2], *cross, 12, 5)
    torch.testing.assert_close(model(x) - plain(x), 0.5 * ((by_own + by_cross) / 2 - by_own), rtol=1e-9, atol=1e-12)
    rebuilt = window_model("lru", **kw, cross_ridge_rows=12, ridge_share=0.5).double()
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt.eval()(x), model(x), rtol=0, atol=0)
    new = model.ridge_with(later)
    want = solve_ridge(*ridge_sums(windows, 12, 5, 2, cross_channel=True), 1e-2)
    torch.testing.assert_close(new["cross"][0], want[0], rtol=1e-7, atol=1e-10)
    torch.testing.assert_close(new["cross"][1], want[1], rtol=1e-7, atol=1e-10)
    assert float(new["cross"][2][0][-1, -1]) == len(windows) and float(model.cross_ridge_gram[-1, -1]) == 300
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="cross-channel ridge map must be \\(24, 10\\)"):
        model.set_ridge(*own, 0.5, own_sums, (cross[0][:10], cross[1], None))
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    with pytest.raises(ValueError, match="needs cross_ridge_rows above 0"):
        plain.set_ridge(*own, 0.5, own_sums, (*cross, cross_sums))
    with pytest.raises(ValueError, match="cross_ridge_rows must be in \\[0, context=40\\]"):
        window_model("lru", **kw, cross_ridge_rows=41)
    model.set_ridge(*own, 0.5, own_sums)  # no cross map: the own map's forecast alone
    assert model.cross_ridge_weight is None and model.ridge_with(later)["cross"] is None
    torch.testing.assert_close(model(x), plain(x), rtol=0, atol=0)

def test_an_ensemble_combines_its_mean_with_the_ridge_once():
    """WindowEnsemble.set_ridge gives every member the map; out of training mode the members' mean network
    forecast is combined once, as one member with that mean would be."""
    from tsrec.nn.window import WindowEnsemble

    torch.manual_seed(3)
    ensemble = WindowEnsemble([window_model("lru", theta_weight=0.2, theta_period=4) for _ in range(2)]).double()
    weight, bias = torch.randn(20, 5, dtype=torch.float64) / 20, torch.randn(5, dtype=torch.float64)
    ensemble.set_ridge(weight, bias, 0.5)
    assert ensemble.ridge_share == 0.5 and all(torch.equal(m.ridge_weight, weight) for m in ensemble.members)
    x = torch.randn(3, 20, 3, dtype=torch.float64)
    ensemble.eval()
    mean = torch.stack([m.network_forecast(x) for m in ensemble.members]).mean(0)
    torch.testing.assert_close(ensemble(x), ensemble.members[0].with_theta(mean, x), rtol=1e-12, atol=1e-12)
    with pytest.raises(AttributeError):
        ensemble.ridge_share = 0.25  # only set_ridge sets it, with the map
