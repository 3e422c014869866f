"""Fast torch paths for the scan cores (CPU, and any device without CuPy).

These functions compute forward values only, without autograd; the autograd
wrappers in :mod:`tsrec.scan.linear` call them for the forward pass and, with
``reverse=True``, for the backward pass.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["linear_scan_fwd"]


@torch.no_grad()
def linear_scan_fwd(a: Tensor, b: Tensor, h0: Tensor | None = None, reverse: bool = False) -> Tensor:
    """h_t = a_t h_{t-1} + b_t (or h_t = a_t h_{t+1} + b_t with ``reverse``), no autograd.

    Shapes as in :func:`tsrec.scan.linear_scan`.
    """
    B, L, D = b.shape
    bt = b.transpose(0, 1).contiguous()  # time-major: each step is one contiguous row block
    at = a.transpose(0, 1).contiguous() if a.dim() == 3 else a
    out = torch.empty_like(bt)
    h = h0.clone() if h0 is not None else torch.zeros_like(bt[0])
    steps = range(L - 1, -1, -1) if reverse else range(L)
    for t in steps:
        h = torch.addcmul(bt[t], at[t] if a.dim() == 3 else at, h)
        out[t] = h
    return out.transpose(0, 1)
