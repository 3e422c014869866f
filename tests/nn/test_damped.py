"""Damped Holt of tsrec.nn.damped against statsmodels' damped Holt, its float64 reference."""

import warnings

import numpy as np
import pytest
import torch

from tsrec.nn.damped import ESTIMATED_ROWS, _damped_compiled, _damped_torch, _start, damped_forecast
from tsrec.nn.theta import _is_seasonal, _seasonal_index


def _series(rng: np.random.Generator, length: int, period: int) -> np.ndarray:
    t = np.arange(length)
    return (rng.normal(0, 1, length).cumsum() * rng.uniform(0, 1) + rng.uniform(-0.3, 0.3) * t
            + rng.uniform(0, 3) * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, length))


def _paths():
    return {"default": damped_forecast, "torch": lambda x, h, p: _damped_torch(x, h, p if p and p > 1 else 0)}


@pytest.mark.parametrize("path", ["default", "torch"])
def test_forecasts_are_statsmodels_damped_holt_at_the_least_squared_errors_of_the_grid(path, monkeypatch):
    """Fresh random series (trend, season, random walk, noise), seasonal and not, longer than ESTIMATED_ROWS
    (shorter ones are estimated, not gridded, by default), with a grid of three points drawn at random: the
    forecasts are those of statsmodels' damped Holt (``Holt(damped_trend=True)`` with those weights and our
    starting state, on the deseasonalised window) at the grid point whose statsmodels fit has the least squared
    one-step errors, plus the seasonal index. Both the default path (numba's kernel where
    it works) and the torch ops."""
    import tsrec.nn.damped as module

    Holt = pytest.importorskip("statsmodels.tsa.holtwinters").Holt
    forecast = _paths()[path]
    rng = np.random.default_rng()
    for _ in range(12):
        shortest = 3 if path == "torch" else ESTIMATED_ROWS + 1  # shorter windows: tests/nn/test_damped_estimated.py
        length, period = int(rng.integers(shortest, 200)), int(rng.choice([1, 4, 7, 12]))
        horizon = int(rng.integers(1, 25))
        y = _series(rng, length, period)
        grid = (rng.uniform(0.05, 1, 3), rng.uniform(0.01, 0.5, 3), rng.uniform(0.8, 1, 3))
        x = torch.tensor(y)[None]
        index = torch.zeros(1, horizon, dtype=torch.float64)
        z = x
        if period > 1 and length >= 2 * period + 2 and _is_seasonal(x, period)[0]:
            season = _seasonal_index(x, period)
            z = x - season[:, torch.arange(length) % period]
            index = season[:, (length + torch.arange(horizon)) % period]
        level, trend = (v.item() for v in _start(z))
        fits = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for a in grid[0]:
                for b in grid[1]:
                    for phi in grid[2]:  # the first row is the starting state; the errors are the later rows'
                        fit = Holt(z[0, 1:].numpy(), damped_trend=True, initialization_method="known",
                                   initial_level=level, initial_trend=trend).fit(
                            smoothing_level=a, smoothing_trend=b, damping_trend=phi, optimized=False)
                        fits.append((fit.sse, fit))
        best = min(fits, key=lambda f: f[0])[1]
        with monkeypatch.context() as m:
            m.setattr(module, "_grid", lambda g=grid: g)
            got = forecast(x, horizon, period)[0]
        want = best.forecast(horizon) + index[0].numpy()
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-8 * (1 + y.std()))


def test_a_line_and_a_season_around_a_line_are_continued():
    """Damped Holt follows a trend in full where the window is one (Theta takes half of it)."""
    t = torch.arange(100, dtype=torch.float64)
    for path in _paths().values():
        line = 2.0 - 0.3 * t
        torch.testing.assert_close(path(line[None, :80], 20, None)[0], line[80:], rtol=0, atol=1e-9)
        y = line + 2 * torch.sin(2 * torch.pi * t / 7)
        torch.testing.assert_close(path(y[None, :80], 20, 7)[0], y[80:], rtol=0, atol=1e-9)


