"""``persistence_blend``: the forecast weighed online against persistence by their recent errors (issue 12 item 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tests._settings import make
from tests.estimators.test_persistence import no_unpickling  # noqa: F401  (a fixture)
from tsrec import LRUForecaster
from tsrec.nn.lru import LRUModel
from tsrec.nn.online import OnlineRidge
from tsrec.nn.window import WindowModel

BLEND = dict(online_update="ridge", context=32, stride=8, online_alpha=100.0, persistence_blend=24)


def _ridge(n_targets: int = 2, n_quantiles: int = 1, half_life: int | None = 8, horizon: int = 5) -> OnlineRidge:
    c_out = n_targets * n_quantiles
    c_in, c_body = WindowModel.body_channels(n_targets, c_out, 4, n_quantiles=n_quantiles)
    body = LRUModel(c_in, c_body, horizon, d_model=8, d_state=4, n_layers=1, skip_last=False,
                    n_quantiles=n_quantiles)
    inner = WindowModel(body, n_targets, c_out, horizon, 16, 4, n_quantiles=n_quantiles).double()
    return OnlineRidge(inner, 16, n_targets, n_quantiles, blend_half_life=half_life).double()


def test_the_error_means_are_the_sequential_exponential_means():
    """Float64 oracle: one call's update equals updating once per row, the oldest window first (a window ``age``
    rows old arrived ``age`` rows before the call's end); a NaN error (an unobserved target) adds nothing."""
    rng = np.random.default_rng()
    model = _ridge(half_life=int(rng.integers(1, 50)))
    model.blend_errors.copy_(torch.from_numpy(rng.uniform(0.1, 3.0, (2, 5, 2))))
    n = int(rng.integers(1, 40))
    errors = rng.exponential(1.0, (2, n, 5, 2))
    errors[0, rng.integers(0, n), 1, 0] = errors[1, rng.integers(0, n), 3, 1] = np.nan
    got = model.blend_updated(n, torch.from_numpy(errors[0]), torch.from_numpy(errors[1]),
                              torch.arange(n - 1, -1, -1))
    lam = 0.5 ** (1 / model.blend_half_life)
    want = model.blend_errors.numpy().copy()
    for k in range(n):  # row by row: decay, then the window that arrived with the row
        want = lam * want + (1 - lam) * np.nan_to_num(errors[:, k])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=0)
    assert not bool(torch.isnan(got).any())


@pytest.mark.parametrize("n_quantiles", [1, 3])
def test_each_point_forecast_moves_toward_the_last_value_by_its_weight(n_quantiles):
    """Float64 oracle of the forward: per target and step, ``w * forecast + (1 - w) * last`` with ``w = L_last^4 /
    (L_model^4 + L_last^4)``; each quantile of a target shifts by its point forecast's move."""
    rng = np.random.default_rng()
    model = _ridge(n_quantiles=n_quantiles).eval()
    x = torch.from_numpy(rng.normal(size=(6, 16, 2)))
    with torch.no_grad():  # before any observation, the wrapped model's forecast
        assert torch.equal(model(x), model.inner(x))
    model.total.fill_(1.0)  # observed (the correction's weights stay zero: no correction)
    errors = rng.uniform(0.05, 2.0, (2, 5, 2))
    model.blend_errors.copy_(torch.from_numpy(errors))
    with torch.no_grad():
        got, plain = model(x).numpy(), model.inner(x).numpy()
    w = errors[1] ** 4 / (errors[0] ** 4 + errors[1] ** 4)  # (H, nt)
    point = plain.reshape(6, 5, 2, n_quantiles).mean(-1)
    shift = (1 - w) * (x.numpy()[:, -1:, :] - point)  # (B, H, nt)
    want = plain + np.repeat(shift, n_quantiles, axis=-1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # equal means: halfway; no blend: the wrapped model's forecast
    model.blend_errors.fill_(1.0)
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), plain + np.repeat(0.5 * (x.numpy()[:, -1:, :] - point),
                                                                        n_quantiles, axis=-1), rtol=1e-12)
        model.blend_half_life = None
        assert torch.equal(model(x), model.inner(x))


def test_persistence_is_each_windows_last_observed_value():
    """With ``missing="mask"`` a window may end in NaN: its last observed value is persistence."""
    model = _ridge()
    x = torch.arange(2 * 16 * 2, dtype=torch.float64).reshape(2, 16, 2)
    x[1, -2:, 0] = float("nan")
    got = model.persistence(x)
    assert got.shape == (2, 1, 2)
    assert got[:, 0].tolist() == [[30.0, 31.0], [58.0, 63.0]]


