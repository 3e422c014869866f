"""Aaren: attention as an RNN (Feng et al., 2024; arXiv 2405.13956).

Each head attends with a learned query token ``q`` (one per layer and head, not
computed from the input) over the keys and values of every step so far::

    k_t = W_k x_t,   v_t = W_v x_t,   s_t = q . k_t / sqrt(d_head)
    o_t = sum_{i<=t} exp(s_i) v_i / sum_{i<=t} exp(s_i)
    y_t = W_o [o_t^1, ..., o_t^K]

The prefix softmax means run on :func:`tsrec.scan.aaren_scan`, whose state
``(l, o)`` (log of the running sum of weights, running mean) makes each new
step O(1) in time and memory.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..scan import aaren_scan
from .blocks import Block, Stack, State

__all__ = ["Aaren", "AarenModel"]


class Aaren(nn.Module):
    """One Aaren attention layer, ``(B, L, d_model) -> (B, L, d_model)``.

    Parameters
    ----------
    d_model : int
        Width of the input and output.
    n_heads : int
        Number of heads K; must divide ``d_model`` (``d_head = d_model // n_heads``).
    backend : str
        Scan backend (see :mod:`tsrec.scan`).

    Notes
    -----
    The state is ``{"l": (B, K), "o": (B, K, d_head)}``; a fresh state has
    ``l = -inf`` (no weight yet) and ``o = 0``.
    """

    def __init__(self, d_model: int, n_heads: int = 4, backend: str = "auto") -> None:
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"n_heads={n_heads} must divide d_model={d_model}")
        self.d_model, self.n_heads, self.d_head, self.backend = d_model, n_heads, d_model // n_heads, backend
        self.query = nn.Parameter(torch.randn(n_heads, self.d_head))
        # no key bias: q . b is one constant per head, which the softmax ignores (its gradient is
        # pure rounding noise that Adam would amplify into a random walk)
        self.key = nn.Linear(d_model, d_model, bias=False)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        dtype = dtype if dtype is not None else torch.get_default_dtype()
        return {
            "l": torch.full((batch_size, self.n_heads), -torch.inf, device=device, dtype=dtype),
            "o": torch.zeros(batch_size, self.n_heads, self.d_head, device=device, dtype=dtype),
        }

    def scores_values(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Scores ``s`` ``(B, L, K)`` and values ``v`` ``(B, L, K, d_head)`` of the inputs."""
        k = self.key(x).unflatten(-1, (self.n_heads, self.d_head))
        v = self.value(x).unflatten(-1, (self.n_heads, self.d_head))
        s = (k * self.query).sum(-1) / math.sqrt(self.d_head)
        return s, v

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        s, v = self.scores_values(x)
        carried = None if state is None else (state["l"].to(s.dtype), state["o"].to(v.dtype))
        o, (log_norm, o_last) = aaren_scan(s, v, carried, backend=self.backend)
        return self.out(o.flatten(-2)), {"l": log_norm, "o": o_last}


class AarenModel(Stack):
    """A stack of Aaren blocks: encoder -> n_layers x [norm -> Aaren -> residual -> norm -> FFN -> residual] -> head.

    Parameters
    ----------
    c_in, c_out, horizon : int
        Input channels, target channels (the first ``c_out`` inputs) and forecast steps.
    d_model, n_heads, n_layers : int
        Width, heads per layer and number of layers.
    dropout : float
        Dropout after the attention and in the FFN.
    skip_last : bool
        Add the last observed target value to every forecast (see :class:`Stack`).
    backend : str
        Scan backend (see :mod:`tsrec.scan`).
    """

    def __init__(
        self, c_in: int, c_out: int, horizon: int, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
        dropout: float = 0.0, skip_last: bool = True, n_quantiles: int = 1, backend: str = "auto",
    ) -> None:
        blocks = [Block(Aaren(d_model, n_heads, backend), d_model, dropout, kind="ffn") for _ in range(n_layers)]
        super().__init__(blocks, c_in, c_out, horizon, d_model, skip_last, n_quantiles)
