"""Known-future and static covariates around a window or stream model.

:class:`CovariateModel` wraps a :class:`~tsrec.nn.window.WindowModel` (the
direct head) or a :class:`~tsrec.nn.blocks.Stack` (the dense, stateful model)
and adds, to the forecast of every horizon step ``k``, a learned function of

- the *known-future* channels at that step (their values ``k + 1`` rows after
  the origin: prices, holidays, calendar encodings), and
- the *static* channels of the series (constant per series; categoricals come
  one-hot encoded, so the first linear layer is their embedding),

in the globally scaled units the inner model forecasts in (after its instance
normalisation is undone), so an additive driver of the target is one linear
map, whatever the window's level and spread. The function is a small MLP with
a linear path, both initialised to zero: the wrapped model starts as it was.

Rows carry everything. The input ``x`` of :meth:`CovariateModel.forward` is
``(B, L + lookahead, C)``: ``L`` input rows followed by ``lookahead``
(``horizon`` when there are known-future channels, else 0) rows of which only
the known-future channels are read; the static channels are dropped from the
inner model's input (a per-window normalisation would erase them) and read
from the last input row. With a window model ``L`` is its context and the
output ``(B, horizon, c_out)``; with a stream model the output is ``(yhat,
state)``, ``yhat`` ``(B, L, horizon, c_out)`` where step ``t`` sees the
known-future channels of rows ``t + 1 .. t + horizon``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .blocks import State
from .window import WindowModel

__all__ = ["CovariateModel", "lookahead"]


class CovariateModel(nn.Module):
    """A window or stream model with known-future and static covariates added to its forecast.

    Parameters
    ----------
    inner : WindowModel or Stack
        The model, built over the channels that are not static.
    c_in : int
        Channels of a row (the inner model's, then the static ones last).
    horizon : int
        Forecast steps.
    future : sequence of int
        Row channels whose future values are known (read ``horizon`` rows ahead).
    n_static : int
        Static channels (the last ``n_static`` of a row).
    hidden : int, default=32
        Width of the MLP on each step's covariates.
    d_static : int, default=8
        Width of the static embedding (a linear map of the static channels).

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.lru import LRUModel
    >>> inner = LRUModel(3, 1, horizon=4, d_model=8, d_state=4, n_layers=1)
    >>> model = CovariateModel(inner, c_in=5, horizon=4, future=[1], n_static=2)
    >>> yhat, state = model(torch.randn(2, 10 + 4, 5))  # 10 input rows, 4 rows of lookahead
    >>> tuple(yhat.shape)
    (2, 10, 4, 1)
    """

    def __init__(self, inner: nn.Module, c_in: int, horizon: int, future: Sequence[int], n_static: int,
                 hidden: int = 32, d_static: int = 8) -> None:
        super().__init__()
        n_inner = c_in - n_static
        if inner.c_in != n_inner:
            raise ValueError(f"the inner model reads {inner.c_in} channels but the rows have {n_inner} non-static")
        if any(not 0 <= i < n_inner for i in future):
            raise ValueError(f"future channels {list(future)} must be among the {n_inner} non-static channels")
        if not future and not n_static:
            raise ValueError("a CovariateModel needs future or static channels")
        self.inner = inner
        self.c_in, self.c_out, self.horizon = c_in, inner.c_out, horizon
        self.n_static, self.window = n_static, isinstance(inner, WindowModel)
        self.register_buffer("future_idx", torch.as_tensor(list(future), dtype=torch.long), persistent=False)
        self.lookahead = horizon if len(future) else 0
        self.static_embed = nn.Linear(n_static, d_static) if n_static else None
        n_cond = len(future) + (d_static if n_static else 0)
        self.mlp = nn.Sequential(nn.Linear(n_cond, hidden), nn.GELU(), nn.Linear(hidden, self.c_out))
        self.linear = nn.Linear(n_cond, self.c_out)
        for layer in (self.mlp[2], self.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        return self.inner.init_state(batch_size, device=device, dtype=dtype)

    def _conditions(self, x: Tensor, n: int) -> Tensor:
        """Per output position and step, the covariates: ``(B, H, n_cond)`` (window) or ``(B, n, H, n_cond)``."""
        H, parts = self.horizon, []
        if self.lookahead:
            fut = x[..., self.future_idx]  # (B, n + H, n_future)
            if self.window:
                parts.append(fut[:, n : n + H])
            else:  # step t reads rows t + 1 .. t + H
                parts.append(fut[:, 1 : n + H].unfold(1, H, 1).transpose(-1, -2))
        if self.n_static:
            static = self.static_embed(x[..., x.shape[-1] - self.n_static :])
            if self.window:
                parts.append(static[:, n - 1, None, :].expand(-1, H, -1))
            else:
                parts.append(static[:, :n, None, :].expand(-1, -1, H, -1))
        return torch.cat(parts, dim=-1)

    def forward(self, x: Tensor, state: State | None = None) -> Tensor | tuple[Tensor, State]:
        n = x.shape[1] - self.lookahead
        if x.dim() != 3 or x.shape[2] != self.c_in or n < 1:
            raise ValueError(f"expected x of shape (B, L + {self.lookahead}, {self.c_in}) with L >= 1, "
                             f"got {tuple(x.shape)}")
        inputs = x[:, :n, : self.c_in - self.n_static]
        cond = self._conditions(x, n)
        extra = self.mlp(cond) + self.linear(cond)
        if self.window:
            return self.inner(inputs) + extra
        yhat, state = self.inner(inputs, state)
        return yhat + extra, state


def lookahead(model: nn.Module) -> int:
    """Rows after the inputs that ``model`` reads (the known-future channels' horizon; 0 for most models)."""
    model = model.module if hasattr(model, "module") else model
    return int(getattr(model, "lookahead", 0))
