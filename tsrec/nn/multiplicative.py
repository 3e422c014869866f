"""A multiplicative season for the classical partners: a season that grows with the level.

The partners (:mod:`tsrec.nn.damped`, :mod:`tsrec.nn.theta`) remove a
classical *additive* index: the mean over the seasons of each phase's distance
from a centred moving average. Where the season's amplitude grows with the
series' level (airline passengers, retail sales) that mean is too small for the
last seasons and too large for the first, and what it leaves in the
deseasonalised rows misleads the trend. The classical *multiplicative* index,
the mean of each phase's ratio to the moving average (here: the exponential of
the additive index of the logarithm), removes such a season::

    adjusted[t] = raw[t] / index[t % period]
    forecast[h] = partner(adjusted)[h] * index[(L + h) % period]

A ratio needs the series' own zero: the partners see standardised rows, so
:func:`multiplicative_forecast` takes each row's zero in those units
(``-mean / scale``). Rows near zero, or crossing it, have no meaningful ratio
and keep the additive index (the partner as it is).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .theta import _is_seasonal, _seasonal_index

__all__ = ["MIN_MEAN_SHARE", "multiplicative_forecast"]

#: a row takes the multiplicative index only where its smallest value (from its zero) is at least this share of its
#: mean: nearer zero a ratio to the moving average swings without bound
MIN_MEAN_SHARE = 0.1


def multiplicative_forecast(method: Callable[[Tensor, int], Tensor], rows: Tensor, horizon: int, period: int | None,
                            zero: Tensor) -> Tensor:
    """``method(rows, horizon)``, with a multiplicative season where a row's season grows with its level.

    A row (less its leading NaN) takes the multiplicative index where ``period > 1`` and it holds at least ``2 *
    period + 3`` values, its zero is finite, its values measured from the zero are all positive with the smallest
    at least :data:`MIN_MEAN_SHARE` of their mean, and their logarithm or its first differences pass the
    partners' seasonality test. Such a row is divided by its multiplicative index (measured from its zero), the
    partner forecasts the result, and the forecast is multiplied by the index of its phases. Every other row is
    forecast by ``method`` as it is, in one call with the divided ones.

    Parameters
    ----------
    method : callable
        ``method(rows, horizon)``: the partner's forecasts ``(N, horizon)`` of rows ``(N, L)`` (led by NaN where a
        row is shorter), computed in float64.
    rows : Tensor
        ``(N, L)``: the partner's rows, oldest first; NaN only before a row's first value.
    horizon : int
        Steps to forecast.
    period : int, optional
        The seasonal period; None or 1: ``method(rows, horizon)``.
    zero : Tensor
        ``(N,)``: the value each row takes where its series is 0 (``-mean / scale`` for standardised rows); NaN
        where unknown (the additive index).

    Returns
    -------
    Tensor
        ``(N, horizon)`` in ``rows``' dtype.

    Examples
    --------
    A season that grows with the level is continued as it grows; the additive index (``zero`` unknown)
    forecasts last year's swing:

    >>> import math, torch
    >>> from tsrec.nn.damped import damped_forecast
    >>> t = torch.arange(60, dtype=torch.float64)
    >>> y = (10 + t) * (1 + 0.3 * torch.sin(2 * math.pi * t / 12))
    >>> mean, scale = y[:48].mean(), y[:48].std()
    >>> rows = ((y[:48] - mean) / scale)[None]
    >>> partner = lambda r, h: damped_forecast(r, h, period=12)
    >>> mae = lambda f: round(float((f[0] * scale + mean - y[48:]).abs().mean()), 2)
    >>> mae(multiplicative_forecast(partner, rows, 12, 12, -(mean / scale)[None]))
    0.13
    >>> mae(multiplicative_forecast(partner, rows, 12, 12, torch.tensor([math.nan])))
    12.27
    """
    if period is None or period < 2:
        return method(rows, horizon)
    x = rows.detach().to(torch.float64)
    z = zero.detach().to(device=x.device, dtype=torch.float64).reshape(-1)
    if z.shape != (x.shape[0],):
        raise ValueError(f"zero must hold one value per row ({x.shape[0]}), got shape {tuple(zero.shape)}")
    raw = x - z[:, None]
    starts = torch.isnan(x).to(torch.int64).cumprod(dim=1).sum(dim=1)  # leading NaN
    inputs, future = x.clone(), x.new_ones(x.shape[0], horizon)
    taken = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    for start in torch.unique(starts).tolist():
        chosen = torch.nonzero(starts == start).flatten()
        values = raw[chosen, start:]
        length = values.shape[1]
        if length < 2 * period + 3:
            continue
        low = torch.nan_to_num(values, nan=-1.0).amin(dim=1)  # NaN (an unknown zero) fails the guard
        keep = (low > 0) & (low >= MIN_MEAN_SHARE * values.mean(dim=1))
        if not keep.any():
            continue
        chosen, logs = chosen[keep], torch.log(values[keep])
        seasonal = _is_seasonal(logs, period) | _is_seasonal(torch.diff(logs, dim=1), period)
        if not seasonal.any():
            continue
        chosen, logs = chosen[seasonal], logs[seasonal]
        ratios = torch.exp(_seasonal_index(logs, period))  # (n, period), phase 0 at the row's first value
        steps = torch.arange(length + horizon, device=x.device) % period
        inputs[chosen, start:] = torch.exp(logs) / ratios[:, steps[:length]] + z[chosen, None]
        future[chosen] = ratios[:, steps[length:]]
        taken[chosen] = True
    forecast = method(inputs, horizon).to(torch.float64)
    shift = z[:, None].nan_to_num()
    forecast = torch.where(taken[:, None], (forecast - shift) * future + shift, forecast)
    return forecast.to(rows.dtype)
