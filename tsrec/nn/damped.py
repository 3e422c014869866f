"""Damped Holt on a batch of windows, in torch: a trend-aware partner for the window model's combination.

Damped Holt (Gardner and McKenzie 1985) forecasts a series by a level and a
trend that is smoothed and damped: from the state ``(l, b)`` the forecast ``h``
steps ahead is ``l + (phi + phi^2 + ... + phi^h) * b``, and each row ``y``
moves the state by the one-step error ``e = y - (l + phi * b)``::

    l' = l + phi * b + alpha * e
    b' = beta * (l' - l) + (1 - beta) * phi * b

Run on many short windows at once, with the recipe of the M4 competition's
"Damped" benchmark and the deseasonalisation of :mod:`tsrec.nn.theta`:

1. *seasonality*: Theta's 10% autocorrelation test where the window holds at
   least ``2 * period + 2`` rows; a seasonal window is deseasonalised by the
   classical additive decomposition, and the index of each forecast's phase is
   added back at the end;
2. *start*: the least-squares line of the first (at most ten) rows; the state
   at the first row is the line's value there and its slope (as Theta's
   smoothing starts from the first value), the errors are those of the later rows;
3. *fit*: ``alpha``, ``beta`` and ``phi`` from a grid (:data:`ALPHAS` x
   :data:`BETAS` x :data:`PHIS`, 720 points), the one with the least sum of
   squared one-step errors over the window (the first of equal ones); with
   ``horizon_errors``, each window also gets the point with the least sum of
   those and the squared errors of the forecasts ``horizon`` steps ahead made
   from each row (multi-step estimation), and keeps whichever of the two fits
   forecast its last rows better from the rows before them.

A window of at most :data:`ESTIMATED_ROWS` (20) rows, where that start line is
most of the window, is fitted instead as statsmodels fits damped Holt, weights
and initial state together (:mod:`tsrec.nn.damped_estimated`; steps 2 and 3
replaced, after the same deseasonalisation). On short trending series that
closed most of the defaults' gap to Holt-Winters; on noisier yearly series it
was neutral (session 17, ``benchmarks/RESULTS.md``).

Unlike Theta, which extrapolates half the least-squares drift, damped Holt
follows a trend the window shows, and damps it where the errors ask for it.
:class:`tsrec.nn.window.WindowModel` uses it as its partner with
``partner="damped"``. It has no parameters and no gradient. On CPU with numba
the grid runs as one compiled kernel (:mod:`tsrec.nn._damped_numba`, the same
arithmetic); elsewhere, and with ``TSREC_NUMBA=0``, as the torch code below.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import Tensor

from ..scan.cpu import numba_available
from .damped_estimated import estimated_damped
from .theta import SEASONALITY_CRITICAL, _is_seasonal, _seasonal_index, on_windows, one_season_forecast

__all__ = ["ALPHAS", "BETAS", "ESTIMATED_ROWS", "PHIS", "damped_forecast", "history_forecast", "history_blend_forecast",
           "naive_blend_forecast", "seasonal_naive_forecast"]

#: the level's smoothing weights of the grid
ALPHAS = tuple(k / 20 for k in range(1, 21))
#: the trend's smoothing weights of the grid
BETAS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5)
#: the damping factors of the grid (1: Holt's linear trend)
PHIS = (0.8, 0.85, 0.9, 0.95, 0.98, 1.0)
_START_ROWS = 10  # the rows of the least-squares line the state starts from
_TORCH_AHEAD_VALUES = 2**22  # the torch path's kept forecasts (windows x points x horizon) per pass, at most
#: windows of at most this many rows (twice the start's) are fitted by
#: :func:`tsrec.nn.damped_estimated.estimated_damped`, not the grid
ESTIMATED_ROWS = 2 * _START_ROWS


def damped_forecast(y: Tensor, horizon: int, period: int | None = None, estimated_rows: int = ESTIMATED_ROWS,
                    horizon_errors: bool = False) -> Tensor:
    """Damped Holt forecasts of the ``horizon`` steps after each window.

    Parameters
    ----------
    y : Tensor
        Windows ``(N, L)``, oldest row first; finite.
    horizon : int
        Steps to forecast.
    period : int, optional
        The seasonal period; None or 1 for none. A window shorter than
        ``2 * period + 2`` rows, or one that fails the seasonality test, is
        not deseasonalised.
    estimated_rows : int, default=ESTIMATED_ROWS
        Windows of 2 to ``estimated_rows`` rows are fitted by
        :func:`tsrec.nn.damped_estimated.estimated_damped` (some milliseconds a
        window), longer ones by the grid (0: the grid for all, as before
        session 17).
    horizon_errors : bool, default=False
        Per window, choose the grid's point either by the one-step errors or
        by the sum of the squared errors one step and ``horizon`` steps ahead
        (each row's forecast of the row ``horizon`` later; where a window
        holds at least ``horizon + 11`` rows): the way that forecast the
        window's last ``min(horizon, (L - 11) // 2)`` rows better from the
        rows before them. The partner of a series indexed daily or finer
        (``frame_.horizon_errors``; see
        ``benchmarks/rules/2026-12-05_partner_horizon_backtest.md``): fitted
        to the next row alone, the trend of an hourly window can follow the
        last hours' change and run off over a day; a steady trend is kept.

    Returns
    -------
    Tensor
        ``(N, horizon)`` in ``y``'s dtype (computed in float64).

    Examples
    --------
    A line is continued in full, and so is a season around a line (Theta
    would take half the slope); a short window's trend is damped a little
    (statsmodels' bound, ``phi <= 0.995``):

    >>> import torch
    >>> damped_forecast(torch.arange(30.0)[None], horizon=3)
    tensor([[30., 31., 32.]])
    >>> damped_forecast(torch.arange(10.0)[None], horizon=3)
    tensor([[ 9.9950, 10.9850, 11.9701]])
    >>> t = torch.arange(60, dtype=torch.float64)
    >>> y = 10 + 0.1 * t + 3 * torch.sin(2 * torch.pi * t / 12)
    >>> f = damped_forecast(y[None, :48], horizon=12, period=12)
    >>> bool(torch.allclose(f[0], y[48:], atol=1e-9))
    True

    With ``horizon_errors`` a steady trend is still continued in full (its one-step fit forecast the window's
    last rows as well as any):

    >>> damped_forecast(torch.arange(60.0)[None], horizon=3, horizon_errors=True)
    tensor([[60., 61., 62.]])
    """
    if y.dim() == 2 and 2 <= y.shape[1] <= estimated_rows:
        return on_windows(y, horizon, period, _estimated_into, _estimated)
    if horizon_errors and y.dim() == 2:
        return _backtest_choice(y, horizon, period, estimated_rows)
    return _grid_forecast(y, horizon, period)


def _grid_forecast(y: Tensor, horizon: int, period: int | None, horizon_errors: bool = False) -> Tensor:
    """The grid's forecasts of the windows ``y`` (N, L > ``estimated_rows``), its point chosen by the one-step
    squared errors, plus with ``horizon_errors`` those ``horizon`` steps ahead."""
    if horizon_errors:
        return on_windows(y, horizon, period, functools.partial(_damped_compiled, horizon_errors=True),
                          functools.partial(_damped_torch, horizon_errors=True))
    return on_windows(y, horizon, period, _damped_compiled, _damped_torch)


def _backtest_choice(y: Tensor, horizon: int, period: int | None, estimated_rows: int) -> Tensor:
    """Per window of ``y`` (N, L), the grid fitted by one-step errors or by one-step plus ``horizon``-step errors
    (:func:`_grid_forecast`): the way whose fit on the window less its last ``m = min(horizon, (L - 11) // 2)``
    rows forecast those rows with the smaller mean absolute error (a tie: one-step). Where ``m < 2`` or the rows
    left are ``estimated_rows`` or fewer, the one-step plus horizon-step fit."""
    length = y.shape[1]
    m = min(horizon, (length - 11) // 2)
    if m < 2 or length - m <= estimated_rows:
        return _grid_forecast(y, horizon, period, True)
    one, both = _grid_pair(y, horizon, period)
    past, last = y[:, :-m], y[:, -m:].to(torch.float64)
    e_one, e_both = ((f.to(torch.float64) - last).abs().mean(dim=1) for f in _grid_pair(past, m, period))
    return torch.where((e_both < e_one)[:, None], both, one)


def _grid_pair(y: Tensor, horizon: int, period: int | None) -> tuple[Tensor, Tensor]:
    """(:func:`_grid_forecast` of ``y`` (N > 0, L > 0), the same with ``horizon_errors``): with numba, one pass
    gives both."""
    x = y.detach().to(torch.float64)
    if x.device.type != "cpu" or not numba_available():
        return _grid_forecast(y, horizon, period), _grid_forecast(y, horizon, period, True)
    from ._damped_numba import damped_rows

    one, both = x.new_empty(x.shape[0], horizon), x.new_empty(x.shape[0], horizon)
    damped_rows(x.contiguous().numpy(), horizon, period if period is not None and period > 1 else 0,
                SEASONALITY_CRITICAL, *_grid(), _START_ROWS, both.numpy(), True, one.numpy())
    return one.to(y.dtype), both.to(y.dtype)


def seasonal_naive_forecast(y: Tensor, horizon: int, period: int) -> Tensor:
    """The last ``period`` rows of each window ``y`` (N, L >= period) repeated over ``horizon`` steps.

    Examples
    --------
    >>> import torch
    >>> seasonal_naive_forecast(torch.arange(6.0)[None], horizon=4, period=3)
    tensor([[3., 4., 5., 3.]])
    """
    return y[:, y.shape[1] - period + torch.arange(horizon, device=y.device) % period]


def naive_blend_forecast(y: Tensor, horizon: int, period: int | None = None,
                         estimated_rows: int = ESTIMATED_ROWS, horizon_errors: bool = False) -> Tensor:
    """:func:`damped_forecast`, blended with seasonal naive where that forecast the window's last rows better and
    the window's changes show the season.

    Where a window holds at least ``2 * period + 3`` rows, both forecast its last ``m = min(horizon, L - 2 *
    period - 2)`` rows from the rows before them (damped Holt deseasonalised as it would be on the whole
    window). Where seasonal naive's mean absolute error ``e_naive`` there is the smaller and the window's first
    differences pass the seasonality test (a random walk's levels pass it, its differences do not), the
    forecast is the two weighted by the other's error, ``(e_naive * damped + e_damped * naive) / (e_damped +
    e_naive)``;
    elsewhere, and on windows without a period or shorter, it is :func:`damped_forecast`. Damped Holt's trend,
    fitted to one-step errors, can run off over a horizon of a season or more where the last season repeated
    does not (a day of electricity demand); a window led by its trend keeps damped Holt. The partner of a window
    model with ``naive_blend`` (``frame_.naive_blend``, session 21; see
    ``benchmarks/rules/2026-12-03_naive_blend.md`` and ``2026-12-03_naive_blend_differences.md``).

    Parameters
    ----------
    y : Tensor
        Windows ``(N, L)``, oldest row first; finite.
    horizon : int
        Steps to forecast.
    period : int, optional
        The seasonal period; None or 1 for none.
    estimated_rows, horizon_errors
        As for :func:`damped_forecast` (both forecasts of damped Holt, the backtest's at its horizon).

    Returns
    -------
    Tensor
        ``(N, horizon)`` in ``y``'s dtype (computed in float64).

    Examples
    --------
    A daily cycle that grew two days ago: the classical index averages the days, the last day repeated is
    the cycle as it is now, and it forecast the window's last day better:

    >>> import torch
    >>> t = torch.arange(144, dtype=torch.float64)
    >>> y = 10 + torch.where(t < 72, 1.0, 3.0) * torch.sin(2 * torch.pi * t / 24)
    >>> error = lambda f: round(float((f[0] - y[120:]).abs().mean()), 2)
    >>> error(damped_forecast(y[None, :120], 24, 24)), error(naive_blend_forecast(y[None, :120], 24, 24))
    (1.63, 0.0)

    A season around a line: damped Holt forecast the last day better, and it is kept:

    >>> z = 10 + 0.5 * t[:120] + torch.sin(2 * torch.pi * t[:120] / 24)
    >>> torch.equal(naive_blend_forecast(z[None], 24, 24), damped_forecast(z[None], 24, 24))
    True
    """
    damped = damped_forecast(y, horizon, period, estimated_rows, horizon_errors)
    if y.dim() != 2 or period is None or period < 2 or y.shape[1] < 2 * period + 3:
        return damped
    x = y.detach().to(torch.float64)
    method = functools.partial(damped_forecast, period=period, estimated_rows=estimated_rows,
                               horizon_errors=horizon_errors)
    return _naive_blend(x, damped.to(torch.float64), method, horizon, period).to(y.dtype)


def history_forecast(y: Tensor, horizon: int, period: int | None = None, one_season: bool = True,
                     horizon_errors: bool = False, tail_season: bool = False,
                     positive_differences: bool = True) -> Tensor:
    """Damped Holt forecasts of the ``horizon`` steps after each row of ``y``, on the row less its leading NaN:
    the partner of a short window read with the rows before it (:class:`tsrec.nn.window.WindowModel`'s
    ``partner_rows``), where NaN pads a series shorter than the rows.

    Without a seasonal ``period`` each row is estimated as statsmodels estimates damped Holt. With one, each row
    that holds at least ``2 * period + 2`` values and passes the seasonality test, or whose first differences
    pass it with an autocorrelation above zero at lag ``period`` (from ``2 * period + 3`` values; a short seasonal
    series often shows its season only there, and a negative one is no season that repeats; of either sign with
    ``positive_differences=False``, as before ``benchmarks/rules/2026-12-07_positive_differences_season.md``), is
    forecast less its classical additive seasonal index, which is added back; the rest as they are; both by
    :func:`damped_forecast` (estimated on at most :data:`ESTIMATED_ROWS` values, the grid beyond). A row of
    ``period + 2`` to ``2 * period + 1`` values, too few for the test, is forecast by
    :func:`tsrec.nn.theta.one_season_forecast` (less its one season) where that forecast its last
    ``min(horizon, values - period - 1)`` values from the values before them with a smaller mean absolute error than
    :func:`damped_forecast` did (a regular daily cycle: electricity demand), else without a season (five days of
    weather, led by their trend); see ``benchmarks/rules/2026-12-03_history_one_season_backtest.md``. With
    ``one_season=False`` such rows are forecast without a season, as before that rule. With ``tail_season``, a row
    of ``2 * period + 2`` to ``4 * period - 1`` values that fails the test on its levels and its differences (on two
    to four seasons the test has little power) is forecast as its last ``2 * period + 1`` values are: less their
    one season where that backtests better (the partner of a series indexed monthly or coarser, whose period is a
    year; see ``benchmarks/rules/2026-12-07_coarse_tail_season_b.md``).

    Parameters
    ----------
    y : Tensor
        ``(N, L)``, oldest row first: NaN, then finite values (at least one).
    horizon : int
        Steps to forecast.
    period : int, optional
        The seasonal period; None or 1 for none.
    one_season : bool, default=True
        Whether rows of ``period + 2`` to ``2 * period + 1`` values may be forecast less their one season.
    horizon_errors : bool, default=False
        As for :func:`damped_forecast`, on every row and backtest its grid fits.
    tail_season : bool, default=False
        Whether rows of ``2 * period + 2`` to ``4 * period - 1`` values that fail the seasonality test may be
        forecast as their last ``2 * period + 1`` values are (with ``one_season``).
    positive_differences : bool, default=True
        Whether first differences show a season only with a positive autocorrelation at lag ``period``.

    Returns
    -------
    Tensor
        ``(N, horizon)`` in ``y``'s dtype (computed in float64): NaN for a row with a NaN after its first
        finite value, or none; a row's value for a single one.

    Examples
    --------
    >>> import torch
    >>> nan = float("nan")
    >>> y = torch.tensor([[nan, nan, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    >>> f = history_forecast(y, horizon=2)
    >>> torch.allclose(f[0], damped_forecast(y[:1, 2:], 2)[0]), torch.allclose(f[1], damped_forecast(y[1:], 2)[0])
    (True, True)

    A season around a line, from three seasons after a padded one:

    >>> t = torch.arange(60, dtype=torch.float64)
    >>> season = 10 + 0.1 * t + 3 * torch.sin(2 * torch.pi * t / 12)
    >>> f = history_forecast(torch.cat([torch.full((12,), nan, dtype=torch.float64), season[12:48]])[None], 12, 12)
    >>> bool(torch.allclose(f[0], season[48:], atol=1e-6))
    True

    Twenty rows of that season: too few for the test, but their last six were forecast better with their one
    season than without, so it is kept:

    >>> f = history_forecast(season[None, :20], 6, 12)
    >>> bool(torch.equal(f, one_season_forecast(season[None, :20], 6, 12)))
    True
    >>> error = lambda f: round(float((f[0] - season[20:26]).abs().mean()), 2)
    >>> error(f), error(damped_forecast(season[None, :20], 6))
    (0.32, 3.78)

    Thirty rows of a season around a line, with noise: the test misses the season, and ``tail_season`` keeps it
    where the last season was forecast better with it:

    >>> from tsrec.nn.theta import is_seasonal
    >>> noisy = season + torch.randn(60, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> is_seasonal(noisy[None, :30], 12).item(), is_seasonal(noisy[None, :30].diff(dim=1), 12).item()
    (False, False)
    >>> error = lambda f: round(float((f[0] - season[30:42]).abs().mean()), 2)
    >>> error(history_forecast(noisy[None, :30], 12, 12)), error(history_forecast(noisy[None, :30], 12, 12,
    ...                                                                         tail_season=True))
    (2.74, 0.66)
    """
    if y.dim() != 2:
        raise ValueError(f"y must be (N, L), got shape {tuple(y.shape)}")
    x = y.detach().to(torch.float64).cpu().numpy()
    starts = np.argmax(~np.isnan(x), axis=1)  # the padding of each row
    if period is None or period < 2:
        out = _estimate_each([row[start:] for row, start in zip(x, starts)], horizon)
    else:
        out = np.full((x.shape[0], horizon), np.nan)
        for start in np.unique(starts):  # rows of one length at once
            rows = np.flatnonzero(starts == start)
            rows = rows[np.isfinite(x[rows, start:]).all(axis=1)]
            if len(rows):
                values = torch.from_numpy(x[rows, start:])
                out[rows] = _seasonal_damped(values, horizon, period, horizon_errors, positive_differences).numpy()
                n = values.shape[1]
                if one_season and period + 1 < n < 2 * period + 2:  # one season: where a backtest prefers it
                    season = _one_season_holds(values, horizon, period, horizon_errors)
                    if season.any():
                        out[rows[season.numpy()]] = one_season_forecast(values[season], horizon, period).numpy()
                elif one_season and tail_season and 2 * period + 2 <= n < 4 * period:  # a season the test missed
                    missed = ~_is_seasonal(values, period)
                    if n >= 2 * period + 3:
                        missed &= ~_is_seasonal(torch.diff(values, dim=1), period)
                    tail = values[missed, n - 2 * period - 1 :]
                    season = torch.zeros_like(missed)
                    season[missed] = _one_season_holds(tail, horizon, period, horizon_errors)
                    if season.any():
                        tail = values[season, n - 2 * period - 1 :]
                        out[rows[season.numpy()]] = one_season_forecast(tail, horizon, period).numpy()
    return torch.from_numpy(out).to(device=y.device, dtype=y.dtype)


def history_blend_forecast(y: Tensor, horizon: int, period: int | None = None, one_season: bool = True,
                           horizon_errors: bool = False, tail_season: bool = False,
                           positive_differences: bool = True) -> Tensor:
    """:func:`history_forecast`, blended with seasonal naive as :func:`naive_blend_forecast` blends the window's
    partner: the partner of a short seasonal window that reads the seasons before it, with ``Frame.history_blend``
    (session 22; see ``benchmarks/rules/2026-12-04_history_blend.md``).

    Each row's finite part (rows of one finite length together) of ``n >= 2 * period + 3`` values is backtested:
    :func:`history_forecast` and seasonal naive forecast its last ``m = min(horizon, n - 2 * period - 2)`` values
    from the values before them; where seasonal naive's mean absolute error there is the smaller and the part's
    first differences pass the seasonality test, the forecast is the two weighted by the other's error, else
    :func:`history_forecast` alone. Without a period, or on shorter parts, :func:`history_forecast`.

    Parameters
    ----------
    y : Tensor
        ``(N, L)``, oldest row first: NaN, then finite values (at least one).
    horizon : int
        Steps to forecast.
    period : int, optional
        The seasonal period; None or 1 for none.
    one_season, horizon_errors, tail_season, positive_differences : bool, default=True, False, False, True
        As for :func:`history_forecast`.

    Returns
    -------
    Tensor
        ``(N, horizon)`` in ``y``'s dtype (computed in float64).

    Examples
    --------
    A daily cycle that grew two days ago, after a padded day: the last day repeated forecast the last day better
    than damped Holt on the days before, and it takes its share:

    >>> import torch
    >>> t = torch.arange(168, dtype=torch.float64)
    >>> y = 10 + torch.where(t < 96, 1.0, 3.0) * torch.sin(2 * torch.pi * t / 24)
    >>> rows = torch.cat([torch.full((24,), float("nan"), dtype=torch.float64), y[:144]])[None]
    >>> error = lambda f: round(float((f[0] - y[144:]).abs().mean()), 2)
    >>> error(history_forecast(rows, 24, 24)), error(history_blend_forecast(rows, 24, 24))
    (1.71, 0.0)
    """
    out = history_forecast(y, horizon, period, one_season, horizon_errors, tail_season, positive_differences)
    if y.dim() != 2 or period is None or period < 2:
        return out
    x = y.detach().to(torch.float64).cpu()
    out = out.detach().to(torch.float64).cpu()
    starts = np.argmax(~np.isnan(x.numpy()), axis=1)
    for start in np.unique(starts):  # rows of one finite length at once
        rows = torch.from_numpy(np.flatnonzero(starts == start))
        part = x[rows, int(start):]
        n = part.shape[1]
        if n < 2 * period + 3 or not torch.isfinite(part).all():
            continue
        method = functools.partial(history_forecast, period=period, one_season=one_season,
                                   horizon_errors=horizon_errors, tail_season=tail_season,
                                   positive_differences=positive_differences)
        out[rows] = _naive_blend(part, out[rows], method, horizon, period)
    return out.to(device=y.device, dtype=y.dtype)


def _naive_blend(x: Tensor, forecast: Tensor, method, horizon: int, period: int) -> Tensor:
    """``forecast`` ``(N, horizon)`` of the finite float64 rows ``x`` ``(N, n)``, ``n >= 2 * period + 3``, blended
    with seasonal naive: ``method(rows, steps)`` and seasonal naive forecast the last ``m = min(horizon, n - 2 *
    period - 2)`` values from the values before them; where seasonal naive's mean absolute error there is the
    smaller and the rows' first differences pass the seasonality test, the two weighted by the other's error."""
    m = min(horizon, x.shape[1] - 2 * period - 2)
    w = torch.ones_like(forecast[:, :1])
    test = _is_seasonal(torch.diff(x, dim=1), period)  # only these rows may blend: only they are backtested
    if test.any():
        past, last = x[test, :-m], x[test, -m:]
        e_method = (method(past, m) - last).abs().mean(dim=1, keepdim=True)
        e_naive = (seasonal_naive_forecast(past, m, period) - last).abs().mean(dim=1, keepdim=True)
        total = e_method + e_naive
        w[test] = torch.where(e_naive < e_method, e_naive / total.clamp_min(torch.finfo(x.dtype).tiny),
                              torch.ones_like(total))
    return w * forecast + (1 - w) * seasonal_naive_forecast(x, horizon, period)


def _one_season_holds(x: Tensor, horizon: int, period: int, horizon_errors: bool = False) -> Tensor:
    """(N,) bool: of the finite float64 rows ``x`` (N, L), ``period + 1 < L < 2 * period + 2``, those whose last
    ``m = min(horizon, L - period - 1)`` values :func:`tsrec.nn.theta.one_season_forecast` of the rows before them
    forecasts with a smaller mean absolute error than :func:`damped_forecast` (no season) does."""
    m = min(horizon, x.shape[1] - period - 1)
    past, last = x[:, :-m], x[:, -m:]
    season = (one_season_forecast(past, m, period) - last).abs().mean(dim=1)
    plain = (damped_forecast(past, m, horizon_errors=horizon_errors) - last).abs().mean(dim=1)
    return season < plain


def _seasonal_damped(x: Tensor, horizon: int, period: int, horizon_errors: bool = False,
                     positive_differences: bool = True) -> Tensor:
    """:func:`damped_forecast` of the finite float64 rows ``x`` (N, L) less their additive seasonal index, where
    they hold ``2 * period + 2`` rows and they or (from ``2 * period + 3`` rows) their first differences pass the
    seasonality test (the differences with a positive autocorrelation, with ``positive_differences``); else as they
    are."""
    z, seasonal_future = _deseasonalise(x, horizon, period, differences=True, positive=positive_differences)
    return damped_forecast(z, horizon, horizon_errors=horizon_errors) + seasonal_future


def _estimated(x: Tensor, horizon: int, period: int) -> Tensor:
    """:func:`damped_forecast` of short windows: :func:`tsrec.nn.damped_estimated.estimated_damped` of each
    (deseasonalised) row of float64 ``x`` (N, L); NaN for a row that is not finite."""
    z, seasonal_future = _deseasonalise(x, horizon, period)
    return torch.from_numpy(_estimate_each(list(z.cpu().numpy()), horizon)).to(x.device) + seasonal_future


def _estimate_each(rows: list[np.ndarray], horizon: int) -> np.ndarray:
    """``(len(rows), horizon)``: :func:`tsrec.nn.damped_estimated.estimated_damped` of each 1-D float64 row (a
    single value forecasts itself), NaN for a row that is empty or not finite."""
    out = np.full((len(rows), horizon), np.nan)
    with threadpool_limits(1, user_api="blas"):  # scipy's L-BFGS-B on five parameters: BLAS threads only cost
        for i, row in enumerate(rows):
            if len(row) and np.isfinite(row).all():
                out[i] = estimated_damped(row, horizon)
    return out


def _estimated_into(x, horizon: int, period: int, out) -> None:
    out[:] = _estimated(torch.from_numpy(x), horizon, period).numpy()


def _damped_compiled(x, horizon: int, period: int, out, horizon_errors: bool = False) -> None:
    from ._damped_numba import damped_rows

    damped_rows(x, horizon, period, SEASONALITY_CRITICAL, *_grid(), _START_ROWS, out, horizon_errors)


@functools.cache
def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid's weights as float64 arrays."""
    return np.array(ALPHAS), np.array(BETAS), np.array(PHIS)


def _damped_torch(x: Tensor, horizon: int, period: int, horizon_errors: bool = False) -> Tensor:
    """:func:`damped_forecast` in torch ops, float64 ``x`` (N, L) with N, L > 0; ``period`` 0 for none."""
    n, length = x.shape
    ahead = horizon_errors and horizon > 1 and length >= horizon + 11  # as the kernel's uses_horizon_errors
    chunk = max(1, _TORCH_AHEAD_VALUES // (horizon * len(ALPHAS) * len(BETAS) * len(PHIS)))
    if ahead and n > chunk:  # the forecasts kept for the horizon errors bound the windows run at once
        return torch.cat([_damped_torch(part, horizon, period, horizon_errors) for part in x.split(chunk)])
    x, seasonal_future = _deseasonalise(x, horizon, period)
    level, trend = _start(x)
    # the grid as (G,) in the kernel's order: alpha outermost, phi innermost
    a, b, p = (torch.from_numpy(g).to(x.device) for g in _grid())
    alpha, beta, phi = (g.reshape(-1) for g in torch.meshgrid(a, b, p, indexing="ij"))
    level, trend = level[:, None].expand(n, alpha.shape[0]), trend[:, None].expand(n, alpha.shape[0])
    sse = x.new_zeros(n, alpha.shape[0])
    if ahead:  # phi + ... + phi^horizon of each point, as the kernel sums it; its forecasts horizon rows ahead
        total = torch.zeros_like(phi)
        factor = torch.ones_like(phi)
        for _ in range(horizon):
            factor = factor * phi
            total = total + factor
        made: list[Tensor | None] = [None] * horizon  # slot t % horizon: the forecasts made at row t
        sse_ahead = torch.zeros_like(sse)
    for t, value in enumerate(x.t()[1:, :, None], start=1):  # (N, 1) per row after the first
        forecast = level + phi * trend
        error = value - forecast
        sse = sse + error * error
        new = forecast + alpha * error
        trend = beta * (new - level) + (1 - beta) * phi * trend
        level = new
        if ahead:
            if t > horizon:  # the forecasts of this row, made horizon rows before
                error = value - made[t % horizon]
                sse_ahead = sse_ahead + error * error
            made[t % horizon] = level + total * trend
    if ahead:
        sse = sse + sse_ahead
    pick = sse.argmin(dim=1)  # the first of equal ones
    rows = torch.arange(n, device=x.device)
    damp = torch.cumprod(phi[pick][:, None].expand(n, horizon), dim=1).cumsum(dim=1)
    return level[rows, pick][:, None] + damp * trend[rows, pick][:, None] + seasonal_future


def _deseasonalise(x: Tensor, horizon: int, period: int, differences: bool = False,
                   positive: bool = True) -> tuple[Tensor, Tensor]:
    """(``x`` less its seasonal index, the index of the ``horizon`` steps after it), each row deseasonalised
    where it holds ``2 * period + 2`` rows and passes the seasonality test, or, with ``differences``, its first
    differences pass it (from ``2 * period + 3`` rows; with ``positive``, with an autocorrelation above zero); else
    zeros."""
    n, length = x.shape
    if not (period > 1 and length >= 2 * period + 2):
        return x, x.new_zeros(n, horizon)
    seasonal = _is_seasonal(x, period)
    if differences and length >= 2 * period + 3:
        seasonal = seasonal | _is_seasonal(torch.diff(x, dim=1), period, positive=positive)
    index = _seasonal_index(x, period)
    index = torch.where(seasonal[:, None], index, torch.zeros_like(index))
    steps = torch.arange(horizon, device=x.device)
    return x - index[:, torch.arange(length, device=x.device) % period], index[:, (length + steps) % period]


def _start(x: Tensor) -> tuple[Tensor, Tensor]:
    """(level, trend), each (N,): the least-squares line of the first rows, its value at the first row and its
    slope (0 for a single row)."""
    head = x[:, :_START_ROWS]
    k = head.shape[1]
    t = torch.arange(k, dtype=x.dtype, device=x.device) - (k - 1) / 2
    mean = head.mean(dim=1)
    den = (t * t).sum()
    slope = ((head - mean[:, None]) * t).sum(dim=1) / den if k > 1 else torch.zeros_like(mean)
    return mean - slope * (k - 1) / 2, slope
