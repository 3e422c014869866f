"""The estimator contract of DESIGN.md, checked for every forecaster on real data (ETTh1)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests._settings import make
from tsrec.estimators import BaseForecaster


def test_fit_predict_frame(name, small_frame):
    f = make(name).fit(small_frame)
    out = f.predict()
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(small_frame.columns)
    assert out.index[0] == small_frame.index[-1] + pd.Timedelta(hours=1)
    assert len(out) == 4 and out.index.freqstr == "h"
    assert np.isfinite(out.to_numpy()).all()
    # forecasts are in the user's units: near the recent level, not near 0
    assert abs(out["OT"].iloc[0] - small_frame["OT"].iloc[-1]) < 5 * small_frame["OT"].std()
    assert f.n_features_in_ == 3 and list(f.feature_names_in_) == list(small_frame.columns)


def test_fit_predict_array_and_panel(name, small_frame):
    arr = small_frame.to_numpy()
    f = make(name).fit(arr)
    out = f.predict()
    assert isinstance(out, np.ndarray) and out.shape == (4, 3)
    assert not hasattr(f, "feature_names_in_")
    g = make(name).fit([small_frame.iloc[:300], small_frame.iloc[300:]])
    outs = g.predict()
    assert isinstance(outs, list) and len(outs) == 2
    assert outs[1].index[0] == small_frame.index[-1] + pd.Timedelta(hours=1)
    assert outs[0].index[0] == small_frame.index[299] + pd.Timedelta(hours=1)


def test_predict_given_history_equals_stream(name, small_frame):
    f = make(name).fit(small_frame)
    np.testing.assert_allclose(f.predict(small_frame).to_numpy(), f.predict().to_numpy(), rtol=1e-4, atol=1e-4)


def test_covariates(name, small_frame):
    X, y = small_frame[["HUFL", "MUFL"]], small_frame[["OT"]]
    f = make(name, theta_weight=0.0).fit(X, y)  # the network alone: a Theta share reads the targets only
    out = f.predict()
    assert list(out.columns) == ["OT"]
    assert f.n_features_in_ == 2
    assert f.predict(X, y).shape == (4, 1)
    # the forecast from the given history is the stream's, and the covariates are inputs: others change it
    # (a drifting scale: each window is normalised by its own statistics, so a fixed affine map would not)
    np.testing.assert_allclose(f.predict(X, y).to_numpy(), out.to_numpy(), rtol=1e-4, atol=1e-4)
    drift = np.linspace(0.5, 2.0, len(X))[:, None]
    assert np.abs(f.predict(X * drift + 3.0, y).to_numpy() - out.to_numpy()).max() > 1e-3


def test_covariate_forecasts_track_the_target(name, small_frame):
    """Trained with covariates on 500 rows, rolling forecasts of OT on the next 100 stay within a factor of
    persistence (today 1.0-2.0x at these small settings; a forecast built on a covariate's level is far off)."""
    X, y = small_frame[["HUFL", "MUFL"]], small_frame[["OT"]]
    f = make(name).fit(X.iloc[:500], y.iloc[:500])
    preds, actual = f.rolling_forecasts(X.iloc[500:], y.iloc[500:])
    p, a = preds[0][..., 0], actual[0][..., 0]
    last = y["OT"].to_numpy()[499 : 499 + len(p)]  # origin i forecasts rows 500 + i ... from rows up to 499 + i
    ok = ~np.isnan(a)
    mse_model = float(((p - a)[ok] ** 2).mean())
    mse_persistence = float(((last[:, None] - a)[ok] ** 2).mean())
    assert mse_model < 3.0 * mse_persistence


@pytest.mark.parametrize("frame", [{}, {"context": None}], ids=["direct", "dense"])
def test_zeroed_head_forecasts_the_last_target_value(name, frame, small_frame):
    """skip_last adds each target's last observed value: with the network's heads zeroed (the direct head's
    linear path too), the forecast at every step is exactly that value in the user's units, whatever the
    covariates (far from the targets) hold."""
    X, y = small_frame[["HUFL"]] * 10 + 100, small_frame[["OT", "MUFL"]]
    f = make(name, max_epochs=1, theta_weight=0.0, **frame).fit(X, y)  # the network alone
    assert f.frame_.direct == (not frame)
    # the stream model's heads sit inside its running normalisation: z_last * s + m is the last value again
    heads = [f.model_.body.head, f.model_.linear] if f.frame_.direct else [f.model_.inner.head]
    with torch.no_grad():
        for head in heads:
            head.weight.zero_()
            head.bias.zero_()
    for rows in (slice(0, 600), slice(0, 333)):
        out = f.predict(X.iloc[rows], y.iloc[rows])
        last = y.iloc[rows].iloc[-1].to_numpy()
        np.testing.assert_allclose(out.to_numpy(), np.tile(last, (4, 1)), rtol=1e-5)


def test_clone_params_pipeline(name, small_frame):
    f = make(name)
    g = clone(f)
    assert g.get_params() == f.get_params()
    g.set_params(horizon=2)
    assert g.horizon == 2 and f.horizon == 4
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"), make(name)).fit(small_frame)
    out = pipe.predict(small_frame)
    assert out.shape == (4, 3) and np.isfinite(out.to_numpy()).all()


def test_gridsearch_time_series_split(name, small_frame):
    grid = [1e-3, 3e-3]
    scores = {lr: cross_val_score(make(name, lr=lr), small_frame, cv=TimeSeriesSplit(2)) for lr in grid}
    assert all(s.shape == (2,) and np.isfinite(s).all() and (s < 0).all() for s in scores.values())
    gs = GridSearchCV(make(name), {"lr": grid}, cv=TimeSeriesSplit(2)).fit(small_frame)
    # the search picked the learning rate that scores best when each is cross-validated on its own
    means = {lr: s.mean() for lr, s in scores.items()}
    assert gs.best_params_["lr"] == max(means, key=means.get)
    assert gs.best_score_ == pytest.approx(max(means.values()), rel=1e-9)
    assert gs.best_estimator_.lr == gs.best_params_["lr"]
    assert gs.best_estimator_.predict().shape == (4, 3)


def test_partial_fit_without_updates_matches_one_call(name, small_frame):
    f = make(name).fit(small_frame.iloc[:400])
    one, chunked = copy.deepcopy(f), copy.deepcopy(f)
    one.partial_fit(small_frame.iloc[400:500], update_params=False)
    for start in (400, 401, 417, 450, 499):  # uneven chunks, single rows included
        stop = {400: 401, 401: 417, 417: 450, 450: 499, 499: 500}[start]
        chunked.partial_fit(small_frame.iloc[start:stop], update_params=False)
    a, b = one.predict(), chunked.predict()
    assert a.index[0] == small_frame.index[500]
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-4, atol=1e-4)
    # and equal to forecasting from the whole history with the same weights
    np.testing.assert_allclose(one.predict(small_frame.iloc[:500]).to_numpy(), a.to_numpy(), rtol=1e-3, atol=1e-3)
    for p, q in zip(f.model_.parameters(), one.model_.parameters(), strict=True):
        assert (p == q).all()


