"""predict_interval: conformal intervals (issue 13, item 6), on ETTh1 OT."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests._settings import NAMES, make
from tsrec.estimators import base
from tsrec.estimators.conformal import Calibration, interval, min_origins, validation_origins

N_FIT, N_TEST = 1400, 600


@pytest.fixture(scope="module")
def ot(etth1):
    return etth1[["OT"]]


def coverage_of(bt: pd.DataFrame) -> float:
    bt = bt.dropna(subset=["y"])
    return float(((bt["y"] >= bt["y_lower"]) & (bt["y"] <= bt["y_upper"])).mean())


@pytest.mark.parametrize("name", NAMES)
def test_conformal_intervals_cover_held_out_targets(name, ot):
    """Calibrated on the validation tail at fit, the 80% interval covers about 80% of 600 later hours (each
    origin and step), and the 50% interval about half; the raw errors are kept per step."""
    f = make(name, horizon=6, validation_fraction=0.3).fit(ot.iloc[:N_FIT])
    origins = validation_origins(N_FIT, f.frame_.context, 6, 0.3)
    assert f._calibration.errors.shape == (len(origins), 6, 1, 1)
    bt80 = f.historical_forecasts(ot.iloc[N_FIT : N_FIT + N_TEST], coverage=0.8)
    bt50 = f.historical_forecasts(ot.iloc[N_FIT : N_FIT + N_TEST], coverage=0.5)
    assert 0.74 <= coverage_of(bt80) <= 0.87
    assert 0.40 <= coverage_of(bt50) <= 0.60
    # wider for later steps (the errors grow with the step)
    width = (bt80["y_upper"] - bt80["y_lower"]).to_numpy().reshape(-1, 6)[0]
    assert width[-1] > width[0]


def test_conformal_quantile_is_the_rank_of_split_conformal():
    errors = np.arange(1.0, 10.0)[:, None, None, None] * np.array([1.0, -1.0])[None, :, None, None]  # 9 origins
    cal = Calibration(errors.astype(np.float32), 100)
    band = interval(np.zeros((2, 1)), cal, 0.8, (), np.array([2.0]))  # ceil(10 * 0.8) = 8th smallest, x scale
    np.testing.assert_array_equal(band[:, 0], [[-16.0, 16.0], [-16.0, 16.0]])
    np.testing.assert_array_equal(interval(np.ones((2, 1)), cal, 0.5, (), np.ones(1))[0, 0], [-4.0, 6.0])
    assert min_origins(0.8) == 4
    with pytest.raises(ValueError, match="at least 4 calibration origins"):
        interval(np.zeros((2, 1)), Calibration(errors[:3].astype(np.float32), 100), 0.8, (), np.ones(1))
    assert Calibration(errors[:0].astype(np.float32), 5).added(errors).errors.shape[0] == 5  # the newest 5
    np.testing.assert_array_equal(Calibration(errors[:0].astype(np.float32), 5).added(errors).errors[:, 0, 0, 0],
                                  [5, 6, 7, 8, 9])


def test_quantile_models_get_conformalised_quantiles(ot):
    """CQR: the trained [q0.1, q0.9] interval moved out (or in) by one correction per step, the conformal
    quantile of max(q0.1 - y, y - q0.9) over the calibration origins; it brings the raw interval's coverage
    towards 80%."""
    f = make("LRUForecaster", horizon=6, validation_fraction=0.3, loss="quantile").fit(ot.iloc[:N_FIT])
    q = f.predict_quantiles()
    band = f.predict_interval(coverage=0.8)
    lower_shift = (q[("OT", 0.1)] - band[("OT", "lower")]).to_numpy()
    upper_shift = (band[("OT", "upper")] - q[("OT", 0.9)]).to_numpy()
    np.testing.assert_allclose(lower_shift, upper_shift, rtol=1e-9, atol=1e-9)
    e = f._calibration.errors[:, :, 0, :]  # (n, 6, 3): y - q for q0.1, q0.5, q0.9, scaled
    scores = np.sort(np.maximum(-e[..., 0], e[..., 2]), axis=0)
    k = int(np.ceil((len(e) + 1) * 0.8))
    np.testing.assert_allclose(upper_shift, scores[k - 1] * f.scaler_.scale[0], rtol=1e-6)
    test = ot.iloc[N_FIT : N_FIT + N_TEST]
    bt = f.historical_forecasts(test, coverage=0.8)
    # the raw interval at the same origins: the conformal one less the per-step correction
    correction = np.tile(upper_shift, len(bt) // 6)
    raw = bt.assign(y_lower=bt["y_lower"] + correction, y_upper=bt["y_upper"] - correction)
    assert abs(coverage_of(bt) - 0.8) <= 0.06 and abs(coverage_of(bt) - 0.8) < abs(coverage_of(raw) - 0.8)


@pytest.mark.parametrize("context", ["auto", None])
def test_without_a_validation_tail_partial_fit_calibrates_online(context, ot):
    """early_stopping=False holds out no tail: no interval until partial_fit brings targets; then each origin
    whose horizon the new rows complete is added, however the rows are chunked (update_params=False)."""
    f = make("LRUForecaster", context=context, early_stopping=False).fit(ot.iloc[:500])
    with pytest.raises(ValueError, match="calibration origins"):
        f.predict_interval()
    with pytest.raises(ValueError, match="calibration origins"):
        f.historical_forecasts(ot.iloc[500:520], coverage=0.8)
    g = make("LRUForecaster", context=context, early_stopping=False).fit(ot.iloc[:500])
    f.partial_fit(ot.iloc[500:540], update_params=False)
    for p in range(500, 540, 8):
        g.partial_fit(ot.iloc[p : p + 8], update_params=False)
    # a state-only stream defers the scoring (one batched pass later); predict_interval scores it
    assert f._calibration.errors.shape[0] == 0 and len(f._pending[0][0]) == (f.frame_.window_rows or 0) + 4 + 40
    assert f.predict_interval().shape == (4, 2)
    assert f._pending is None and f._calibration.errors.shape == (40, 4, 1, 1)  # origins 496 .. 535
    np.testing.assert_allclose(g._flush_calibration().errors, f._calibration.errors, rtol=1e-5, atol=1e-6)
    # the first added origin is the end of the fit: its errors are the forecast's
    first = (ot["OT"].iloc[500:504].to_numpy() - make("LRUForecaster", context=context, early_stopping=False)
             .fit(ot.iloc[:500]).predict()["OT"].to_numpy()) / f.scaler_.scale[0]
    np.testing.assert_allclose(f._calibration.errors[3, :, 0, 0], first, rtol=1e-5, atol=1e-6)
    # an updating call scores at once, before its update (the same errors as the deferred scoring)
    h = make("LRUForecaster", context=context, early_stopping=False).fit(ot.iloc[:500])
    h.partial_fit(ot.iloc[500:540])
    assert h._pending is None
    np.testing.assert_allclose(h._calibration.errors, f._calibration.errors, rtol=1e-5, atol=1e-6)


def test_the_rolling_window_follows_a_noisier_regime(ot, monkeypatch):
    f = make("S4Forecaster", horizon=4, validation_fraction=0.2).fit(ot.iloc[:800])
    rows = ot.iloc[800:1400]
    noisy = rows + 3 * float(ot["OT"].iloc[:800].std()) * np.random.default_rng(0).standard_normal((600, 1))
    calm = make("S4Forecaster", horizon=4, validation_fraction=0.2).fit(ot.iloc[:800])
    calm.partial_fit(rows, update_params=False)
    monkeypatch.setattr(base, "PENDING_ROWS", 250)  # a long state-only stream is scored every PENDING_ROWS rows
    for p in range(0, 600, 100):
        f.partial_fit(noisy.iloc[p : p + 100], update_params=False)
        assert f._pending is None or len(f._pending[0][0]) <= 250
    assert f._calibration.errors.shape[0] > 400  # scored in passes as it went
    calm._flush_calibration()
    f._flush_calibration()
    n_fit = len(validation_origins(800, f.frame_.context, 4, 0.2))
    assert f._calibration.errors.shape[0] == calm._calibration.errors.shape[0] == n_fit + 600
    width = lambda g: float((g.predict_interval()[("OT", "upper")] - g.predict_interval()[("OT", "lower")]).mean())  # noqa: E731
    assert width(f) > 2 * width(calm)


def test_interval_kinds(ot):
    a, b = ot.iloc[:400], ot.iloc[400:800]
    f = make("TransformerForecaster", validation_fraction=0.25).fit([a.to_numpy(), b.to_numpy()])
    bands = f.predict_interval()
    assert isinstance(bands, list) and [x.shape for x in bands] == [(4, 1, 2), (4, 1, 2)]
    assert all((x[..., 0] < x[..., 1]).all() for x in bands)
    long = pd.concat([pd.DataFrame({"unique_id": k, "ds": p.index, "y": p["OT"].to_numpy()}) for k, p in
                      (("a", a), ("b", b))], ignore_index=True)
    g = make("TransformerForecaster", validation_fraction=0.25).fit(long)
    out = g.predict_interval(coverage=0.9)
    assert list(out["unique_id"]) == ["a"] * 4 + ["b"] * 4 and ("y", "lower") in out.columns
    assert out[("ds", "")].iloc[0] == a.index[-1] + pd.Timedelta(hours=1)
    # a history given at predict time: the fitted calibration around that history's forecast
    h = g.predict_interval(long[long["unique_id"] == "b"].iloc[:300])
    assert h[("y", "lower")].lt(h[("y", "upper")]).all()


def test_a_panel_takes_turns_in_the_online_calibration(etth1, monkeypatch):
    """An updating partial_fit on a panel scores the origins of every k-th series only (rotating), so a call
    adds about as many calibration origins as one series brings, or an eighth of the window; one series
    scores all of its origins."""
    from tests._settings import make

    cols = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    panel = [etth1[[c]].rename(columns={c: "y"}).iloc[i * 40 : i * 40 + 400] for i in range(3) for c in cols]
    f = make("LRUForecaster", context=24, max_epochs=1, validation_fraction=0.1).fit([s.iloc[:300] for s in panel])
    one = make("LRUForecaster", context=24, max_epochs=1, validation_fraction=0.1).fit(panel[0].iloc[:300])
    before, before_one = len(f._calibration.errors), len(one._calibration.errors)
    f.partial_fit([s.iloc[300:316] for s in panel])
    one.partial_fit(panel[0].iloc[300:316])
    cap = max(16, f._calibration.size // 8)  # 125
    added = len(f._calibration.errors) - before
    assert 0 < added <= cap + 16, added
    assert len(one._calibration.errors) - before_one == 16  # (16 - horizon) + the buffer's horizon origins
    # the next calls score the other series: over k calls every series takes its turn
    import tsrec.estimators.base as base

    scored, real = set(), base.forecast_many

    def spy(model, scaler, rows, origins, *args):
        scored.update(i for i, o in enumerate(origins) if len(o))
        return real(model, scaler, rows, origins, *args)

    monkeypatch.setattr(base, "forecast_many", spy)
    for step in range(-(-21 * 16 // cap)):  # k calls
        f.partial_fit([s.iloc[316 + 16 * step : 332 + 16 * step] for s in panel])
    assert scored == set(range(21))
