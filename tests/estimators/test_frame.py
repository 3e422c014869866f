"""The frame an estimator resolves from the data: period, context, segments, stride, and what it refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.estimators.frame import MAX_AUTO_CONTEXT, auto_stride, infer_period, resolve


def test_period_from_the_index_and_from_the_autocorrelation(etth1):
    assert infer_period("h") == 24 and infer_period("10min") == 144 and infer_period("B") == 5
    assert infer_period("QS") == 4 and infer_period("YS") is None
    # without an index, the autocorrelation of real hourly data finds the day
    assert infer_period(None, etth1["HUFL"].to_numpy()[:3000]) == 24
    # white noise has no season
    assert infer_period(None, np.random.default_rng(0).standard_normal(2000)) is None


def test_auto_context_and_patch_follow_the_length_and_period():
    long = resolve("auto", "auto", "auto", [17000, 9000], 96, 0.1, period=24)
    assert long.direct and long.patch_len == 24 and long.context % 24 == 0 and long.context <= MAX_AUTO_CONTEXT
    short = resolve("auto", "auto", "auto", [150], 12, 0.1, period=52)
    assert short.direct and short.context <= (150 * 0.9 - 12) / 3 and short.context // short.patch_len >= 8
    # a given context and patch are kept; no period: a sixteenth of the context
    assert resolve(96, 8, "auto", [500], 12, 0.1, None) == resolve(96, 8, "direct", [500], 12, 0.1, None)
    assert resolve(256, "auto", "auto", [5000], 12, 0.1, None).patch_len == 16
    # the dense head and the stateful model read single rows
    assert resolve(64, "auto", "dense", [500], 12, 0.1, 12).patch_len == 1
    assert resolve(None, "auto", "auto", [500], 12, 0.1, 12).context is None


def test_contradictions_are_refused():
    with pytest.raises(ValueError, match="head='direct' needs a fixed context"):
        resolve(None, "auto", "direct", [500], 12, 0.1, 12)
    with pytest.raises(ValueError, match="patch_len=4 needs the direct head"):
        resolve(None, 4, "auto", [500], 12, 0.1, 12)
    with pytest.raises(ValueError, match="patch_len=4 needs head='direct'"):
        resolve(64, 4, "dense", [500], 12, 0.1, 12)
    with pytest.raises(ValueError, match="longer than the context"):
        resolve(16, 32, "direct", [500], 12, 0.1, 12)


def test_auto_stride_bounds_an_epoch():
    assert auto_stride([8640], 432) == 1
    def windows(lengths, stride):
        return sum(len(range(0, max(0, n - 608 + 1), stride)) for n in lengths)

    for lengths in ([69680], [52696, 52696], [700] * 1000):
        s = auto_stride(lengths, 608)
        assert s > 1 and windows(lengths, s) <= 16384 + len(lengths) and windows(lengths, s - 1) > 16384


def test_the_sparse_linear_path_takes_the_period_of_the_frame(small_frame, tmp_path):
    """``linear_path="sparse"``: the window model's linear path shares one map over the frame's period (24 on
    hourly ETTh1), with far fewer weights than the dense path; it survives a save, and without a period it is
    the dense path."""
    from tsrec.estimators import BaseForecaster, LRUForecaster

    kw = dict(horizon=48, context=96, max_epochs=1, d_model=8, d_state=4, n_layers=1, random_state=0)
    sparse = LRUForecaster(linear_path="sparse", **kw).fit(small_frame)
    dense = LRUForecaster(**kw).fit(small_frame)
    assert sparse.frame_.period == 24 and sparse.model_.linear.period == 24
    assert sparse.model_.linear.weight.shape == (2, 4) and dense.model_.linear.weight.shape == (48, 96)
    assert not np.allclose(sparse.predict().to_numpy(), dense.predict().to_numpy())
    sparse.save(tmp_path / "m.safetensors")
    back = BaseForecaster.load(tmp_path / "m.safetensors")
    assert back.linear_path == "sparse"
    np.testing.assert_array_equal(back.predict().to_numpy(), sparse.predict().to_numpy())
    # no seasonal period in white noise without an index: the sparse path is the dense one
    noise = np.random.default_rng(0).standard_normal((600, 1))
    plain = LRUForecaster(linear_path="sparse", **kw).fit(noise)
    assert plain.frame_.period is None and plain.model_.linear.weight.shape == (48, 96)
    assert LRUForecaster(linear_path="none", **kw).fit(noise).model_.linear is None
    # a window shorter than one period: some phases would read nothing, so the path is dense
    short = LRUForecaster(linear_path="sparse", **{**kw, "context": 20}).fit(small_frame)
    assert short.frame_.period == 24 and short.model_.linear.weight.shape == (48, 20)


def test_last_value_norm_through_the_estimator(small_frame, tmp_path):
    """``instance_norm="last"``: the window model takes each window relative to its last row; it fits, streams,
    survives a save, and the stateful model (dense head), which normalises by running statistics, refuses it
    with an error naming the option."""
    from tsrec.estimators import BaseForecaster, LRUForecaster

    kw = dict(horizon=24, context=96, max_epochs=1, d_model=8, d_state=4, n_layers=1, random_state=0)
    last = LRUForecaster(instance_norm="last", **kw).fit(small_frame.iloc[:560])
    revin = LRUForecaster(instance_norm=True, **kw).fit(small_frame.iloc[:560])
    assert last.model_.instance_norm == "last" and revin.model_.instance_norm is True
    assert not np.allclose(last.predict().to_numpy(), revin.predict().to_numpy())
    last.partial_fit(small_frame.iloc[560:600])
    before = last.predict().to_numpy()
    assert np.isfinite(before).all()
    last.save(tmp_path / "m.safetensors")
    back = BaseForecaster.load(tmp_path / "m.safetensors")
    assert back.instance_norm == "last"
    np.testing.assert_array_equal(back.predict().to_numpy(), before)
    stateful = LRUForecaster(**{**kw, "context": None}, instance_norm="last")
    with pytest.raises(ValueError, match="instance_norm='last' needs the direct head"):
        stateful.fit(small_frame)
    assert not hasattr(stateful, "model_")


def test_robust_norm_keeps_a_fault_in_the_window_from_scaling_the_forecast():
    """A window that holds a sensor fault (a run of one far value) inflates its standard deviation, and RevIN
    maps the forecast back with it: ``instance_norm="robust"`` takes the scale of the window clipped at five
    robust standard deviations. Same data, seed and training; the forecast from a window with the fault."""
    from tsrec.estimators import LRUForecaster

    rng = np.random.default_rng(3)
    t = np.arange(700)
    y = np.sin(2 * np.pi * t / 7) + 0.3 * rng.standard_normal(700)
    y[300:318] = -25.0  # an 18-row fault, as in the daily means of ETTh2's LULL column
    kw = dict(horizon=14, context=105, max_epochs=3, d_model=16, d_state=8, random_state=0)
    window_end = 330  # the window [225, 330) holds the fault
    spread = {}
    for norm in (True, "robust"):
        f = LRUForecaster(instance_norm=norm, **kw).fit(y[:window_end])
        assert f.model_.instance_norm == norm
        spread[norm] = np.ptp(f.predict().ravel())
    assert spread["robust"] < 0.5 * spread[True]  # the series' own swing is about 2
    assert spread["robust"] < 6
    stateful = LRUForecaster(**{**kw, "context": None}, instance_norm="robust").fit(y[:400])
    assert np.isfinite(stateful.predict().ravel()).all()  # running statistics, as with True


def test_theta_combination_through_the_estimator():
    """``theta_weight`` through the estimator, on the monthly CO2 series, whose short validation tail leaves
    "auto" at 0.5: ``predict`` is the mean of the network's forecast and the Theta method's on the last
    ``context`` rows, in user units and with the period of ``frame_``; rolling forecasts agree with ``predict``;
    quantiles move with their median and keep the network's spread; the stateful model of ``context=None`` has
    no window and ignores it."""
    import torch

    from tsrec.datasets import load_default
    from tsrec.estimators import LRUForecaster
    from tsrec.nn.theta import theta_forecast

    y = load_default()["co2"].resample("MS").mean().to_frame("co2")
    kw = dict(horizon=12, max_epochs=3, d_model=16, d_state=8, random_state=0, partner="theta")
    f = LRUForecaster(**kw).fit(y.iloc[:-24])
    assert f.theta_weight == "auto" and f.frame_.theta_weight == 0.5 and f.model_.theta_weight == 0.5
    assert f.frame_.period == 12
    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.5
    window = torch.tensor(y["co2"].to_numpy()[-24 - f.frame_.context : -24])[None]
    theta = theta_forecast(window, 12, 12)[0].numpy()
    np.testing.assert_allclose(combined, 0.5 * network + 0.5 * theta, rtol=1e-5, atol=1e-3)
    assert np.abs(combined - network).max() > 0.05  # the combination moves the forecast
    forecasts, _ = f.rolling_forecasts(y.iloc[-24:-12])
    np.testing.assert_allclose(forecasts[0][0, :, 0], combined, rtol=1e-5, atol=1e-4)

    q = LRUForecaster(**kw, loss="quantile").fit(y.iloc[:-24])
    both = q.predict_quantiles().to_numpy()
    q.model_.theta_weight = 0.0
    alone = q.predict_quantiles().to_numpy()
    shift = both - alone  # one shift for every quantile of a step: the spread is the network's
    np.testing.assert_allclose(shift, shift[:, :1].repeat(3, axis=1), rtol=0, atol=2e-3)
    # half the way from the network's median to Theta (where the short fit's quantiles cross, the model's median
    # output is not the middle of the sorted three that predict_quantiles gives)
    assert np.sum(np.abs(shift[:, 1] - 0.5 * (theta - alone[:, 1])) < 2e-3) >= 9

    stateful = LRUForecaster(**{**kw, "context": None}).fit(y.iloc[:-24])
    assert not hasattr(stateful.model_, "theta_weight") and np.isfinite(stateful.predict().to_numpy()).all()
    with pytest.raises(ValueError, match="theta_weight must be a number in"):
        LRUForecaster(theta_weight=1.5).fit(y)


def test_fit_computes_each_validation_partner_forecast_once(monkeypatch):
    """A fit scores its validation windows after every epoch, for each share "auto" tries and for calibration;
    their partner forecasts are computed once (the memo), and the fit is the one it would be without the memo."""
    import contextlib

    import tsrec.estimators.base as base
    from tsrec.datasets import load_default
    from tsrec.estimators import LRUForecaster
    from tsrec.nn import window

    y = load_default()["co2"].to_frame("co2")
    kw = dict(horizon=12, context=208, max_epochs=4, d_model=16, d_state=8, random_state=0, stride=4)
    rows = []
    real = window.PARTNERS["damped"]
    monkeypatch.setitem(window.PARTNERS, "damped", lambda r, h, p, **kw: rows.append(r.shape[0]) or real(r, h, p, **kw))
    blend = window.naive_blend_forecast  # (windows of four years of CO2's weeks: the damped partner blends)
    monkeypatch.setattr(window, "naive_blend_forecast",
                        lambda r, h, p, **kw: rows.append(r.shape[0]) or blend(r, h, p, **kw))
    f = LRUForecaster(**kw).fit(y)
    memoised, rows = rows.copy(), []
    monkeypatch.setattr(base, "memoised_partners", contextlib.nullcontext)
    g = LRUForecaster(**kw).fit(y)
    n_val = memoised[0]  # the validation windows' batch: once, where the plain fit computes it each time
    assert memoised.count(n_val) == 1 and rows.count(n_val) >= len(f.history_["val_loss"]) + 4
    assert f.frame_.theta_weight == g.frame_.theta_weight and f.history_ == g.history_
    np.testing.assert_array_equal(f.predict().to_numpy(), g.predict().to_numpy())
    np.testing.assert_array_equal(f.predict_interval().to_numpy(), g.predict_interval().to_numpy())


def test_damped_partner_through_the_estimator(tmp_path):
    """``partner="damped"`` (the default): ``predict`` moves three quarters of the way from the network's forecast
    to damped Holt's on the last ``context`` rows of the monthly CO2 series (in user units, with the period of
    ``frame_``; the share of a long coarse series whose partner reads the window alone, ``COARSE_SHARE``, where the
    Theta partner keeps a half); the network is
    the one Theta's combination gets (the loss trains the network alone; early stopping, which scores the
    combination, restores the same last epoch of three here); the file keeps the partner."""
    import torch

    from tsrec.datasets import load_default
    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.nn.damped import damped_forecast

    y = load_default()["co2"].resample("MS").mean().to_frame("co2")
    kw = dict(horizon=12, max_epochs=3, d_model=16, d_state=8, random_state=0)
    f = LRUForecaster(**kw).fit(y.iloc[:-24])  # the default partner
    assert f.partner == "damped" == f.model_.partner and f.frame_.theta_weight == 0.75 == f.model_.theta_weight
    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.75
    window = torch.tensor(y["co2"].to_numpy()[-24 - f.frame_.context : -24])[None]
    damped = damped_forecast(window, 12, 12)[0].numpy()
    np.testing.assert_allclose(combined, 0.25 * network + 0.75 * damped, rtol=1e-5, atol=1e-3)
    theta = LRUForecaster(**kw, partner="theta").fit(y.iloc[:-24])
    assert theta.frame_.theta_weight == 0.5
    theta.model_.theta_weight = 0.0
    np.testing.assert_allclose(theta.predict().to_numpy().ravel(), network, rtol=1e-5, atol=1e-4)
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.partner == "damped" == g.model_.partner
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), combined)


def test_auto_theta_weight_is_the_best_on_the_validation_tail(etth1, tmp_path):
    """On a long series (3,000 hourly rows: a 300-row validation tail, twelve horizons of origins) "auto"
    chooses the share among 0, 0.25, ..., 1 whose forecasts of the tail's windows have the least MAE, computed
    here from the fitted model; the file keeps it. A set share is kept as it is, and without a validation tail
    (``early_stopping=False``) "auto" stays 0.5."""
    import torch

    from tsrec.estimators import BaseForecaster, LRUForecaster

    y = etth1[["OT"]].iloc[:3000]
    kw = dict(horizon=24, max_epochs=2, d_model=16, d_state=8, random_state=0)
    f = LRUForecaster(**kw).fit(y)
    L, H = f.frame_.context, 24
    z = torch.tensor(f.scaler_.transform(y.to_numpy()), dtype=torch.float32)
    starts = range(3000 - 300 - L, 3000 - L - H + 1)  # windows whose targets lie in the last 300 rows
    x = torch.stack([z[s : s + L] for s in starts])
    target = torch.stack([z[s + L : s + L + H] for s in starts])
    maes = {}
    with torch.no_grad():
        for w in (0.0, 0.25, 0.5, 0.75, 1.0):
            f.model_.theta_weight = w
            maes[w] = float((f.model_(x) - target).abs().mean())
    assert len(set(maes.values())) == 5 and f.frame_.theta_weight == min(maes, key=maes.get)
    f.model_.theta_weight = f.frame_.theta_weight
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.frame_ == f.frame_ and g.model_.theta_weight == f.frame_.theta_weight
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    assert LRUForecaster(**kw, theta_weight=0.25).fit(y).frame_.theta_weight == 0.25
    assert LRUForecaster(**kw, early_stopping=False).fit(y).frame_.theta_weight == 0.5


def test_auto_theta_weight_gives_a_window_of_one_season_the_partner_that_removes_it():
    """Eight years of monthly CO2 means: a window of 24 rows holds one season of 12 but not two, too few for the
    partners to deseasonalise. A plain window model's partner reads the seasons before it instead
    (``Frame.partner_rows``); one that cannot (here the missing-value mask) gets a half share of the partner that
    removes the window's one season (``Frame.one_season``): ``predict`` is half the network's forecast and half
    ``one_season_forecast`` of the window, whose season the plain damped partner would miss; a random walk with the
    same index gets the same (no test can tell on such a window); a set share keeps the plain partner, and so does
    a window of two seasons."""
    import torch

    from tsrec.datasets import load_default
    from tsrec.estimators import LRUForecaster
    from tsrec.nn.damped import damped_forecast
    from tsrec.nn.theta import one_season_forecast
    from tsrec.training import set_theta_weight

    kw = dict(max_epochs=2, d_model=16, d_state=8, random_state=0)
    monthly = load_default()["co2"].resample("MS").mean().to_frame("co2").iloc[:96]
    plain = LRUForecaster(horizon=12, **kw).fit(monthly)
    assert (plain.frame_.context, plain.frame_.theta_weight, plain.frame_.partner_rows) == (24, 0.9, 96)
    f = LRUForecaster(horizon=12, missing="mask", **kw).fit(monthly)
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight, f.frame_.one_season) == (24, 12, 0.5, True)
    assert f.frame_.partner_rows == 0
    combined = f.predict().to_numpy().ravel()
    set_theta_weight(f.model_, 0.0)
    network = f.predict().to_numpy().ravel()
    window = torch.tensor(monthly["co2"].to_numpy()[-24:])[None]
    partner = one_season_forecast(window, 12, 12)[0].numpy()
    np.testing.assert_allclose(combined, 0.5 * network + 0.5 * partner, rtol=1e-5)
    actual = load_default()["co2"].resample("MS").mean().to_numpy()[96:108]
    plain = damped_forecast(window, 12, 12)[0].numpy()
    assert np.abs(partner - actual).mean() < 0.5 * np.abs(plain - actual).mean()
    walk = pd.DataFrame({"y": np.random.default_rng(0).normal(size=96).cumsum()}, index=monthly.index)
    assert LRUForecaster(horizon=12, **kw).fit(walk).frame_.one_season
    set_share = LRUForecaster(horizon=12, theta_weight=0.5, **kw).fit(monthly)
    assert not set_share.frame_.one_season and not set_share.model_.one_season
    assert not LRUForecaster(horizon=12, context=26, **kw).fit(monthly).frame_.one_season


def test_auto_theta_weight_grows_where_the_network_has_few_windows():
    """Where the validation tail is too short to choose on, "auto" gives the partner the share
    ``auto_theta_weight(n)`` of the fit's ``n`` training windows: three quarters on 36 yearly CO2 means (21
    windows: ``predict`` is a quarter of the network's forecast and three of damped Holt's on the window),
    between a half and that on 60 quarterly ones (35), a half on all 176 quarters (107), which ``fit`` then
    raises to :data:`COARSE_SHARE` (a long coarse series whose partner reads the window alone); where the window is
    too short for the partner to see the season (and a partner that cannot read the rows before it), 0 (the
    network alone) on a seasonal series and a half on a random walk. A set share is kept. (The yearly partner
    reads the 36 rows, ``Frame.partner_rows``.)"""
    import torch

    from tsrec.datasets import load_default
    from tsrec.estimators import LRUForecaster
    from tsrec.estimators.frame import AUTO_THETA_FEWEST, AUTO_THETA_WINDOWS, COARSE_SHARE, auto_theta_weight
    from tsrec.nn.damped import history_forecast

    co2 = load_default()["co2"]
    kw = dict(max_epochs=2, d_model=16, d_state=8, random_state=0)
    shares = {}
    for freq, horizon, rows in (("YS", 3, 36), ("QS", 4, 60), ("QS", 4, None)):
        y = co2.resample(freq).mean().dropna().to_frame("co2").iloc[:rows]
        f = LRUForecaster(horizon=horizon, **kw).fit(y)
        n_val = round(0.1 * len(y))  # training_windows' tail, stride 1 on series this short
        n = len(y) - n_val - f.frame_.context - horizon + 1
        want = auto_theta_weight(n) if rows else COARSE_SHARE  # (all 176 quarters: a long coarse series)
        assert f.frame_.theta_weight == want == f.model_.theta_weight
        shares[len(y)] = (n, auto_theta_weight(n))
        if freq == "YS":
            combined = f.predict().to_numpy().ravel()
            f.model_.theta_weight = 0.0
            network = f.predict().to_numpy().ravel()
            assert f.frame_.partner_rows == 40 > len(y)
            damped = history_forecast(torch.tensor(y["co2"].to_numpy())[None], 3)[0].numpy()
            np.testing.assert_allclose(combined, 0.25 * network + 0.75 * damped, rtol=1e-5)
    low, high = AUTO_THETA_WINDOWS / 2, AUTO_THETA_WINDOWS
    assert shares[36][0] <= low and shares[36][1] == AUTO_THETA_FEWEST == 0.75
    assert low < shares[60][0] < high and 0.5 < shares[60][1] < 0.75
    assert shares[176][0] >= high and shares[176][1] == 0.5
    ramp = [auto_theta_weight(n) for n in range(int(low), int(high) + 1)]
    assert ramp[0] == 0.75 and ramp[-1] == 0.5 and all(a > b for a, b in zip(ramp, ramp[1:]))
    yearly = co2.resample("YS").mean().to_frame("co2").iloc[:36]
    assert LRUForecaster(horizon=3, theta_weight=0.25, **kw).fit(yearly).frame_.theta_weight == 0.25
    # four years of monthly means: a window of 10 rows, too short for the partner to see the season (2 * 12 + 2
    # rows), of a series whose differences pass the seasonality test: the network alone where the partner cannot
    # read the rows before the window (the missing-value mask; a plain window model's partner reads them)
    monthly = co2.resample("MS").mean().to_frame("co2").iloc[:48]
    assert LRUForecaster(horizon=12, **kw).fit(monthly).frame_.theta_weight == 0.9
    f = LRUForecaster(horizon=12, missing="mask", **kw).fit(monthly)
    assert f.frame_.period == 12 and f.frame_.context < 26 and f.frame_.theta_weight == 0.0
    gappy = monthly.copy()
    gappy.iloc[[5, 17, 30], 0] = np.nan  # masked rows are interpolated for the test, not a reason to fail it
    assert LRUForecaster(horizon=12, missing="mask", **kw).fit(gappy).frame_.theta_weight == 0.0
    # the same window on a random walk with a monthly index: no season to miss, the share a half
    walk = pd.DataFrame({"y": np.random.default_rng(0).normal(size=48).cumsum()}, index=monthly.index)
    g = LRUForecaster(horizon=12, missing="mask", **kw).fit(walk)
    assert g.frame_.period == 12 and g.frame_.context < 26 and g.frame_.theta_weight == 0.5
    # a panel counts the windows of all its series: five such yearly series (one per calendar month) learn from
    # five times the windows of one, and get the half share
    monthly = co2.resample("MS").mean().dropna()
    panel = pd.concat([pd.DataFrame({"unique_id": f"month {m}", "ds": pd.date_range("1959", periods=36, freq="YS"),
                                     "y": monthly[monthly.index.month == m].to_numpy()[1:37]}) for m in range(1, 6)])
    f = LRUForecaster(horizon=3, **kw).fit(panel)
    assert f.frame_.context == 9 and f.frame_.theta_weight == auto_theta_weight(5 * 21) == 0.5


def test_the_damped_partner_of_a_short_yearly_window_reads_the_rows_before_it(tmp_path):
    """"auto" gives the damped partner of a non-seasonal window of at most ``estimated_rows`` rows the last
    ``PARTNER_ROWS`` (40) rows before each origin: on 52 years of a random walk with drift (an 11-row window)
    ``predict`` combines
    the network with :func:`history_forecast` of the last 40 rows, which the stream keeps; ``rolling_forecasts``
    at the same origin agree, and so does ``predict`` of a new history of fewer rows (all of them); streaming
    without updates in two chunks is one call; the file keeps it. Longer or seasonal windows, a set share, the
    Theta partner and the missing-value mask keep the partner on the window."""
    import torch

    from tsrec.datasets import load_default
    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.estimators.frame import PARTNER_ROWS
    from tsrec.nn.damped import history_forecast

    co2 = load_default()["co2"]
    walk = 300 + np.random.default_rng(1).normal(0.8, 2.0, 60).cumsum()
    y = pd.DataFrame({"co2": walk}, index=pd.date_range("1900", periods=60, freq="YS"))
    kw = dict(horizon=4, max_epochs=2, d_model=16, d_state=8, random_state=0)
    f = LRUForecaster(**kw).fit(y.iloc[:52])
    w, rows = f.frame_.theta_weight, f.frame_.partner_rows
    assert f.frame_.context <= 20 and f.frame_.period in (None, 1) and rows == PARTNER_ROWS == 40
    assert f.model_.partner_rows == 40 and len(f._stream.buffers[0]) == 40 + 4

    def partner(values: np.ndarray) -> np.ndarray:  # in the model's units: scaled, float32
        mean, scale = f.scaler_.mean[0], f.scaler_.scale[0]
        x = torch.tensor(((values - mean) / scale).astype(np.float32))
        return history_forecast(x[None], 4)[0].numpy() * scale + mean

    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight = w
    np.testing.assert_allclose(combined, (1 - w) * network + w * partner(y["co2"].to_numpy()[12:52]), rtol=1e-5)
    preds, _ = f.rolling_forecasts(y.iloc[52:56])  # origins after rows 52 (the end of the fit) to 55
    np.testing.assert_allclose(preds[0][0].ravel(), combined, rtol=1e-6)
    early = f.predict(y.iloc[:18]).to_numpy().ravel()  # a new history of fewer than 40 rows: all of them
    f.model_.theta_weight = 0.0
    early_net = f.predict(y.iloc[:18]).to_numpy().ravel()
    f.model_.theta_weight = w
    np.testing.assert_allclose(early, (1 - w) * early_net + w * partner(y["co2"].to_numpy()[:18]), rtol=1e-5)
    g = LRUForecaster(**kw).fit(y.iloc[:52])
    f.partial_fit(y.iloc[52:60], update_params=False)
    g.partial_fit(y.iloc[52:55], update_params=False).partial_fit(y.iloc[55:60], update_params=False)
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    assert len(f._stream.buffers[0]) == 44 and not np.array_equal(f.predict().to_numpy().ravel(), combined)
    f.save(tmp_path / "m.safetensors")
    h = BaseForecaster.load(tmp_path / "m.safetensors")
    assert h.frame_.partner_rows == 40 and h.model_.partner_rows == 40
    np.testing.assert_array_equal(h.predict().to_numpy(), f.predict().to_numpy())
    for other in (dict(context=24), dict(theta_weight=0.5), dict(partner="theta"), dict(missing="mask")):
        assert LRUForecaster(**{**kw, **other}).fit(y.iloc[:52]).frame_.partner_rows == 0, other
    quarterly = co2.resample("QS").mean().dropna().to_frame("co2").iloc[:60]
    assert LRUForecaster(**kw).fit(quarterly).frame_.partner_rows == 0


def test_the_damped_partner_gets_more_of_a_smooth_trend():
    """Where the partner reads the rows before the window, "auto" gives it :data:`SMOOTH_SHARE` more on a
    smooth trend (a fertility-like decline: its differences' lag-1 autocorrelation above :data:`SMOOTH_ACF`), the
    share the same fit would have otherwise on a random walk; ``predict`` combines with the share used."""
    from tsrec.estimators import LRUForecaster
    from tsrec.estimators.frame import SMOOTH_SHARE, smooth_trend

    t = np.arange(52.0)
    rng = np.random.default_rng(2)
    decline = 6 - 3.5 / (1 + np.exp(-(t - 26) / 7)) + rng.normal(0, 0.01, 52)
    walk = 300 + rng.normal(0.8, 2.0, 52).cumsum()
    index = pd.date_range("1950", periods=52, freq="YS")
    kw = dict(horizon=4, max_epochs=2, d_model=16, d_state=8, random_state=0)
    for values, smooth in ((decline, True), (walk, False)):
        y = pd.DataFrame({"y": values}, index=index)
        assert smooth_trend([values]) is smooth
        f = LRUForecaster(**kw).fit(y)
        base = LRUForecaster(**kw, partner="theta").fit(y).frame_.theta_weight  # the share without the rule
        assert f.frame_.partner_rows == 40 and 0 < base < 1
        assert f.frame_.theta_weight == f.model_.theta_weight == (min(1.0, base + SMOOTH_SHARE) if smooth else base)
        combined = f.predict().to_numpy().ravel()
        f.model_.theta_weight = 0.0
        network = f.predict().to_numpy().ravel()
        f.model_.theta_weight = 1.0
        partner = f.predict().to_numpy().ravel()
        w = f.frame_.theta_weight
        np.testing.assert_allclose(combined, (1 - w) * network + w * partner, rtol=1e-5)


def test_the_partner_of_a_short_seasonal_window_reads_the_seasons_before_it(tmp_path, monkeypatch):
    """"auto" gives the damped partner of a window shorter than two seasons the ``SEASON_ROWS`` (8) seasons before
    each origin and the share ``SEASON_SHARE`` (0.9): on 100 months of a season on a trend, an 8-row window,
    ``predict`` combines the network with :func:`history_blend_forecast` of the last 96 rows and the period (that
    partner blended with seasonal naive where that backtests better, ``frame_.history_blend``); the
    validation windows that early stopping scores carry the same rows (NaN before the series' first); the file keeps
    it. A window of two to four seasons reads them too, at the share a window that shows the network the season
    gets on a monthly index (the coarse share since session 52); one of four seasons keeps the partner on the
    window."""
    import torch

    from tsrec import training
    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.estimators.frame import COARSE_SHARE, SEASON_ROWS, SEASON_SHARE
    from tsrec.nn.damped import history_blend_forecast

    t = np.arange(100)
    rng = np.random.default_rng(4)
    y = pd.DataFrame({"y": 40 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 100)},
                     index=pd.date_range("2001-01", periods=100, freq="MS"))
    kw = dict(horizon=6, context=8, max_epochs=2, d_model=16, d_state=8, random_state=0)
    seen = []
    real = training._validation_loss
    monkeypatch.setattr(training, "_validation_loss", lambda m, w, *a: seen.append(w) or real(m, w, *a))
    f = LRUForecaster(**kw).fit(y)
    assert SEASON_ROWS * 12 == f.frame_.partner_rows == f.model_.partner_rows == 96
    assert f.frame_.theta_weight == f.model_.theta_weight == SEASON_SHARE == 0.9
    assert f.frame_.history_blend and f.model_.history_blend  # (blended with seasonal naive where that backtests)
    assert seen and all(w.shape[1] == 96 + 6 for w in seen)  # the tail's 10 rows hold 5 origins, the first
    assert seen[0][:, :, 0].isnan().sum(dim=1).tolist() == [6, 5, 4, 3, 2]  # after row 90 (6 rows short of 96)
    mean, scale = f.scaler_.mean[0], f.scaler_.scale[0]
    x = torch.tensor(((y["y"].to_numpy()[-96:] - mean) / scale).astype(np.float32))
    partner = history_blend_forecast(x[None], 6, 12)[0].numpy() * scale + mean
    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.9
    np.testing.assert_allclose(combined, 0.1 * network + 0.9 * partner, rtol=1e-5)
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.frame_.partner_rows == 96
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    three = LRUForecaster(**{**kw, "context": 36}).fit(y)  # three seasons: the seasons before, the window's share
    assert (three.frame_.partner_rows, three.frame_.theta_weight) == (96, COARSE_SHARE)
    assert LRUForecaster(**{**kw, "context": 48}).fit(y).frame_.partner_rows == 0


def test_the_seasonal_history_partner_of_one_season_of_rows_removes_it_where_it_forecast_them_better(tmp_path):
    """Where the rows before an origin hold one season but not two (43 hourly rows of a daily cycle, period 24),
    the fitted partner forecasts them less their one season when a backtest on their last rows prefers it
    (``frame_.history_one_season``, :func:`history_forecast`'s ``one_season``): ``predict`` combines the network
    with that forecast, which here differs from the one without the season and is closer to the cycle's
    continuation. The file keeps the flag."""
    import torch

    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.nn.damped import history_forecast

    t = np.arange(49)
    rng = np.random.default_rng(5)
    truth = 20 + 0.05 * t + 4 * np.sin(2 * np.pi * t / 24)
    y = pd.DataFrame({"y": truth[:43] + rng.normal(0, 0.1, 43)}, index=pd.date_range("2001-01-01", periods=43,
                                                                                      freq="h"))
    f = LRUForecaster(horizon=6, context=8, max_epochs=2, d_model=8, n_layers=1, random_state=0).fit(y)
    assert f.frame_.partner_rows == 192 and f.frame_.history_one_season and f.model_.history_one_season
    mean, scale = f.scaler_.mean[0], f.scaler_.scale[0]
    x = torch.tensor(((y["y"].to_numpy() - mean) / scale).astype(np.float32))[None]
    with_season = history_forecast(x, 6, 24)[0].numpy() * scale + mean
    without = history_forecast(x, 6, 24, one_season=False)[0].numpy() * scale + mean
    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.9
    np.testing.assert_allclose(combined, 0.1 * network + 0.9 * with_season, rtol=1e-5)
    assert np.abs(with_season - truth[43:]).mean() < 0.5 * np.abs(without - truth[43:]).mean()
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.frame_.history_one_season
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())


def test_a_short_coarse_series_keeps_the_season_its_two_to_four_seasons_fail_the_test_for(tmp_path):
    """30 monthly rows of a season around a trend, with noise: two and a half seasons, too few for the seasonality
    test to find the season, so the partner that reads the rows before the short window would drop it. A series
    indexed monthly or coarser gets ``frame_.tail_season``: the partner forecasts such rows as their last 25 (less
    their one season where that backtests better, :func:`history_forecast`'s ``tail_season``), and ``predict``
    combines the network with that forecast, which here keeps the season and is closer to the truth than the one
    without it. The file keeps the flag. The same rows indexed weekly or hourly do not get it."""
    import torch

    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.nn.damped import history_blend_forecast

    t = np.arange(42)
    rng = np.random.default_rng(28)
    truth = 50 + 0.3 * t + 6 * np.sin(2 * np.pi * t / 12)
    y = pd.DataFrame({"y": truth[:30] + rng.normal(0, 1.5, 30)},
                     index=pd.date_range("2020-01-01", periods=30, freq="MS"))
    f = LRUForecaster(horizon=12, d_model=8, n_layers=1, max_epochs=3, random_state=0).fit(y)
    assert f.frame_.partner_rows == 96 and f.frame_.tail_season and f.model_.tail_season
    mean, scale = f.scaler_.mean[0], f.scaler_.scale[0]
    x = torch.tensor(((y["y"].to_numpy() - mean) / scale).astype(np.float32))[None]
    partner = history_blend_forecast(x, 12, 12, tail_season=True)[0].numpy() * scale + mean
    without = history_blend_forecast(x, 12, 12)[0].numpy() * scale + mean
    w = f.frame_.theta_weight
    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight = w
    np.testing.assert_allclose(combined, (1 - w) * network + w * partner, rtol=1e-5)
    assert np.abs(partner - truth[30:]).mean() < 0.5 * np.abs(without - truth[30:]).mean()
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.frame_.tail_season and g.model_.tail_season
    np.testing.assert_array_equal(g.predict().to_numpy(), combined.reshape(-1, 1))
    for freq in ("W-SUN", "h"):  # a weekly season's timing moves by weeks; a daily cycle from two days
        other = LRUForecaster(horizon=12, d_model=8, n_layers=1, max_epochs=1, random_state=0)
        frame = other.fit(y.set_axis(pd.date_range("2020-01-01", periods=30, freq=freq))).frame_
        assert frame.history_one_season and not frame.tail_season, freq


def test_the_damped_partner_of_a_long_seasonal_window_is_blended_with_seasonal_naive(tmp_path):
    """A window of five days of an hourly series (period 24) whose daily cycle doubled two days ago: the
    fitted partner is :func:`naive_blend_forecast` of the window (``frame_.naive_blend``), which here takes in the
    last day repeated and is closer to the cycle's continuation than damped Holt alone; ``predict`` combines the
    network with it at the frame's share, and the file keeps the flag. The Theta partner, and a series without a
    period, keep their partners."""
    import torch

    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.nn.damped import damped_forecast, naive_blend_forecast

    t = np.arange(246)
    rng = np.random.default_rng(6)
    truth = 20 + np.where(t < 192, 1.0, 3.0) * np.sin(2 * np.pi * t / 24)
    y = pd.DataFrame({"y": truth[:240] + rng.normal(0, 0.05, 240)},
                     index=pd.date_range("2001-01-01", periods=240, freq="h"))
    f = LRUForecaster(horizon=6, context=120, max_epochs=2, d_model=8, n_layers=1, random_state=0).fit(y)
    assert f.frame_.naive_blend and f.model_.naive_blend and f.frame_.period == 24
    mean, scale = f.scaler_.mean[0], f.scaler_.scale[0]
    x = torch.tensor(((y["y"].to_numpy()[-120:] - mean) / scale).astype(np.float32))[None]
    errors = f.frame_.horizon_errors  # (hourly: the partner may be chosen by its errors a horizon ahead)
    blend = naive_blend_forecast(x, 6, 24, horizon_errors=errors)[0].numpy() * scale + mean
    damped = damped_forecast(x, 6, 24, horizon_errors=errors)[0].numpy() * scale + mean
    w, s = f.frame_.theta_weight, f.frame_.naive_share  # (the share of seasonal naive: see the test below)
    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = f.model_.naive_share = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight, f.model_.naive_share = w, s
    season = np.resize(y["y"].to_numpy()[-24:], 6)
    np.testing.assert_allclose(combined, (1 - s) * ((1 - w) * network + w * blend) + s * season, rtol=1e-5)
    assert np.abs(blend - truth[240:]).mean() < 0.5 * np.abs(damped - truth[240:]).mean()
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.frame_.naive_blend and g.model_.naive_blend
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    theta = LRUForecaster(horizon=6, context=60, max_epochs=1, d_model=8, n_layers=1, random_state=0,
                          partner="theta").fit(y)
    assert not theta.frame_.naive_blend and not theta.model_.naive_blend
    walk = pd.DataFrame({"y": rng.normal(0, 1, 240).cumsum()}, index=pd.date_range("1700", periods=240, freq="YS"))
    plain = LRUForecaster(horizon=6, context=60, max_epochs=1, d_model=8, n_layers=1, random_state=0).fit(walk)
    assert (plain.frame_.period or 1) == 1 and not plain.frame_.naive_blend


def test_a_share_of_seasonal_naive_on_a_sub_daily_index(tmp_path):
    """``theta_weight="auto"`` moves the forecast of an hourly series with a noisy daily cycle 0.2 of the way to
    seasonal naive (``frame_.naive_share``): ``predict`` is then 0.8 of the combination plus 0.2 of the last day
    repeated, and the file keeps the share. The same rows indexed by days or by integers, a float
    ``theta_weight`` and a window shorter than a day get none (an ensemble gets it on every member); so do an hourly
    trend without a cycle (naive beats seasonal naive on the validation windows) and, with the ratio out of reach,
    the cycle itself."""
    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.estimators import frame as frame_module

    rng = np.random.default_rng(29)
    t = np.arange(480)
    y = pd.DataFrame({"y": 10 + 2 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1.5, 480)},
                     index=pd.date_range("2001-01-01", periods=480, freq="h"))
    small = dict(horizon=12, max_epochs=2, d_model=8, n_layers=1, random_state=0)
    f = LRUForecaster(**small).fit(y)
    assert f.frame_.period == 24 and f.frame_.naive_share == 0.2 and f.model_.naive_share == 0.2
    moved = f.predict().to_numpy().ravel()
    f.model_.naive_share = 0.0
    combination = f.predict().to_numpy().ravel()
    f.model_.naive_share = 0.2
    season = np.resize(y["y"].to_numpy()[-24:], 12)
    np.testing.assert_allclose(moved, 0.8 * combination + 0.2 * season, rtol=1e-5)
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.frame_.naive_share == 0.2 and g.model_.naive_share == 0.2
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    daily = y.set_axis(pd.date_range("2001-01-01", periods=480, freq="D"))
    others = (LRUForecaster(**small).fit(daily), LRUForecaster(**small).fit(y.to_numpy()),
              LRUForecaster(**small, theta_weight=0.5).fit(y), LRUForecaster(**small, context=12).fit(y))
    for other in others:
        assert other.frame_.naive_share == 0.0
        assert getattr(other.model_, "naive_share", 0.0) == 0.0
    ensemble = LRUForecaster(**small, ensemble_size=2).fit(y).model_
    assert [m.naive_share for m in ensemble.members] == [0.2, 0.2]
    trend = pd.DataFrame({"y": 0.5 * t + rng.normal(0, 1.0, 480)}, index=y.index)
    assert LRUForecaster(**small).fit(trend).frame_.naive_share == 0.0
    keep = frame_module.NAIVE_RATIO
    try:
        frame_module.NAIVE_RATIO = 1e9  # the model would have to be 1e9 times worse than seasonal naive
        assert LRUForecaster(**small).fit(y).frame_.naive_share == 0.0
    finally:
        frame_module.NAIVE_RATIO = keep


def test_half_of_naive_on_a_daily_random_walk(tmp_path):
    """``theta_weight="auto"`` moves the forecast of a daily random walk half of the way to naive
    (``frame_.naive_share`` 0.5 with ``frame_.naive_period`` 1) where the validation windows ask for it: there
    are 32 or more, naive's error there is at most seasonal naive's, and the model is not clearly ahead of naive.
    ``predict`` is then the mean of the combination and the last value, and the file keeps the share. The same
    rows indexed by hours, a float ``theta_weight``, a series too short for 32 validation windows, a daily series
    with a strong weekly cycle, and a model that would have to be far behind naive get none; an ensemble gets it
    on every member."""
    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.estimators import frame as frame_module

    rng = np.random.default_rng(30)
    y = pd.DataFrame({"y": 100 + rng.normal(0, 1, 600).cumsum()},
                     index=pd.date_range("2001-01-01", periods=600, freq="D"))
    small = dict(horizon=7, max_epochs=2, d_model=8, n_layers=1, random_state=0)
    f = LRUForecaster(**small).fit(y)
    assert (f.frame_.naive_share, f.frame_.naive_period) == (0.5, 1)
    assert (f.model_.naive_share, f.model_.naive_period) == (0.5, 1)
    moved = f.predict().to_numpy().ravel()
    f.model_.naive_share = 0.0
    combination = f.predict().to_numpy().ravel()
    f.model_.naive_share = 0.5
    np.testing.assert_allclose(moved, 0.5 * combination + 0.5 * y["y"].iloc[-1], rtol=1e-5)
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert (g.frame_.naive_share, g.frame_.naive_period) == (0.5, 1)
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    g.partial_fit(pd.DataFrame({"y": moved[:3]}, index=f.predict().index[:3]))
    assert g.frame_.naive_period == 1 and np.isfinite(g.predict().to_numpy()).all()
    hourly = y.set_axis(pd.date_range("2001-01-01", periods=600, freq="h"))
    t = np.arange(600)
    weekly = pd.DataFrame({"y": 10 + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, 600)}, index=y.index)
    others = (LRUForecaster(**small).fit(hourly), LRUForecaster(**small, theta_weight=0.5).fit(y),
              LRUForecaster(**small).fit(y.iloc[:250]), LRUForecaster(**small).fit(weekly))
    for other in others:
        assert other.frame_.naive_share == 0.0 and other.frame_.naive_period is None
        assert getattr(other.model_, "naive_share", 0.0) == 0.0
    ensemble = LRUForecaster(**small, ensemble_size=2).fit(y).model_
    assert [(m.naive_share, m.naive_period) for m in ensemble.members] == [(0.5, 1), (0.5, 1)]
    keep = frame_module.LAST_RATIO
    try:
        frame_module.LAST_RATIO = 1e9  # the model would have to be 1e9 times worse than naive
        assert LRUForecaster(**small).fit(y).frame_.naive_share == 0.0
    finally:
        frame_module.LAST_RATIO = keep


def test_the_damped_partner_of_a_daily_or_finer_series_is_chosen_with_its_horizon_errors():
    """``frame_.horizon_errors`` (the damped partner chooses per window between its one-step and its one-step plus
    horizon-step fit) is set for a series indexed daily or finer with the damped partner, not for a coarser or
    unindexed one nor for the Theta partner; the fitted model forecasts with it, and the same network without it
    forecasts otherwise."""
    from tsrec import LRUForecaster

    rng = np.random.default_rng(0)
    t = np.arange(400)
    y = 15 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, 400).cumsum()
    small = dict(horizon=24, d_model=8, n_layers=1, max_epochs=1, random_state=0)
    for freq, want in (("h", True), ("D", True), ("B", True), ("W", False), ("MS", False)):
        frame = pd.DataFrame({"y": y}, index=pd.date_range("2001-01-01", periods=400, freq=freq))
        f = LRUForecaster(**small).fit(frame)
        assert f.frame_.horizon_errors is want and f.model_.horizon_errors is want, freq
    assert LRUForecaster(**small).fit(y[:, None]).frame_.horizon_errors is False  # no index
    hourly = pd.DataFrame({"y": y}, index=pd.date_range("2001-01-01", periods=400, freq="h"))
    assert LRUForecaster(partner="theta", **small).fit(hourly).frame_.horizon_errors is False
    f = LRUForecaster(**small).fit(hourly.iloc[:300])
    with_errors = f.rolling_forecasts(hourly.iloc[300:])[0][0]
    f.model_.horizon_errors = False
    without = f.rolling_forecasts(hourly.iloc[300:])[0][0]
    differ = ~np.isclose(with_errors, without).all(axis=(1, 2))
    assert 0 < differ.sum() < len(differ)  # some origins' backtests chose the horizon fit, some the one-step fit


def _season_on_trend(n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` months of a yearly season on a trend, with noise: the frame and its values."""
    t = np.arange(n)
    y = 100 + 0.5 * t + 3 * np.sin(2 * np.pi * t / 12) + np.random.default_rng().normal(0, 1, n)
    return pd.DataFrame({"y": y}, index=pd.date_range("1990-01-01", periods=n, freq="MS")), y


def _assert_combines_at(f, share: float) -> None:
    """``f.predict()`` is ``(1 - share)`` of the network's forecast and ``share`` of its partner's (the naive share,
    which moves all three alike, set aside); ``f`` is left as it was."""
    f.model_.naive_share = 0.0
    combined = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 0.0
    network = f.predict().to_numpy().ravel()
    f.model_.theta_weight = 1.0
    partner = f.predict().to_numpy().ravel()
    f.model_.theta_weight, f.model_.naive_share = share, f.frame_.naive_share
    np.testing.assert_allclose(combined, (1 - share) * network + share * partner, rtol=1e-5)


def test_a_long_coarse_series_gives_three_quarters_to_its_damped_partner(tmp_path):
    """``fit`` gives the damped partner :data:`COARSE_SHARE` of the forecast where the series is indexed weekly or
    coarser, the partner reads the network's window alone and the "auto" share is the default: 300 months of a
    season on a trend (a window of five seasons and more). Not the same rows indexed daily or unindexed, nor with
    the Theta partner, a fixed share or the missing-value mask (not a plain window model); ``predict`` combines
    with the share used, and the file keeps it."""
    from tsrec.estimators import BaseForecaster, LRUForecaster
    from tsrec.estimators.frame import AUTO_THETA_WEIGHT, COARSE_SHARE

    monthly, y = _season_on_trend(300)
    small = dict(horizon=12, d_model=8, n_layers=1, max_epochs=1, random_state=0)
    f = LRUForecaster(**small).fit(monthly)
    assert f.frame_.partner_rows == 0 and f.frame_.context >= 4 * 12
    assert f.frame_.theta_weight == f.model_.theta_weight == COARSE_SHARE
    _assert_combines_at(f, COARSE_SHARE)
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    assert g.frame_.theta_weight == g.model_.theta_weight == COARSE_SHARE
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())
    daily = monthly.set_axis(pd.date_range("1990-01-01", periods=300, freq="D"))
    for data, params in ((daily, {}), (y[:, None], {}), (monthly, dict(partner="theta")),
                         (monthly, dict(missing="mask"))):
        fitted = LRUForecaster(**small, **params).fit(data)
        assert fitted.frame_.theta_weight == AUTO_THETA_WEIGHT, params
    assert LRUForecaster(**small, theta_weight=0.5).fit(monthly).frame_.theta_weight == 0.5


def test_a_window_of_two_to_four_seasons_gives_its_damped_partner_the_coarse_share_too():
    """144 months of a season on a trend: a window of two to four seasons, whose damped partner reads the eight
    seasons before it (``partner_rows``), gets :data:`COARSE_SHARE` as a longer window does
    (``benchmarks/rules/2026-12-07_coarse_share_history.md``); ``predict`` combines with it. Indexed daily, the
    same rows keep the default share, and so do a panel of two such series and a weekly series of such windows (the
    rule judged monthly fits of one series)."""
    from tsrec.estimators import LRUForecaster
    from tsrec.estimators.frame import AUTO_THETA_WEIGHT, COARSE_SHARE

    monthly, _ = _season_on_trend(144)
    small = dict(horizon=12, d_model=8, n_layers=1, max_epochs=1, random_state=0)
    f = LRUForecaster(**small).fit(monthly)
    assert 2 * 12 + 2 <= f.frame_.context < 4 * 12 and f.frame_.partner_rows == 8 * 12
    assert f.frame_.theta_weight == f.model_.theta_weight == COARSE_SHARE
    _assert_combines_at(f, COARSE_SHARE)
    daily = monthly.set_axis(pd.date_range("1990-01-01", periods=144, freq="D"))
    assert LRUForecaster(**small).fit(daily).frame_.theta_weight == AUTO_THETA_WEIGHT
    panel = LRUForecaster(**small).fit([monthly, monthly * 2.0])  # a panel keeps the even share
    assert panel.frame_.partner_rows == 8 * 12 and panel.frame_.theta_weight == AUTO_THETA_WEIGHT
    t = np.arange(450)  # nine years of weeks: a window of two to four years, and eight before it
    weeks = 10 + 3 * np.sin(2 * np.pi * t / 52) + np.random.default_rng().normal(0, 1, 450)
    weekly = LRUForecaster(**small).fit(pd.DataFrame({"y": weeks}, index=pd.date_range("1990-01-07", periods=450,
                                                                                          freq="W-SUN")))
    assert 2 * 52 + 2 <= weekly.frame_.context < 4 * 52 and weekly.frame_.partner_rows == 8 * 52
    assert weekly.frame_.theta_weight == AUTO_THETA_WEIGHT


def test_a_short_monthly_or_quarterly_fit_gives_its_network_the_seasonal_skip():
    """``frame_.seasonal_skip`` (the network learns the change from seasonal naive) is set for a monthly or
    quarterly fit of fewer than 100 training windows with the "auto" share and ``skip_last`` whose rows' first
    differences show the season: not for a longer fit, rows without a season, another period, a pinned share or
    ``skip_last=False``; every window takes it (``skip_per_window=False``); the fitted model forecasts with it,
    and the same network without it forecasts otherwise."""
    from tsrec import LRUForecaster

    rng = np.random.default_rng(36)
    t = np.arange(360)
    y = 40 + 0.2 * t + 6 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, 360)
    small = dict(horizon=12, d_model=8, n_layers=1, max_epochs=1, random_state=0)

    def fitted(rows, freq, **kw):
        frame = pd.DataFrame({"y": y[:rows]}, index=pd.date_range("2001-01-01", periods=rows, freq=freq))
        return LRUForecaster(**{**small, **kw}).fit(frame)

    f = fitted(150, "MS")
    assert f.frame_.seasonal_skip is True and f.model_.seasonal_skip is True
    assert f.frame_.skip_per_window is False and f.model_.skip_per_window is False
    trend = pd.DataFrame({"y": 40 + 0.2 * t[:150] + rng.normal(0, 0.3, 150)},
                         index=pd.date_range("2001-01-01", periods=150, freq="MS"))
    assert LRUForecaster(**small).fit(trend).frame_.seasonal_skip is False
    quarterly = 10 + 0.1 * t[:80] + 3 * np.sin(np.pi * t[:80] / 2) + rng.normal(0, 0.5, 80)
    q = LRUForecaster(**{**small, "horizon": 8}).fit(
        pd.DataFrame({"y": quarterly}, index=pd.date_range("2001-01-01", periods=80, freq="QS")))
    assert q.frame_.period == 4 and q.frame_.seasonal_skip is True
    assert fitted(360, "MS").frame_.seasonal_skip is False  # (over 100 training windows)
    assert fitted(150, "D").frame_.seasonal_skip is False  # (period 7)
    assert fitted(150, "MS", theta_weight=0.5).frame_.seasonal_skip is False
    assert fitted(150, "MS", skip_last=False).frame_.seasonal_skip is False
    later = pd.DataFrame({"y": y[150:162]}, index=pd.date_range("2013-07-01", periods=12, freq="MS"))
    with_skip = f.rolling_forecasts(later)[0][0]
    f.model_.seasonal_skip = False
    assert not np.allclose(f.rolling_forecasts(later)[0][0], with_skip)
