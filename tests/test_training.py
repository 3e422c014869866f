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