def test_affine_equivariant_and_batched_rows_independent():
    """damped(a * y + b) = a * damped(y) + b (a > 0), and each row of a batch is forecast as it is alone."""
    rng = np.random.default_rng()
    y = torch.tensor(np.stack([_series(rng, 96, 12) for _ in range(5)]))
    f = damped_forecast(y, 18, 12)
    np.testing.assert_allclose(damped_forecast(3.5 * y - 7.0, 18, 12).numpy(), 3.5 * f.numpy() - 7.0, rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(damped_forecast(y[2:3], 18, 12).numpy(), f[2:3].numpy(), rtol=1e-12, atol=1e-12)


def test_degenerate_windows_give_finite_forecasts():
    """A constant window forecasts its value; one row, two rows and a float32 batch give finite forecasts of
    the input's dtype; a window with NaN is not forecast as if it were finite."""
    const = torch.full((2, 50), 4.25, dtype=torch.float64)
    for path in _paths().values():
        np.testing.assert_allclose(path(const, 7, 12).numpy(), 4.25, rtol=0, atol=1e-12)
    for length in (1, 2, 3):
        f = damped_forecast(torch.randn(3, length), 5, 2)
        assert f.dtype == torch.float32 and f.shape == (3, 5) and torch.isfinite(f).all()
    x = torch.randn(2, 30, dtype=torch.float64)
    x[0, 10] = float("nan")
    assert not torch.isfinite(damped_forecast(x, 4)[0]).all()
    with pytest.raises(ValueError, match=r"y must be \(N, L\)"):
        damped_forecast(torch.randn(4), 3)


def test_compiled_kernel_equals_the_torch_ops():
    """Where numba works, the grid runs as one compiled kernel; it gives the torch path's forecasts on fresh
    windows: seasonal and not, short and long, constant."""
    from tsrec.scan.cpu import numba_available

    if not numba_available():
        pytest.skip("numba is not installed (or TSREC_NUMBA=0): damped_forecast is the torch path")
    rng = np.random.default_rng()
    for _ in range(30):
        length, horizon = int(rng.integers(1, 300)), int(rng.integers(1, 50))
        period = int(rng.choice([1, 2, 7, 12, 24]))
        y = np.stack([_series(rng, length, period) for _ in range(int(rng.integers(1, 6)))])
        if rng.random() < 0.1:
            y[0] = 3.0
        x = torch.tensor(y)
        got = torch.empty(x.shape[0], horizon, dtype=torch.float64)
        _damped_compiled(x.numpy(), horizon, period if period > 1 else 0, got.numpy())
        want = _damped_torch(x, horizon, period if period > 1 else 0)
        assert torch.isfinite(got).all()
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-9 * (1 + y.std()))


