"""The training loop: its learning-rate schedules and its weight average."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from tests._settings import make
from tsrec import training
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


def _recorder(path):
    """An optimizer step hook that appends, per parameter (by id), its float64 value after each step."""

    def record(opt, args, kwargs):
        for group in opt.param_groups:
            for p in group["params"]:
                path.setdefault(id(p), []).append(p.detach().double().clone())

    return record


def _average(steps, n, count=None):
    """The bias-corrected moving average, decay ``1 - 1/n``, of the last ``count`` (default ``n``) of ``steps``."""
    count = n if count is None else count
    decay = 1 - 1 / n
    weights = (1 - decay) * decay ** torch.arange(count - 1, -1, -1, dtype=torch.float64)
    return torch.tensordot(weights, torch.stack(steps[-count:]), dims=1) / (1 - decay**count)


def test_weight_average_keeps_the_average_of_the_epoch_steps(etth1):
    """With ``weight_average`` the weights a one-epoch fit keeps are the bias-corrected moving average (decay
    ``1 - 1/n`` over its ``n`` optimiser steps) of the weights after each step, as a float64 reference of the
    recorded path computes it; without it, the last step's weights."""
    y = etth1[["OT"]].iloc[:700]
    for average in (True, False):
        path: dict[int, list[torch.Tensor]] = {}
        handle = register_optimizer_step_post_hook(_recorder(path))
        try:
            f = make("LRUForecaster", horizon=8, max_epochs=1, weight_average=average).fit(y)
        finally:
            handle.remove()
        params = list(f.model_.parameters())
        n = len(path[id(params[0])])
        assert n > 4 and all(len(path[id(p)]) == n for p in params)
        moved = 0
        for p in params:
            steps = path[id(p)]
            want = _average(steps, n) if average else steps[-1]
            torch.testing.assert_close(p.detach().double(), want, rtol=1e-5, atol=1e-6)
            moved += not torch.allclose(steps[-1], want, rtol=1e-4, atol=1e-5)
        assert (moved > 0) == average  # the average is not the last step's weights


def test_weight_average_forgets_the_steps_of_a_failed_epoch(etth1, monkeypatch):
    """An epoch whose loss turns NaN is retried from the last good weights at a tenth of the lr; the average
    rolls back with them: what the fit keeps is the average of the retried epoch's steps alone."""
    real, calls = training.training_loss, []

    def fault(*args, **kwargs):  # the fourth batch of the first try gives NaN, once
        calls.append(1)
        loss = real(*args, **kwargs)
        return loss * float("nan") if len(calls) == 4 else loss

    monkeypatch.setattr(training, "training_loss", fault)
    path: dict[int, list[torch.Tensor]] = {}
    handle = register_optimizer_step_post_hook(_recorder(path))
    try:
        f = make("LRUForecaster", horizon=8, max_epochs=1, weight_average=True).fit(etth1[["OT"]].iloc[:700])
    finally:
        handle.remove()
    params = list(f.model_.parameters())
    total = len(path[id(params[0])])
    n = total - 3  # three good steps before the NaN, then the whole retried epoch
    assert n > 4 and f.history_["lr"][0] < f.lr
    for p in params:
        torch.testing.assert_close(p.detach().double(), _average(path[id(p)], n), rtol=1e-5, atol=1e-6)
    with_failed = [_average(path[id(p)], n, total) for p in params]  # what keeping the failed steps would give
    assert any(not torch.allclose(p.detach().double(), w, rtol=1e-4, atol=1e-5) for p, w in zip(params, with_failed))
