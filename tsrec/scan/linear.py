"""Differentiable linear scan h_t = a_t * h_{t-1} + b_t on any forward-only backend.

The backward pass of a linear scan is itself a reverse linear scan::

    dh_t = g_t + conj(a_{t+1}) dh_{t+1},   db_t = dh_t,   da_t = dh_t conj(h_{t-1})

so a backend only has to provide the forward recurrence (both directions).
A backend may also pass a fused backward ``bwd(a, h, h0, grad_h, need_grad_a)
-> (grad_b, grad_a, grad_h0)`` that does all of this in one pass (see
:func:`tsrec.scan.cpu.linear_scan_bwd`); when it returns None, the generic
reverse-scan backward runs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

ScanFn = Callable[..., Tensor]


class LinearScan(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx, a: Tensor, b: Tensor, h0: Tensor | None, fwd: ScanFn, bwd: Callable | None = None
    ) -> Tensor:
        h = fwd(a, b, h0, reverse=False)
        ctx.fwd, ctx.bwd = fwd, bwd
        ctx.has_h0 = h0 is not None
        ctx.save_for_backward(a, h, h0 if h0 is not None else h.new_zeros(()))
        return h

    @staticmethod
    def backward(ctx, grad_h: Tensor):  # type: ignore[override]
        a, h, h0 = ctx.saved_tensors
        fwd = ctx.fwd
        grad_h = grad_h.contiguous()
        if ctx.bwd is not None:
            fused = ctx.bwd(a, h, h0 if ctx.has_h0 else None, grad_h, ctx.needs_input_grad[0])
            if fused is not None:
                grad_b, grad_a, grad_h0 = fused
                return (
                    grad_a,
                    grad_b if ctx.needs_input_grad[1] else None,
                    grad_h0 if ctx.needs_input_grad[2] and ctx.has_h0 else None,
                    None,
                    None,
                )
        conj = torch.conj if a.is_complex() else (lambda x: x)
        # dh_t = g_t + conj(a_{t+1}) dh_{t+1}: shift a one step left, pad the end with zeros.
        if a.dim() == 3:
            a_next = torch.cat([a[:, 1:], torch.zeros_like(a[:, :1])], dim=1)
            dh = fwd(conj(a_next), grad_h, None, reverse=True)
        else:
            # time-invariant: a_{t+1} = a for t < L-1 and nothing beyond the end
            dh = fwd(conj(a), grad_h, None, reverse=True)
        h_prev = torch.cat([(h0 if ctx.has_h0 else torch.zeros_like(h[:, 0])).unsqueeze(1), h[:, :-1]], dim=1)
        grad_a = grad_b = grad_h0 = None
        if ctx.needs_input_grad[0]:
            da = dh * conj(h_prev)
            grad_a = da if a.dim() == 3 else da.sum(dim=(0, 1))
        if ctx.needs_input_grad[1]:
            grad_b = dh
        if ctx.needs_input_grad[2] and ctx.has_h0:
            a1 = a[:, 0] if a.dim() == 3 else a
            grad_h0 = conj(a1) * dh[:, 0]
        return grad_a, grad_b, grad_h0, None, None
