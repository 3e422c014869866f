"""The Theta method of :mod:`tsrec.nn.theta` as one numba kernel (imported lazily, only where numba works).

The torch code of :mod:`tsrec.nn.theta` runs about fifty small tensor ops and
two scans per call: on one window that is mostly dispatch, which a stream pays
at every ``predict``. This kernel does the same arithmetic in plain loops, one
window at a time, and keeps no levels (each smoothing weight's squared errors
are summed as the level moves). The autocorrelation of the seasonality test is
a direct sum here (an FFT there), so the two agree to rounding; the level
recurrence, its errors and their sums are the same operations in the same order
as the torch path's scan.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def theta_rows(x, horizon, period, critical, coarse, offsets, out):  # pragma: no cover - compiled
    """Theta forecasts ``out`` (N, horizon) of the windows ``x`` (N, L), float64; ``period`` 0 for none."""
    n, length = x.shape
    z = np.empty(length)
    index = np.zeros(max(period, 1))
    fine = np.empty(offsets.shape[0])
    for i in range(n):
        seasonal = deseasonalise(x[i], period, critical, z, index)
        drift = _slope(z)
        level, alpha = _ses_grid(z, coarse)
        for g in range(offsets.shape[0]):
            fine[g] = min(max(alpha + offsets[g], 1e-3), 1.0)
        level, alpha = _ses_grid(z, fine)
        tail = (1 - alpha) ** length / alpha
        for h in range(horizon):
            f = level + drift / 2 * (h + 1 / alpha - tail)
            if seasonal:
                f += index[(length + h) % period]
            out[i, h] = f


@njit(cache=True)
def deseasonalise(row, period, critical, z, index):  # pragma: no cover - compiled
    """``row`` into ``z``, less its seasonal index (into ``index``) where it holds two periods and two rows and
    passes the seasonality test; whether it did (``period`` 0 for none)."""
    length = z.shape[0]
    for t in range(length):
        z[t] = row[t]
    seasonal = period > 1 and length >= 2 * period + 2
    if seasonal:
        seasonal = _is_seasonal(z, period, critical)
    if seasonal:
        _seasonal_index(z, period, index)
        for t in range(length):
            z[t] -= index[t % period]
    return seasonal


@njit(cache=True)
def _is_seasonal(z, period, critical):  # pragma: no cover - compiled
    """Whether the autocorrelation of ``z`` at lag ``period`` passes the test (statistic > ``critical``)."""
    length = z.shape[0]
    mean = 0.0
    for t in range(length):
        mean += z[t]
    mean /= length
    c = z - mean
    acov = np.zeros(period + 1)  # the lags side by side in the inner loop
    for t in range(length):
        for k in range(min(period + 1, length - t)):
            acov[k] += c[t] * c[t + k]
    if not acov[0] > 0:
        return False
    total = 0.0
    for k in range(period):
        total += (acov[k] / acov[0]) ** 2
    rho = acov[period] / acov[0]
    return length * rho * rho / max(total, 1.0) > critical


@njit(cache=True)
def _seasonal_index(z, period, index):  # pragma: no cover - compiled
    """The centred additive seasonal index of each phase into ``index`` (phase 0 the window's first row)."""
    length = z.shape[0]
    width = period if period % 2 else period + 1
    start = period // 2
    trend = np.zeros(length - width + 1)  # the centred moving average, valid part
    for k in range(width):
        w = 0.5 / period if period % 2 == 0 and (k == 0 or k == width - 1) else 1.0 / period
        for j in range(trend.shape[0]):
            trend[j] += w * z[j + k]
    sums = np.zeros(period)
    counts = np.zeros(period)
    for j in range(trend.shape[0]):
        phase = (j + start) % period
        sums[phase] += z[j + start] - trend[j]
        counts[phase] += 1
    mean = 0.0
    for p in range(period):
        index[p] = sums[p] / counts[p]
        mean += index[p]
    mean /= period
    for p in range(period):
        index[p] -= mean


@njit(cache=True)
def _slope(z):  # pragma: no cover - compiled
    """The least-squares slope of ``z`` on time (0 for a single row)."""
    length = z.shape[0]
    if length < 2:
        return 0.0
    centre = (length - 1) / 2
    num, den = 0.0, 0.0
    for t in range(length):
        num += z[t] * (t - centre)
        den += (t - centre) * (t - centre)
    return num / den


@njit(cache=True)
def _ses_grid(z, alphas):  # pragma: no cover - compiled
    """(last level, alpha) of the least squared one-step errors of SES from ``z[0]`` over ``alphas``: the
    weights side by side (independent recurrences in the inner loop)."""
    g = alphas.shape[0]
    level = np.full(g, z[0])
    sse = np.zeros(g)
    decay = 1 - alphas
    for t in range(z.shape[0]):
        v = z[t]
        if t > 0:
            for k in range(g):
                e = v - level[k]
                sse[k] += e * e
        for k in range(g):
            level[k] = decay[k] * level[k] + v * alphas[k]
    best = 0
    for k in range(1, g):
        if sse[k] < sse[best]:
            best = k
    return level[best], alphas[best]
