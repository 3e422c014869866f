"""Forecasting from the end of a fixed window: instance normalisation, segments, a direct head.

:class:`WindowModel` wraps any :class:`tsrec.nn.blocks.Stack` (LRU, LEM, S4,
Aaren or Transformer blocks) into the frame that wins on long-horizon
benchmarks (see ``docs/design.md``):

1. *instance normalisation* (RevIN): each input window is normalised by its own
   per-channel mean and standard deviation, and the forecast is mapped back with
   them (optionally through a learned affine);
2. *segments*: the window is cut into ``patch_len``-row segments, each embedded
   by one linear layer (the body's encoder), so the recurrence runs over
   ``ceil(context / patch_len)`` steps instead of ``context``;
3. a *direct head*: all ``horizon`` steps are read at once from the body's
   output at the last segment, plus a linear map of the normalised window
   (``linear_skip``, the NLinear/RLinear path), so the model can represent the
   linear forecasters it is compared with.

The model contract of a window model is one call::

    forward(x) -> yhat      x: (B, context, c_in)   yhat: (B, horizon, c_out)

``yhat`` forecasts the ``horizon`` rows after the window; the targets are the
first ``c_out // n_quantiles`` input channels. Segments are aligned to the
window's end (the oldest segment is padded with zeros, the window mean after
normalisation), so a forecast exists after every row of a stream: it is the
window ending at that row.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .blocks import Stack

__all__ = ["WindowModel"]


class WindowModel(nn.Module):
    """A window forecaster around a body of blocks.

    Parameters
    ----------
    body : Stack
        Built with ``c_in = patch_len * c_in``, the same ``c_out`` and
        ``horizon``, and ``skip_last=False``; it runs over the segments.
    c_in, c_out : int
        Input channels (targets first, then covariates) and output channels
        (targets x quantiles).
    horizon, context, patch_len : int
        Forecast steps, window rows and rows per segment.
    n_quantiles : int, default=1
        Quantiles per target (output channels are (target, quantile) pairs).
    instance_norm : bool, default=True
        Normalise each window by its own statistics (RevIN).
    affine : bool, default=False
        A learned per-channel scale and shift after the instance normalisation
        (inverted on the output).
    linear_skip : bool, default=True
        Add a linear map ``Linear(context -> horizon)`` of each normalised
        target window, shared by the targets.

    Examples
    --------
    >>> import torch
    >>> from tsrec.nn.lru import LRUModel
    >>> body = LRUModel(c_in=8 * 1, c_out=1, horizon=4, d_model=16, d_state=8, n_layers=1, skip_last=False)
    >>> model = WindowModel(body, c_in=1, c_out=1, horizon=4, context=32, patch_len=8)
    >>> model(torch.randn(5, 32, 1)).shape
    torch.Size([5, 4, 1])
    """

    def __init__(
        self, body: Stack, c_in: int, c_out: int, horizon: int, context: int, patch_len: int, n_quantiles: int = 1,
        instance_norm: bool = True, affine: bool = False, linear_skip: bool = True, eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if c_out % n_quantiles:
            raise ValueError(f"c_out={c_out} must be a multiple of n_quantiles={n_quantiles}")
        n_targets = c_out // n_quantiles
        if n_targets > c_in:
            raise ValueError(f"the targets must be among the inputs: c_out // n_quantiles = {n_targets} > c_in = {c_in}")
        if not 1 <= patch_len <= context:
            raise ValueError(f"need 1 <= patch_len <= context, got patch_len={patch_len}, context={context}")
        if body.c_in != patch_len * c_in or body.c_out != c_out or body.horizon != horizon or body.skip_last:
            raise ValueError("the body must be a Stack with c_in = patch_len * c_in, the same c_out and horizon, "
                             "and skip_last=False")
        self.c_in, self.c_out, self.horizon, self.context, self.patch_len = c_in, c_out, horizon, context, patch_len
        self.n_quantiles, self.n_targets = n_quantiles, n_targets
        self.instance_norm, self.eps = instance_norm, eps
        self.n_segments = math.ceil(context / patch_len)
        self.body = body
        self.affine_weight = nn.Parameter(torch.ones(c_in)) if affine else None
        self.affine_bias = nn.Parameter(torch.zeros(c_in)) if affine else None
        self.linear = nn.Linear(context, horizon) if linear_skip else None
        if self.linear is not None:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[1] != self.context or x.shape[2] != self.c_in:
            raise ValueError(f"expected x of shape (B, {self.context}, {self.c_in}), got {tuple(x.shape)}")
        if self.instance_norm:
            mean = x.mean(1, keepdim=True)
            std = torch.sqrt(x.var(1, keepdim=True, unbiased=False) + self.eps)
            z = (x - mean) / std
        else:
            z = x
        if self.affine_weight is not None:
            z = z * self.affine_weight + self.affine_bias
        pad = self.n_segments * self.patch_len - self.context
        zp = nn.functional.pad(z, (0, 0, pad, 0)) if pad else z
        segments = zp.reshape(x.shape[0], self.n_segments, self.patch_len * self.c_in)
        yhat, _ = self.body(segments)
        out = yhat[:, -1]  # (B, H, c_out): the forecast from the last segment
        nt, nq = self.n_targets, self.n_quantiles
        if self.linear is not None:
            lin = self.linear(z[..., :nt].transpose(1, 2)).transpose(1, 2)  # (B, H, n_targets)
            out = out + (lin.repeat_interleave(nq, dim=-1) if nq > 1 else lin)
        if self.affine_weight is not None:
            w = self.affine_weight[:nt].repeat_interleave(nq)
            b = self.affine_bias[:nt].repeat_interleave(nq)
            out = (out - b) / (w + self.eps**2)
        if self.instance_norm:
            m = mean[..., :nt].repeat_interleave(nq, dim=-1) if nq > 1 else mean[..., :nt]
            s = std[..., :nt].repeat_interleave(nq, dim=-1) if nq > 1 else std[..., :nt]
            out = out * s + m
        return out