def test_partial_fit_updates_weights_and_stream(name, small_frame):
    f = make(name).fit(small_frame.iloc[:400])
    before = [p.detach().clone() for p in f.model_.parameters()]
    f.partial_fit(small_frame.iloc[400:450])
    assert f.predict().index[0] == small_frame.index[450]
    assert any((p != q).any() for p, q in zip(before, f.model_.parameters(), strict=True))
    assert f.scaler_.count == 450


def test_partial_fit_starts_a_stream(name, small_frame):
    f = make(name)
    for start in range(0, 120, 30):
        f.partial_fit(small_frame.iloc[start : start + 30])
    out = f.predict()
    assert out.index[0] == small_frame.index[120]
    assert np.isfinite(out.to_numpy()).all()


def test_score_is_rolling_continuation(name, small_frame):
    f = make(name).fit(small_frame.iloc[:500])
    stream_before = f.predict()
    preds, actual = f.rolling_forecasts(small_frame.iloc[500:540])
    assert preds[0].shape == (40, 4, 3)
    # the first origin is the end of the fitted stream
    np.testing.assert_allclose(preds[0][0], stream_before.to_numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(actual[0][0], small_frame.iloc[500:504].to_numpy())
    assert np.isnan(actual[0][-1][1:]).all()
    s = f.score(small_frame.iloc[500:540])
    err = np.concatenate([(p - a).ravel() for p, a in zip(preds, actual, strict=True)])
    assert s == pytest.approx(-np.nanmean(err**2))
    pd.testing.assert_frame_equal(f.predict(), stream_before)  # score does not move the stream


def test_save_load_round_trip(name, small_frame, tmp_path):
    f = make(name).fit(small_frame)
    f.partial_fit(small_frame.iloc[-1:].set_axis([small_frame.index[-1] + pd.Timedelta(hours=1)]), update_params=False)
    path = tmp_path / "model.safetensors"
    f.save(path)
    g = BaseForecaster.load(path)
    assert type(g) is type(f) and g.get_params() == f.get_params()
    pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)  # the same weights: bit-identical
    nxt = small_frame.iloc[:5].set_axis(pd.date_range(f.predict().index[0], periods=5, freq="h"))
    g.partial_fit(nxt, update_params=False)
    f.partial_fit(nxt, update_params=False)
    pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)


