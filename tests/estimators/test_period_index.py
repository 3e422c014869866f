"""A series indexed by a ``PeriodIndex`` (what sktime's and statsmodels' loaders return): read as the periods'
start times, forecast and continued as periods, and kept as periods through save and load (format 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests._settings import NAMES, make
from tsrec.estimators import BaseForecaster


@pytest.fixture(scope="module")
def monthly_co2() -> pd.DataFrame:
    """Monthly means of the embedded weekly CO2 (528 months, 1958-2001), indexed by month-start stamps."""
    from tsrec.datasets import load_default

    return load_default().resample("MS").mean().iloc[1:]  # (the first month is partial)


@pytest.mark.parametrize("name", NAMES)
def test_periods_forecast_as_their_start_times_do(name, small_frame):
    """Fitted on hourly periods, every estimator forecasts what it forecasts from the same rows stamped by the
    periods' start times, bit for bit, indexed by the next periods; so do its intervals and the rows it streams."""
    periods = small_frame.to_period("h")
    f, g = make(name).fit(periods.iloc[:500]), make(name).fit(small_frame.iloc[:500])
    fp, gp = f.predict(), g.predict()
    assert isinstance(fp.index, pd.PeriodIndex) and fp.index.freqstr == "h"
    assert list(fp.index) == list(pd.period_range(periods.index[500], periods=4, freq="h"))
    np.testing.assert_array_equal(fp.to_numpy(), gp.to_numpy())
    assert (fp.index.to_timestamp() == gp.index).all()
    fi, gi = f.predict_interval(), g.predict_interval()
    assert isinstance(fi.index, pd.PeriodIndex)
    np.testing.assert_array_equal(fi.to_numpy(), gi.to_numpy())
    f.partial_fit(periods.iloc[500:540])
    g.partial_fit(small_frame.iloc[500:540])
    fp, gp = f.predict(), g.predict()
    assert fp.index[0] == periods.index[540] and isinstance(fp.index, pd.PeriodIndex)
    np.testing.assert_array_equal(fp.to_numpy(), gp.to_numpy())


@pytest.mark.parametrize("freq, stamps", [("M", "MS"), ("Q-DEC", "QS-JAN")])
def test_monthly_and_quarterly_periods_follow_on(freq, stamps, monthly_co2):
    """A monthly and a quarterly series of periods forecast the periods after their last; a continuation that
    skips a period is refused, naming the periods."""
    y = monthly_co2 if freq == "M" else monthly_co2.resample(stamps).mean().iloc[:-1]
    y = y.to_period(freq)
    f = make("S4Forecaster", horizon=6).fit(y.iloc[:-12])
    out = f.predict()
    assert list(out.index) == list(y.index[-12:-6]) and out.index.freqstr == y.index.freqstr
    assert np.isfinite(out.to_numpy()).all()
    before = out.to_numpy().copy()
    with pytest.raises(ValueError, match=f"starts at {y.index[-11]}, expected {y.index[-12]}"):
        f.partial_fit(y.iloc[-11:])
    np.testing.assert_array_equal(f.predict().to_numpy(), before)  # a failed call changes nothing
    f.partial_fit(y.iloc[-12:-6])
    assert list(f.predict().index) == list(y.index[-6:])


def test_periods_and_timestamps_do_not_mix(small_frame):
    """A series fitted on periods continues with periods, one fitted on timestamps with timestamps: the other
    kind is a clear ValueError that names both, and the model is unchanged."""
    periods = small_frame.to_period("h")
    f = make("LRUForecaster").fit(periods.iloc[:500])
    before = f.predict().to_numpy().copy()
    with pytest.raises(ValueError, match="DatetimeIndex but the fitted series has a PeriodIndex of h"):
        f.partial_fit(small_frame.iloc[500:520])
    g = make("LRUForecaster").fit(small_frame.iloc[:500])
    with pytest.raises(ValueError, match="PeriodIndex of h but the fitted series has a DatetimeIndex"):
        g.partial_fit(periods.iloc[500:520])
    np.testing.assert_array_equal(f.predict().to_numpy(), before)


def test_historical_forecasts_and_future_covariates_take_periods(monthly_co2):
    """``historical_forecasts`` labels its cutoffs and steps by periods; known-future covariates are given for
    the next periods (a DatetimeIndex there is refused, naming both kinds)."""
    y = monthly_co2.to_period("M")
    x = pd.DataFrame({"month": y.index.month.astype(float)}, index=y.index)
    f = make("LRUForecaster", horizon=3, future_covariates=("month",)).fit(x.iloc[:-24], y.iloc[:-24])
    out = f.historical_forecasts(x.iloc[-24:-12], y.iloc[-24:-12], stride=4)
    assert isinstance(out["cutoff"].dtype, pd.PeriodDtype) and isinstance(out["ds"].dtype, pd.PeriodDtype)
    assert list(out["cutoff"].unique()) == [y.index[-25], y.index[-21], y.index[-17]]
    first = out[out["cutoff"] == y.index[-25]]
    assert list(first["ds"]) == list(y.index[-24:-21])
    np.testing.assert_array_equal(first["y"].to_numpy(), y.iloc[-24:-21, 0].to_numpy())
    ahead = f.predict(X_future=x.iloc[-24:-21])
    assert list(ahead.index) == list(y.index[-24:-21])
    with pytest.raises(ValueError, match="X_future has a DatetimeIndex but the series has a PeriodIndex"):
        f.predict(X_future=x.iloc[-24:-21].to_timestamp())


def test_a_long_frame_of_periods(monthly_co2):
    """A long (unique_id, ds, y) frame whose ``ds`` holds periods forecasts periods per series."""
    y = monthly_co2["co2"].to_period("M")
    long = pd.concat([pd.DataFrame({"unique_id": uid, "ds": y.index[a:a + 200], "y": y.to_numpy()[a:a + 200]})
                      for uid, a in (("early", 0), ("late", 300))])
    out = make("S4Forecaster", horizon=4).fit(long).predict()
    assert list(out["unique_id"].unique()) == ["early", "late"]
    assert list(out.loc[out["unique_id"] == "late", "ds"]) == list(y.index[500:504])


def test_periods_survive_save_and_load(monthly_co2, tmp_path):
    """Format 17 keeps a series' period frequency: a loaded model forecasts the same periods and continues
    with periods."""
    y = monthly_co2.to_period("M")
    f = make("AarenForecaster", horizon=6).fit(y.iloc[:-12])
    f.save(tmp_path / "m.safetensors")
    g = BaseForecaster.load(tmp_path / "m.safetensors")
    pd.testing.assert_frame_equal(g.predict(), f.predict())
    g.partial_fit(y.iloc[-12:-6])
    assert list(g.predict().index) == list(y.index[-6:])


def test_a_missing_period_is_named_or_masked(monthly_co2):
    """A month missing from a series of periods is a ValueError naming that month and how to fill it; with
    ``missing="mask"`` the month becomes a row of NaN and the forecasts follow the last period."""
    months = monthly_co2.to_period("M")
    y = months.drop(months.index[[100, 101]])
    with pytest.raises(ValueError, match=rf"no row for the period {months.index[100]}; .*pd\.period_range"):
        make("LRUForecaster").fit(y)
    f = make("LRUForecaster", missing="mask").fit(y)
    assert list(f.predict().index) == list(pd.period_range(y.index[-1] + 1, periods=4, freq="M"))
    assert np.isfinite(f.predict().to_numpy()).all()
