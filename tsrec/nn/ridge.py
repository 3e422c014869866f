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

The sums (:func:`ridge_sums`, with a column of ones for the bias) add up over
any split of the windows, so a stream can keep them and re-solve at the same
penalty as windows arrive (:func:`solve_ridge`): the map then equals the one
fitted on every window seen, at constant memory.

With ``cross_channel=True`` the same functions fit the cross-channel map instead: every
target's last ``context`` values, each minus that target's last value, in one
row, to every target's next ``horizon`` values minus its last value,

    (y - last).ravel() ~ (x - last).ravel() @ W + b    W: (context * C, horizon * C)

so that each target's forecast reads the other targets' recent rows
(multivariate streams whose channels move together), shrunk towards
persistence rather than towards the mean.

A window model mixes this forecast into its own out of training mode
(:attr:`tsrec.nn.window.WindowModel.ridge_share`): the two read the same window
differently (the ridge its raw scaled values, the network its instance-normalised
ones) and err differently.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["RIDGE_ALPHAS", "window_ridge", "ridge_sums", "ridge_from_sums", "solve_ridge", "cross_forecast"]

#: the penalties per window that :func:`window_ridge` chooses among
RIDGE_ALPHAS = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def _rows(windows: Tensor, context: int, horizon: int, n_targets: int,
          cross_channel: bool = False) -> tuple[Tensor, Tensor]:
    """The (inputs, targets) of ``windows`` (N, >= context + horizon, C), float64, rows holding a NaN left out:
    each target its own row, ``(M, context)``, ``(M, horizon)``; ``cross_channel``: each window one row of every
    target's values minus its last input value, ``(M, context * n_targets)``, ``(M, horizon * n_targets)``."""
    w = windows[:, -(context + horizon):, :n_targets].to(torch.float64)
    if cross_channel:
        w = w - w[:, context - 1 : context]
        x, y = w[:, :context].reshape(len(w), -1), w[:, context:].reshape(len(w), -1)
        keep = ~(torch.isnan(x).any(1) | torch.isnan(y).any(1))
        return x[keep], y[keep]
    w = w.transpose(1, 2).reshape(-1, context + horizon)
    w = w[~torch.isnan(w).any(1)]
    return w[:, :context], w[:, context:]


def cross_forecast(x: Tensor, weight: Tensor, bias: Tensor, context: int, horizon: int) -> Tensor:
    """The cross-channel map's forecast ``(B, horizon, n_targets)`` of the windows ``x`` ``(B, >= context,
    n_targets)`` (``weight`` ``(context * n_targets, horizon * n_targets)``, ``bias`` ``(horizon * n_targets,)``,
    from the functions here with ``cross_channel=True``), in ``weight``'s dtype.

    >>> import torch
    >>> x = torch.randn(3, 6, 2, dtype=torch.float64)
    >>> cross_forecast(x, torch.zeros(8, 10, dtype=torch.float64), torch.zeros(10, dtype=torch.float64), 4, 5).shape
    torch.Size([3, 5, 2])
    >>> bool((cross_forecast(x, torch.zeros(8, 10), torch.zeros(10), 4, 5) == x[:, -1:].float()).all())  # persistence
    True
    """
    rows = x[:, -context:].to(weight.dtype)
    last = rows[:, -1:]
    out = (rows - last).reshape(len(rows), -1) @ weight + bias
    return out.reshape(len(rows), horizon, -1) + last


