"""Damped Holt estimated as statsmodels estimates it (tsrec.nn.damped_estimated), against statsmodels itself."""

import warnings

import numpy as np
import pytest
import torch

from tsrec.nn.damped import ESTIMATED_ROWS, _damped_torch, damped_forecast
from tsrec.nn.damped_estimated import estimated_damped
from tsrec.nn.theta import _is_seasonal, _seasonal_index


def _window(rng: np.random.Generator, length: int, period: int = 1) -> np.ndarray:
    t = np.arange(length)
    y = (rng.normal(0, 1, length).cumsum() * rng.uniform(0, 1) + rng.uniform(-0.3, 0.3) * t
         + rng.uniform(0, 3) * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, length) * rng.uniform(0.1, 1))
    return y * 10 ** rng.uniform(-3, 3) + rng.uniform(-100, 100)


def _statsmodels(y: np.ndarray, horizon: int) -> np.ndarray:
    """statsmodels' damped Holt, weights and initial state estimated, on ``y`` standardised, mapped back."""
    ExponentialSmoothing = pytest.importorskip("statsmodels.tsa.holtwinters").ExponentialSmoothing
    centre, scale = y.mean(), y.std()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing((y - centre) / scale, trend="add", damped_trend=True,
                                   initialization_method="estimated").fit()
    return centre + scale * fit.forecast(horizon)


def _moves_under_rounding(rng: np.random.Generator, y: np.ndarray, forecast) -> bool:
    """Whether last-bit noise in ``y`` (up to four units in the last place of each value, eight draws) moves
    ``forecast(y)`` by more than 1e-6 of ``y``'s spread: a window on which the local fit is not stable under
    rounding, so that its forecasts are only those of the path the fit happened to take."""
    want = forecast(y)
    for _ in range(8):
        noisy = y + rng.integers(-4, 5, len(y)) * np.spacing(y)
        if np.max(np.abs(forecast(noisy) - want)) > 1e-6 * y.std():
            return True
    return False


def test_forecasts_are_statsmodels_estimated_damped_holt():
    """Fresh random windows of 2 to 40 rows in any units: the forecasts are statsmodels' (on the standardised
    window). The fit is a local optimisation on a flat surface with a numerical gradient, so rounding can
    take a rare window down another path: nearly all agree to 1e-6 of the window's spread, and every window to
    its spread unless its own fit or statsmodels' is not stable under rounding (last-bit noise in its values moves
    that forecast; about one window in 4,000 moves by its spread, so 16 windows failed the bound about once in 250
    runs)."""
    rng = np.random.default_rng()
    gaps = []
    for _ in range(16):
        y, horizon = _window(rng, int(rng.integers(2, 41))), int(rng.integers(1, 13))
        got = estimated_damped(y, horizon)
        assert got.shape == (horizon,) and np.isfinite(got).all()
        gaps.append(np.max(np.abs(got - _statsmodels(y, horizon))) / y.std())
        assert gaps[-1] < 1.0 or _moves_under_rounding(rng, y, lambda v, h=horizon: estimated_damped(v, h)) \
            or _moves_under_rounding(rng, y, lambda v, h=horizon: _statsmodels(v, h)), (gaps[-1], y, horizon)
    assert np.median(gaps) < 1e-6, gaps


