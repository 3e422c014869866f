"""The sktime adapter: sktime's own conformance suite, compositors, evaluate and tuning on ETTh1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests._settings import needs

needs("sktime")

import torch  # noqa: E402
from scipy.stats import norm  # noqa: E402

from tsrec import AarenForecaster, LRUForecaster  # noqa: E402
from tsrec.sktime import TsrecForecaster, interpolate_quantiles  # noqa: E402

TINY = dict(d_model=8, n_layers=1, max_epochs=1, batch_size=64, chunk_length=32, stride=4, device="cpu",
            random_state=0)


@pytest.fixture(scope="module")
def ot(etth1):
    """The OT column of ETTh1, 400 hourly rows (a Series with freq 'h')."""
    return etth1["OT"].iloc[:400]


def lru(**kw):
    return LRUForecaster(**{**TINY, "d_state": 8, "loss": "quantile", **kw})


@pytest.mark.slow
def test_check_estimator():
    from sktime.utils.estimator_checks import check_estimator

    check_estimator(TsrecForecaster, raise_exceptions=True, verbose=False)


def test_fit_predict_fh_with_gaps(ot):
    f = TsrecForecaster(lru()).fit(ot, fh=[2, 5])
    assert f.forecaster_.horizon == 5 and f.forecaster is not None and f.forecaster.horizon == 1
    pred = f.predict()
    assert isinstance(pred, pd.Series) and pred.name == "OT"
    assert list(pred.index) == [ot.index[-1] + pd.Timedelta(hours=h) for h in (2, 5)]
    full = f.forecaster_.predict(np.asarray(ot, dtype=float))[:, 0]  # the same history, given as an array
    np.testing.assert_allclose(pred.to_numpy(), full[[1, 4]], rtol=1e-5)
    with pytest.raises(ValueError, match="horizon"):
        f.predict(fh=[6])


def test_dated_data_reach_the_forecaster_with_their_dates():
    """A dated y is fitted as the frame it is, so the defaults read the season and the step from the dates: the
    adapter forecasts what a direct fit on the same frame forecasts. An integer index goes as an array."""
    from sktime.datasets import load_shampoo_sales

    y = load_shampoo_sales()  # 36 months, a PeriodIndex; the autocorrelation of its trending levels peaks at lag 2
    est = LRUForecaster(horizon=6, d_model=8, n_layers=1, max_epochs=2, device="cpu", random_state=0)
    f = TsrecForecaster(est).fit(y, fh=range(1, 7))
    direct = est.fit(y.to_frame())
    assert f.forecaster_.frame_.period == direct.frame_.period == 12
    np.testing.assert_allclose(f.predict().to_numpy(), direct.predict().to_numpy()[:, 0], rtol=1e-6)
    g = TsrecForecaster(est).fit(y.reset_index(drop=True), fh=range(1, 7))
    on_array = LRUForecaster(**est.get_params()).fit(y.to_numpy())
    assert g.forecaster_.frame_.period == on_array.frame_.period == 2
    np.testing.assert_allclose(g.predict().to_numpy(), on_array.predict()[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="gap"):  # dates with a gap: the direct fit's error, not a silent seam
        TsrecForecaster(est).fit(y.drop(y.index[20]), fh=range(1, 7))


def test_fh_only_in_predict_uses_the_forecasters_horizon(ot):
    f = TsrecForecaster(lru(horizon=3)).fit(ot)
    assert f.predict(fh=[1, 2, 3]).shape == (3,)
    with pytest.raises(ValueError, match="horizon=3"):
        f.predict(fh=[4])


def test_quantiles_and_intervals(ot):
    f = TsrecForecaster(lru(quantiles=(0.1, 0.5, 0.9))).fit(ot, fh=range(1, 7))
    assert f.get_tag("capability:pred_int")
    q = f.predict_quantiles(alpha=[0.05, 0.1, 0.5, 0.9, 0.95])
    assert q.shape == (6, 5) and (np.diff(q.to_numpy(), axis=1) >= 0).all()
    inner = f.forecaster_.predict_quantiles()  # columns (target, quantile): fitted on the dated frame
    np.testing.assert_allclose(q[("OT", 0.1)].to_numpy(), inner[("OT", 0.1)].to_numpy())
    np.testing.assert_allclose(q[("OT", 0.5)].to_numpy(), f.predict().to_numpy())
    iv = f.predict_interval(coverage=[0.8, 0.9])
    np.testing.assert_allclose(iv[("OT", 0.8, "lower")].to_numpy(), q[("OT", 0.1)].to_numpy())
    assert (iv[("OT", 0.9, "lower")] <= iv[("OT", 0.8, "lower")]).all()
    assert (iv[("OT", 0.9, "upper")] >= iv[("OT", 0.8, "upper")]).all()


def test_pred_int_tag_follows_the_loss(ot):
    f = TsrecForecaster(AarenForecaster(**TINY, n_heads=2))
    assert not f.get_tag("capability:pred_int")
    f.fit(ot, fh=[1, 2])
    with pytest.raises(NotImplementedError):
        f.predict_interval()
    assert TsrecForecaster().get_tag("capability:pred_int")  # the default is a quantile LRU
    g = TsrecForecaster(lru()).set_params(forecaster__loss="mse")
    assert not g.get_tag("capability:pred_int")


def test_missing_values_tag_follows_missing(ot):
    """missing="mask": sktime passes a y with NaN through, and the forecast is finite."""
    assert not TsrecForecaster(lru()).get_tag("capability:missing_values")
    holed = ot.copy()
    holed.iloc[100:130] = np.nan
    f = TsrecForecaster(lru(missing="mask"))
    assert f.get_tag("capability:missing_values")
    assert np.isfinite(f.fit(holed, fh=[1, 2]).predict().to_numpy()).all()
    assert not TsrecForecaster(lru(missing="mask")).set_params(forecaster__missing="raise").get_tag(
        "capability:missing_values")


def test_interpolate_quantiles_is_exact_for_a_normal():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=(5, 1)), rng.uniform(0.5, 2, size=(5, 1))
    trained = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    wanted = np.array([0.01, 0.05, 0.1, 0.3, 0.5, 0.66, 0.9, 0.975])
    got = interpolate_quantiles(mu + sigma * norm.ppf(trained), trained, wanted)
    np.testing.assert_allclose(got, mu + sigma * norm.ppf(wanted), rtol=1e-10, atol=1e-10)
    # any increasing values: exact at trained levels, increasing in the level
    vals = np.sort(rng.normal(size=(7, 5)), axis=1)
    got = interpolate_quantiles(vals, trained, np.linspace(0.01, 0.99, 41))
    assert (np.diff(got, axis=1) >= 0).all()
    np.testing.assert_array_equal(interpolate_quantiles(vals, trained, trained), vals)
    with pytest.raises(ValueError):
        interpolate_quantiles(vals, trained, [1.0])


def test_update_maps_to_partial_fit(ot):
    head, tail = ot.iloc[:300], ot.iloc[300:324]
    f = TsrecForecaster(lru()).fit(head, fh=range(1, 5))
    before = f.predict()
    f.update(tail, update_params=False)
    assert f.cutoff[0] == tail.index[-1]
    after = f.predict()
    assert after.index[0] == tail.index[-1] + pd.Timedelta(hours=1)
    # only the state moved: the forecast equals the fitted model's forecast after the whole history
    full = f.forecaster_.predict(np.asarray(ot.iloc[:324], dtype=float))[:, 0]
    np.testing.assert_allclose(after.to_numpy(), full, rtol=1e-4, atol=1e-4)
    assert not np.allclose(before.to_numpy(), after.to_numpy())
    # rows that were already streamed are skipped
    f.update(ot.iloc[310:324], update_params=False)
    np.testing.assert_allclose(f.predict().to_numpy(), after.to_numpy())
    w = {k: v.clone() for k, v in f.forecaster_.model_.state_dict().items()}
    f.update(ot.iloc[324:348], update_params=True)  # gradient steps
    assert any(not torch.equal(w[k], v) for k, v in f.forecaster_.model_.state_dict().items())


def test_exogenous_are_past_covariates(etth1):
    df = etth1.iloc[:400]
    y, X = df[["OT"]], df[["HUFL", "MUFL"]]
    f = TsrecForecaster(lru()).fit(y.iloc[:380], X=X.iloc[:380], fh=[1, 2, 3])
    assert f.forecaster_.covariate_names_ == ["HUFL", "MUFL"] and f.forecaster_.n_features_in_ == 2
    p1 = f.predict(X=X.iloc[380:383])
    p2 = f.predict(X=X.iloc[380:383] * 100.0)  # the future X is not used
    pd.testing.assert_frame_equal(p1, p2)
    assert list(p1.columns) == ["OT"]
    f.update(y.iloc[380:390], X=X.iloc[380:390])
    assert f.predict(X=X.iloc[390:393]).index[0] == y.index[390]
    with pytest.raises(ValueError, match="X"):
        f.update(y.iloc[390:392])


def test_future_covariates_read_the_future_X(etth1):
    """Columns named in future_covariates are known ahead: sktime's future X reaches predict as X_future (the
    same forecast as the wrapped forecaster's own predict with those values), and must cover the horizon."""
    df = etth1.iloc[:400]
    y, X = df[["OT"]], df[["HUFL", "MUFL"]]
    f = TsrecForecaster(lru(future_covariates=("HUFL",), calendar_features="auto")).fit(y.iloc[:380], X=X.iloc[:380],
                                                                                       fh=[1, 3])
    assert f.forecaster_.covariate_names_ == ["HUFL", "MUFL"] and f.forecaster_.covariates_.calendar == (
        "hour", "dayofweek")
    p1 = f.predict(X=X.iloc[380:383])
    p2 = f.predict(X=X.iloc[380:383] * 100.0)  # other future values, another forecast
    assert not np.allclose(p1.to_numpy(), p2.to_numpy())
    own = f.forecaster_.predict(X_future=X.iloc[380:383])
    np.testing.assert_allclose(p1.to_numpy()[:, 0], own["OT"].to_numpy()[[0, 2]], rtol=1e-6)
    assert f.predict_interval(X=X.iloc[380:383], coverage=0.8).shape == (2, 2)
    with pytest.raises(ValueError, match="cover"):
        f.predict(X=X.iloc[380:382])  # the third step is missing
    f.update(y.iloc[380:390], X=X.iloc[380:390])
    assert f.predict(X=X.iloc[390:393]).index[0] == y.index[390]


