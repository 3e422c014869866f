"""The Theta method of tsrec.nn.theta against statsmodels' ThetaModel, its float64 reference."""

import warnings

import numpy as np
import pytest
import torch

from tsrec.nn.theta import _is_seasonal, _seasonal_index, _ses, theta_forecast


def _series(rng: np.random.Generator, length: int, period: int) -> np.ndarray:
    t = np.arange(length)
    return (rng.normal(0, 1, length).cumsum() * rng.uniform(0, 1) + rng.uniform(-0.1, 0.1) * t
            + rng.uniform(0, 3) * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, length))


def _ses_sse(y: np.ndarray, alpha: float) -> float:
    """The squared one-step errors of SES from the first value, in a plain loop."""
    level, sse = y[0], 0.0
    for v in y:
        sse += (v - level) ** 2
        level = alpha * v + (1 - alpha) * level
    return sse


@pytest.mark.parametrize("path", ["default", "torch"])
def test_forecasts_are_statsmodels_theta_at_its_smoothing_weight_and_ours_fits_as_well(path, monkeypatch):
    """Fresh random series (trend, season, random walk, noise), seasonal and not, against statsmodels'
    ``ThetaModel(method="additive").fit()``: with the smoothing weight statsmodels found, the forecasts are its
    forecasts (to 1e-6 of the series' spread), and the weight our grid search chooses fits the one-step errors as
    well (to 0.1%) or better (statsmodels' optimiser stops in a worse local minimum on some short series); where
    statsmodels' weight is below the grid's smallest (1e-3), as well as that smallest weight does (near 0 the sum
    of squared errors still falls by up to about 1e-3 of itself, which would put the bound at its edge: about one
    run in a thousand failed). Both the default path (numba's kernel where it works) and the torch ops."""
    import tsrec.nn.theta as module

    ThetaModel = pytest.importorskip("statsmodels.tsa.forecasting.theta").ThetaModel
    forecast = theta_forecast if path == "default" else lambda x, h, p: module._theta_torch(x, h, p)
    rng = np.random.default_rng()
    for _ in range(40):
        length, period, horizon = int(rng.integers(8, 240)), int(rng.choice([1, 4, 7, 12])), int(rng.integers(1, 25))
        y = _series(rng, length, period)
        seasonal = period > 1 and length >= 2 * period + 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ThetaModel(y, period=period, deseasonalize=seasonal, method="additive").fit()
        theirs = float(fit.params["alpha"])
        x = torch.tensor(y)[None]
        got = forecast(x, horizon, period)[0].numpy()
        assert got.dtype == np.float64 and np.isfinite(got).all()
        deseasonalised = x
        if seasonal and _is_seasonal(x, period)[0]:
            deseasonalised = x - _seasonal_index(x, period)[:, torch.arange(length) % period]
        z = deseasonalised[0].numpy()
        held = max(theirs, module._SMALLEST)  # the least weight the grid holds
        assert _ses_sse(z, _ses(deseasonalised)[1].item()) <= _ses_sse(z, held) * (1 + 1e-3)
        if theirs >= 1e-3:  # our grids hold only statsmodels' weight: the rest of the method is compared
            with monkeypatch.context() as m:
                m.setattr(module, "_grids", lambda a=theirs: (np.array([a]), np.zeros(1)))
                at_theirs = forecast(x, horizon, period)[0].numpy()
            np.testing.assert_allclose(at_theirs, np.asarray(fit.forecast(horizon)), rtol=0, atol=1e-6 * y.std())


def test_seasonal_index_and_test_match_statsmodels():
    """The additive seasonal index is statsmodels' ``seasonal_decompose`` (first period of its seasonal part),
    and the seasonality test statsmodels' ThetaModel test, on fresh windows of even and odd periods."""
    sm = pytest.importorskip("statsmodels.tsa.seasonal")
    acf = pytest.importorskip("statsmodels.tsa.stattools").acf
    rng = np.random.default_rng()
    for period in (4, 7, 12, 24):
        y = _series(rng, int(rng.integers(2 * period + 2, 8 * period)), period)[None]
        x = torch.tensor(y)
        want = sm.seasonal_decompose(y[0], model="add", period=period).seasonal[:period]
        np.testing.assert_allclose(_seasonal_index(x, period)[0].numpy(), want, rtol=1e-10, atol=1e-12)
        rho = acf(y[0], nlags=period, fft=True)
        stat = len(y[0]) * rho[-1] ** 2 / np.sum(rho[:-1] ** 2)
        assert bool(_is_seasonal(x, period)[0]) == (stat > 2.705543454095404)


