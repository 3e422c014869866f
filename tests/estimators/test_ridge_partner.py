"""The ridge partner of ``theta_weight="auto"``: a closed-form ridge of the window mixed into long single-series
fits, its share chosen on the validation tail (``Frame.ridge_share``, format 25), its sums streamed (format 26)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

import tsrec
from tsrec.estimators.frame import RIDGE_SHARES
from tsrec.nn.lru import LRUModel
from tsrec.nn.ridge import window_ridge
from tsrec.nn.window import WindowModel
from tsrec.training import TrainConfig, _validation_loss, choose_ridge_share, training_windows

KW = dict(horizon=24, context=96, d_model=16, n_layers=1, max_epochs=2, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def ot(etth1):
    """3,000 hourly rows of ETTh1's oil temperature."""
    return etth1[["OT"]].iloc[:3000]


def _numpy_ridge(gram: np.ndarray, xy: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """The float64 numpy oracle of ``solve_ridge``: the map and unpenalised bias of the sums ``Z'Z``, ``Z'Y`` (the
    last column of ``Z`` ones) at the penalty per row ``penalty``."""
    n = gram[-1, -1]
    mx, my = gram[:-1, -1] / n, xy[-1] / n
    xx, xyc = gram[:-1, :-1] - n * np.outer(mx, mx), xy[:-1] - n * np.outer(mx, my)
    weight = np.linalg.solve(xx + penalty * n * np.eye(len(xx)), xyc)
    return weight, my - mx @ weight


def test_the_share_is_the_one_of_the_grid_with_the_least_validation_loss(etth1):
    """choose_ridge_share gives the model the ridge map of the training windows (window_ridge's, in the model's
    dtype) and the share of the grid whose validation loss is least, recomputed here share by share."""
    values = etth1["OT"].to_numpy()[:2000, None]
    scaled = ((values - values.mean()) / values.std()).astype(np.float32)
    train, val = training_windows([scaled], 48, 12, 0.2, stride=2)
    torch.manual_seed(0)
    body = LRUModel(*WindowModel.body_channels(1, 1, 8), horizon=12, d_model=8, d_state=4, n_layers=1,
                    skip_last=False)
    model = WindowModel(body, 1, 1, 12, 48, 8, theta_weight=0.25, theta_period=24, partner="damped").eval()
    cfg, device = TrainConfig(loss="mae"), torch.device("cpu")
    share = choose_ridge_share(model, train, val, 12, 1, cfg, device, grid=(0.0, 0.25, 0.5, 1.0))
    weight, bias, _ = window_ridge(train, val, 48, 12, 1)
    assert share > 0  # on oil temperature the untrained network is far behind the ridge
    torch.testing.assert_close(model.ridge_weight, weight.float())
    losses = []
    for s in (0.0, 0.25, 0.5, 1.0):
        model.set_ridge(weight, bias, s)
        losses.append(_validation_loss(model, val, 12, 1, cfg, device))
    assert share == (0.0, 0.25, 0.5, 1.0)[int(np.argmin(losses))]


def test_a_long_series_fit_takes_the_ridge_and_keeps_it_through_files_and_streams(ot, tmp_path):
    """On 3,000 hourly rows of real oil temperature the fit chooses a share of the ridge; the forecast is then
    the combination's, a saved and loaded model forecasts the same, ``rolling_forecasts`` over new rows ends
    where ``predict`` after them does, and a state-only ``partial_fit`` leaves the ridge map as it was."""
    f = tsrec.LRUForecaster(**KW).fit(ot.iloc[:2800])
    assert f.frame_.ridge_share in RIDGE_SHARES[1:] and f.model_.ridge_share == f.frame_.ridge_share
    assert f.model_.ridge_weight.shape == (96, 24) and torch.isfinite(f.model_.ridge_weight).all()
    forecast = f.predict().to_numpy().ravel()
    share, weight, bias = f.model_.ridge_share, f.model_.ridge_weight.clone(), f.model_.ridge_bias.clone()
    sums = (f.model_.ridge_gram.clone(), f.model_.ridge_cross.clone(), float(f.model_.ridge_penalty))
    f.model_.set_ridge(None)
    alone = f.predict().to_numpy().ravel()
    assert np.abs(alone - forecast).max() > 1e-3  # the ridge moves the forecast
    f.model_.set_ridge(weight, bias, share, sums)
    np.testing.assert_array_equal(f.predict().to_numpy().ravel(), forecast)
    f.save(tmp_path / "ridge.safetensors")
    g = tsrec.LRUForecaster.load(tmp_path / "ridge.safetensors")
    assert g.frame_.ridge_share == share
    torch.testing.assert_close(g.model_.ridge_gram, sums[0], rtol=0, atol=0)
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)
    preds, _ = g.rolling_forecasts(ot.iloc[2800:2831])  # origin k: after k of the new rows
    np.testing.assert_allclose(preds[0][0, :, 0], forecast, rtol=1e-5, atol=1e-5)
    g.partial_fit(ot.iloc[2800:2830], update_params=False)
    np.testing.assert_allclose(preds[0][-1, :, 0], g.predict().to_numpy().ravel(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g.model_.ridge_weight, weight, rtol=0, atol=0)
    g.partial_fit(ot.iloc[2830:2900])  # gradient steps move the network, not the ridge
    torch.testing.assert_close(g.model_.ridge_weight, weight, rtol=0, atol=0)
    assert np.isfinite(g.predict().to_numpy()).all()


def test_an_updating_closed_form_stream_adds_its_windows_to_the_ridge(ot):
    """Under ``online_update="ridge"`` an updating ``partial_fit`` adds every window whose last target is among its
    rows (scaled as the stream now scales them) to the ridge's sums and solves them again: the map equals a float64
    numpy solve of the fit's sums plus those windows' at the fit's penalty. A failed call leaves it as it was."""
    f = tsrec.LRUForecaster(**KW, online_update="ridge").fit(ot.iloc[:2800])
    host = f.model_.inner
    f.partial_fit(ot.iloc[2800:2830], update_params=False)  # windows ending here are not learned from
    gram, cross, penalty = (host.ridge_gram.numpy().copy(), host.ridge_cross.numpy().copy(),
                            float(host.ridge_penalty))
    f.partial_fit(ot.iloc[2830:2900])
    scaled = (ot["OT"].to_numpy()[:2900] - f.scaler_.mean[0]) / f.scaler_.scale[0]
    span = 96 + 24
    windows = np.stack([scaled[e - span : e] for e in range(2831, 2901)])  # a window ends in each new row
    z = np.hstack([windows[:, :96], np.ones((len(windows), 1))])
    gram, cross = gram + z.T @ z, cross + z.T @ windows[:, 96:]
    np.testing.assert_allclose(host.ridge_gram.numpy(), gram, rtol=1e-5, atol=1e-3)
    weight, bias = _numpy_ridge(gram, cross, penalty)
    np.testing.assert_allclose(host.ridge_weight.numpy(), weight, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(host.ridge_bias.numpy(), bias, rtol=1e-3, atol=1e-5)
    before = (host.ridge_weight.clone(), host.ridge_gram.clone())
    bad = ot.iloc[2900:2910].copy()
    bad.iloc[3, 0] = np.nan
    with pytest.raises(ValueError):
        f.partial_fit(bad)
    torch.testing.assert_close(host.ridge_weight, before[0], rtol=0, atol=0)
    torch.testing.assert_close(host.ridge_gram, before[1], rtol=0, atol=0)


def test_any_chunking_of_a_closed_form_stream_takes_each_window_once(ot):
    """The ridge's sums take each window once, whatever the chunking: one call of 96 rows and calls of 1 to 47
    rows add the same 96 windows (the count in the sums is exact), and the sums and map agree up to the scaling,
    which each call takes from the statistics of its time (here they move by about 1% over the 96 rows)."""
    f = tsrec.LRUForecaster(**KW, online_update="ridge").fit(ot.iloc[:2800])
    count = float(f.model_.inner.ridge_gram[-1, -1])
    whole = clone(f).fit(ot.iloc[:2800]).partial_fit(ot.iloc[2800:2896])
    for a, b in zip([2800, 2801, 2848, 2849, 2895], [2801, 2848, 2849, 2895, 2896]):
        f.partial_fit(ot.iloc[a:b])
    got, want = f.model_.inner, whole.model_.inner
    assert float(got.ridge_gram[-1, -1]) == float(want.ridge_gram[-1, -1]) == count + 96
    np.testing.assert_allclose(got.ridge_gram.numpy(), want.ridge_gram.numpy(), rtol=3e-2)
    assert float((got.ridge_weight - want.ridge_weight).abs().max()) < 0.05 * float(want.ridge_weight.abs().max())


def test_the_online_correction_wraps_a_model_with_the_ridge_and_both_learn_from_a_stream(ot):
    """With ``online_update="ridge"`` the window model inside the correction takes the ridge partner as a plain
    one does; an updating ``partial_fit`` then solves the correction and adds the windows to the ridge, and the
    network's weights stay as trained."""
    f = tsrec.LRUForecaster(**KW, online_update="ridge").fit(ot.iloc[:2800])
    inner = f.model_.inner
    assert f.frame_.ridge_share in RIDGE_SHARES[1:] and inner.ridge_share == f.frame_.ridge_share
    weight, network = inner.ridge_weight.clone(), [p.clone() for p in inner.parameters()]
    f.partial_fit(ot.iloc[2800:2900])
    assert float(f.model_.total) > 0 and (inner.ridge_weight - weight).abs().max() > 0
    assert all(torch.equal(a, b) for a, b in zip(network, inner.parameters()))
    assert np.isfinite(f.predict().to_numpy()).all()


def test_panels_fixed_shares_and_masks_keep_the_forecast_without_the_ridge(ot):
    """The ridge is for plain long single-series fits under ``theta_weight="auto"``: a panel, a fixed share, a fit
    with the missing-value mask and one with known-future covariates take none. With covariates in X the ridge
    reads the target's rows alone."""
    panel = tsrec.LRUForecaster(**KW).fit([ot.iloc[:1500], ot.iloc[1500:3000]])
    fixed = tsrec.LRUForecaster(**KW, theta_weight=0.5).fit(ot.iloc[:2800])
    masked = tsrec.LRUForecaster(**KW, missing="mask").fit(ot.iloc[:2800])
    for f in (panel, fixed, masked):
        assert f.frame_.ridge_share == 0.0
        assert all(m.ridge_weight is None for m in f.model_.modules() if isinstance(m, WindowModel))
    rows = ot.assign(hour=ot.index.hour.astype(float)).iloc[:2800]
    known = tsrec.LRUForecaster(**KW, future_covariates=("hour",)).fit(rows[["hour"]], rows[["OT"]])
    assert known.frame_.ridge_share == 0.0  # known-future covariates: a wrapped model
    covariates = tsrec.LRUForecaster(**KW).fit(rows[["hour"]], rows[["OT"]])
    if covariates.frame_.ridge_share:
        assert covariates.model_.ridge_weight.shape == (96, 24)  # a map of the target's window


def test_a_clone_refits_the_same_ridge_and_a_failed_refit_keeps_it(ot):
    """The ridge is part of the fit: a clone fitted on the same rows has the same map and forecast, and a refit
    that fails on bad input leaves the fitted ridge as it was."""
    f = tsrec.LRUForecaster(**KW).fit(ot.iloc[:2800])
    g = clone(f).fit(ot.iloc[:2800])
    torch.testing.assert_close(g.model_.ridge_weight, f.model_.ridge_weight, rtol=0, atol=0)
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    before = f.model_.ridge_weight.clone()
    bad = ot.iloc[:2800].copy()
    bad.iloc[100, 0] = np.nan
    with pytest.raises(ValueError):
        f.fit(bad)
    torch.testing.assert_close(f.model_.ridge_weight, before, rtol=0, atol=0)
    assert isinstance(f.predict(), pd.DataFrame)


def test_an_ensemble_fit_gives_every_member_the_same_ridge(ot, wide):
    """With ``ensemble_size=2`` the fit solves the ridge once and every member holds the same map and share. Under
    ``online_update="ridge"`` an updating call moves every member's maps alike, the cross-channel one too."""
    f = tsrec.LRUForecaster(**KW, ensemble_size=2).fit(ot.iloc[:2800])
    members = f.model_.members
    assert f.frame_.ridge_share == members[0].ridge_share == members[1].ridge_share > 0
    torch.testing.assert_close(members[0].ridge_weight, members[1].ridge_weight, rtol=0, atol=0)
    assert np.isfinite(f.predict().to_numpy()).all()
    g = tsrec.LRUForecaster(**KW, ensemble_size=2, theta_weight=0.0, ridge_share=0.5, cross_ridge_rows=24,
                            online_update="ridge").fit(wide.iloc[:2800])
    members = g.model_.inner.members
    before = (members[1].ridge_weight.clone(), members[1].cross_ridge_weight.clone())
    g.partial_fit(wide.iloc[2800:2850])
    for name, then in zip(("ridge_weight", "cross_ridge_weight"), before):
        now = [getattr(m, name) for m in members]
        assert (now[1] - then).abs().max() > 0
        torch.testing.assert_close(now[0], now[1], rtol=0, atol=0)


def test_a_fixed_ridge_share_is_taken_whatever_theta_weight_says(ot, tmp_path):
    """``ridge_share=0.5`` gives a long single-series fit that share of the ridge with ``theta_weight=0`` (the
    network and the ridge alone), through a saved file; ``ridge_share=0`` takes none where "auto" would."""
    f = tsrec.LRUForecaster(**KW, theta_weight=0.0, ridge_share=0.5).fit(ot.iloc[:2800])
    assert f.frame_.theta_weight == 0.0 and f.frame_.ridge_share == 0.5 and f.model_.ridge_share == 0.5
    alone = tsrec.LRUForecaster(**KW, theta_weight=0.0).fit(ot.iloc[:2800])
    assert alone.frame_.ridge_share == 0.0
    network, mixed = alone.predict().to_numpy().ravel(), f.predict().to_numpy().ravel()
    assert np.abs(mixed - network).max() > 1e-3  # the same network (same seed and rows), half of the way to the ridge
    f.save(tmp_path / "fixed.safetensors")
    g = tsrec.LRUForecaster.load(tmp_path / "fixed.safetensors")
    assert g.ridge_share == 0.5 and g.frame_.ridge_share == 0.5
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), mixed)
    none = tsrec.LRUForecaster(**KW, ridge_share=0).fit(ot.iloc[:2800])
    assert none.frame_.ridge_share == 0.0 and none.model_.ridge_weight is None


