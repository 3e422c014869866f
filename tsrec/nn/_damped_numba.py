"""Damped Holt of :mod:`tsrec.nn.damped` as one numba kernel (imported lazily, only where numba works).

The same arithmetic as the torch code there, one window at a time: the
deseasonalisation of :mod:`tsrec.nn._theta_numba`, the least-squares start,
then every point of the grid run over the window (the state and squared errors
of one point at a time; no levels kept).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._theta_numba import _is_seasonal, _seasonal_index


@njit(nogil=True, cache=True)
def damped_rows(x, horizon, period, critical, alphas, betas, phis, start_rows, out):  # pragma: no cover - compiled
    """Damped Holt forecasts ``out`` (N, horizon) of the windows ``x`` (N, L), float64; ``period`` 0 for none."""
    n, length = x.shape
    z = np.empty(length)
    index = np.zeros(max(period, 1))
    for i in range(n):
        for t in range(length):
            z[t] = x[i, t]
        seasonal = period > 1 and length >= 2 * period + 2
        if seasonal:
            seasonal = _is_seasonal(z, period, critical)
        if seasonal:
            _seasonal_index(z, period, index)
            for t in range(length):
                z[t] -= index[t % period]
        level0, trend0 = _start(z, start_rows)
        best = np.inf
        best_level, best_trend, best_phi = np.nan, np.nan, 1.0  # stays NaN where every error sum is NaN
        for alpha in alphas:
            for beta in betas:
                for phi in phis:
                    level, trend, sse = level0, trend0, 0.0
                    for t in range(1, length):
                        ahead = level + phi * trend
                        error = z[t] - ahead
                        sse = sse + error * error
                        new = ahead + alpha * error
                        trend = beta * (new - level) + (1 - beta) * phi * trend
                        level = new
                    if sse < best:
                        best, best_level, best_trend, best_phi = sse, level, trend, phi
        damp, factor = 0.0, 1.0
        for h in range(horizon):
            factor *= best_phi
            damp += factor
            f = best_level + damp * best_trend
            if seasonal:
                f += index[(length + h) % period]
            out[i, h] = f


@njit(cache=True)
def _start(z, start_rows):  # pragma: no cover - compiled
    """(level, trend): the least-squares line of the first ``start_rows`` rows of ``z``, its value at the first
    row and its slope (0 for a single row)."""
    k = min(z.shape[0], start_rows)
    centre = (k - 1) / 2
    mean = 0.0
    for t in range(k):
        mean += z[t]
    mean /= k
    if k < 2:
        return mean, 0.0
    num, den = 0.0, 0.0
    for t in range(k):
        num += (z[t] - mean) * (t - centre)
        den += (t - centre) * (t - centre)
    slope = num / den
    return mean - slope * centre, slope