def _daily_cycle(n: int, seed: int) -> pd.DataFrame:
    """Two hourly series with a daily cycle and noise (what the network learns well)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.stack([10 + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, n),
                  5 + 2 * np.cos(2 * np.pi * t / 24) + rng.normal(0, 0.3, n)], axis=1)
    return pd.DataFrame(y, columns=["a", "b"], index=pd.date_range("2024-01-01", periods=n, freq="h"))


@pytest.fixture(scope="module")
def cycle():
    return _daily_cycle(900, 0)


@pytest.fixture(scope="module")
def fitted(cycle):
    return make("LRUForecaster", **BLEND, horizon=6).fit(cycle.iloc[:600])


def test_right_after_fit_the_forecast_is_the_models_then_halfway(cycle, fitted):
    """The fit is the one without the blend, bit for bit (weights and forecasts). The first updating call's
    errors move both means from 1 alike where the two forecasts err alike; a fresh blend's forecast is the
    mean of the model's (with its correction) and the last value."""
    plain = make("LRUForecaster", **{**BLEND, "persistence_blend": None}, horizon=6).fit(cycle.iloc[:600])
    assert all(torch.equal(v, fitted.model_.inner.state_dict()[k]) for k, v in plain.model_.inner.state_dict().items())
    pd.testing.assert_frame_equal(fitted.predict(), plain.predict())
    f = LRUForecaster(**fitted.get_params()).fit(cycle.iloc[:600])
    f.partial_fit(cycle.iloc[600:616])
    plain.partial_fit(cycle.iloc[600:616])
    assert torch.equal(f.model_.weights, plain.model_.weights)  # the same correction
    f.model_.blend_errors.fill_(1.0)
    last = cycle.iloc[615].to_numpy()
    np.testing.assert_allclose(f.predict().to_numpy(), 0.5 * plain.predict().to_numpy() + 0.5 * last,
                               rtol=1e-5, atol=1e-5)


def test_the_weight_follows_the_better_forecast(cycle, fitted):
    """A stream like the training rows: the model's errors are the smaller and its weight rises toward 1. A
    stream that turns into a random walk: persistence wins, its weight rises, and the blend forecasts the walk
    better than the model does."""
    f = LRUForecaster(**fitted.get_params()).fit(cycle.iloc[:600])
    for a in range(600, 900, 16):
        f.partial_fit(cycle.iloc[a : a + 16])
    w = f.model_.blend_weight().numpy()
    assert (w > 0.9).all(), w.round(3)

    g = LRUForecaster(**fitted.get_params()).fit(cycle.iloc[:600])
    walk = pd.DataFrame(cycle.iloc[599].to_numpy() + np.random.default_rng(1).normal(0, 1.0, (300, 2)).cumsum(0),
                        columns=cycle.columns, index=pd.date_range(cycle.index[600], periods=300, freq="h"))
    blended, model_alone, actual = [], [], []
    for a in range(0, 300, 16):
        chunk = walk.iloc[a : a + 16]
        preds, _ = g.rolling_forecasts(chunk)
        with _without_blend(g):
            plain, _ = g.rolling_forecasts(chunk)
        end = min(len(chunk), 300 - a - 6)  # the origins whose six targets are in the walk
        for k in range(max(end, 0)):
            origin = a + k - 1  # the row before the chunk's k-th row
            if origin >= 0:
                actual.append(walk.iloc[origin + 1 : origin + 7].to_numpy())
                blended.append(preds[0][k])
                model_alone.append(plain[0][k])
        g.partial_fit(chunk)
    assert (g.model_.blend_weight().numpy() < 0.5).all(), g.model_.blend_weight().numpy().round(3)
    actual = np.stack(actual)
    late = slice(len(actual) // 2, None)  # once the errors have spoken
    mse = lambda p: float(np.mean((np.stack(p)[late] - actual[late]) ** 2))  # noqa: E731
    assert mse(blended) < 0.95 * mse(model_alone), (mse(blended), mse(model_alone))


class _without_blend:
    """Forecasts of the same fitted model without the blend (its half-life set aside for the block)."""

    def __init__(self, est):
        self.model = est.model_

    def __enter__(self):
        self.keep, self.model.blend_half_life = self.model.blend_half_life, None

    def __exit__(self, *exc):
        self.model.blend_half_life = self.keep


def test_a_failed_call_changes_nothing_and_a_file_keeps_the_blend(cycle, fitted, tmp_path, no_unpickling):  # noqa: F811
    f = LRUForecaster(**fitted.get_params()).fit(cycle.iloc[:600])
    f.partial_fit(cycle.iloc[600:664])
    errors, forecast = f.model_.blend_errors.clone(), f.predict()
    bad = cycle.iloc[664:680].copy()
    bad.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        f.partial_fit(bad)
    assert torch.equal(f.model_.blend_errors, errors)
    pd.testing.assert_frame_equal(f.predict(), forecast)
    f.save(tmp_path / "blend.safetensors")
    g = LRUForecaster.load(tmp_path / "blend.safetensors")
    assert g.persistence_blend == 24 and torch.equal(g.model_.blend_errors, errors)
    pd.testing.assert_frame_equal(g.predict(), forecast)
    f.partial_fit(cycle.iloc[664:680])
    g.partial_fit(cycle.iloc[664:680])
    assert torch.equal(g.model_.blend_errors, f.model_.blend_errors)
    assert not torch.equal(g.model_.blend_errors, errors)


def test_a_panel_shares_one_blend(cycle):
    """The error means are per target and step, over every series of a panel (as the correction is)."""
    panel = [cycle.iloc[:500], _daily_cycle(500, 3)]
    f = make("LRUForecaster", **BLEND, horizon=6).fit(panel)
    f.partial_fit([cycle.iloc[500:532], _daily_cycle(532, 3).iloc[500:532]])
    assert f.model_.blend_errors.shape == (2, 6, 2)
    assert bool(torch.isfinite(f.model_.blend_errors).all()) and not bool((f.model_.blend_errors == 1).all())
    assert all(np.isfinite(p.to_numpy()).all() for p in f.predict())


def test_it_needs_the_ridge_update(cycle):
    with pytest.raises(ValueError, match="persistence_blend=24 needs online_update='ridge'"):
        make("LRUForecaster", **{**BLEND, "online_update": "sgd"}, horizon=6).fit(cycle.iloc[:300])
