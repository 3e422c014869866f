"""Damped Holt of :mod:`tsrec.nn.damped` as one numba kernel (imported lazily, only where numba works).

The same arithmetic as the torch code there, one window at a time: the
deseasonalisation of :mod:`tsrec.nn._theta_numba`, the least-squares start,
then every point of the grid run over the window side by side (the states and
squared errors of all points advanced row by row; no levels kept).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._theta_numba import deseasonalise


@njit(nogil=True, cache=True)
def damped_rows(x, horizon, period, critical, alphas, betas, phis, start_rows, out):  # pragma: no cover - compiled
    """Damped Holt forecasts ``out`` (N, horizon) of the windows ``x`` (N, L), float64; ``period`` 0 for none."""
    n, length = x.shape
    z = np.empty(length)
    index = np.zeros(max(period, 1))
    size = alphas.shape[0] * betas.shape[0] * phis.shape[0]
    alpha, beta, phi = np.empty(size), np.empty(size), np.empty(size)  # the grid, alpha outermost, phi innermost
    keep = np.empty(size)  # (1 - beta) * phi: the share of the damped trend a step keeps
    g = 0
    for a in alphas:
        for b in betas:
            for p in phis:
                alpha[g], beta[g], phi[g], keep[g] = a, b, p, (1 - b) * p
                g += 1
    level, trend, sse = np.empty(size), np.empty(size), np.empty(size)
    for i in range(n):
        seasonal = deseasonalise(x[i], period, critical, z, index)
        level0, trend0 = _start(z, start_rows)
        level[:] = level0
        trend[:] = trend0
        sse[:] = 0.0
        for t in range(1, length):
            _advance(z[t], level, trend, sse, alpha, beta, phi, keep)
        best = 0
        for g in range(1, size):
            if sse[g] < sse[best]:
                best = g
        best_level, best_trend, best_phi = level[best], trend[best], phi[best]
        if not sse[best] == sse[best]:  # every error sum NaN: no forecast
            best_level = np.nan
        damp, factor = 0.0, 1.0
        for h in range(horizon):
            factor *= best_phi
            damp += factor
            f = best_level + damp * best_trend
            if seasonal:
                f += index[(length + h) % period]
            out[i, h] = f


@njit(inline="always")
def _advance(v, level, trend, sse, alpha, beta, phi, keep):  # pragma: no cover - compiled
    """One row ``v`` through every point of the grid: independent recurrences side by side (vectorised)."""
    for g in range(level.shape[0]):
        old, slope = level[g], trend[g]
        ahead = old + phi[g] * slope
        error = v - ahead
        sse[g] += error * error
        new = ahead + alpha[g] * error
        trend[g] = beta[g] * (new - old) + keep[g] * slope
        level[g] = new


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
