"""Features of issue 13 together: per-series scaling and missing values with intervals, replay and files."""

from __future__ import annotations

import numpy as np

from tests._settings import make
from tsrec.estimators import BaseForecaster


def test_series_scaling_intervals_are_each_series_own(small_frame):
    """A panel [s, 1000 s] with scaling="series": the conformal bands, like the forecasts, are 1000x apart."""
    s = small_frame[["OT"]].iloc[:400]
    f = make("LRUForecaster", context=48, scaling="series", validation_fraction=0.25).fit([s, s * 1000])
    small, big = f.predict_interval(coverage=0.8)
    np.testing.assert_allclose(big.to_numpy(), 1000 * small.to_numpy(), rtol=1e-4)
    lo, hi = small.to_numpy()[:, 0], small.to_numpy()[:, 1]
    assert (lo < hi).all()
    # a new history is scaled, and banded, by its own statistics
    band = f.predict_interval([s * 10], coverage=0.8)[0].to_numpy()
    np.testing.assert_allclose(band, 10 * small.to_numpy(), rtol=1e-4)


def test_masked_targets_score_nothing_in_the_calibration(small_frame):
    """missing="mask": origins whose targets are missing leave NaN errors that the conformal quantile skips;
    the bands stay finite, and the file keeps them."""
    df = small_frame[["OT"]].iloc[:400].copy()
    df.iloc[370:380] = np.nan  # inside the validation tail
    f = make("LRUForecaster", context=48, missing="mask", validation_fraction=0.25).fit(df)
    assert np.isnan(f._calibration.errors).any()
    band = f.predict_interval(coverage=0.8).to_numpy()
    assert np.isfinite(band).all() and (band[:, 0] < band[:, 1]).all()


def test_series_scaling_replay_survives_the_file(small_frame, tmp_path):
    """The replay windows remember their series (per-series scaling); saved and loaded, partial_fit continues
    exactly as without the round trip."""
    s = small_frame[["OT"]]
    f = make("LRUForecaster", context=48, scaling="series", replay_size=8).fit([s.iloc[:300], s.iloc[:300] * 3])
    f.partial_fit([s.iloc[300:340], s.iloc[300:340] * 3])
    assert len(f._stream.replay) and len(f._stream.replay_series) == len(f._stream.replay)
    f.save(tmp_path / "f.safetensors")
    g = BaseForecaster.load(tmp_path / "f.safetensors")
    assert g._stream.replay_series == f._stream.replay_series
    f.partial_fit([s.iloc[340:360], s.iloc[340:360] * 3])
    g.partial_fit([s.iloc[340:360], s.iloc[340:360] * 3])
    for a, b in zip(f.predict(), g.predict(), strict=True):
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
