"""Damped Holt with its weights and initial state estimated together, as statsmodels estimates them.

:func:`tsrec.nn.damped.damped_forecast` chooses damped Holt's weights from a
grid, its state starting from a least-squares line through the first ten rows.
On a short window that line is nearly the whole window, so the grid's errors
say little. There, this module fits the model as statsmodels'
``ExponentialSmoothing(trend="add", damped_trend=True,
initialization_method="estimated").fit()`` does, step for step:

1. *start*: the first row and the first difference (fewer than ten rows), else
   the least-squares line of the first ten rows (level before the first row,
   slope);
2. *brute*: the level and trend weights ``(alpha, beta)`` with the least sum of
   squared one-step errors over statsmodels' grid (alpha in 43 steps of
   (0.005, 0.995), beta in ``ceil(43 * sqrt(alpha))`` steps of [0, alpha]),
   damping 0.99, the state at its start;
3. *local fit*: from there, L-BFGS-B (scipy, numerical gradient) over alpha, beta
   (as a share of alpha), the initial level and trend, and the damping in
   [0.8, 0.995], minimising the same sum.

The forecast continues the state after the last row. The local fit from that
start, not the global optimum, is what makes it work on a few rows (a grid with
a least-squares state over the whole window screened worse): it stays near a
plain continuation unless the rows ask for more. The sums run compiled where
numba works, else in plain Python (the same arithmetic).

Examples
--------
>>> import numpy as np
>>> estimated_damped(np.array([3.9, 3.8, 3.7, 3.5, 3.4, 3.2]), 4).round(3)
array([3.097, 2.96 , 2.823, 2.687])
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.optimize import minimize

from ..scan.cpu import numba_available

__all__ = ["estimated_damped"]

_BRUTE_STEPS = 87 // 2  # statsmodels' brute grid for two weights
_PHI_START = 0.99
_PHI_BOUNDS = (0.8, 0.995)
_LOWER = float(np.sqrt(np.finfo(float).eps))  # alpha in [_LOWER, 1 - _LOWER]


def estimated_damped(y: np.ndarray, horizon: int) -> np.ndarray:
    """Damped Holt forecasts of the ``horizon`` steps after ``y``, weights and initial state estimated.

    Parameters
    ----------
    y : numpy.ndarray
        One window ``(L,)``, oldest row first, float64, finite, at least two rows.
    horizon : int
        Steps to forecast.

    Returns
    -------
    numpy.ndarray
        ``(horizon,)``: statsmodels' ``forecast(horizon)`` of the fit above on the window standardised (its mean
        and standard deviation), mapped back. Standardised, the forecast is affine-equivariant, as the grid's is
        (statsmodels' own is not: its numerical gradient steps are absolute); a constant window forecasts its
        value.
    """
    y = np.asarray(y, dtype=np.float64)
    centre, scale = y.mean(), y.std()
    if not scale > 0:  # a constant window forecasts its value; a window that is not finite, NaN
        return np.full(horizon, centre if scale == 0 else np.nan)
    return centre + scale * _fit((y - centre) / scale, horizon)


def _fit(y: np.ndarray, horizon: int) -> np.ndarray:
    """:func:`estimated_damped` of a window of mean 0 and standard deviation 1."""
    run, brute = _kernels()
    if len(y) < 10:
        level, trend = y[0], y[1] - y[0]
    else:
        level, trend = np.linalg.lstsq(np.c_[np.ones(10), np.arange(1.0, 11.0)], y[:10], rcond=None)[0]
    alpha, beta = brute(y, level, trend, _PHI_START, _brute_points())
    beta = beta if beta > 0 else 1e-4  # strictly inside its bounds [0, 1], as statsmodels starts
    start = np.array([(alpha - _LOWER) / (1 - 2 * _LOWER), beta / alpha, level, trend, _PHI_START])

    def weights(x: np.ndarray) -> tuple[float, float]:
        a = _LOWER + x[0] * (1 - 2 * _LOWER)
        return a, x[1] * a  # beta as a share of alpha (statsmodels' bound beta <= alpha)

    def sse(x: np.ndarray) -> float:
        return run(*weights(x), x[4], x[2], x[3], y)[0]

    bounds = [(0.0, 1.0), (0.0, 1.0), (None, None), (None, None), _PHI_BOUNDS]
    x = minimize(sse, start, bounds=bounds, method="L-BFGS-B").x
    _, level, trend = run(*weights(x), x[4], x[2], x[3], y)
    return level + np.cumsum(x[4] ** np.arange(1, horizon + 1)) * trend


def _run(alpha: float, beta: float, phi: float, level: float, trend: float, y: np.ndarray) -> tuple:
    """(sum of squared one-step errors, level, trend) after running damped Holt from ``(level, trend)``
    over ``y``."""
    sse = 0.0
    for v in y:
        ahead = level + phi * trend
        error = v - ahead
        sse += error * error
        new = alpha * v + (1 - alpha) * ahead
        trend = beta * (new - level) + (1 - beta) * phi * trend
        level = new
    return sse, level, trend


def _make_brute(run):
    def brute(y: np.ndarray, level: float, trend: float, phi: float, points: np.ndarray) -> tuple:
        """The (alpha, beta) of ``points`` with the least error sum (the first of equal ones)."""
        best, pick = np.inf, 0
        for i in range(points.shape[0]):
            sse = run(points[i, 0], points[i, 1], phi, level, trend, y)[0]
            if sse < best:
                best, pick = sse, i
        return points[pick, 0], points[pick, 1]
    return brute


@functools.cache
def _kernels():
    """(run, brute): compiled with numba where it works, else plain Python."""
    if numba_available():
        from numba import njit

        run = njit(cache=True)(_run)
        return run, njit(_make_brute(run))
    return _run, _make_brute(_run)


@functools.cache
def _brute_points() -> np.ndarray:
    """statsmodels' brute grid of (alpha, beta), beta <= alpha."""
    rows = [(a, b) for a in np.linspace(0.005, 0.995, _BRUTE_STEPS)
            for b in np.linspace(0.0, a, int(np.ceil(_BRUTE_STEPS * np.sqrt(a))))]
    return np.array(rows)