def test_load_rejects_pickle(name, tmp_path):
    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="not a readable tsrec model"):
        BaseForecaster.load(path)
    assert not (tmp_path / "pwned").exists()


def test_same_seed_same_forecast(name, small_frame):
    a = make(name).fit(small_frame).predict()
    b = make(name).fit(small_frame).predict()
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("scale, shift", [(1e-6, 3.0), (1e4, -50.0)])
def test_forecasts_follow_the_units_of_the_data(name, small_frame, scale, shift):
    """Fitted on ``scale * X + shift`` (every column), the model forecasts ``scale * forecast + shift``: the
    global scaling and the instance normalisation leave nothing that depends on the data's units."""
    a = make(name).fit(small_frame).predict()
    b = make(name).fit(small_frame * scale + shift).predict()
    np.testing.assert_allclose(b.to_numpy(), scale * a.to_numpy() + shift, rtol=0,
                               atol=1e-6 * scale * small_frame.std().min())


def test_bad_input_leaves_fit_unchanged(name, small_frame):
    f = make(name).fit(small_frame)
    ref = f.predict()
    bad = small_frame.copy()
    bad.iloc[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        f.fit(bad)
    with pytest.raises(ValueError, match="NaN"):
        f.partial_fit(bad)
    with pytest.raises(TypeError, match="non-numeric"):
        f.fit(small_frame.assign(label="a"))
    with pytest.raises(ValueError, match="unsorted"):
        f.fit(small_frame.iloc[::-1])
    with pytest.raises(ValueError, match="too few rows"):
        f.fit(small_frame.iloc[:5])
    with pytest.raises(ValueError, match="columns differ"):
        f.predict(small_frame[["OT", "HUFL", "MUFL"]])
    with pytest.raises(ValueError, match="continue"):
        f.partial_fit(small_frame.iloc[10:20])  # overlaps the fitted rows
    with pytest.raises(ValueError, match="horizon"):
        make(name, horizon=0).fit(small_frame)
    pd.testing.assert_frame_equal(f.predict(), ref)


def test_learns_on_real_data(name, etth1):
    """Trained on 1500 hourly rows of OT, rolling 24-step forecasts of the next 300 come near the two naive
    forecasts of the same rows.

    Measured at these small settings (4 epochs): model MSE / min(persistence, seasonal naive) is 1.16-1.38
    across the five models, while the same models untrained (lr=1e-9) score 1.77-2.88: the bound 1.55 passes
    the trained ones with margin and fails an untrained or broken one. (Persistence itself, 8.65, and the
    daily seasonal naive, 8.51, are hard to beat at this size; the training mean scores far worse.)
    """
    H = 24
    ot = etth1[["OT"]].iloc[:1800]
    f = make(name, max_epochs=4, horizon=H, stride=2).fit(ot.iloc[:1500])
    assert f.history_["loss"][-1] < f.history_["loss"][0]
    mse_model = -f.score(ot.iloc[1500:])
    preds, actual = f.rolling_forecasts(ot.iloc[1500:])
    a = actual[0][..., 0]
    assert mse_model == pytest.approx(float(np.nanmean((preds[0][..., 0] - a) ** 2)), rel=1e-9)
    y = ot["OT"].to_numpy()
    origins = 1500 + np.arange(len(a))  # origin i forecasts rows origins[i] + 0 .. H - 1
    ok = ~np.isnan(a)
    persistence = np.repeat(y[origins - 1][:, None], H, 1)
    seasonal = y[origins[:, None] + np.arange(H)[None] - 24]  # the same hour a day earlier
    mse_persistence = float(((persistence - a)[ok] ** 2).mean())
    mse_seasonal = float(((seasonal - a)[ok] ** 2).mean())
    mse_mean = float(((ot.iloc[1500:].to_numpy() - ot.iloc[:1500].to_numpy().mean()) ** 2).mean())
    assert mse_model < 0.5 * mse_mean
    assert mse_model < 1.55 * min(mse_persistence, mse_seasonal)
