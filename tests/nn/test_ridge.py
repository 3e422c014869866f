"""window_ridge: the closed-form ridges of a window's next rows (channel-independent and cross-channel), against
scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from tsrec.nn.ridge import RIDGE_ALPHAS, cross_forecast, ridge_sums, window_ridge


def _windows(n_series_rows: int, context: int, horizon: int, n_targets: int, n_cov: int, seed: int) -> torch.Tensor:
    """Windows of ``context + horizon`` rows of a noisy seasonal random walk, targets then covariates."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n_series_rows, dtype=torch.float64)
    c = n_targets + n_cov
    walk = torch.randn(n_series_rows, c, generator=g, dtype=torch.float64).cumsum(0) * 0.1
    rows = walk + torch.sin(2 * torch.pi * t / 12)[:, None] + 0.3 * torch.randn(n_series_rows, c, generator=g,
                                                                                   dtype=torch.float64)
    return rows.unfold(0, context + horizon, 1).transpose(1, 2).float()  # (N, context + horizon, c)


def _sklearn(windows: np.ndarray, context: int, horizon: int, n_targets: int) -> tuple[np.ndarray, np.ndarray]:
    w = windows[:, -(context + horizon):, :n_targets].transpose(0, 2, 1).reshape(-1, context + horizon)
    return w[:, :context].astype(np.float64), w[:, context:].astype(np.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_map_is_scikit_learns_ridge_at_the_chosen_penalty(seed):
    """Fresh random windows, two targets and a covariate (never read): the map, bias and chosen penalty are those
    of scikit-learn's ``Ridge`` fitted in float64 on every target's windows, the penalty the one of the grid with
    the least validation MSE (scaled by the number of training rows)."""
    context, horizon, n_targets = 24, 5, 2
    windows = _windows(700, context, horizon, n_targets, 1, seed)
    train, val = windows[:500], windows[500:]
    weight, bias, alpha = window_ridge(train, val, context, horizon, n_targets)
    xt, yt = _sklearn(train.numpy(), context, horizon, n_targets)
    xv, yv = _sklearn(val.numpy(), context, horizon, n_targets)
    errors = [np.mean((Ridge(alpha=a * len(xt)).fit(xt, yt).predict(xv) - yv) ** 2) for a in RIDGE_ALPHAS]
    assert alpha == RIDGE_ALPHAS[int(np.argmin(errors))]
    ref = Ridge(alpha=alpha * len(xt)).fit(xt, yt)
    assert weight.dtype == torch.float64 and torch.isfinite(weight).all()
    np.testing.assert_allclose(weight.numpy(), ref.coef_.T, rtol=1e-6, atol=1e-9 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(bias.numpy(), ref.intercept_, rtol=1e-6, atol=1e-9)


def test_chunks_do_not_change_the_map_and_rows_with_a_missing_value_are_left_out():
    """Accumulating the sums a few windows at a time gives the same map; a window row holding NaN is left out of
    the fit (as if absent), and never makes the map NaN."""
    context, horizon = 16, 4
    windows = _windows(400, context, horizon, 1, 0, 3)
    train, val = windows[:300], windows[300:]
    whole = window_ridge(train, val, context, horizon, 1)
    chunked = window_ridge(train, val, context, horizon, 1, chunk=7)
    torch.testing.assert_close(chunked[0], whole[0], rtol=1e-9, atol=1e-12)
    holed = train.clone()
    holed[10, 3, 0] = float("nan")
    with_nan = window_ridge(holed, val, context, horizon, 1)
    without = window_ridge(torch.cat([train[:10], train[11:]]), val, context, horizon, 1)
    assert torch.isfinite(with_nan[0]).all()
    torch.testing.assert_close(with_nan[0], without[0], rtol=1e-9, atol=1e-12)


def test_a_linear_process_is_recovered_and_bad_windows_are_refused():
    """On a linear process (an AR(2)) the map forecasts the validation windows within 5% of the process's own
    forecasts; windows shorter than context + horizon, or all missing, are refused by name."""
    x = torch.zeros(600, dtype=torch.float64)
    g = torch.Generator().manual_seed(5)
    x[:2] = torch.randn(2, generator=g, dtype=torch.float64)
    for t in range(2, 600):
        x[t] = 1.2 * x[t - 1] - 0.6 * x[t - 2] + 0.05 * torch.randn(1, generator=g, dtype=torch.float64)
    windows = x.unfold(0, 12, 1).unsqueeze(-1)
    weight, bias, _ = window_ridge(windows[:400], windows[400:], 10, 2, 1)
    xv, yv = windows[400:, :10, 0], windows[400:, 10:, 0]
    step1 = 1.2 * xv[:, -1] - 0.6 * xv[:, -2]
    oracle = torch.stack([step1, 1.2 * step1 - 0.6 * xv[:, -1]], dim=1)  # the process's own forecasts
    mse = float(((xv @ weight + bias - yv) ** 2).mean())
    assert mse < 1.1 * float(((oracle - yv) ** 2).mean()) < 0.8 * float(((xv[:, -1:] - yv) ** 2).mean())
    with pytest.raises(ValueError, match="context \\+ horizon = 12 rows"):
        window_ridge(windows[:400, :11], windows[400:], 10, 2, 1)
    with pytest.raises(ValueError, match="no training window without a missing value"):
        window_ridge(torch.full((5, 12, 1), float("nan")), windows[400:], 10, 2, 1)


def _sklearn_cross(windows: np.ndarray, context: int, horizon: int, n_targets: int) -> tuple[np.ndarray, np.ndarray]:
    """A row per window: every target's last ``context`` values and next ``horizon``, each minus its last input."""
    w = windows[:, -(context + horizon):, :n_targets].astype(np.float64)
    w = w - w[:, context - 1 : context]
    return w[:, :context].reshape(len(w), -1), w[:, context:].reshape(len(w), -1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_cross_channel_map_is_scikit_learns_ridge_on_every_target_at_once(seed):
    """Fresh random windows of three targets and a covariate (never read): the cross-channel map and bias are
    scikit-learn's ``Ridge`` fitted in float64 on a row per window of every target's values minus its last, at the
    penalty of the grid with the least validation MSE; its forecast is that fit's plus the last values, and
    accumulating the sums a few windows at a time changes nothing."""
    context, horizon, n_targets = 12, 4, 3
    windows = _windows(600, context, horizon, n_targets, 1, seed)
    train, val = windows[:450], windows[450:]
    weight, bias, alpha = window_ridge(train, val, context, horizon, n_targets, cross_channel=True)
    assert weight.shape == (context * n_targets, horizon * n_targets) and bias.shape == (horizon * n_targets,)
    xt, yt = _sklearn_cross(train.numpy(), context, horizon, n_targets)
    xv, yv = _sklearn_cross(val.numpy(), context, horizon, n_targets)
    errors = [np.mean((Ridge(alpha=a * len(xt)).fit(xt, yt).predict(xv) - yv) ** 2) for a in RIDGE_ALPHAS]
    assert alpha == RIDGE_ALPHAS[int(np.argmin(errors))]
    ref = Ridge(alpha=alpha * len(xt)).fit(xt, yt)
    np.testing.assert_allclose(weight.numpy(), ref.coef_.T, rtol=1e-6, atol=1e-9 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(bias.numpy(), ref.intercept_, rtol=1e-6, atol=1e-9)
    x = val[:, :context, :n_targets].double()
    want = ref.predict(xv).reshape(len(xv), horizon, n_targets) + x[:, -1:].numpy()
    np.testing.assert_allclose(cross_forecast(x, weight, bias, context, horizon).numpy(), want,
                               rtol=1e-6, atol=1e-8)
    chunked = ridge_sums(train, context, horizon, n_targets, chunk=11, cross_channel=True)
    whole = ridge_sums(train, context, horizon, n_targets, cross_channel=True)
    torch.testing.assert_close(chunked[0], whole[0], rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(chunked[1], whole[1], rtol=1e-9, atol=1e-9)


def test_the_cross_channel_map_reads_a_leading_channel_and_skips_missing_windows():
    """Where one target leads another by three rows, the cross-channel map forecasts the follower's next three
    values from the leader's last ones almost exactly, which a map on the follower's own rows cannot; a window
    holding a NaN is left out of its sums (as if absent) and never makes the map NaN."""
    g = torch.Generator().manual_seed(7)
    lead = torch.randn(900, generator=g, dtype=torch.float64).cumsum(0) * 0.3
    follow = torch.roll(lead, 3) + 0.01 * torch.randn(900, generator=g, dtype=torch.float64)
    rows = torch.stack([lead, follow], 1)[3:]
    windows = rows.unfold(0, 24 + 3, 1).transpose(1, 2).float()
    train, val = windows[:700], windows[700:]
    cross = window_ridge(train, val, 24, 3, 2, cross_channel=True)
    own = window_ridge(train, val, 24, 3, 2)
    truth = val[:, 24:, 1].double()
    by_cross = cross_forecast(val[:, :24], cross[0], cross[1], 24, 3)[..., 1]
    by_own = (val[:, :24, 1].double() @ own[0] + own[1])
    assert float(((by_cross - truth) ** 2).mean()) < 0.02 * float(((by_own - truth) ** 2).mean())
    holed = train.clone()
    holed[20, 26, 0] = float("nan")  # a target of window 20
    with_nan = window_ridge(holed, val, 24, 3, 2, cross_channel=True)
    without = window_ridge(torch.cat([train[:20], train[21:]]), val, 24, 3, 2, cross_channel=True)
    assert torch.isfinite(with_nan[0]).all()
    torch.testing.assert_close(with_nan[0], without[0], rtol=1e-9, atol=1e-12)
