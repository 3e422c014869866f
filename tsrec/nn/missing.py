"""Missing values in a model's input: imputation and a mask channel per target.

:class:`MaskedInput` wraps a window model (:class:`~tsrec.nn.window.WindowModel`)
or a stream model (:class:`~tsrec.nn.blocks.Stack`) whose inputs may hold NaN
(``missing="mask"`` in the estimators). Before the wrapped model sees a row:

1. each NaN is imputed with the last observed value of its channel (last
   observation carried forward), else 0 (the mean, in scaled units);
2. one channel per target is appended after the input channels: 1 where the
   target was observed, 0 where it was imputed.

The mask channels come after the covariates, so the inner model reads them as
covariates: under channel independence each target's series sees every target's
mask (one target: its own).

A window model carries nothing from before its window, so the last observation
is carried forward within the window only. A stream model carries the last
observed (or imputed) row in its state (``"missing.last"``), so stepping row by
row equals one call over the rows.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .blocks import State
from .window import WindowEnsemble, WindowModel

__all__ = ["MaskedInput", "carry_forward"]

LAST = "missing.last"


def carry_forward(x: Tensor, last: Tensor | None = None) -> Tensor:
    """``x`` ``(B, L, C)`` with each NaN replaced by the last non-NaN value before it in its channel.

    Where a channel has none yet, ``last`` ``(B, C)`` (the row before ``x``), else 0.

    Examples
    --------
    >>> carry_forward(torch.tensor([[[float("nan")], [1.0], [float("nan")], [3.0]]]))[0, :, 0]
    tensor([0., 1., 1., 3.])
    """
    observed = ~torch.isnan(x)
    if bool(observed.all()):
        return x
    B, L, C = x.shape
    start = x.new_zeros(B, 1, C) if last is None else last[:, None].to(x.dtype)
    ext = torch.cat([start, torch.where(observed, x, torch.zeros_like(x))], dim=1)  # row 0: the carried value
    pos = torch.arange(1, L + 1, device=x.device)[None, :, None].expand(B, L, C)
    pos = torch.where(observed, pos, torch.zeros_like(pos)).cummax(dim=1).values
    return ext.gather(1, pos)


class MaskedInput(nn.Module):
    """A model that accepts NaN inputs: imputed, with a mask channel per target (see the module docstring).

    Parameters
    ----------
    inner : WindowModel, WindowEnsemble or Stack
        Built for ``c_in + n_targets`` input channels (the mask channels last).
    c_in : int
        The input channels as given (targets first, then covariates).
    n_targets : int
        The targets (the first ``n_targets`` input channels), one mask channel each.

    Examples
    --------
    >>> from tsrec.nn.lru import LRUModel
    >>> inner = LRUModel(c_in=2, c_out=1, horizon=3, d_model=8, d_state=4, n_layers=1)
    >>> model = MaskedInput(inner, c_in=1, n_targets=1)
    >>> x = torch.randn(2, 10, 1)
    >>> x[0, 3:6] = float("nan")
    >>> yhat, state = model(x)
    >>> bool(torch.isfinite(yhat).all()), yhat.shape
    (True, torch.Size([2, 10, 3, 1]))
    """

    def __init__(self, inner: nn.Module, c_in: int, n_targets: int) -> None:
        super().__init__()
        if inner.c_in != c_in + n_targets:
            raise ValueError(f"the inner model needs c_in + n_targets = {c_in + n_targets} inputs, "
                             f"has {inner.c_in}")
        self.inner, self.c_in, self.n_targets = inner, c_in, n_targets
        self.c_out, self.horizon = inner.c_out, inner.horizon
        self.window = isinstance(inner, (WindowModel, WindowEnsemble))

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        state = self.inner.init_state(batch_size, device=device, dtype=dtype)
        ref = next(iter(self.inner.parameters()))
        state[LAST] = torch.zeros(batch_size, self.c_in, device=device or ref.device, dtype=dtype or ref.dtype)
        return state

    def _inputs(self, x: Tensor, last: Tensor | None) -> Tensor:
        mask = (~torch.isnan(x[..., : self.n_targets])).to(x.dtype)
        return torch.cat([carry_forward(x, last), mask], dim=-1)

    def forward(self, x: Tensor, state: State | None = None, **kwargs) -> Tensor | tuple[Tensor, State]:
        """As the inner model's forward; ``kwargs`` go to a window model's (``members`` of an ensemble)."""
        if x.dim() != 3 or x.shape[-1] != self.c_in:
            raise ValueError(f"expected x of shape (B, L, {self.c_in}), got {tuple(x.shape)}")
        if self.window:
            return self.inner(self._inputs(x, None), **kwargs)
        last = None if state is None else state.get(LAST)
        z = self._inputs(x, last)
        inner_state = None if state is None else {k: v for k, v in state.items() if k != LAST}
        yhat, new = self.inner(z, inner_state)
        new[LAST] = z[:, -1, : self.c_in] if x.shape[1] else (last if last is not None else x.new_zeros(
            x.shape[0], self.c_in))
        return yhat, new

    def step(self, x_t: Tensor, state: State | None) -> tuple[Tensor, State]:
        yhat, state = self.forward(x_t.unsqueeze(1), state)
        return yhat[:, 0], state
