"""Damped Holt of :mod:`tsrec.nn.damped` as one numba kernel (imported lazily, only where numba works).

The same arithmetic as the torch code there, one window at a time: the
deseasonalisation of :mod:`tsrec.nn._theta_numba`, the least-squares start,
then every point of the grid run over the window side by side (the states and
squared errors of all points advanced row by row; no levels kept, but with
``horizon_errors`` each point's last ``horizon`` forecasts ``horizon`` steps ahead).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._theta_numba import deseasonalise


@njit(nogil=True, cache=True)
def damped_rows(x, horizon, period, critical, alphas, betas, phis, start_rows, out,
                horizon_errors=False, out_one_step=None):  # pragma: no cover - compiled
    """Damped Holt forecasts ``out`` (N, horizon) of the windows ``x`` (N, L), float64; ``period`` 0 for none.
    ``horizon_errors``: the squared errors of the forecasts ``horizon`` steps ahead count too, where the window
    holds enough rows (:func:`uses_horizon_errors`; see :func:`tsrec.nn.damped.damped_forecast`), and
    ``out_one_step`` (N, horizon), if given, gets the forecasts chosen by the one-step errors alone from the same
    pass (the same recurrences; only the choice differs)."""
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
    ahead = uses_horizon_errors(horizon_errors, horizon, length)
    total = np.empty(size)  # phi + phi^2 + ... + phi^horizon of each point
    for g in range(size):
        factor, total[g] = 1.0, 0.0
        for _ in range(horizon):
            factor *= phi[g]
            total[g] += factor
    made = np.empty((horizon if ahead else 0, size))  # each point's forecast of row t + horizon, made at row t
    sse_ahead = np.zeros(size)  # the squared errors of those forecasts
    for i in range(n):
        seasonal = deseasonalise(x[i], period, critical, z, index)
        level0, trend0 = _start(z, start_rows)
        level[:] = level0
        trend[:] = trend0
        sse[:] = 0.0
        for t in range(1, length):
            _advance(z[t], level, trend, sse, alpha, beta, phi, keep)
            if ahead:
                slot = t % horizon
                for g in range(size):
                    if t > horizon:  # the forecast of this row, made horizon rows before
                        error = z[t] - made[slot, g]
                        sse_ahead[g] += error * error
                    made[slot, g] = level[g] + total[g] * trend[g]
        if out_one_step is not None:
            _write(out_one_step[i], _least(sse), level, trend, phi, sse, seasonal, index, length, period)
        if ahead:
            for g in range(size):
                sse[g] += sse_ahead[g]
                sse_ahead[g] = 0.0
        _write(out[i], _least(sse), level, trend, phi, sse, seasonal, index, length, period)


@njit(inline="always")
def _least(sse):  # pragma: no cover - compiled
    """The grid point with the least error sum (the first of equal ones)."""
    best = 0
    for g in range(1, sse.shape[0]):
        if sse[g] < sse[best]:
            best = g
    return best


@njit(inline="always")
def _write(row, best, level, trend, phi, sse, seasonal, index, length, period):  # pragma: no cover - compiled
    """The forecast ``row`` (horizon,) of grid point ``best``, plus the seasonal index where the window had one."""
    best_level, best_trend, best_phi = level[best], trend[best], phi[best]
    if not sse[best] == sse[best]:  # every error sum NaN: no forecast
        best_level = np.nan
    damp, factor = 0.0, 1.0
    for h in range(row.shape[0]):
        factor *= best_phi
        damp += factor
        f = best_level + damp * best_trend
        if seasonal:
            f += index[(length + h) % period]
        row[h] = f


@njit(cache=True)
def uses_horizon_errors(horizon_errors, horizon, length):  # pragma: no cover - compiled
    """Whether a window of ``length`` rows is chosen with its ``horizon``-step errors too: asked for, a horizon
    above one, and at least ten such errors (a first row, then ``horizon + 10`` rows)."""
    return horizon_errors and horizon > 1 and length >= horizon + 11


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