def test_history_forecast_removes_the_season_that_the_rows_or_their_differences_show():
    """:func:`history_forecast` with a period forecasts each row less its leading NaN by :func:`damped_forecast` of
    the row less statsmodels' classical additive seasonal component (``seasonal_decompose``), plus the component's
    continuation, where the row holds ``2p + 2`` values and it or (from ``2p + 3``) its first differences pass
    statsmodels' Theta seasonality test (the differences with an autocorrelation above zero at lag ``p``: a negative
    one is no season that repeats); a row of ``p + 2`` to ``2p + 1`` values by
    :func:`tsrec.nn.theta.one_season_forecast` where that forecast its last ``m = min(horizon, values - p - 1)``
    values from the values before them with a smaller mean absolute error than :func:`damped_forecast` did; else by
    :func:`damped_forecast` of the row. Fresh random rows of 1 to ``8p`` values, drawn until each period has seen all
    five kinds (a random walk under a season often shows it in its differences only; 36 rows miss that kind in about
    one draw of ten). Differences that pass the two-sided test with a negative autocorrelation are no season: one
    draw in six is a random walk whose steps ``e_t - 0.8 e_(t-p)`` correlate negatively at lag ``p``, so that kind is
    seen too."""
    pytest.importorskip("statsmodels")
    from statsmodels.tsa.seasonal import seasonal_decompose

    from tsrec.nn.damped import history_forecast
    from tsrec.nn.theta import one_season_forecast

    def mae(forecast: torch.Tensor, actual: np.ndarray) -> float:
        return float(np.mean(np.abs(forecast[0].numpy() - actual)))

    rng = np.random.default_rng()
    every = {"rows", "differences", "negative differences", "one season", "none"}
    for period in (4, 12):
        horizon, width = int(rng.integers(1, 2 * period)), 8 * period
        rows, want, kinds = [], [], set()
        for i in range(360):
            if i >= 36 and kinds == every:
                break
            lengths = {0: (2 * period + 3, width + 1), 1: (period + 2, 2 * period + 2)}.get(i % 3, (1, width + 1))
            n = int(rng.integers(*lengths))  # (some in the test's range, some in the one season's)
            t = np.arange(n)
            y = rng.uniform(0, 2) * np.sin(2 * np.pi * t / period) + rng.normal(0, rng.uniform(0.2, 3), n).cumsum()
            if i % 6 == 3:  # a random walk whose steps e_t - 0.8 e_(t-p) correlate negatively at lag p
                e = rng.normal(0, 1, n + period)
                y = (e[period:] - 0.8 * e[:-period]).cumsum()
            differences = n >= 2 * period + 3 and passes(np.diff(y), period)
            if n >= 2 * period + 2 and (passes(y, period) or (differences and passes(np.diff(y), period, True))):
                kinds.add("rows" if passes(y, period) else "differences")
                season = seasonal_decompose(y, model="additive", period=period).seasonal
                ahead = season[(n + np.arange(horizon)) % period]
                want.append(damped_forecast(torch.tensor(y - season)[None], horizon)[0].numpy() + ahead)
            elif period + 2 <= n < 2 * period + 2 and \
                    mae(one_season_forecast(torch.tensor(y[:-(m := min(horizon, n - period - 1))])[None], m, period),
                        y[-m:]) < mae(damped_forecast(torch.tensor(y[:-m])[None], m), y[-m:]):
                kinds.add("one season")
                want.append(one_season_forecast(torch.tensor(y)[None], horizon, period)[0].numpy())
            else:
                kinds.add("negative differences" if differences and n >= 2 * period + 2 else "none")
                want.append(damped_forecast(torch.tensor(y)[None], horizon)[0].numpy())
            rows.append(np.r_[np.full(width - n, np.nan), y])
        got = history_forecast(torch.tensor(np.stack(rows)), horizon, period).numpy()
        np.testing.assert_allclose(got, np.stack(want), rtol=1e-9, atol=1e-9)
        assert history_forecast(torch.tensor(np.stack(rows), dtype=torch.float32), horizon, period).dtype \
            == torch.float32
        assert kinds == every, (period, kinds)


def test_history_forecast_with_tail_season_keeps_a_season_the_test_missed_where_it_backtests_better():
    """With ``tail_season``, a row of ``n`` values, ``2p + 2 <= n < 4p``, that fails statsmodels' Theta seasonality
    test on its levels and (from ``2p + 3`` values) on its first differences is forecast as its last ``2p + 1``
    values: by :func:`tsrec.nn.theta.one_season_forecast` where that forecast their last ``m = min(horizon, p)``
    from the values before them with a smaller mean absolute error than :func:`damped_forecast` did, else by
    :func:`damped_forecast` of the whole row. Every other row is forecast as without ``tail_season``. Fresh random
    NaN-led rows (a season under noise and a random walk, too weak on two to four seasons for the test), drawn
    until each period has seen both outcomes of the backtest."""
    pytest.importorskip("statsmodels")
    from tsrec.nn.damped import history_forecast
    from tsrec.nn.theta import one_season_forecast

    def mae(forecast: torch.Tensor, actual: np.ndarray) -> float:
        return float(np.mean(np.abs(forecast[0].numpy() - actual)))

    rng = np.random.default_rng()
    for period in (4, 12):
        horizon, width = int(rng.integers(1, 2 * period)), 6 * period
        rows, want, kinds = [], [], set()
        for i in range(400):
            if i >= 30 and {"season", "none"} <= kinds:
                break
            n = int(rng.integers(2 * period + 2, 4 * period)) if i % 4 else int(rng.integers(period + 2, width + 1))
            t = np.arange(n)
            y = rng.uniform(0.5, 3) * np.sin(2 * np.pi * t / period + rng.uniform(0, 6)) + \
                rng.normal(0, rng.uniform(0.3, 2), n).cumsum()
            missed = not passes(y, period) and not (n >= 2 * period + 3 and passes(np.diff(y), period))
            rows.append(np.r_[np.full(width - n, np.nan), y])
            if not (2 * period + 2 <= n < 4 * period and missed):
                want.append(None)  # as without tail_season
                continue
            tail, m = y[-(2 * period + 1):], min(horizon, period)
            past = torch.tensor(tail[:-m])[None]
            if mae(one_season_forecast(past, m, period), tail[-m:]) < mae(damped_forecast(past, m), tail[-m:]):
                kinds.add("season")
                want.append(one_season_forecast(torch.tensor(tail)[None], horizon, period)[0].numpy())
            else:
                kinds.add("none")
                want.append(damped_forecast(torch.tensor(y)[None], horizon)[0].numpy())
        x = torch.tensor(np.stack(rows))
        got = history_forecast(x, horizon, period, tail_season=True).numpy()
        before = history_forecast(x, horizon, period).numpy()
        expected = np.stack([before[i] if w is None else w for i, w in enumerate(want)])
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
        assert np.isfinite(got).all() and kinds == {"season", "none"}, (period, kinds)
        assert any(w is None for w in want) and not np.array_equal(got, before)