def test_a_fixed_ridge_share_that_a_fit_cannot_take_is_refused_and_changes_nothing(ot):
    """A panel, the missing-value mask and a fit without validation windows cannot take a fixed share: each is a
    ValueError naming ridge_share, raised before training, and an earlier fit stays as it was. Values outside
    [0, 1] or other strings than "auto" are refused by the parameter check."""
    f = tsrec.LRUForecaster(**KW).fit(ot.iloc[:2800])
    before = f.predict().to_numpy()
    for params, X in (({}, [ot.iloc[:1500], ot.iloc[1500:3000]]), ({"missing": "mask"}, ot.iloc[:2800]),
                      ({"early_stopping": False}, ot.iloc[:2800])):
        f.set_params(ridge_share=0.5, **params)
        with pytest.raises(ValueError, match="ridge_share=0.5 needs a fit of one series"):
            f.fit(X)
        f.set_params(ridge_share="auto", missing="raise", early_stopping=True)
        np.testing.assert_array_equal(f.predict().to_numpy(), before)
    for bad in (1.5, -0.1, "half", None):
        with pytest.raises(ValueError, match="ridge_share"):
            tsrec.LRUForecaster(**KW, ridge_share=bad).fit(ot.iloc[:2800])


@pytest.fixture(scope="module")
def wide(etth1):
    """3,000 hourly rows of ETTh1's three useful loads and oil temperature: one frame of four targets."""
    return etth1[["HUFL", "MUFL", "LUFL", "OT"]].iloc[:3000]


