"""``start_padding``: a panel whose series are shorter than ``context + horizon`` rows fits with a fixed context.

The panel here is ETTh1's oil temperature as daily means: one long series and short stretches of it (as a
panel of yearly series holds series of 14 and of 40 rows). A padded series' window holds its first row repeated
before it, as a forecast from a short history already reads it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests._settings import NAMES, make
from tsrec.estimators import BaseForecaster
from tsrec.training import training_windows

KW = dict(horizon=7, context=28, patch_len=7)


@pytest.fixture(scope="module")
def daily(etth1):
    """ETTh1's OT as daily means (725 days)."""
    return etth1[["OT"]].resample("D").mean().dropna()


def _panel(daily):
    """A long series (300 days) and three short ones (12, 20 and 30 days) from other stretches."""
    return [daily.iloc[:300], daily.iloc[320:332], daily.iloc[400:420], daily.iloc[500:530]]


def test_training_windows_pad_a_short_series_with_its_first_row():
    rng = np.random.default_rng(0)
    short, long = rng.normal(size=(9, 2)), rng.normal(size=(30, 2))
    plain, _ = training_windows([short, long], 8, 4, 0.0)
    padded, val = training_windows([short, long], 8, 4, 0.0, start_padding=True)
    assert plain.shape == (30 - 12 + 1, 12, 2) and padded.shape == (1 + 30 - 12 + 1, 12, 2) and val is None
    first = padded[0].numpy()
    np.testing.assert_array_equal(first[:3], np.repeat(short[:1], 3, axis=0).astype(np.float64))
    np.testing.assert_array_equal(first[3:], short)
    np.testing.assert_array_equal(padded[1:].numpy(), plain.numpy())  # the long series' windows as before
    # a short series gives no validation rows; the long one's tail is held out as before
    train, val = training_windows([short, long], 8, 4, 0.25, start_padding=True)
    _, val_plain = training_windows([long], 8, 4, 0.25)
    np.testing.assert_array_equal(val.numpy(), val_plain.numpy())
    assert train[0, :3].eq(train[0, :1]).all()


@pytest.mark.parametrize("name", NAMES)
def test_a_panel_with_short_series_fits_padded(name, daily):
    panel = _panel(daily)
    with pytest.raises(ValueError, match="too few rows: a series has 12.*start_padding=True"):
        make(name, **KW).fit(panel)
    f = make(name, **KW, start_padding=True).fit(panel)
    assert f.frame_.context == 28
    forecasts = f.predict()
    for series, forecast in zip(panel, forecasts, strict=True):
        assert len(forecast) == 7 and np.isfinite(forecast.to_numpy()).all()
        assert forecast.index[0] == series.index[-1] + pd.Timedelta(days=1)
    # the stream goes on: the short series train once they hold context + horizon rows
    f.partial_fit([daily.iloc[300:302], daily.iloc[332:334], daily.iloc[420:422], daily.iloc[530:532]])
    assert all(np.isfinite(p.to_numpy()).all() for p in f.predict())


def test_series_long_enough_fit_as_without_padding(daily):
    panel = [daily.iloc[:200], daily.iloc[300:400]]
    a = make("LRUForecaster", **KW).fit(panel).predict()
    b = make("LRUForecaster", **KW, start_padding=True).fit(panel).predict()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())


def test_a_short_history_is_read_as_its_first_row_repeated(daily, tmp_path):
    """``predict(X=history)`` with fewer rows than the context pads the network's window with the first row; the
    network alone (``theta_weight=0``) forecasts what it forecasts from that padded history. The choice survives
    a save and load."""
    f = make("LRUForecaster", **KW, theta_weight=0.0, start_padding=True).fit(_panel(daily))
    history = daily.iloc[600:610]
    padded = pd.concat([history.iloc[[0] * 18], history])
    padded.index = pd.date_range(end=history.index[-1], periods=28, freq="D")
    got = f.predict(X=history)
    np.testing.assert_allclose(got.to_numpy(), f.predict(X=padded).to_numpy(), rtol=1e-5, atol=1e-5)
    f.save(tmp_path / "padded.safetensors")
    g = BaseForecaster.load(tmp_path / "padded.safetensors")
    assert g.start_padding is True
    np.testing.assert_array_equal(g.predict(X=history).to_numpy(), got.to_numpy())
    plain = make("LRUForecaster", **KW).fit(_panel(daily)[:1])
    with pytest.raises(ValueError, match="too few rows: a history has 10, the model needs context = 28"):
        plain.predict(X=history)


def test_start_padding_needs_a_fixed_context(daily):
    with pytest.raises(ValueError, match="start_padding=True needs a fixed context"):
        make("LRUForecaster", horizon=7, context=None, start_padding=True).fit(daily.iloc[:100])
    with pytest.raises(ValueError, match="start_padding"):
        make("LRUForecaster", **KW, start_padding="yes").fit(daily.iloc[:100])