def passes(v: np.ndarray, p: int, positive: bool = False) -> bool:
    """statsmodels' ThetaModel._test_seasonality: whether ``v``'s autocorrelation at lag ``p`` passes the 10% test
    (with ``positive``, and is above zero)."""
    from scipy.stats import chi2
    from statsmodels.tsa.stattools import acf

    rho = acf(v, nlags=p, fft=True)
    return len(v) * rho[-1] ** 2 / np.sum(rho[:-1] ** 2) > chi2.ppf(0.9, 1) and (rho[-1] > 0 or not positive)


def test_naive_blend_forecast_weighs_in_seasonal_naive_where_it_forecast_the_last_rows_better():
    """:func:`naive_blend_forecast` against its definition in float64 numpy: for a window of ``L >= 2p + 3`` rows,
    damped Holt and the last season repeated forecast the last ``m = min(horizon, L - 2p - 2)`` rows from the rows
    before them; where seasonal naive's mean absolute error ``e_n`` there is below damped Holt's ``e_d`` and the
    window's first differences pass statsmodels' Theta seasonality test, the forecast is ``(e_n * damped + e_d *
    naive) / (e_d + e_n)`` of the whole window, else damped Holt's, as it is for shorter windows and without a
    period. Fresh random windows of every kind, batched; finite in, finite out. The windows are drawn again (fresh
    horizons too) until both a blended and a damped window were seen, at most five times: one draw has no window
    that blends in about one run of a thousand (the grown cycle built to blend can backtest on rows where its
    growth does not show)."""
    pytest.importorskip("statsmodels")
    from tsrec.nn.damped import naive_blend_forecast

    rng = np.random.default_rng()
    kinds = set()
    for _ in range(5):  # fresh windows until both kinds were seen
        if {"blend", "damped"} <= kinds:
            break
        for period in (4, 24):
            horizon = int(rng.integers(1, 3 * period))
            for length in (2 * period + 2, 2 * period + 3, int(rng.integers(5 * period, 8 * period))):
                rows = []
                if length >= 5 * period:  # one that blends: a clean cycle that grew over its last two seasons
                    t = np.arange(length)
                    rows.append(10 + np.where(t < length - 2 * period, 1.0, 3.0) * np.sin(2 * np.pi * t / period)
                                + rng.normal(0, 0.05, length))
                for i in range(12 - len(rows)):
                    t = np.arange(length)
                    amplitude = np.where(t < length - period - int(rng.integers(0, period)), 1.0, rng.uniform(1, 4))
                    if i % 3 == 2:  # a random walk: its last season repeated can backtest better by chance
                        rows.append(rng.normal(0, 1, length).cumsum())
                        continue
                    rows.append(amplitude * rng.uniform(0, 3) * np.sin(2 * np.pi * t / period)
                                + rng.uniform(-0.2, 0.2) * t * (i % 2) + rng.normal(0, rng.uniform(0.05, 1), length))
                x = np.stack(rows)
                damped = damped_forecast(torch.tensor(x), horizon, period).numpy()
                want = damped.copy()
                if length >= 2 * period + 3:
                    m = min(horizon, length - 2 * period - 2)
                    past, last = x[:, :-m], x[:, -m:]
                    e_d = np.abs(damped_forecast(torch.tensor(past), m, period).numpy() - last).mean(axis=1)
                    e_n = np.abs(past[:, length - m - period + np.arange(m) % period] - last).mean(axis=1)
                    naive = x[:, length - period + np.arange(horizon) % period]
                    wins = e_n < e_d
                    blend = wins & np.array([passes(np.diff(row), period) for row in x])
                    kinds.update({"blend" if b else "naive won" if w else "damped" for b, w in zip(blend, wins)})
                    want[blend] = ((e_n[:, None] * damped + e_d[:, None] * naive) / (e_d + e_n)[:, None])[blend]
                got = naive_blend_forecast(torch.tensor(x), horizon, period)
                assert got.dtype == torch.float64 and torch.isfinite(got).all()
                np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
                np.testing.assert_array_equal(naive_blend_forecast(torch.tensor(x), horizon, None).numpy(),
                                              damped_forecast(torch.tensor(x), horizon).numpy())
    assert {"blend", "damped"} <= kinds
    # a random walk whose levels pass the test and whose last season repeated backtests better, by chance: its
    # differences show no season, and damped Holt is kept
    walk = torch.tensor(np.random.default_rng(1).normal(0, 1, 60).cumsum())[None]
    e_d = (damped_forecast(walk[:, :-8], 8, 4) - walk[:, -8:]).abs().mean()
    e_n = (walk[:, -12:-8].repeat(1, 2) - walk[:, -8:]).abs().mean()
    assert e_n < e_d and passes(walk[0].numpy(), 4) and not passes(np.diff(walk[0].numpy()), 4)
    assert torch.equal(naive_blend_forecast(walk, 8, 4), damped_forecast(walk, 8, 4))
    f32 = naive_blend_forecast(torch.tensor(x, dtype=torch.float32), 5, 24)
    assert f32.dtype == torch.float32 and f32.shape == (12, 5)