def test_multivariate(etth1):
    y = etth1[["HUFL", "OT"]].iloc[:300]
    f = TsrecForecaster(lru()).fit(y, fh=[1, 2])
    assert list(f.predict().columns) == ["HUFL", "OT"]
    q = f.predict_quantiles(alpha=[0.1, 0.9])
    assert list(q.columns) == [("HUFL", 0.1), ("HUFL", 0.9), ("OT", 0.1), ("OT", 0.9)]
    inner = f.forecaster_.predict_quantiles()  # the dated frame's (target, quantile) columns, each in its place
    for column in q.columns:
        np.testing.assert_allclose(q[column].to_numpy(), inner[column].to_numpy()[:2], rtol=1e-6)


def test_transformed_target_and_pipeline(etth1):
    from sklearn.preprocessing import StandardScaler
    from sktime.forecasting.compose import ForecastingPipeline, TransformedTargetForecaster
    from sktime.transformations.series.adapt import TabularToSeriesAdaptor
    from sktime.transformations.series.detrend import Detrender

    df = etth1.iloc[:400]
    y, X = df["OT"], df[["HUFL", "MUFL"]]
    ttf = TransformedTargetForecaster([("detrend", Detrender()), ("tsrec", TsrecForecaster(lru()))])
    ttf.fit(y.iloc[:376], fh=range(1, 25))
    pred = ttf.predict()
    assert len(pred) == 24 and pred.index[0] == y.index[376] and np.isfinite(pred).all()
    iv = ttf.predict_interval(coverage=0.8)
    assert (iv.iloc[:, 0] <= iv.iloc[:, 1]).all()
    pipe = ForecastingPipeline([("scale", TabularToSeriesAdaptor(StandardScaler())),
                                ("tsrec", TsrecForecaster(lru()))])
    pipe.fit(y.iloc[:376], X=X.iloc[:376], fh=range(1, 25))
    pred = pipe.predict(X=X.iloc[376:])
    assert len(pred) == 24 and np.isfinite(pred).all()
    # forecasts stay in the data's units: near the recent level
    assert abs(pred.iloc[0] - y.iloc[375]) < 5 * y.iloc[:376].std()


