"""A channel-independent ridge regression of a window's next rows on its rows, solved in closed form.

:func:`window_ridge` fits the linear forecaster that long-horizon benchmarks
compare deep models with (a Ridge on the look-back window, one map shared by
the channels): for each target ``j`` of each window ``x`` (``context`` rows)
and its next ``horizon`` rows ``y``,

    y[:, j] ~ x[:, j] @ W + b        W: (context, horizon), b: (horizon,)

minimising ``sum |y - x W - b|^2 + alpha |W|^2`` over the training windows.
The sums ``X'X`` and ``X'Y`` are accumulated in float64 a chunk of windows at a
time (memory: the chunk and two ``context``-wide matrices), centred, and
solved once per penalty through one eigendecomposition of ``X'X``. The penalty
is chosen among ``alphas`` (per window: ``alpha = a * n_windows``, the data
being standardised) by the mean squared error on the validation windows.

A window model mixes this forecast into its own out of training mode
(:attr:`tsrec.nn.window.WindowModel.ridge_share`): the two read the same window
differently (the ridge its raw scaled values, the network its instance-normalised
ones) and err differently.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["RIDGE_ALPHAS", "window_ridge"]

#: the penalties per window that :func:`window_ridge` chooses among
RIDGE_ALPHAS = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def _rows(windows: Tensor, context: int, horizon: int, n_targets: int) -> tuple[Tensor, Tensor]:
    """The (inputs, targets) of ``windows`` (N, >= context + horizon, C), each target its own row, float64,
    rows holding a NaN left out: ``(M, context)``, ``(M, horizon)``."""
    w = windows[:, -(context + horizon):, :n_targets].to(torch.float64).transpose(1, 2).reshape(-1, context + horizon)
    w = w[~torch.isnan(w).any(1)]
    return w[:, :context], w[:, context:]


def window_ridge(train: Tensor, val: Tensor, context: int, horizon: int, n_targets: int,
                 alphas: tuple[float, ...] = RIDGE_ALPHAS, chunk: int = 1024) -> tuple[Tensor, Tensor, float]:
    """The ridge map ``(weight (context, horizon), bias (horizon,))`` of the training windows ``train`` and the
    penalty per window chosen on the validation windows ``val``, both ``(N, rows, C)`` with ``rows >= context +
    horizon`` (the last ``context + horizon`` rows of each are read), the targets their first ``n_targets``
    channels. float64, on ``train``'s device.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> t = torch.arange(400.0)
    >>> series = torch.sin(t / 5) + 0.1 * torch.randn(400, generator=g)
    >>> windows = series.unfold(0, 24 + 4, 1).unsqueeze(-1)  # (373, 28, 1)
    >>> weight, bias, alpha = window_ridge(windows[:300], windows[300:], context=24, horizon=4, n_targets=1)
    >>> weight.shape, bias.shape, weight.dtype
    (torch.Size([24, 4]), torch.Size([4]), torch.float64)
    >>> x, y = windows[300:, :24, 0].double(), windows[300:, 24:, 0].double()
    >>> bool(((x @ weight + bias - y) ** 2).mean() < 0.1 * ((x[:, -1:] - y) ** 2).mean())  # far ahead of naive
    True
    """
    if train.shape[1] < context + horizon or val.shape[1] < context + horizon:
        raise ValueError(f"windows of context + horizon = {context + horizon} rows or more needed, got "
                         f"{train.shape[1]} and {val.shape[1]}")
    n = 0
    sx = torch.zeros(context, dtype=torch.float64, device=train.device)
    sy = torch.zeros(horizon, dtype=torch.float64, device=train.device)
    xx = torch.zeros(context, context, dtype=torch.float64, device=train.device)
    xy = torch.zeros(context, horizon, dtype=torch.float64, device=train.device)
    for start in range(0, train.shape[0], chunk):
        x, y = _rows(train[start : start + chunk], context, horizon, n_targets)
        n += x.shape[0]
        sx, sy = sx + x.sum(0), sy + y.sum(0)
        xx, xy = xx + x.T @ x, xy + x.T @ y
    if n == 0:
        raise ValueError("no training window without a missing value")
    mx, my = sx / n, sy / n
    xx, xy = xx - n * torch.outer(mx, mx), xy - n * torch.outer(mx, my)
    values, vectors = torch.linalg.eigh(xx)
    projected = vectors.T @ xy
    xv, yv = _rows(val.to(train.device), context, horizon, n_targets)
    best = None
    for a in alphas:
        weight = vectors @ (projected / (values.clamp_min(0) + a * n).unsqueeze(1))
        bias = my - mx @ weight
        error = float(((xv @ weight + bias - yv) ** 2).mean()) if xv.shape[0] else 0.0
        if best is None or error < best[0]:
            best = (error, weight, bias, a)
    return best[1], best[2], best[3]
