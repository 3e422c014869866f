"""Known-future and static covariates around a window or stream model.

:class:`CovariateModel` wraps a :class:`~tsrec.nn.window.WindowModel` (the
direct head, or a :class:`~tsrec.nn.window.WindowEnsemble`) or a
:class:`~tsrec.nn.blocks.Stack` (the dense, stateful model) and learns an
additive effect ``g`` on each target of

- the *known-future* channels of a row (prices, holidays, calendar
  encodings), and
- the *static* channels of the series (constant per series; categoricals come
  one-hot encoded, so the first linear layer is their embedding),

in the globally scaled units the model reads: the inner model sees the
targets less ``g`` of their own rows, and the forecast of horizon step ``k``
gets ``g`` of the row ``k + 1`` steps after the origin back. An additive driver
is so removed before any per-window normalisation, persistence or linear path
of the inner model, and put back where its future is known. ``g`` is a small
MLP with a linear path, its output layers initialised to zero (the wrapped
model starts as it was); the statics also add a learned trajectory over the
horizon steps.

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
from .window import WindowEnsemble, WindowModel

__all__ = ["CovariateModel", "lookahead"]


class CovariateModel(nn.Module):
    """A window or stream model with known-future and static covariates (see the module docstring).

    The known-future channels (and the static embedding beside them) act
    through a learned additive effect ``g`` on each target, in scaled units: the
    inner model reads the targets less ``g`` of their own rows and forecasts
    that remainder, and ``g`` of each horizon step's covariates is added back to
    the forecast of that step. An additive driver is so removed before any
    per-window normalisation, persistence (``skip_last``) or linear path of the
    inner model sees the targets, and put back where its future is known. The
    static embedding also adds a learned offset per horizon step and output
    (a trajectory over the horizon that depends on the series' statics).

    Parameters
    ----------
    inner : WindowModel, WindowEnsemble, Stack or MaskedInput
        The model, built over the channels that are not static.
    c_in : int
        Channels of a row (the inner model's, then the static ones last).
    horizon : int
        Forecast steps.
    future : sequence of int
        Row channels whose future values are known (read ``horizon`` rows ahead).
    n_static : int
        Static channels (the last ``n_static`` of a row).
    n_targets : int
        Targets (the first row channels); the inner model's outputs are
        ``n_targets`` times its quantiles.
    hidden : int, default=32
        Width of the MLP of ``g``.
    d_static : int, default=8
        Width of the static embedding (a linear map of the static channels).

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.lru import LRUModel
    >>> inner = LRUModel(3, 1, horizon=4, d_model=8, d_state=4, n_layers=1)
    >>> model = CovariateModel(inner, c_in=5, horizon=4, future=[1], n_static=2, n_targets=1)
    >>> yhat, state = model(torch.randn(2, 10 + 4, 5))  # 10 input rows, 4 rows of lookahead
    >>> tuple(yhat.shape)
    (2, 10, 4, 1)
    """

    def __init__(self, inner: nn.Module, c_in: int, horizon: int, future: Sequence[int], n_static: int,
                 n_targets: int, hidden: int = 32, d_static: int = 8) -> None:
        super().__init__()
        n_inner = c_in - n_static
        if inner.c_in != n_inner:
            raise ValueError(f"the inner model reads {inner.c_in} channels but the rows have {n_inner} non-static")
        if any(not n_targets <= i < n_inner for i in future):
            raise ValueError(f"future channels {list(future)} must be among the {n_inner} non-static channels "
                             f"after the {n_targets} targets")
        if not len(future) and not n_static:
            raise ValueError("a CovariateModel needs future or static channels")
        if inner.c_out % n_targets:
            raise ValueError(f"the inner model's {inner.c_out} outputs are not a multiple of {n_targets} targets")
        self.inner = inner
        self.c_in, self.c_out, self.horizon, self.n_targets = c_in, inner.c_out, horizon, n_targets
        core = inner
        while hasattr(core, "inner"):  # through a MaskedInput (missing="mask")
            core = core.inner
        self.n_static, self.window = n_static, isinstance(core, (WindowModel, WindowEnsemble))
        self.register_buffer("future_idx", torch.as_tensor(list(future), dtype=torch.long), persistent=False)
        self.lookahead = horizon if len(future) else 0
        self.static_embed = nn.Linear(n_static, d_static) if n_static else None
        n_cond = len(future) + (d_static if n_static else 0)
        self.mlp = nn.Sequential(nn.Linear(n_cond, hidden), nn.GELU(), nn.Linear(hidden, n_targets))
        self.linear = nn.Linear(n_cond, n_targets)
        self.trajectory = nn.Linear(d_static, horizon * self.c_out) if n_static else None
        for layer in (self.mlp[2], self.linear) + ((self.trajectory,) if n_static else ()):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        return self.inner.init_state(batch_size, device=device, dtype=dtype)

    def _effect(self, future: Tensor | None, static: Tensor | None) -> Tensor:
        """``g``: the additive effect ``(..., n_targets)`` of known-future values ``(..., n_future)`` and static
        embeddings ``(..., d_static)`` (broadcast to the same leading shape)."""
        parts = [t for t in (future, static) if t is not None]
        if len(parts) == 2:
            parts[1] = parts[1].expand(*parts[0].shape[:-1], -1)
        cond = torch.cat(parts, dim=-1)
        return self.mlp(cond) + self.linear(cond)

    def _per_output(self, t: Tensor) -> Tensor:
        """(..., n_targets) -> (..., c_out): the quantiles of a target share its effect."""
        nq = self.c_out // self.n_targets
        return t.repeat_interleave(nq, dim=-1) if nq > 1 else t

    def forward(self, x: Tensor, state: State | None = None, members: bool = False) -> Tensor | tuple[Tensor, State]:
        """Forecasts from rows ``x`` (see the module docstring); ``members``: each member's forecast
        ``(n_members, B, horizon, c_out)`` of a :class:`~tsrec.nn.window.WindowEnsemble` inside."""
        n, H, nt = x.shape[1] - self.lookahead, self.horizon, self.n_targets
        if x.dim() != 3 or x.shape[2] != self.c_in or n < 1:
            raise ValueError(f"expected x of shape (B, L + {self.lookahead}, {self.c_in}) with L >= 1, "
                             f"got {tuple(x.shape)}")
        inputs = x[:, :n, : self.c_in - self.n_static]
        fut = x[:, : n + self.lookahead, self.future_idx] if self.lookahead else None  # (B, n + H, n_future)
        if fut is not None:  # a missing (NaN, missing="mask") known-future value counts as its mean
            fut = torch.nan_to_num(fut, nan=0.0)
        emb = self.static_embed(x[:, n - 1, self.c_in - self.n_static :]) if self.n_static else None  # (B, d)
        # the effect of every row's covariates, once: the inputs' rows and the rows ahead
        effect = self._effect(fut, None if emb is None else emb[:, None])  # (B, n + H or 1, n_targets)
        # the inner model forecasts the targets less the effect of their own rows' covariates
        inputs = torch.cat([inputs[..., :nt] - effect[:, :n] if self.lookahead else inputs[..., :nt] - effect,
                            inputs[..., nt:]], dim=-1)
        if self.window:
            out = self.inner(inputs, members=True) if members else self.inner(inputs)
            out = out + self._per_output(effect[:, n : n + H] if self.lookahead else effect)
        else:  # step t adds the effect of rows t + 1 .. t + H
            out, state = self.inner(inputs, state)
            ahead = effect[:, 1 : n + H].unfold(1, H, 1).transpose(-1, -2) if self.lookahead else effect[:, None]
            out = out + self._per_output(ahead)
        if self.trajectory is not None:
            shape = self.trajectory(emb).unflatten(-1, (H, self.c_out))  # (B, H, c_out)
            out = out + (shape if self.window else shape[:, None])
        return out if self.window else (out, state)


def lookahead(model: nn.Module) -> int:
    """Rows after the inputs that ``model`` reads (the known-future channels' horizon; 0 for most models)."""
    model = model.module if hasattr(model, "module") else model
    return int(getattr(model, "lookahead", 0))
