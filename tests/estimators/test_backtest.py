"""historical_forecasts: backtests along a continuation of the stream (issue 13, item 5), on ETTh1."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from tests._settings import make

N_FIT, N_X = 500, 60


def state_of(f) -> tuple:
    """What a backtest must not move: the forecast, the weights, the stream buffers and the calibration."""
    return (f.predict().to_numpy().copy(), {k: v.clone() for k, v in f.model_.state_dict().items()},
            [b.copy() for b in f._stream.buffers], f._calibration.errors.copy(), f._optimizer)


def assert_same_state(a: tuple, b: tuple) -> None:
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1].keys() == b[1].keys() and all(torch.equal(a[1][k], b[1][k]) for k in a[1])
    assert all(np.array_equal(x, y) for x, y in zip(a[2], b[2], strict=True))
    np.testing.assert_array_equal(a[3], b[3])
    assert a[4] is b[4]


@pytest.mark.parametrize("context", ["auto", None])
def test_one_pass_matches_rolling_forecasts_and_leaves_the_estimator(context, small_frame):
    f = make("LRUForecaster", context=context, validation_fraction=0.2).fit(small_frame.iloc[:N_FIT])
    X = small_frame.iloc[N_FIT : N_FIT + N_X]
    before = state_of(f)
    bt = f.historical_forecasts(X, stride=3, coverage=0.8)
    assert_same_state(before, state_of(f))
    H, names = f.horizon, list(small_frame.columns)
    assert list(bt.columns) == ["unique_id", "target", "cutoff", "ds", "y", "y_hat", "y_lower", "y_upper"]
    cutoffs = small_frame.index[N_FIT - 1 : N_FIT + N_X - 1 : 3]  # the end of the fit, then every 3rd row
    assert len(bt) == len(names) * len(cutoffs) * H and (bt["unique_id"] == 0).all()
    assert list(bt["target"].unique()) == names and list(bt["cutoff"].unique()) == list(cutoffs)
    assert ((bt["ds"] - bt["cutoff"]) / pd.Timedelta(hours=1)).tolist() == list(range(1, H + 1)) * (len(bt) // H)
    # y: the data at ds, NaN exactly where ds lies beyond X (kept, so that every origin has all its steps)
    beyond = bt["ds"] > X.index[-1]
    positions = np.arange(0, N_X, 3)
    assert bt["y"].isna().equals(beyond) and beyond.sum() == len(names) * np.maximum(positions + H - N_X, 0).sum() > 0
    inside = bt[~beyond]
    for col in names:
        part = inside[inside["target"] == col]
        np.testing.assert_array_equal(part["y"].to_numpy(), X.loc[part["ds"], col].to_numpy())
    # y_hat: the forecasts of rolling_forecasts at the same origins (one pass of the model, the same numbers)
    preds, _ = f.rolling_forecasts(X)
    for j, col in enumerate(names):
        got = bt[bt["target"] == col]["y_hat"].to_numpy().reshape(len(cutoffs), H)
        np.testing.assert_array_equal(got, preds[0][::3, :, j])
    assert (bt["y_lower"] < bt["y_hat"]).all() and (bt["y_hat"] < bt["y_upper"]).all()
    # the interval of the first origin is predict_interval's
    band = f.predict_interval(coverage=0.8)
    first = bt[bt["cutoff"] == cutoffs[0]]
    np.testing.assert_allclose(first[first["target"] == "OT"]["y_upper"], band[("OT", "upper")], rtol=1e-6)


@pytest.mark.parametrize("name, context", [("LRUForecaster", "auto"), ("LEMForecaster", None)])
def test_partial_fit_update_is_streaming_on_a_copy(name, context, small_frame):
    """update="partial_fit": a copy learns the rows of each stride before the next origin, as a deployed model
    would; the forecasts are those of streaming by hand, and the estimator itself does not move."""
    # (a fixed share for the window model: "auto" may choose the partner alone here, and what the copy learns
    # would not show in its forecasts)
    share = {"theta_weight": 0.5} if context == "auto" else {}
    f = make(name, context=context, replay_size=4, validation_fraction=0.2, **share).fit(small_frame.iloc[:N_FIT])
    X = small_frame.iloc[N_FIT : N_FIT + 25]
    before = state_of(f)
    bt = f.historical_forecasts(X, stride=5, update="partial_fit", coverage=0.8)
    assert_same_state(before, state_of(f))
    by_hand = copy.deepcopy(f)
    for p in range(0, 25, 5):
        if p:
            by_hand.partial_fit(X.iloc[p - 5 : p])
        got = bt[bt["cutoff"] == (X.index[p - 1] if p else small_frame.index[N_FIT - 1])]
        want = by_hand.predict()
        band = by_hand.predict_interval(coverage=0.8)
        for col in X.columns:
            np.testing.assert_array_equal(got[got["target"] == col]["y_hat"], want[col])
            np.testing.assert_array_equal(got[got["target"] == col]["y_lower"], band[(col, "lower")])
    # the copy learnt: after the first origin its forecasts are not the fixed model's
    fixed = f.historical_forecasts(X, stride=5)
    first = bt["cutoff"] == small_frame.index[N_FIT - 1]
    np.testing.assert_allclose(fixed["y_hat"][first], bt["y_hat"][first], rtol=1e-6)  # one batch vs one window
    assert not np.allclose(fixed["y_hat"][~first], bt["y_hat"][~first])


def test_panels_arrays_and_ids(small_frame):
    a, b = small_frame.iloc[:300], small_frame.iloc[300:600]
    long = lambda parts: pd.concat([pd.DataFrame({"unique_id": k, "ds": p.index, "y": p["OT"].to_numpy()})  # noqa: E731
                                    for k, p in parts], ignore_index=True)
    f = make("S4Forecaster").fit(long([("a", a.iloc[:250]), ("b", b.iloc[:250])]))
    bt = f.historical_forecasts(long([("b", b.iloc[250:270]), ("a", a.iloc[250:260])]))  # any order of ids
    assert list(bt["unique_id"].unique()) == ["a", "b"] and (bt["target"] == "y").all()
    assert bt.groupby("unique_id")["cutoff"].nunique().to_dict() == {"a": 10, "b": 20}
    assert bt[bt["unique_id"] == "a"]["cutoff"].iloc[0] == a.index[249]
    with pytest.raises(ValueError, match="same number of rows"):
        f.historical_forecasts(long([("a", a.iloc[250:260]), ("b", b.iloc[250:270])]), update="partial_fit")
    eq = f.historical_forecasts(long([("a", a.iloc[250:260]), ("b", b.iloc[250:260])]), update="partial_fit")
    assert len(eq) == 2 * 10 * f.horizon
    # arrays: integer positions counted from the first fitted row; a list panel: ids are positions
    g = make("AarenForecaster").fit([a.to_numpy()[:250], b.to_numpy()[:200]])
    bt = g.historical_forecasts([a.to_numpy()[250:256], b.to_numpy()[200:206]], stride=2, update="partial_fit")
    assert sorted(bt["unique_id"].unique()) == [0, 1]
    assert bt[bt["unique_id"] == 1]["cutoff"].unique().tolist() == [199, 201, 203]
    assert bt[bt["unique_id"] == 0]["ds"].iloc[:4].tolist() == [250, 251, 252, 253]
    np.testing.assert_array_equal(bt[(bt["unique_id"] == 0) & (bt["cutoff"] == 251) & (bt["target"] == "2")]["y"],
                                  a["OT"].to_numpy()[252:256])
