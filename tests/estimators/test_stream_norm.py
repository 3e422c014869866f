"""The stream model's causal instance normalisation (``context=None``, ``instance_norm``) through the estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests._settings import make
from tsrec.nn.blocks import Stack
from tsrec.nn.causal_norm import CausalInstanceNorm


@pytest.mark.parametrize("instance_norm", [True, False])
def test_the_flag_builds_the_running_normalisation(instance_norm, small_frame):
    f = make("LRUForecaster", context=None, instance_norm=instance_norm).fit(small_frame[["OT"]].iloc[:300])
    assert isinstance(f.model_, CausalInstanceNorm if instance_norm else Stack)
    assert ("norm.mean" in f._stream.state_of(0)) is instance_norm
    assert np.isfinite(f.predict().to_numpy()).all()


def test_a_stream_that_drifts_far_from_the_fit_is_followed(etth1):
    """ETTh1 OT: fit on 400 rows, then stream the next 400 shifted up by 15 training standard deviations (a level
    the fit never saw). With the running normalisation the forecasts follow the new level; with the global
    scaling alone they do not (forecasts without weight updates, so only the normalisation differs). The
    model forecasts levels, not changes (``skip_last=False``): the default persistence path follows a level
    shift by itself (measured: 0.42 and 0.37 training standard deviations of MAE with and without)."""
    y = etth1[["OT"]].iloc[:800].copy()
    std = y["OT"].iloc[:400].std()
    y.iloc[400:, 0] += 15 * std
    errors = {}
    for norm in (True, False):
        f = make("LRUForecaster", context=None, instance_norm=norm, max_epochs=4, skip_last=False).fit(y.iloc[:400])
        f.partial_fit(y.iloc[400:600], update_params=False)
        forecasts, actual = f.rolling_forecasts(y.iloc[600:])
        ok = ~np.isnan(actual[0]).any(axis=(1, 2))
        errors[norm] = float(np.mean(np.abs(forecasts[0][ok] - actual[0][ok]))) / std
    assert errors[True] < 0.2 * errors[False], errors
    assert errors[True] < 2, errors  # within a few standard deviations of a series now 15 away


def test_chunked_stream_equals_one_call_with_the_normalisation(small_frame):
    base = make("S4Forecaster", context=None).fit(small_frame.iloc[:300])
    a, b = base.__class__(**base.get_params()), base.__class__(**base.get_params())
    a.fit(small_frame.iloc[:300])
    b.fit(small_frame.iloc[:300])
    a.partial_fit(small_frame.iloc[300:420], update_params=False)
    for start in range(300, 420, 40):
        b.partial_fit(small_frame.iloc[start : start + 40], update_params=False)
    pd.testing.assert_frame_equal(a.predict(), b.predict(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(a._stream.state_of(0)["norm.mean"].numpy(), 0)  # the statistics moved with the stream
