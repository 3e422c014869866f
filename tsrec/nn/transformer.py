"""Causal Transformer baseline with a bounded KV cache.

Multi-head causal self-attention on
:func:`torch.nn.functional.scaled_dot_product_attention`, with rotary position
embeddings (RoPE, Su et al. 2021) on absolute step positions. Rotating queries
and keys by their positions makes every score depend only on the distance
between the two steps, so a model trained on windows applies unchanged at any
point of a stream.

Streaming state (per layer), with ``W`` the cache size::

    k, v : (B, W, n_heads, d_head)   keys (already rotated) and values of the last W steps,
                                     oldest first, right-aligned (slot W-1 is the latest step)
    pos  : (B,) int64                steps seen so far = absolute position of the next step

Slot ``j`` holds step ``pos - W + j``; slots with a negative step are empty
(masked), so no separate validity mask is stored.

Window and cache:

* ``window=w`` (int): each step attends to itself and the ``w`` steps before
  it, in ``forward`` and in ``step`` alike; the cache holds ``W = w`` steps.
  ``forward`` over a long sequence therefore equals stepping through it, and
  equals ``forward`` over chunks with the state carried.
* ``window=None``: each step attends to every step of its chunk before it plus
  the whole cache, which holds the last ``W = max_cache`` steps. This is full
  causal attention as long as a stream is at most ``max_cache`` steps long
  beyond the current chunk; past that, the oldest steps fall out of the cache
  (the state must stay bounded), so stepping and a single ``forward`` agree
  only up to ``max_cache + 1`` steps.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .blocks import Block, Stack, State

__all__ = ["rope", "CausalSelfAttention", "TransformerModel"]


def rope(x: Tensor, positions: Tensor, base: float = 10000.0) -> Tensor:
    """Rotate ``x`` ``(B, L, H, D)`` (D even) by the absolute ``positions`` ``(B, L)`` (int64).

    Pairs (x[..., i], x[..., i + D/2]) turn by the angle ``position * base^(-2i/D)``.
    Angles are computed in float64 from integer positions, so they stay exact
    far into a stream whatever the dtype of ``x``.
    """
    D = x.shape[-1]
    inv_freq = base ** (-torch.arange(0, D // 2, device=x.device, dtype=torch.float64) * 2 / D)
    angle = positions.to(torch.float64).unsqueeze(-1) * inv_freq  # (B, L, D/2)
    cos = torch.cos(angle).to(x.dtype).unsqueeze(2)  # (B, L, 1, D/2)
    sin = torch.sin(angle).to(x.dtype).unsqueeze(2)
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class CausalSelfAttention(nn.Module):
    """Causal multi-head self-attention with RoPE and a bounded KV cache, ``(B, L, d_model) -> (B, L, d_model)``.

    Parameters
    ----------
    d_model : int
        Width of the input and output.
    n_heads : int
        Number of heads; must divide ``d_model``, and ``d_head = d_model // n_heads`` must be even (RoPE).
    window : int or None
        How many earlier steps each step attends to (besides itself); None for
        full causal attention over the chunk and the cache (see the module docstring).
    max_cache : int
        Size of the cache when ``window`` is None.
    dropout : float
        Dropout on the attention weights during training.
    rope_base : float
        Base of the RoPE frequencies.
    """

    def __init__(
        self, d_model: int, n_heads: int = 4, window: int | None = 256, max_cache: int = 1024, dropout: float = 0.0,
        rope_base: float = 10000.0,
    ) -> None:
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"n_heads={n_heads} must divide d_model={d_model}")
        if (d_model // n_heads) % 2 != 0:
            raise ValueError(
                f"d_head = d_model // n_heads must be even for rotary embeddings, got {d_model // n_heads}")
        if window is not None and window < 1:
            raise ValueError(f"window must be a positive int or None, got {window}")
        if max_cache < 1:
            raise ValueError(f"max_cache must be positive, got {max_cache}")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.window, self.max_cache, self.dropout, self.rope_base = window, max_cache, dropout, rope_base
        #: The most steps this layer will ever see in one stream, when its owner knows it (a window model's
        #: body runs from an empty state over its segments only): the cache need not be longer.
        self.max_steps: int | None = None
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    @property
    def cache_size(self) -> int:
        """W, the number of past steps the state holds (at most ``max_steps`` when that is set)."""
        size = self.window if self.window is not None else self.max_cache
        return size if self.max_steps is None else min(size, self.max_steps)

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        dtype = dtype if dtype is not None else torch.get_default_dtype()
        shape = (batch_size, self.cache_size, self.n_heads, self.d_head)
        return {
            "k": torch.zeros(shape, device=device, dtype=dtype),
            "v": torch.zeros(shape, device=device, dtype=dtype),
            "pos": torch.zeros(batch_size, device=device, dtype=torch.long),
        }

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        B, L, _ = x.shape
        W = self.cache_size
        if state is None:
            state = self.init_state(B, device=x.device, dtype=x.dtype)
            fresh = True
        else:
            fresh = False
        pos0 = state["pos"]  # (B,)
        steps = torch.arange(L, device=x.device)
        q, k, v = self.qkv(x).unflatten(-1, (3, self.n_heads, self.d_head)).unbind(2)  # (B, L, H, D) each
        positions = pos0.unsqueeze(1) + steps  # (B, L)
        q = rope(q, positions, self.rope_base)
        k = rope(k, positions, self.rope_base)

        if fresh:
            # no cache: keys are the chunk only, and the mask is the same for every series
            keys, values = k, v
            if self.window is None:
                mask, causal = None, True
            else:
                dist = steps.unsqueeze(1) - steps  # query - key
                mask, causal = (dist >= 0) & (dist <= self.window), False
        else:
            keys = torch.cat([state["k"].to(k.dtype), k], dim=1)  # (B, W + L, H, D)
            values = torch.cat([state["v"].to(v.dtype), v], dim=1)
            # offset of each key from the chunk start: cache slot j is step pos0 - W + j
            key_off = torch.arange(-W, L, device=x.device)  # (W + L,)
            dist = steps.unsqueeze(1) - key_off  # (L, W + L), query - key
            mask = dist >= 0
            if self.window is not None:
                mask = mask & (dist <= self.window)
            # cache slots before the start of the stream are empty
            filled = key_off.unsqueeze(0) >= -pos0.unsqueeze(1)  # (B, W + L)
            mask = (mask.unsqueeze(0) & filled.unsqueeze(1)).unsqueeze(1)  # (B, 1, L, W + L)
            causal = False

        y = F.scaled_dot_product_attention(
            q.transpose(1, 2), keys.transpose(1, 2), values.transpose(1, 2), attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0, is_causal=causal,
        )  # (B, H, L, D)
        y = self.out(y.transpose(1, 2).flatten(-2))

        if fresh:
            keys = torch.cat([state["k"], keys], dim=1)
            values = torch.cat([state["v"], values], dim=1)
        new_state = {"k": keys[:, -W:], "v": values[:, -W:], "pos": pos0 + L}
        return y, new_state


class TransformerModel(Stack):
    """A causal Transformer: encoder -> n_layers x [norm -> attention -> residual -> norm -> FFN -> residual] -> head.

    Parameters
    ----------
    c_in, c_out, horizon : int
        Input channels, target channels (the first ``c_out`` inputs) and forecast steps.
    d_model, n_heads, n_layers : int
        Width, heads per layer and number of layers.
    window : int or None
        Earlier steps each step attends to; None for full causal attention with
        a cache of ``max_cache`` steps (see :mod:`tsrec.nn.transformer`).
    dropout : float
        Dropout after the attention, on the attention weights and in the FFN.
    skip_last : bool
        Add the last observed target value to every forecast (see :class:`Stack`).
    max_cache : int
        Cache size when ``window`` is None.
    """

    def __init__(
        self, c_in: int, c_out: int, horizon: int, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
        window: int | None = 256, dropout: float = 0.0, skip_last: bool = True, max_cache: int = 1024,
        n_quantiles: int = 1,
    ) -> None:
        blocks = [
            Block(CausalSelfAttention(d_model, n_heads, window, max_cache, dropout), d_model, dropout, kind="ffn")
            for _ in range(n_layers)
        ]
        super().__init__(blocks, c_in, c_out, horizon, d_model, skip_last, n_quantiles)
