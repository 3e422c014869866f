"""The Theta method on a batch of windows, in torch.

The Theta method (Assimakopoulos and Nikolopoulos 2000; Hyndman and Billah 2003)
forecasts a series by simple exponential smoothing (SES) plus half of its
least-squares drift. This is statsmodels' ``ThetaModel(method="additive")``
fitted with ``use_mle=False``, run on many windows at once:

1. *seasonality*: where the window holds at least ``2 * period + 2`` rows, a
   10% test of the autocorrelation at lag ``period`` (the statistic
   ``n * r_m^2 / sum(r_k^2, k < m)`` against chi2(1)); a seasonal window is
   deseasonalised by the classical additive decomposition (a centred moving
   average, the mean detrended value of each phase, centred);
2. *drift*: ``b0``, the least-squares slope of the deseasonalised window on time;
3. *level*: SES with initial level the first value and the smoothing weight
   ``alpha`` that minimises the squared one-step errors (a grid of 0.001 and 32 more in (0, 1],
   then 17 around the best, each a :func:`tsrec.scan.linear_scan`);
4. the forecast ``h`` steps ahead: the last level, plus
   ``b0 / 2 * (h - 1 + 1 / alpha - (1 - alpha)^n / alpha)``, plus the seasonal
   index of its phase.

:class:`tsrec.nn.window.WindowModel` combines it with the network's forecast
(``theta_weight``). It has no parameters and no gradient. On CPU with numba
the whole method runs as one compiled kernel (:mod:`tsrec.nn._theta_numba`,
the same arithmetic: a stream pays it at every ``predict``, where the torch
ops cost mostly their dispatch); elsewhere, and with ``TSREC_NUMBA=0``, as the
torch code below.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from ..scan import linear_scan
from ..scan.cpu import numba_available

__all__ = ["is_seasonal", "one_season_forecast", "theta_forecast"]

#: the statistic of the seasonality test is compared with chi2(1)'s 90% quantile (1.645 squared)
SEASONALITY_CRITICAL = 2.705543454095404
_COARSE = 32  # smoothing weights on the first grid: 1/32, 2/32, ..., 1, and _SMALLEST
_SMALLEST = 1e-3  # the smallest smoothing weight: the sum of squared errors can be least there, behind a hump
_FINE = 17  # and on the second, around the best of the first


def theta_forecast(y: Tensor, horizon: int, period: int | None = None) -> Tensor:
    """Theta forecasts of the ``horizon`` steps after each window.

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

    Returns
    -------
    Tensor
        ``(N, horizon)`` in ``y``'s dtype (computed in float64).

    Examples
    --------
    A season around a level is forecast exactly; a line, with half its slope
    (Theta's damping of the drift):

    >>> import torch
    >>> t = torch.arange(72, dtype=torch.float64)
    >>> y = 10 + 3 * torch.sin(2 * torch.pi * t / 12)
    >>> f = theta_forecast(y[None, :60], horizon=12, period=12)
    >>> bool(torch.allclose(f[0], y[60:], atol=1e-9))
    True
    >>> theta_forecast(torch.arange(10.0)[None], horizon=3)
    tensor([[ 9.5000, 10.0000, 10.5000]])
    """
    return on_windows(y, horizon, period, _theta_compiled, _theta_torch)


def on_windows(y: Tensor, horizon: int, period: int | None, compiled: Callable, torch_path: Callable) -> Tensor:
    """What the window methods share: checks ``y`` (N, L), computes in float64 and returns ``y``'s dtype;
    ``compiled(x, horizon, period, out)`` (numpy arrays; numba) on CPU where numba works, else
    ``torch_path(x, horizon, period)``; ``period`` 0 for none."""
    if y.dim() != 2:
        raise ValueError(f"y must be (N, L), got shape {tuple(y.shape)}")
    n, length = y.shape
    x = y.detach().to(torch.float64)
    if n == 0 or length == 0:
        return x.new_zeros(n, horizon).to(y.dtype)
    period = period if period is not None and period > 1 else 0
    if x.device.type == "cpu" and numba_available():
        out = x.new_empty(n, horizon)
        compiled(x.contiguous().numpy(), horizon, period, out.numpy())
        return out.to(y.dtype)
    return torch_path(x, horizon, period).to(y.dtype)


def _theta_compiled(x, horizon: int, period: int, out) -> None:
    from ._theta_numba import theta_rows

    theta_rows(x, horizon, period, SEASONALITY_CRITICAL, *_grids(), out)


@functools.cache
def _grids() -> tuple:
    """The smoothing weights of the first grid and the offsets of the second, as numpy arrays (the torch
    path's values)."""
    coarse = torch.cat([torch.tensor([_SMALLEST], dtype=torch.float64),
                        torch.arange(1, _COARSE + 1, dtype=torch.float64) / _COARSE])
    return coarse.numpy(), torch.linspace(-1.0 / _COARSE, 1.0 / _COARSE, _FINE, dtype=torch.float64).numpy()


def _theta_torch(x: Tensor, horizon: int, period: int | None) -> Tensor:
    """:func:`theta_forecast` in torch ops, float64 ``x`` (N, L) with N, L > 0; ``period`` None or 0 for none."""
    n, length = x.shape
    steps = torch.arange(1, horizon + 1, dtype=torch.float64, device=x.device)
    seasonal_future = x.new_zeros(n, horizon)
    if period is not None and period > 1 and length >= 2 * period + 2:
        index = _seasonal_index(x, period)  # (N, period)
        keep = _is_seasonal(x, period)[:, None]
        index = torch.where(keep, index, torch.zeros_like(index))
        phase = torch.arange(length, device=x.device) % period
        x = x - index[:, phase]
        seasonal_future = index[:, (length + steps.long() - 1) % period]
    drift = _slope(x)
    level, alpha = _ses(x)
    alpha = alpha[:, None]
    trend = drift[:, None] / 2 * (steps - 1 + 1 / alpha - (1 - alpha) ** length / alpha)
    return level[:, None] + trend + seasonal_future


def one_season_forecast(y: Tensor, horizon: int, period: int) -> Tensor:
    """Theta forecasts of windows that hold one season but not two, the season taken from the window's one.

    A window of ``period + 1`` to ``2 * period + 1`` rows is too short for the
    classical decomposition and the seasonality test of :func:`theta_forecast`,
    which then forecasts it without a season. Here each window is
    deseasonalised by its own one season instead: the seasonal index of a phase
    is the mean of that phase's residuals about the window's least-squares
    line, centred; the Theta method forecasts the adjusted window and the index
    of each forecast's phase is added back. No test is run (the window is too
    short for one), so a window without a season gets an index of noise.

    Parameters
    ----------
    y : Tensor
        Windows ``(N, L)``, oldest row first, finite, ``L >= period + 1``.
    horizon : int
        Steps to forecast.
    period : int
        The seasonal period, at least 2.

    Returns
    -------
    Tensor
        ``(N, horizon)`` in ``y``'s dtype (computed in float64).

    Examples
    --------
    A season around a line, from a window of one and a half seasons (Theta
    continues half the slope; without the season it forecasts a line):

    >>> import torch
    >>> t = torch.arange(10, dtype=torch.float64)
    >>> y = 0.1 * t + torch.tensor([2.0, -1.0, 0.5, -1.5]).repeat(3)[:10]
    >>> [round(v, 2) for v in y[6:].tolist()]
    [1.1, -0.8, 2.8, -0.1]
    >>> [round(v, 2) for v in one_season_forecast(y[None, :6], horizon=4, period=4)[0].tolist()]
    [0.84, -0.9, 2.42, -0.32]
    >>> [round(v, 2) for v in theta_forecast(y[None, :6], horizon=4, period=4)[0].tolist()]
    [0.35, 0.28, 0.22, 0.16]
    """
    if y.dim() != 2:
        raise ValueError(f"y must be (N, L), got shape {tuple(y.shape)}")
    if period < 2 or y.shape[1] < period + 1:
        raise ValueError(f"one_season_forecast needs period >= 2 and windows of period + 1 rows or more, got "
                         f"period={period} and {y.shape[1]} rows")
    x = y.detach().to(torch.float64)
    n, length = x.shape
    t = torch.arange(length, dtype=x.dtype, device=x.device)
    line = x.mean(dim=1, keepdim=True) + _slope(x)[:, None] * (t - t.mean())
    phase = torch.arange(length, device=x.device) % period
    sums = x.new_zeros(n, period).index_add_(1, phase, x - line)
    index = sums / torch.bincount(phase, minlength=period).to(x.dtype)
    index = index - index.mean(dim=1, keepdim=True)
    forecast = theta_forecast(x - index[:, phase], horizon)
    return (forecast + index[:, (length + torch.arange(horizon, device=x.device)) % period]).to(y.dtype)


def is_seasonal(y: Tensor, period: int) -> Tensor:
    """(N,) bool: whether each series of ``y`` (N, L) passes the partners' seasonality test at ``period``: the
    autocorrelation at that lag against its 90% bound (statsmodels' ThetaModel test, as the M4 benchmarks use it);
    False for series shorter than ``2 * period + 2`` rows or for ``period`` < 2.

    >>> import math, torch
    >>> t = torch.arange(60, dtype=torch.float64)
    >>> is_seasonal(torch.stack([torch.sin(2 * math.pi * t / 12), t]), 12).tolist()
    [True, False]
    """
    x = y.detach().to(torch.float64)
    if period < 2 or x.shape[1] < 2 * period + 2:
        return torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    return _is_seasonal(x, period)


def _is_seasonal(x: Tensor, period: int, positive: bool = False) -> Tensor:
    """(N,) bool: the autocorrelation at lag ``period`` passes the 10% test (statsmodels' ThetaModel test); with
    ``positive``, only where that autocorrelation is above zero (a season repeats: a strongly negative one passes the
    two-sided test too)."""
    n = x.shape[1]
    z = x - x.mean(dim=1, keepdim=True)
    spectrum = torch.fft.rfft(z, n=2 * n)
    autocov = torch.fft.irfft(spectrum.abs() ** 2, n=2 * n)[:, : period + 1]
    variance = autocov[:, :1]
    rho = torch.where(variance > 0, autocov / variance.clamp_min(torch.finfo(x.dtype).tiny), 0.0)
    stat = n * rho[:, -1] ** 2 / (rho[:, :-1] ** 2).sum(dim=1).clamp_min(1.0)
    passed = (variance[:, 0] > 0) & (stat > SEASONALITY_CRITICAL)
    return passed & (rho[:, -1] > 0) if positive else passed


def _seasonal_index(x: Tensor, period: int) -> Tensor:
    """(N, period): the additive seasonal index of each phase (phase 0 the window's first row), centred."""
    n, length = x.shape
    if period % 2:
        weights = x.new_full((period,), 1.0 / period)
    else:
        weights = x.new_full((period + 1,), 1.0 / period)
        weights[0] = weights[-1] = 0.5 / period
    trend = torch.nn.functional.conv1d(x[:, None], weights[None, None])[:, 0]  # centred, valid part
    start = period // 2
    detrended = x[:, start : start + trend.shape[1]] - trend
    phase = (torch.arange(trend.shape[1], device=x.device) + start) % period
    sums = x.new_zeros(n, period).index_add_(1, phase, detrended)
    counts = torch.bincount(phase, minlength=period).to(x.dtype)
    index = sums / counts
    return index - index.mean(dim=1, keepdim=True)


def _slope(x: Tensor) -> Tensor:
    """(N,): the least-squares slope of each row on time (0 for a single row)."""
    length = x.shape[1]
    if length < 2:
        return x.new_zeros(x.shape[0])
    t = torch.arange(length, dtype=x.dtype, device=x.device)
    t = t - t.mean()
    return (x * t).sum(dim=1) / (t * t).sum()


def _ses(x: Tensor) -> tuple[Tensor, Tensor]:
    """(last level, alpha), each (N,): SES from the first value with the least-squares ``alpha``."""
    rows = x.t().contiguous()  # (L, N): time first, so each grid below is one contiguous (L, N, G) block
    coarse, offsets = (torch.from_numpy(g).to(x.device) for g in _grids())
    best = _ses_grid(rows, coarse.expand(x.shape[0], -1))[1]
    return _ses_grid(rows, (best[:, None] + offsets).clamp(_SMALLEST, 1.0))


def _ses_grid(rows: Tensor, alphas: Tensor) -> tuple[Tensor, Tensor]:
    """SES of each column of ``rows`` (L, N) under each of its ``alphas`` (N, G): (last level, alpha) of the
    least squared one-step errors, each (N,)."""
    length, n = rows.shape
    g = alphas.shape[1]
    # one time-invariant scan over N * G channels: channel (i, j) smooths series i with alphas[i, j]
    inputs = (rows[:, :, None] * alphas).reshape(1, length, n * g)
    levels = linear_scan((1 - alphas).reshape(-1), inputs, h0=rows[:1, :, None].expand(1, n, g).reshape(1, -1))
    levels = levels.reshape(length, n, g)  # the level after each row; the first value is the level before it
    errors = torch.sub(rows[1:, :, None], levels[:-1])
    sse = errors.square_().sum(dim=0)
    pick = sse.argmin(dim=1)
    index = torch.arange(n, device=rows.device)
    return levels[-1, index, pick], alphas[index, pick]