def test_a_cross_channel_ridge_joins_a_wide_fit_and_streams_with_the_other_map(wide, tmp_path):
    """``cross_ridge_rows=48`` on a wide frame of real ETTh1 columns: the fit keeps a cross-channel map of every
    target's last 48 rows beside the own map, its sums too; a saved and loaded model forecasts the same. Under
    ``online_update="ridge"`` an updating ``partial_fit`` adds the windows its rows complete to the cross map's
    sums, which then equal a float64 numpy sum over those windows plus the fit's, and its map their solve; a failed
    call leaves both maps as they were, and a state-only call moves neither."""
    kw = dict(KW, theta_weight=0.0, ridge_share=0.5, cross_ridge_rows=48)
    f = tsrec.LRUForecaster(**kw, online_update="ridge").fit(wide.iloc[:2800])
    host = f.model_.inner
    assert host.cross_ridge_weight.shape == (48 * 4, 24 * 4) and host.cross_ridge_gram.shape == (193, 193)
    forecast = f.predict().to_numpy()
    f.save(tmp_path / "cross.safetensors")
    g = tsrec.LRUForecaster.load(tmp_path / "cross.safetensors")
    assert g.cross_ridge_rows == 48
    np.testing.assert_array_equal(g.predict().to_numpy(), forecast)
    gram, xy, penalty = (host.cross_ridge_gram.numpy().copy(), host.cross_ridge_xy.numpy().copy(),
                         float(host.cross_ridge_penalty))
    f.partial_fit(wide.iloc[2800:2860])
    scaled = (wide.to_numpy()[:2860] - f.scaler_.mean) / f.scaler_.scale
    windows = np.stack([scaled[e - 48 - 24 : e] for e in range(2801, 2861)])  # a window ends in each new row
    windows = windows - windows[:, 47:48]
    z = np.hstack([windows[:, :48].reshape(60, -1), np.ones((60, 1))])
    gram, xy = gram + z.T @ z, xy + z.T @ windows[:, 48:].reshape(60, -1)
    np.testing.assert_allclose(host.cross_ridge_gram.numpy(), gram, rtol=1e-5, atol=1e-3)
    weight, bias = _numpy_ridge(gram, xy, penalty)
    np.testing.assert_allclose(host.cross_ridge_weight.numpy(), weight, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(host.cross_ridge_bias.numpy(), bias, rtol=1e-3, atol=1e-5)
    before = (host.cross_ridge_weight.clone(), host.cross_ridge_gram.clone(), host.ridge_weight.clone())
    bad = wide.iloc[2860:2870].copy()
    bad.iloc[3, 2] = np.nan
    with pytest.raises(ValueError):
        f.partial_fit(bad)
    for now, then in zip((host.cross_ridge_weight, host.cross_ridge_gram, host.ridge_weight), before):
        torch.testing.assert_close(now, then, rtol=0, atol=0)
    weight = g.model_.inner.cross_ridge_weight.clone()
    g.partial_fit(wide.iloc[2800:2860], update_params=False)  # a state-only call moves no map
    torch.testing.assert_close(g.model_.inner.cross_ridge_weight, weight, rtol=0, atol=0)


def test_the_cross_channel_map_reads_a_leading_column(etth1):
    """A frame whose second column is its first three hours later (real oil temperature, with a little noise):
    with ``cross_ridge_rows`` the fit's forecast of the follower's next three hours, half of which is the
    cross-channel map's (``ridge_share=1``: the mean of the two maps), errs by less than half the squared error of
    the same fit without it, on held-out origins."""
    ot = etth1["OT"].to_numpy()[:2600]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"lead": ot[3:], "follow": ot[:-3] + rng.normal(0, 0.05, len(ot) - 3)},
                         index=etth1.index[3:2600])
    kw = dict(KW, horizon=6, context=48, theta_weight=0.0, ridge_share=1.0)
    errors = []
    for rows in (0, 24):
        f = tsrec.LRUForecaster(**kw, cross_ridge_rows=rows).fit(frame.iloc[:2200])
        preds, _ = f.rolling_forecasts(frame.iloc[2200:2500])
        follow = frame["follow"].to_numpy()
        origins = 2199 + np.arange(300 - 6)  # origin k: after k of the new rows
        truth = follow[origins[:, None] + 1 + np.arange(3)]
        errors.append(np.mean((preds[0][: len(origins), :3, 1] - truth) ** 2))
    assert errors[1] < 0.5 * errors[0], errors


