"""The learning-rate schedules of the training loop."""

from __future__ import annotations

import numpy as np
import pytest

from tsrec.training import LR_SCHEDULES, lr_factor


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_schedule_rises_to_the_base_lr_then_falls_to_near_zero(schedule):
    total = 1000
    f = np.array([lr_factor(schedule, step, total) for step in range(total)])
    top = int(np.argmax(f))
    assert f[top] == pytest.approx(1.0) and f[0] == pytest.approx(1 / 25)
    peak = 0.3 if schedule == "onecycle" else 0.05  # share of the steps spent rising
    assert abs(top - peak * (total - 1)) <= 1
    assert (np.diff(f[: top + 1]) >= 0).all() and (np.diff(f[top:]) <= 0).all()
    assert f[-1] < 1e-4
    # a pure function of the step: the same step of the same plan gives the same factor, out-of-range steps clip
    assert lr_factor(schedule, total + 5, total) == f[-1] and lr_factor(schedule, -3, total) == f[0]


def test_constant_and_unknown():
    assert all(lr_factor("constant", s, 100) == 1.0 for s in range(100))
    assert set(LR_SCHEDULES) == {"constant", "onecycle", "cosine"}
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        lr_factor("linear", 5, 100)


def test_weight_average_keeps_the_average_of_the_epoch_steps(etth1):
    """With ``weight_average`` the weights a one-epoch fit keeps are the bias-corrected moving average (decay
    ``1 - 1/n`` over its ``n`` optimiser steps) of the weights after each step, as a float64 reference of the
    recorded path computes it; without it, the last step's weights."""
    import torch
    from torch.optim.optimizer import register_optimizer_step_post_hook

    from tests._settings import make

    y = etth1[["OT"]].iloc[:700]
    for average in (True, False):
        path: dict[int, list[torch.Tensor]] = {}

        def record(opt, args, kwargs, path=path):
            for group in opt.param_groups:
                for p in group["params"]:
                    path.setdefault(id(p), []).append(p.detach().double().clone())

        handle = register_optimizer_step_post_hook(record)
        try:
            f = make("LRUForecaster", horizon=8, max_epochs=1, weight_average=average).fit(y)
        finally:
            handle.remove()
        params = list(f.model_.parameters())
        n = len(path[id(params[0])])
        assert n > 4 and all(len(path[id(p)]) == n for p in params)
        decay = 1 - 1 / n
        moved = 0
        for p in params:
            steps = torch.stack(path[id(p)])
            weights = (1 - decay) * decay ** torch.arange(n - 1, -1, -1, dtype=torch.float64)
            want = torch.tensordot(weights, steps, dims=1) / (1 - decay**n) if average else steps[-1]
            torch.testing.assert_close(p.detach().double(), want, rtol=1e-5, atol=1e-6)
            moved += not torch.allclose(steps[-1], want, rtol=1e-4, atol=1e-5)
        assert (moved > 0) == average  # the average is not the last step's weights