def test_history_blend_forecast_weighs_in_seasonal_naive_on_each_rows_finite_part():
    """:func:`history_blend_forecast` against its definition in float64 numpy, row by row: on a row's finite part
    of ``n >= 2p + 3`` values, :func:`history_forecast` and the last season repeated forecast its last ``m =
    min(horizon, n - 2p - 2)`` values from the values before them; where seasonal naive's mean absolute error is
    the smaller and the part's first differences pass statsmodels' Theta seasonality test, the forecast is the two
    weighted by the other's error, else :func:`history_forecast`'s, as it is for shorter parts and without a
    period. Fresh random NaN-led rows of several finite lengths, batched; finite in, finite out."""
    pytest.importorskip("statsmodels")
    from tsrec.nn.damped import history_blend_forecast, history_forecast

    rng = np.random.default_rng()
    kinds = set()
    for period in (4, 12):
        horizon = int(rng.integers(1, 2 * period))
        width = 8 * period
        rows = []
        for i in range(15):
            n = int(rng.choice([width, width, 2 * period + 2, int(rng.integers(2 * period + 3, width))]))
            t = np.arange(n)
            amplitude = np.where(t < n - period - int(rng.integers(0, period)), 1.0, rng.uniform(1, 4))
            values = (rng.normal(0, 1, n).cumsum() if i % 3 == 2 else
                      amplitude * rng.uniform(0, 3) * np.sin(2 * np.pi * t / period)
                      + rng.uniform(-0.2, 0.2) * t * (i % 2) + rng.normal(0, rng.uniform(0.05, 1), n))
            rows.append(np.concatenate([np.full(width - n, np.nan), values]))
        t = np.arange(width)  # one that blends: a clean cycle that grew over its last two seasons
        rows[0] = 10 + np.where(t < width - 2 * period, 1.0, 3.0) * np.sin(2 * np.pi * t / period) + rng.normal(
            0, 0.05, width)
        x = np.stack(rows)
        got = history_blend_forecast(torch.tensor(x), horizon, period)
        assert got.dtype == torch.float64 and torch.isfinite(got).all()
        for row, out in zip(x, got.numpy()):
            part = row[~np.isnan(row)]
            alone = history_forecast(torch.tensor(part)[None], horizon, period)[0].numpy()
            want = alone
            if len(part) >= 2 * period + 3:
                m = min(horizon, len(part) - 2 * period - 2)
                past, last = part[:-m], part[-m:]
                e_h = np.abs(history_forecast(torch.tensor(past)[None], m, period)[0].numpy() - last).mean()
                e_n = np.abs(past[len(past) - period + np.arange(m) % period] - last).mean()
                naive = part[len(part) - period + np.arange(horizon) % period]
                blend = e_n < e_h and passes(np.diff(part), period)
                kinds.add("blend" if blend else "alone")
                if blend:
                    want = (e_n * alone + e_h * naive) / (e_h + e_n)
            np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(history_blend_forecast(torch.tensor(x), horizon, None).numpy(),
                                      history_forecast(torch.tensor(x), horizon, None).numpy())
    assert {"blend", "alone"} <= kinds
    f32 = history_blend_forecast(torch.tensor(x, dtype=torch.float32), 5, 12)
    assert f32.dtype == torch.float32 and f32.shape == (15, 5)


