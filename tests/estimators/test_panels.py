"""Panels: one global model on many series, given as a list of frames or a long (unique_id, ds, y) frame.

Real data: the seven ETTh1 channels as seven series, and the OT channel of ETTh1 and ETTh2 as two.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from tests._settings import make, missing_data
from tsrec.estimators import BaseForecaster

H = 3
FAST = dict(horizon=H, max_epochs=1, stride=16, chunk_length=24)


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """A wide frame (one column per series) as a long unique_id/ds/y frame, series after series."""
    long = wide.rename_axis("ds").reset_index().melt(id_vars="ds", var_name="unique_id", value_name="y")
    return long[["unique_id", "ds", "y"]]


@pytest.fixture(scope="module")
def channels(etth1):
    """ETTh1's seven channels, 240 hourly rows, as a long frame of seven series."""
    return to_long(etth1.iloc[:240])


@pytest.fixture(scope="module")
def two_ot():
    """OT of ETTh1 (rows 0..299) and ETTh2 (rows 100..379): different lengths, ends and levels."""
    from tsrec.datasets import load_ett

    try:
        h1, h2 = load_ett("ETTh1", download=False), load_ett("ETTh2", download=False)
    except FileNotFoundError as e:
        missing_data(f"ETT data not found: {e}")
    return [h1[["OT"]].iloc[:300], h2[["OT"]].iloc[100:380]]


def test_long_in_long_out(name, channels):
    f = make(name, **FAST).fit(channels)
    out = f.predict()
    ids = list(channels["unique_id"].unique())
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["unique_id", "ds", "y"]
    assert list(out["unique_id"]) == [i for i in ids for _ in range(H)]
    last = channels["ds"].max()
    for _uid, part in out.groupby("unique_id", sort=False):
        assert list(part["ds"]) == list(pd.date_range(last, periods=H + 1, freq="h")[1:])
    assert np.isfinite(out["y"].to_numpy()).all()
    # each series is forecast from its own history: near its own last value rather than another's
    last_vals = channels.groupby("unique_id", sort=False)["y"].last()
    first_step = out.groupby("unique_id", sort=False)["y"].first()
    spread = last_vals.max() - last_vals.min()
    assert (np.abs(first_step - last_vals) < 0.5 * spread).all()
    # a given history in the same format gives the same forecasts as the fitted stream
    pd.testing.assert_frame_equal(f.predict(channels), out, rtol=1e-4, atol=1e-4)


def test_list_in_list_out_and_same_as_long(two_ot):
    f = make("LRUForecaster", **FAST).fit(two_ot)
    outs = f.predict()
    assert isinstance(outs, list) and len(outs) == 2
    for hist, out in zip(two_ot, outs, strict=True):
        assert list(out.columns) == ["OT"]
        assert list(out.index) == list(pd.date_range(hist.index[-1], periods=H + 1, freq="h")[1:])
    for a, b in zip(f.predict(two_ot), outs, strict=True):
        pd.testing.assert_frame_equal(a, b, rtol=1e-4, atol=1e-4)
    # the same panel as a long frame: same model (same seed), same forecasts, long format out
    long = pd.concat([s.rename(columns={"OT": "y"}).rename_axis("ds").reset_index().assign(unique_id=k)
                      for k, s in zip(["ETTh1", "ETTh2"], two_ot, strict=True)])[["unique_id", "ds", "y"]]
    g = make("LRUForecaster", **FAST).fit(long)
    out_long = g.predict()
    for k, out in zip(["ETTh1", "ETTh2"], outs, strict=True):
        part = out_long[out_long["unique_id"] == k]
        np.testing.assert_array_equal(part["ds"].to_numpy(), out.index.to_numpy())
        np.testing.assert_allclose(part["y"].to_numpy(), out["OT"].to_numpy(), rtol=1e-5)