def test_affine_equivariant_and_batched_rows_independent():
    """theta(a * y + b) = a * theta(y) + b (a > 0), and each row of a batch is forecast as it is alone."""
    rng = np.random.default_rng()
    y = torch.tensor(np.stack([_series(rng, 96, 12) for _ in range(5)]))
    f = theta_forecast(y, 18, 12)
    np.testing.assert_allclose(theta_forecast(3.5 * y - 7.0, 18, 12).numpy(), 3.5 * f.numpy() - 7.0, rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(theta_forecast(y[2:3], 18, 12).numpy(), f[2:3].numpy(), rtol=1e-12, atol=1e-12)


def test_degenerate_windows_give_finite_forecasts():
    """A constant window forecasts its value; one row, two rows and a float32 batch give finite forecasts of
    the input's dtype."""
    const = torch.full((2, 50), 4.25, dtype=torch.float64)
    np.testing.assert_allclose(theta_forecast(const, 7, 12).numpy(), 4.25, rtol=0, atol=1e-12)
    for length in (1, 2, 3):
        f = theta_forecast(torch.randn(3, length), 5, 2)
        assert f.dtype == torch.float32 and f.shape == (3, 5) and torch.isfinite(f).all()
    with pytest.raises(ValueError, match=r"y must be \(N, L\)"):
        theta_forecast(torch.randn(4), 3)


def test_compiled_kernel_equals_the_torch_ops():
    """Where numba works, theta_forecast runs one compiled kernel; it gives the torch path's forecasts (the
    same arithmetic; the seasonality test's autocorrelation is a direct sum there and an FFT here) on fresh
    windows: seasonal and not, short and long, constant, and every length below two periods."""
    from tsrec.nn.theta import _theta_torch
    from tsrec.scan.cpu import numba_available

    if not numba_available():
        pytest.skip("numba is not installed (or TSREC_NUMBA=0): theta_forecast is the torch path")
    rng = np.random.default_rng()
    for _ in range(40):
        length, horizon = int(rng.integers(1, 400)), int(rng.integers(1, 50))
        period = int(rng.choice([1, 2, 7, 12, 24]))
        y = np.stack([_series(rng, length, period) for _ in range(int(rng.integers(1, 6)))])
        if rng.random() < 0.1:
            y[0] = 3.0
        x = torch.tensor(y)
        got, want = theta_forecast(x, horizon, period), _theta_torch(x, horizon, period)
        assert torch.isfinite(got).all()
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-9 * (1 + y.std()))


def test_one_season_forecast_removes_the_windows_own_season():
    """Fresh windows of ``period + 1`` to ``2 * period + 1`` rows: the forecast is the Theta method on the window
    less each phase's mean residual about its least-squares line (centred; a float64 numpy reference), with the
    index of each forecast's phase added back; a season around a level is continued (to the tilt that the
    line of a season and a half takes), where the Theta method, which cannot test a window this short, misses
    it; float32 stays float32."""
    from tsrec.nn.theta import one_season_forecast

    rng = np.random.default_rng(11)
    for period in (2, 4, 7, 12, 24):
        for length in (period + 1, period + period // 2 + 1, 2 * period + 1):
            x = np.stack([_series(rng, length, period) for _ in range(3)])
            t = np.arange(length)
            index = np.empty((3, period))
            for i, row in enumerate(x):
                slope, intercept = np.polyfit(t, row, 1)
                residual = row - (intercept + slope * t)
                index[i] = [residual[t % period == j].mean() for j in range(period)]
            index -= index.mean(axis=1, keepdims=True)
            adjusted = torch.from_numpy(x - index[:, t % period])
            want = theta_forecast(adjusted, 9).numpy() + index[:, (length + np.arange(9)) % period]
            got = one_season_forecast(torch.from_numpy(x), 9, period).numpy()
            assert np.isfinite(got).all()
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    season = torch.tensor([3.0, -1.0, 0.5, -2.5, 0.0]).repeat(3)  # period 5 around a level of 10
    y = 10 + season
    f = one_season_forecast(y[None, :8], 7, 5)
    assert f.dtype == torch.float32
    flat = theta_forecast(y[None, :8], 7, 5)[0]
    assert float((f[0] - y[8:15]).abs().max()) < 0.2
    assert float((flat - y[8:15]).abs().max()) > 2
    for bad in ((y[None, :5], 5), (y[None, :8], 1), (y[:8], 5)):
        with pytest.raises(ValueError):
            one_season_forecast(bad[0], 3, bad[1])