def test_evaluate_expanding_window(ot):
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.performance_metrics.forecasting import MeanAbsoluteError
    from sktime.performance_metrics.forecasting.probabilistic import PinballLoss
    from sktime.split import ExpandingWindowSplitter

    cv = ExpandingWindowSplitter(initial_window=300, step_length=24, fh=list(range(1, 25)))
    res = evaluate(TsrecForecaster(lru()), cv, ot, scoring=[MeanAbsoluteError(), PinballLoss()])
    assert len(res) == cv.get_n_splits(ot) == 4
    assert np.isfinite(res["test_MeanAbsoluteError"]).all() and np.isfinite(res["test_PinballLoss"]).all()
    upd = evaluate(TsrecForecaster(lru()), cv, ot, strategy="update", scoring=MeanAbsoluteError())
    assert len(upd) == 4 and np.isfinite(upd["test_MeanAbsoluteError"]).all()


def test_forecasting_optuna_search_cv(ot):
    optuna = needs("optuna")
    from sktime.forecasting.model_selection import ForecastingOptunaSearchCV
    from sktime.split import ExpandingWindowSplitter

    cv = ExpandingWindowSplitter(initial_window=300, step_length=50, fh=list(range(1, 13)))
    search = ForecastingOptunaSearchCV(
        TsrecForecaster(lru()), cv,
        {"forecaster__lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
         "forecaster__d_model": optuna.distributions.CategoricalDistribution([8, 16])},
        n_evals=3, sampler=optuna.samplers.RandomSampler(seed=0),
    )
    search.fit(ot, fh=list(range(1, 13)))
    assert set(search.best_params_) == {"forecaster__lr", "forecaster__d_model"}
    assert search.best_forecaster_.forecaster_.d_model == search.best_params_["forecaster__d_model"]
    pred = search.predict()
    assert len(pred) == 12 and np.isfinite(pred).all()