def test_long_with_covariates(etth1):
    wide = etth1.iloc[:240]
    long = pd.concat([wide[["OT", "HUFL", "MUFL"]].rename(columns={"OT": "y"}).rename_axis("ds").reset_index()
                      .assign(unique_id=k) for k in ("a", "b")])
    long.loc[long["unique_id"] == "b", ["y", "HUFL"]] *= 2.0  # a second, different series
    long = long[["unique_id", "ds", "y", "HUFL", "MUFL"]]
    f = make("LRUForecaster", **FAST).fit(long)
    assert f.target_names_ == ["y"] and f.covariate_names_ == ["HUFL", "MUFL"]
    out = f.predict()
    assert list(out.columns) == ["unique_id", "ds", "y"] and len(out) == 2 * H
    pd.testing.assert_frame_equal(f.predict(long), out, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="columns differ"):
        f.predict(long.drop(columns=["MUFL"]))


def test_stream_continues_each_series_by_id(etth1):
    """partial_fit/score with a long frame match series by unique_id, whatever the row order."""
    wide = etth1[["HUFL", "MUFL", "OT"]].iloc[:260]
    ids = {"HUFL": 10, "MUFL": 20, "OT": 30}
    long = to_long(wide).assign(unique_id=lambda d: d["unique_id"].map(ids))
    fit_part, nxt = long[long["ds"] < wide.index[240]], long[long["ds"] >= wide.index[240]]
    f = make("LRUForecaster", **FAST).fit(fit_part)
    shuffled = nxt.sort_values(["ds", "unique_id"], ascending=[True, False])  # rows interleaved, ids reversed
    assert f.score(shuffled) == pytest.approx(f.score(nxt), rel=1e-6)
    a = copy.deepcopy(f).partial_fit(nxt, update_params=False).predict()
    b = copy.deepcopy(f).partial_fit(shuffled, update_params=False).predict()
    pd.testing.assert_frame_equal(a, b)
    assert list(a["unique_id"].unique()) == [10, 20, 30]
    # each continued series equals forecasting its whole history
    np.testing.assert_allclose(f.predict(long)["y"].to_numpy(), a["y"].to_numpy(), rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="unique_id"):
        f.partial_fit(nxt[nxt["unique_id"] != 20])
    with pytest.raises(ValueError, match="unique_id"):
        f.partial_fit(nxt.assign(unique_id=nxt["unique_id"] + 1))
    pd.testing.assert_frame_equal(f.predict(), copy.deepcopy(f).predict())


def test_long_panel_save_load_keeps_ids(etth1, tmp_path):
    ids = {"HUFL": 1, "OT": 2}
    long = to_long(etth1[["HUFL", "OT"]].iloc[:200]).assign(unique_id=lambda d: d["unique_id"].map(ids))
    f = make("LRUForecaster", **FAST).fit(long)
    f.save(tmp_path / "panel.safetensors")
    g = BaseForecaster.load(tmp_path / "panel.safetensors")
    pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)
    assert g.predict()["unique_id"].tolist() == [1] * H + [2] * H


def test_long_integer_time_and_uneven_series(etth1):
    """ds as integers; series of different lengths each get their own future steps."""
    a = etth1["OT"].iloc[:200].to_numpy()
    b = etth1["HUFL"].iloc[:150].to_numpy()
    long = pd.DataFrame({"unique_id": ["a"] * 200 + ["b"] * 150,
                         "ds": np.r_[np.arange(200), np.arange(50, 200)] * 10,
                         "y": np.r_[a, b]})
    f = make("LRUForecaster", **FAST).fit(long)
    out = f.predict()
    assert out["ds"].tolist() == [2000, 2010, 2020] * 2
    b_only = long.iloc[:200].assign(ds=np.arange(100, 300) * 10)  # one series only, another end
    single = f.predict(b_only)
    assert single["unique_id"].tolist() == ["a"] * H and single["ds"].tolist() == [3000, 3010, 3020]