def test_cross_channel_rows_a_fit_cannot_take_are_refused_and_change_nothing(wide):
    """A panel, ``ridge_share=0`` and rows beyond the context cannot take a cross-channel map: each a ValueError
    naming ``cross_ridge_rows`` before training, and an earlier fit stays as it was; negative or fractional rows
    are refused by the parameter check."""
    f = tsrec.LRUForecaster(**KW).fit(wide.iloc[:2800])
    before = f.predict().to_numpy()
    for params, X, match in (({}, [wide.iloc[:1500], wide.iloc[1500:3000]], "cross_ridge_rows=24 needs a fit"),
                             ({"ridge_share": 0}, wide.iloc[:2800], "cross_ridge_rows=24 is a second ridge map"),
                             ({"cross_ridge_rows": 97}, wide.iloc[:2800], "cross_ridge_rows must be in")):
        f.set_params(**{"cross_ridge_rows": 24, **params})
        with pytest.raises(ValueError, match=match):
            f.fit(X)
        f.set_params(ridge_share="auto", cross_ridge_rows=0)
        np.testing.assert_array_equal(f.predict().to_numpy(), before)
    for bad in (-1, 2.5, "auto"):
        with pytest.raises(ValueError, match="cross_ridge_rows"):
            tsrec.LRUForecaster(**KW, cross_ridge_rows=bad).fit(wide.iloc[:2800])