def _reference_horizon_fit(z: np.ndarray, horizon: int) -> np.ndarray:
    """Float64 reference of the grid fitted by one-step plus ``horizon``-step squared errors, on a window ``z``
    without a season: every grid point's levels and trends kept at every row (no ring buffer), each row's
    forecast ``horizon`` rows ahead compared with that row."""
    import tsrec.nn.damped as module

    alphas, betas, phis = module._grid()
    level0, trend0 = (v.item() for v in _start(torch.tensor(z)[None]))
    best, forecast = np.inf, None
    for a in alphas:
        for b in betas:
            for phi in phis:
                level, trend, sse = level0, trend0, 0.0
                levels, trends = [level], [trend]
                for v in z[1:]:
                    error = v - (level + phi * trend)
                    sse += error * error
                    new = level + phi * trend + a * error
                    trend = b * (new - level) + (1 - b) * phi * trend
                    level = new
                    levels.append(level)
                    trends.append(trend)
                total = sum(phi**k for k in range(1, horizon + 1))
                for t in range(1, len(z) - horizon):  # forecasts made at rows 1 .. L - 1 - horizon
                    sse += (z[t + horizon] - (levels[t] + total * trends[t])) ** 2
                if sse < best:
                    damp = np.cumsum(phi ** np.arange(1, horizon + 1))
                    best, forecast = sse, level + damp * trend
    return forecast


@pytest.mark.parametrize("path", ["compiled", "torch"])
def test_the_grid_fitted_by_horizon_errors_is_its_float64_reference(path):
    """With ``horizon_errors`` the grid's point is the one with the least sum of the squared one-step errors and
    those of each row's forecast ``horizon`` rows ahead: fresh random windows (random walk, trend, noise) against
    a plain loop over the 720 points; shorter windows than ``horizon + 11`` rows keep the one-step fit."""
    from tsrec.nn.damped import _grid_forecast
    from tsrec.scan.cpu import numba_available

    if path == "compiled" and not numba_available():
        pytest.skip("numba is not installed (or TSREC_NUMBA=0)")
    rng = np.random.default_rng()
    for _ in range(3):
        length, horizon = int(rng.integers(30, 60)), int(rng.integers(2, 12))
        z = _series(rng, length, 1)
        x = torch.tensor(z)[None]
        if path == "compiled":
            got = torch.empty(1, horizon, dtype=torch.float64)
            _damped_compiled(x.numpy(), horizon, 0, got.numpy(), horizon_errors=True)
        else:
            got = _damped_torch(x, horizon, 0, horizon_errors=True)
        np.testing.assert_allclose(got[0].numpy(), _reference_horizon_fit(z, horizon), rtol=1e-9, atol=1e-9)
    short = torch.tensor(_series(rng, 25, 1))[None]  # 25 < 20 + 11 rows: one-step errors only
    assert torch.equal(_grid_forecast(short, 20, None, True), _grid_forecast(short, 20, None))


