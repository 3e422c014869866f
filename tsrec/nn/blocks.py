"""Building blocks shared by every model: the residual block, feed-forward parts, and the stack.

A *mixer* is the sequence operator of a model (an LRU, an S4 layer, LEM, Aaren
or causal attention). It maps ``(B, L, d_model) -> (B, L, d_model)`` and
carries a state between calls::

    mixer(h, state) -> (h, state)    state: dict[str, Tensor] or None (fresh)
    mixer.init_state(batch_size, device, dtype) -> dict[str, Tensor]

Every tensor of a state has the batch as its first dimension, so states can be
detached, saved, concatenated and indexed by series uniformly.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F

State = dict[str, Tensor]

__all__ = ["State", "GLU", "FeedForward", "Block", "Stack"]


class GLU(nn.Module):
    """out1(x) * sigmoid(out2(x)), one Linear(d, 2d)."""

    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.proj = nn.Linear(d_model, 2 * d_model)

    def forward(self, x: Tensor) -> Tensor:
        return F.glu(self.proj(x), dim=-1)


class FeedForward(nn.Module):
    """Position-wise MLP, d -> expand*d -> d with GELU (the Transformer FFN)."""

    def __init__(self, d_model: int, expand: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, expand * d_model), nn.GELU(), nn.Dropout(dropout), nn.Linear(expand * d_model, d_model)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Block(nn.Module):
    """One residual layer around a mixer.

    ``kind="glu"`` (LRU, S4, LEM): x + GLU(dropout(GELU(mixer(norm(x))))).
    ``kind="ffn"`` (Aaren, Transformer): x + mixer(norm(x)), then + FFN(norm(.)).
    """

    def __init__(self, mixer: nn.Module, d_model: int, dropout: float = 0.0, kind: str = "glu") -> None:
        super().__init__()
        if kind not in ("glu", "ffn"):
            raise ValueError(f"kind must be 'glu' or 'ffn', got {kind!r}")
        self.kind = kind
        self.norm = nn.LayerNorm(d_model)
        self.mixer = mixer
        self.drop = nn.Dropout(dropout)
        if kind == "glu":
            self.out = GLU(d_model)
        else:
            self.norm2 = nn.LayerNorm(d_model)
            self.out = FeedForward(d_model, dropout=dropout)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        y, state = self.mixer(self.norm(x), state)
        if self.kind == "glu":
            return x + self.drop(self.out(self.drop(F.gelu(y)))), state
        x = x + self.drop(y)
        return x + self.drop(self.out(self.norm2(x))), state

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        return self.mixer.init_state(batch_size, device=device, dtype=dtype)

    def state_after(self, x: Tensor, state: State | None = None) -> State:
        """``forward(x, state)[1]``, the same numbers, without the position-wise work after the mixer (which the
        state does not read); a mixer that can skip its read-out of every step but the last does."""
        if getattr(self.mixer, "reads_last", False):
            return self.mixer(self.norm(x), state, last=True)[1]
        return self.mixer(self.norm(x), state)[1]

    def forward_last(self, x: Tensor, state: State | None = None) -> Tensor:
        """``forward(x, state)[0][:, -1:]`` (from a fresh state by default): the mixer runs over every step, the
        position-wise rest at the last step only."""
        if getattr(self.mixer, "reads_last", False):  # a mixer that can skip the read-out of the other steps
            y = self.mixer(self.norm(x), state, last=True)[0]
        else:
            y = self.mixer(self.norm(x), state)[0][:, -1:]
        x = x[:, -1:]
        if self.kind == "glu":
            return x + self.drop(self.out(self.drop(F.gelu(y))))
        x = x + self.drop(y)
        return x + self.drop(self.out(self.norm2(x)))


def _block_state(state: State | None, i: int) -> State | None:
    """Block ``i``'s part of a stack's state (keys ``"i.name"``), under its own names (None stays None)."""
    if state is None:
        return None
    prefix = f"{i}."
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


class Stack(nn.Module):
    """The model shape every tsrec network shares.

    encoder Linear(c_in -> d_model) -> blocks -> LayerNorm -> head Linear(d_model -> horizon * c_out),
    plus, with ``skip_last``, the last observed value of each target (the first
    ``c_out // n_quantiles`` input channels) added to all ``horizon`` outputs
    (and to each quantile): the network learns the change from persistence.
    With ``n_quantiles`` > 1 the output channels are (target, quantile) pairs,
    the quantiles of one target adjacent.

    Implements the model contract of DESIGN.md::

        forward(x, state=None) -> (yhat, state)   x (B, L, c_in), yhat (B, L, horizon, c_out)
        step(x_t, state)       -> (yhat_t, state) x_t (B, c_in), yhat_t (B, horizon, c_out)
        init_state(batch_size) -> state

    ``yhat[:, t]`` forecasts steps t+1..t+horizon from everything up to t.
    """

    def __init__(
        self, blocks: list[Block], c_in: int, c_out: int, horizon: int, d_model: int, skip_last: bool = True,
        n_quantiles: int = 1,
    ) -> None:
        super().__init__()
        if c_out % n_quantiles:
            raise ValueError(f"c_out={c_out} must be a multiple of n_quantiles={n_quantiles}")
        if c_out // n_quantiles > c_in and skip_last:
            raise ValueError("skip_last needs the targets among the inputs (c_out // n_quantiles <= c_in)")
        self.c_in, self.c_out, self.horizon, self.d_model, self.skip_last = c_in, c_out, horizon, d_model, skip_last
        self.n_quantiles = n_quantiles
        self.encoder = nn.Linear(c_in, d_model)
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, horizon * c_out)

    def init_state(self, batch_size: int, device=None, dtype=None) -> State:
        device = device if device is not None else self.head.weight.device
        dtype = dtype if dtype is not None else self.head.weight.dtype
        state: State = {}
        for i, block in enumerate(self.blocks):
            for k, v in block.init_state(batch_size, device=device, dtype=dtype).items():
                state[f"{i}.{k}"] = v
        return state

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        if x.dim() != 3 or x.shape[-1] != self.c_in:
            raise ValueError(f"expected x of shape (B, L, {self.c_in}), got {tuple(x.shape)}")
        h = self.encoder(x)
        new_state: State = {}
        for i, block in enumerate(self.blocks):
            sub = _block_state(state, i)
            h, s = block(h, sub)
            new_state.update({f"{i}.{k}": v for k, v in s.items()})
        yhat = self.head(self.norm(h)).unflatten(-1, (self.horizon, self.c_out))
        if self.skip_last:
            last = x[..., None, : self.c_out // self.n_quantiles]
            yhat = yhat + (last.repeat_interleave(self.n_quantiles, dim=-1) if self.n_quantiles > 1 else last)
        return yhat, new_state

    def state_after(self, x: Tensor, state: State | None = None) -> State:
        """``forward(x, state)[1]``, the same numbers, without the work the state does not read: the last block's
        position-wise part, the norm and the head (what a stream's state advance over rows it does not forecast
        from needs)."""
        if x.dim() != 3 or x.shape[-1] != self.c_in:
            raise ValueError(f"expected x of shape (B, L, {self.c_in}), got {tuple(x.shape)}")
        h = self.encoder(x)
        new_state: State = {}
        for i, block in enumerate(self.blocks):
            sub = _block_state(state, i)
            if i == len(self.blocks) - 1:
                s = block.state_after(h, sub)
            else:
                h, s = block(h, sub)
            new_state.update({f"{i}.{k}": v for k, v in s.items()})
        return new_state

    def forward_last(self, x: Tensor, state: State | None = None) -> Tensor:
        """``forward(x, state)[0][:, -1]``, the forecast ``(B, horizon, c_out)`` after the last step (from a fresh
        state by default), without the position-wise work after the last mixer at the other steps (a window
        model's forecast). The same sums as ``forward`` over fewer rows: equal up to float rounding."""
        if x.dim() != 3 or x.shape[-1] != self.c_in:
            raise ValueError(f"expected x of shape (B, L, {self.c_in}), got {tuple(x.shape)}")
        h = self.encoder(x)
        for i, block in enumerate(self.blocks):
            sub = _block_state(state, i)
            h = block.forward_last(h, sub) if i == len(self.blocks) - 1 else block(h, sub)[0]
        yhat = self.head(self.norm(h[:, -1])).unflatten(-1, (self.horizon, self.c_out))
        if self.skip_last:
            last = x[:, -1, None, : self.c_out // self.n_quantiles]
            yhat = yhat + (last.repeat_interleave(self.n_quantiles, dim=-1) if self.n_quantiles > 1 else last)
        return yhat

    def step(self, x_t: Tensor, state: State | None) -> tuple[Tensor, State]:
        yhat, state = self.forward(x_t.unsqueeze(1), state)
        return yhat[:, 0], state
