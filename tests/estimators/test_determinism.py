"""Determinism: the same random_state, data and device give identical weights and forecasts (see docs/streaming.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tests._settings import NAMES, make


def run(name, frame, disturb: int, **kw):
    """Fit, then stream with weight updates (dropout and replay in use); ``disturb`` reseeds the global RNGs first."""
    torch.manual_seed(disturb)
    np.random.seed(disturb)
    f = make(name, dropout=0.1, replay_size=2, max_epochs=2, **kw).fit(frame.iloc[:240])
    torch.manual_seed(disturb + 1)
    for start in range(240, 330, 30):
        f.partial_fit(frame.iloc[start : start + 30])
    return f


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_weights_and_forecasts(name, small_frame):
    a, b = run(name, small_frame, 1), run(name, small_frame, 2)
    for (ka, va), (kb, vb) in zip(a.model_.state_dict().items(), b.model_.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb), ka
    pd.testing.assert_frame_equal(a.predict(), b.predict(), check_exact=True)
    assert a.history_ == b.history_
    c = run(name, small_frame, 1, random_state=1)
    assert not np.allclose(c.predict().to_numpy(), a.predict().to_numpy())


@pytest.mark.parametrize("name", NAMES)
def test_seeded_calls_leave_the_global_rng_alone(name, small_frame):
    torch.manual_seed(7)
    before = torch.get_rng_state()
    f = make(name, dropout=0.1, max_epochs=1).fit(small_frame.iloc[:200])
    f.partial_fit(small_frame.iloc[200:220])
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("name", NAMES)
def test_stream_started_by_partial_fit_is_deterministic(name, small_frame):
    outs = []
    for disturb in (3, 4):
        torch.manual_seed(disturb)
        f = make(name, dropout=0.1)
        for start in range(0, 90, 30):
            f.partial_fit(small_frame.iloc[start : start + 30])
        outs.append(f.predict())
    pd.testing.assert_frame_equal(outs[0], outs[1], check_exact=True)