def test_horizon_errors_compiled_kernel_equals_the_torch_ops():
    """The kernel's ring of forecasts and the torch path's give the same forecasts, seasonal and not, on fresh
    windows, also when the torch path splits many windows into passes."""
    import tsrec.nn.damped as module
    from tsrec.scan.cpu import numba_available

    if not numba_available():
        pytest.skip("numba is not installed (or TSREC_NUMBA=0)")
    rng = np.random.default_rng()
    for _ in range(8):
        length, horizon = int(rng.integers(20, 250)), int(rng.integers(2, 40))
        period = int(rng.choice([1, 7, 12, 24]))
        x = torch.tensor(np.stack([_series(rng, length, period) for _ in range(int(rng.integers(1, 5)))]))
        got = torch.empty(x.shape[0], horizon, dtype=torch.float64)
        _damped_compiled(x.numpy(), horizon, period if period > 1 else 0, got.numpy(), horizon_errors=True)
        want = _damped_torch(x, horizon, period if period > 1 else 0, horizon_errors=True)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-9 * (1 + float(x.std())))
    x = torch.tensor(np.stack([_series(rng, 80, 1) for _ in range(5)]))
    one_pass = _damped_torch(x, 12, 0, horizon_errors=True)
    chunk = module._TORCH_AHEAD_VALUES
    try:
        module._TORCH_AHEAD_VALUES = 2 * 12 * 720  # two windows per pass
        assert torch.equal(_damped_torch(x, 12, 0, horizon_errors=True), one_pass)
    finally:
        module._TORCH_AHEAD_VALUES = chunk


def test_horizon_errors_choose_per_window_by_a_backtest_on_its_last_rows():
    """``damped_forecast(..., horizon_errors=True)`` gives each window the one-step fit or the one-step plus
    horizon-step fit, whichever forecast the window's last ``min(horizon, (L - 11) // 2)`` rows better from the
    rows before them (a tie: one-step); a steady trend is continued in full."""
    from tsrec.nn.damped import _grid_forecast

    rng = np.random.default_rng()
    x = torch.tensor(np.stack([_series(rng, 120, 24) for _ in range(6)]))
    got = damped_forecast(x, 24, 24, horizon_errors=True)
    m = min(24, (120 - 11) // 2)
    for row, forecast in zip(x, got):
        past, last = row[None, :-m], row[-m:]
        e_one = float((_grid_forecast(past, m, 24)[0] - last).abs().mean())
        e_both = float((_grid_forecast(past, m, 24, True)[0] - last).abs().mean())
        want = _grid_forecast(row[None], 24, 24, e_both < e_one)[0]
        assert torch.equal(forecast, want)
    line = torch.arange(60.0, dtype=torch.float64)[None]
    assert torch.allclose(damped_forecast(line, 5, horizon_errors=True), torch.arange(60.0, 65.0)[None].double())


def test_one_pass_gives_the_one_step_and_the_horizon_step_fits():
    """The kernel's pass with ``out_one_step`` (the backtest's pair) gives, bit for bit, the forecasts of the
    one-step fit and of the one-step plus horizon-step fit that two separate passes give, seasonal and not."""
    from tsrec.nn.damped import _grid_forecast, _grid_pair
    from tsrec.scan.cpu import numba_available

    if not numba_available():
        pytest.skip("numba is not installed (or TSREC_NUMBA=0): the pair is two torch passes")
    rng = np.random.default_rng()
    for _ in range(6):
        length, horizon = int(rng.integers(25, 200)), int(rng.integers(2, 30))
        period = int(rng.choice([1, 7, 24]))
        x = torch.tensor(np.stack([_series(rng, length, period) for _ in range(3)]))
        one, both = _grid_pair(x, horizon, period)
        assert torch.equal(one, _grid_forecast(x, horizon, period))
        assert torch.equal(both, _grid_forecast(x, horizon, period, True))