def test_affine_equivariant_constant_and_nan():
    """estimated(a * y + b) = a * estimated(y) + b for a > 0, to rounding: the standardised windows differ in the
    last bits, which can take a rare one down another path of the local fit (about one window in 250 moves by more
    than 1% of its spread), so nearly all agree to 1e-6, and every window to its spread unless its fit is not
    stable under rounding (last-bit noise in its values moves its forecast; about one window in 4,000 moves by its
    spread, so 12 windows failed the bound about once in 300 runs). A constant window forecasts its value; a window
    with NaN is not forecast as if it were finite."""
    rng = np.random.default_rng()
    gaps = []
    for _ in range(12):
        y = _window(rng, int(rng.integers(2, 21)))
        f, g = estimated_damped(y, 6), estimated_damped(3.5 * y - 7.0, 6)
        gaps.append(np.abs(g - (3.5 * f - 7.0)).max() / (3.5 * y.std()))
        assert gaps[-1] < 1.0 or _moves_under_rounding(rng, y, lambda v: estimated_damped(v, 6)), (gaps[-1], y)
    assert np.median(gaps) < 1e-6, gaps
    np.testing.assert_array_equal(estimated_damped(np.full(9, 4.25), 3), 4.25)
    y = _window(rng, 12)
    y[4] = np.nan
    assert np.isnan(estimated_damped(y, 3)).all()


def test_damped_forecast_estimates_short_windows_and_keeps_the_grid_for_longer_ones():
    """damped_forecast of windows of at most ESTIMATED_ROWS rows is the estimated fit of the (deseasonalised)
    window plus the seasonal index; one row more is the grid's forecast. A float32 batch stays float32; a row
    with NaN is NaN and leaves the others as they are alone."""
    rng = np.random.default_rng()
    period, horizon = 4, 8
    y = np.stack([_window(rng, ESTIMATED_ROWS + 1, period) for _ in range(3)])
    y[0] += 5 * y[0].std() * np.sin(np.pi / 2 * np.arange(ESTIMATED_ROWS + 1))  # one window surely seasonal
    short = torch.tensor(y[:, 1:])
    assert bool(_is_seasonal(short[:1], period)[0])
    got = damped_forecast(short, horizon, period)
    for i in range(3):
        x = short[i : i + 1]
        index = _seasonal_index(x, period) if bool(_is_seasonal(x, period)[0]) else torch.zeros(1, period,
                                                                                                  dtype=x.dtype)
        adjusted = (x - index[:, torch.arange(ESTIMATED_ROWS) % period])[0].numpy()
        want = estimated_damped(adjusted, horizon) + index[0, (ESTIMATED_ROWS + np.arange(horizon)) % period].numpy()
        np.testing.assert_allclose(got[i].numpy(), want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
    longer = torch.tensor(y)
    np.testing.assert_allclose(damped_forecast(longer, horizon, period).numpy(),
                               _damped_torch(longer, horizon, period).numpy(), rtol=1e-9, atol=1e-9 * y.std())
    assert damped_forecast(short.float(), horizon, period).dtype == torch.float32
    broken = short.clone()
    broken[1, 5] = float("nan")
    out = damped_forecast(broken, horizon, period)
    assert torch.isnan(out[1]).all()
    torch.testing.assert_close(out[[0, 2]], got[[0, 2]], rtol=0, atol=0)


def test_history_forecast_skips_the_padding_before_a_series():
    """:func:`history_forecast` of rows led by NaN is the estimation on the finite rows after them (fresh random
    windows of 2 to 40 finite rows); one finite row forecasts its value; a NaN after the first finite row, or no
    finite row, gives NaN, and leaves the other rows alone."""
    from tsrec.nn.damped import history_forecast

    rng = np.random.default_rng()
    rows, want = [], []
    for _ in range(8):
        y = _window(rng, int(rng.integers(2, 41)))
        rows.append(np.concatenate([np.full(40 - len(y), np.nan), y]))
        want.append(estimated_damped(y, 5))
    rows += [np.r_[np.full(39, np.nan), 3.5], np.full(40, np.nan), np.r_[np.full(10, np.nan), _window(rng, 30)]]
    rows[-1][20] = np.nan
    got = history_forecast(torch.tensor(np.stack(rows)), 5).numpy()
    np.testing.assert_allclose(got[:8], np.stack(want), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[8], np.full(5, 3.5))
    assert np.isnan(got[9:]).all()
    assert history_forecast(torch.tensor(np.stack(rows), dtype=torch.float32), 5).dtype == torch.float32