def window_ridge(train: Tensor, val: Tensor, context: int, horizon: int, n_targets: int,
                 alphas: tuple[float, ...] = RIDGE_ALPHAS, chunk: int = 1024,
                 cross_channel: bool = False) -> tuple[Tensor, Tensor, float]:
    """The ridge map ``(weight (context, horizon), bias (horizon,))`` of the training windows ``train`` and the
    penalty per window chosen on the validation windows ``val``, both ``(N, rows, C)`` with ``rows >= context +
    horizon`` (the last ``context + horizon`` rows of each are read), the targets their first ``n_targets``
    channels. float64, on ``train``'s device. ``cross_channel``: the cross-channel map (the module's docstring),
    ``weight`` ``(context * n_targets, horizon * n_targets)``, ``bias`` ``(horizon * n_targets,)``.

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
    gram, xy = ridge_sums(train, context, horizon, n_targets, chunk, cross_channel)
    return ridge_from_sums(gram, xy, val, context, horizon, n_targets, alphas, cross_channel)


def ridge_sums(windows: Tensor, context: int, horizon: int, n_targets: int,
               chunk: int = 1024, cross_channel: bool = False) -> tuple[Tensor, Tensor]:
    """The sufficient statistics of the ridge of :func:`window_ridge` over ``windows`` ``(N, >= context + horizon,
    C)`` (each target of each window one row; rows holding a NaN left out), float64 on ``windows``' device:
    ``gram = Z'Z`` ``(context + 1, context + 1)`` and ``cross = Z'Y`` ``(context + 1, horizon)``, where a row of
    ``Z`` is a window's ``context`` values and a 1, and a row of ``Y`` its next ``horizon`` values. Sums of
    disjoint sets of windows add up to the sums of their union. ``cross_channel``: those of the cross-channel map, a row
    per window of ``context * n_targets`` values and a 1, ``(context * n_targets + 1, ...)`` and
    ``(context * n_targets + 1, horizon * n_targets)``.

    >>> import torch
    >>> w = torch.randn(10, 7, 2)
    >>> gram, cross = ridge_sums(w, context=4, horizon=3, n_targets=2)
    >>> gram.shape, cross.shape, int(gram[-1, -1])  # the last entry counts the rows: 10 windows, 2 targets
    (torch.Size([5, 5]), torch.Size([5, 3]), 20)
    >>> parts = [ridge_sums(w[:3], 4, 3, 2), ridge_sums(w[3:], 4, 3, 2)]
    >>> torch.allclose(parts[0][0] + parts[1][0], gram) and torch.allclose(parts[0][1] + parts[1][1], cross)
    True
    """
    if windows.shape[1] < context + horizon:
        raise ValueError(f"windows of context + horizon = {context + horizon} rows or more needed, got "
                         f"{windows.shape[1]}")
    k = n_targets if cross_channel else 1
    gram = torch.zeros(context * k + 1, context * k + 1, dtype=torch.float64, device=windows.device)
    xy = torch.zeros(context * k + 1, horizon * k, dtype=torch.float64, device=windows.device)
    for start in range(0, windows.shape[0], chunk):
        x, y = _rows(windows[start : start + chunk], context, horizon, n_targets, cross_channel)
        z = torch.cat([x, torch.ones_like(x[:, :1])], 1)
        gram, xy = gram + z.T @ z, xy + z.T @ y
    return gram, xy


def _centred(gram: Tensor, cross: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``(n, mean of x, mean of y, centred X'X, centred X'Y)`` of the sums of :func:`ridge_sums`."""
    n = gram[-1, -1]
    mx, my = gram[:-1, -1] / n, cross[-1] / n
    return n, mx, my, gram[:-1, :-1] - n * torch.outer(mx, mx), cross[:-1] - n * torch.outer(mx, my)


def solve_ridge(gram: Tensor, cross: Tensor, alpha: float) -> tuple[Tensor, Tensor]:
    """The ridge map ``(weight (context, horizon), bias (horizon,))`` of the sums of :func:`ridge_sums` at the
    penalty per row ``alpha`` (the penalty on ``|W|^2`` is ``alpha`` times the rows; the bias is not penalised),
    by a Cholesky solve, float64.

    >>> import torch
    >>> w = torch.randn(50, 7, 1, dtype=torch.float64)
    >>> weight, bias = solve_ridge(*ridge_sums(w, 4, 3, 1), alpha=1e-3)
    >>> weight.shape, bias.shape
    (torch.Size([4, 3]), torch.Size([3]))
    """
    n, mx, my, xx, xy = _centred(gram, cross)
    if not bool(n > 0):
        raise ValueError("the ridge sums hold no row")
    eye = torch.eye(xx.shape[0], dtype=xx.dtype, device=xx.device)
    weight = torch.cholesky_solve(xy, torch.linalg.cholesky(xx + float(alpha) * n * eye))
    return weight, my - mx @ weight


def ridge_from_sums(gram: Tensor, cross: Tensor, val: Tensor, context: int, horizon: int, n_targets: int,
                    alphas: tuple[float, ...] = RIDGE_ALPHAS,
                    cross_channel: bool = False) -> tuple[Tensor, Tensor, float]:
    """:func:`window_ridge` from the training windows' sums (:func:`ridge_sums`): ``(weight, bias, alpha)``, the
    penalty per row chosen among ``alphas`` on the validation windows ``val`` by mean squared error (one
    eigendecomposition for all of them). ``cross_channel``: the sums are the cross-channel map's."""
    n, mx, my, xx, xy = _centred(gram, cross)
    if not bool(n > 0):
        raise ValueError("no training window without a missing value")
    values, vectors = torch.linalg.eigh(xx)
    projected = vectors.T @ xy
    xv, yv = _rows(val.to(gram.device), context, horizon, n_targets, cross_channel)
    best = None
    for a in alphas:
        weight = vectors @ (projected / (values.clamp_min(0) + a * n).unsqueeze(1))
        bias = my - mx @ weight
        error = float(((xv @ weight + bias - yv) ** 2).mean()) if xv.shape[0] else 0.0
        if best is None or error < best[0]:
            best = (error, weight, bias, a)
    return best[1], best[2], best[3]
