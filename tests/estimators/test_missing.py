"""Gaps in an index and missing values: the gap check, ``missing="mask"`` and the weather file's index.

A gap (a missing stamp at the step an index has) raises at every entry point unless
``missing="mask"``, which fills it with rows of NaN; NaN targets are left out of the loss and
imputed in the model's input with a mask channel per target. Measured on ETTh1 OT with 13% of
the targets knocked out (random and in blocks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import tsrec
from tests._settings import make, missing_data
from tsrec.data import StandardScaler, full_grid, index_step, to_batch
from tsrec.datasets import load_weather
from tsrec.nn.lru import LRUModel
from tsrec.nn.missing import MaskedInput, carry_forward
from tsrec.training import TrainConfig, forecast_loss


@pytest.fixture(scope="module")
def daily(etth1):
    """ETTh1 OT as a daily series (725 days) with a DatetimeIndex."""
    return etth1[["OT"]].resample("D").mean()


def _knock_out(s: pd.DataFrame, seed: int = 0, share: float = 0.08, blocks: int = 14, block: int = 12):
    """``s`` with a ``share`` of its values NaN at random and ``blocks`` blocks of ``block`` rows NaN."""
    out = s.copy()
    rng = np.random.default_rng(seed)
    n = len(out)
    out.iloc[rng.choice(n, int(share * n), replace=False), 0] = np.nan
    for start in rng.choice(n - 2 * block, blocks, replace=False):
        out.iloc[start : start + block, 0] = np.nan
    return out


# ---------------------------------------------------------------- the gap check
def test_gap_raises_at_every_entry_point(daily):
    """10 missing days inside a daily series: fit, partial_fit (inside the rows and at the seam),
    predict(X=history) and score each raise, naming the stamps on either side and how to fill."""
    gappy = daily.drop(daily.index[300:310])
    with pytest.raises(ValueError, match=r"X has a gap: no row between 2017-04-26 00:00:00 and 2017-05-07.*"
                                         r"asfreq\('D'\).*missing='mask'"):
        make("LRUForecaster").fit(gappy)
    f = make("LRUForecaster").fit(daily.iloc[:400])
    with pytest.raises(ValueError, match="gap"):
        f.partial_fit(daily.iloc[400:450].drop(daily.index[420]))
    with pytest.raises(ValueError, match="gap"):
        f.partial_fit(daily.iloc[405:450])  # a gap at the seam
    with pytest.raises(ValueError, match="gap"):
        f.predict(gappy.iloc[250:350])
    with pytest.raises(ValueError, match="gap"):
        f.score(daily.iloc[400:450].drop(daily.index[420]))
    with pytest.raises(ValueError, match=r"X\[1\] has a gap"):  # a panel names the series
        make("LRUForecaster").fit([daily, gappy])
    long = pd.concat([daily.assign(unique_id="a"), gappy.assign(unique_id="b")]).rename_axis("ds").reset_index()
    with pytest.raises(ValueError, match=r"unique_id 'b'.*gap"):
        make("LRUForecaster").fit(long.rename(columns={"OT": "y"}))


def test_step_change_and_regular_calendars(daily):
    """A step changing from 1 to 2 days is a gap; calendar frequencies (months, business days) pass, and
    their gaps are found (a missing business day is a holiday, see the next test); an integer index is checked
    at its step."""
    idx = daily.index[:200].append(pd.date_range(daily.index[200], periods=100, freq="2D"))
    with pytest.raises(ValueError, match="has a gap.*steps by D"):
        to_batch(pd.DataFrame({"y": np.arange(300.0)}, index=idx))
    months = pd.DataFrame({"y": np.arange(48.0)}, index=pd.date_range("2000-01-01", periods=48, freq="MS"))
    bdays = pd.DataFrame({"y": np.arange(60.0)}, index=pd.bdate_range("2020-01-01", periods=60))
    for df in (months, bdays):
        to_batch(df.set_axis(pd.DatetimeIndex(list(df.index))))  # no freq attribute: inferred
        gappy = df.drop(df.index[20])
        assert index_step(gappy.index) == df.index.freq
        if df is bdays:
            assert len(to_batch(gappy).values[0]) == 59
            continue
        with pytest.raises(ValueError, match=f"no row between {df.index[19]} and {df.index[21]}"):
            to_batch(gappy)
    with pytest.raises(ValueError, match="no row between 4 and 10.*steps by 2"):
        to_batch(pd.DataFrame({"y": np.arange(7.0)}, index=[0, 2, 4, 10, 12, 14, 16]))
    with pytest.raises(ValueError, match="irregular"):
        to_batch(pd.DataFrame({"y": np.arange(6.0)}, index=[0, 2, 4, 6, 7, 9]))
    assert full_grid(daily.index) is None


def test_a_trading_calendar_skips_its_holidays(daily):
    """Closing prices on an exchange's trading days: business days less holidays, with no ``freq``. The missing
    weekdays are holidays, not gaps: the rows fit as consecutive business days (period 5), the forecast's stamps
    continue on business days from the last row, and a stream resumes after a holiday at the seam (``missing="mask"``
    adds no rows either; an overlap is still refused). A daily index's missing day is still a gap, and so
    are the weekends of business days with a Saturday among them (their step is then a day)."""
    holidays = pd.to_datetime(["2019-01-01", "2019-01-21", "2019-02-18", "2019-04-19", "2019-05-27", "2019-07-04",
                               "2019-09-02", "2019-11-28", "2019-12-25", "2020-01-01", "2020-01-20"])
    days = pd.bdate_range("2019-01-02", "2020-01-31").difference(holidays)
    y = daily["OT"].to_numpy()[: len(days)]
    trading = pd.DataFrame({"close": y}, index=pd.DatetimeIndex(list(days)))  # as read from a file: no freq
    assert trading.index.freq is None and pd.infer_freq(trading.index) is None
    cut = trading.index.get_loc(pd.Timestamp("2019-11-27")) + 1  # the stream resumes after Thanksgiving
    for missing in ("raise", "mask"):
        f = make("LRUForecaster", missing=missing).fit(trading.iloc[:cut])
        assert f.frame_.period == 5
        forecast = f.predict()
        assert list(forecast.index) == list(pd.bdate_range("2019-11-28", periods=f.horizon))
        assert np.isfinite(forecast.to_numpy()).all()
        f.partial_fit(trading.iloc[cut : cut + 20])
        assert f.predict().index[0] == trading.index[cut + 19] + pd.offsets.BDay()
    with pytest.raises(ValueError, match="overlap"):
        f.partial_fit(trading.iloc[cut + 10 : cut + 30])
    with pytest.raises(ValueError, match="gap"):
        make("LRUForecaster").fit(daily.drop(daily.index[100]))
    saturday = trading.index[:40].append(pd.DatetimeIndex(["2019-03-02"])).append(trading.index[41:60])
    with pytest.raises(ValueError, match="gap"):  # no business-day step then: daily, whose weekends are missing
        to_batch(pd.DataFrame({"y": np.arange(60.0)}, index=saturday))


def test_weather_file_index():
    """The weather file: the default index has a duplicated stamp (refused), and without it a 100-minute gap
    (named); ``consecutive=True`` gives the regular grid published results use, which passes."""
    try:
        raw = load_weather(download=False)
    except FileNotFoundError as e:
        missing_data(f"weather not found: {e}")
    with pytest.raises(ValueError, match="duplicated"):
        to_batch(raw[["OT"]])
    with pytest.raises(ValueError, match="no row between 2020-05-29 09:30:00 and 2020-05-29 11:10:00"):
        to_batch(raw[["OT"]][~raw.index.duplicated()])
    df = load_weather(download=False, consecutive=True)
    assert df.index.freqstr == "10min" and df.index[0] == raw.index[0] and len(df) == len(raw)
    assert df.index[-1] == pd.Timestamp("2020-12-31 22:40") and df.index.name == "date"
    np.testing.assert_array_equal(df.to_numpy(), raw.to_numpy())
    batch = to_batch(df[["OT"]])
    assert batch.meta[0].freq == "10min" and len(batch.values[0]) == len(df)


# ------------------------------------------------------- missing="mask": pieces
def test_scaler_ignores_nan(etth1):
    """The online statistics over chunks with NaN equal numpy's nan-aware ones over all rows."""
    x = etth1[["HUFL", "OT"]].to_numpy()[:1000].copy()
    rng = np.random.default_rng(1)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[100:300, 1] = np.nan
    s = StandardScaler(2)
    for chunk in np.array_split(x, 7):
        s.update(chunk)
    np.testing.assert_allclose(s.mean, np.nanmean(x, 0), rtol=1e-12)
    np.testing.assert_allclose(s.scale, np.nanstd(x, 0), rtol=1e-10)
    assert s.count == 1000 and (s.n_obs == (~np.isnan(x)).sum(0)).all()
    restored = StandardScaler.from_state(s.state())
    np.testing.assert_array_equal(restored.transform(x), s.transform(x))
    z = s.transform(x)
    assert np.isnan(z).sum() == np.isnan(x).sum()  # NaN stays NaN for the model to impute


def test_carry_forward_and_mask_channel():
    """Within a window: the last observation carried forward, else 0; the mask channel is 1 where observed.
    A stream model carries the last row in its state: stepping row by row equals one call."""
    nan = float("nan")
    x = torch.tensor([[[nan, 5.0], [1.0, nan], [nan, nan], [3.0, 2.0]]])
    np.testing.assert_array_equal(carry_forward(x)[0].numpy(), [[0, 5], [1, 5], [1, 5], [3, 2]])
    torch.manual_seed(0)
    inner = LRUModel(c_in=3, c_out=2, horizon=3, d_model=8, d_state=4, n_layers=1)
    model = MaskedInput(inner, c_in=2, n_targets=1).eval()
    seq = torch.randn(2, 30, 2)
    seq[0, 5:12, 0] = nan
    seq[1, :4] = nan
    seq[1, 20:, 1] = nan
    with torch.no_grad():
        full, state_full = model(seq)
        state, steps = model.init_state(2), []
        for t in range(30):
            y, state = model.step(seq[:, t], state)
            steps.append(y)
    torch.testing.assert_close(torch.stack(steps, 1), full, rtol=1e-5, atol=1e-5)
    for k in state_full:
        torch.testing.assert_close(state[k], state_full[k], rtol=1e-5, atol=1e-5)
    assert torch.isfinite(full).all()


def test_loss_of_all_nan_targets_is_zero_and_its_gradient_finite():
    yhat = torch.randn(4, 6, 2, requires_grad=True)
    target = torch.full((4, 6, 2), float("nan"))
    for loss_name in ("mse", "mae"):
        loss = forecast_loss(yhat, target, None, TrainConfig(loss=loss_name))
        loss.backward()
        assert loss.item() == 0.0 and torch.isfinite(yhat.grad).all()
    target[0, :, 0] = 1.0  # only the observed entries count
    loss = forecast_loss(yhat.detach(), target, None, TrainConfig(loss="mse"))
    torch.testing.assert_close(loss, ((yhat.detach()[0, :, 0] - 1) ** 2).mean())


# ------------------------------------------------------ missing="mask": models
@pytest.mark.parametrize("context", ["auto", None])
def test_mask_model_finite_through_fit_partial_fit_predict(small_frame, context):
    """A panel with NaN targets and covariates, a block of NaN longer than a window and a gap in the index:
    every loss, weight and forecast stays finite; partial_fit fills a seam gap; save/load gives it back."""
    a = small_frame.iloc[:400].copy()
    a.iloc[100:260, 2] = np.nan  # longer than the window and its horizon: all-NaN target windows
    a.iloc[::7, 0] = np.nan  # NaN covariates
    b = a.drop(a.index[50:55])  # a gap in the index: filled with NaN rows
    f = make("LRUForecaster", missing="mask", context=context, max_epochs=2).fit([a, b])
    assert np.isfinite(f.history_["loss"]).all() and np.isfinite(f.history_["val_loss"]).all()
    assert all(torch.isfinite(p).all() for p in f.model_.parameters())
    assert all(np.isfinite(p.to_numpy()).all() for p in f.predict())
    assert f.scaler_.n_obs[2] == (400 - 160) + (400 - 160 - 5)  # the NaN targets left out of the statistics
    nxt = small_frame.iloc[403:420].copy()  # 3 stamps missing at the seam
    nxt.iloc[2:5, 2] = np.nan
    f.partial_fit([nxt, nxt])
    buf = f._stream.buffers[0]
    assert len(buf) == f._keep and (context is None or np.isnan(buf[-20:-17]).all())
    assert f._stream.metas[0].last == small_frame.index[419]
    forecasts = f.predict()
    assert forecasts[0].index[0] == small_frame.index[420]
    assert all(np.isfinite(p.to_numpy()).all() for p in forecasts)
    assert all(torch.isfinite(p).all() for p in f.model_.parameters())
    history = small_frame.iloc[200:400].copy()
    history.iloc[-3:, 2] = np.nan  # the last targets missing: carried forward
    assert np.isfinite(f.predict(history).to_numpy()).all()


def test_mask_save_load_round_trip(small_frame, tmp_path):
    a = small_frame.iloc[:300].copy()
    a.iloc[-10:-2, 2] = np.nan  # NaN in the saved buffer
    f = make("S4Forecaster", missing="mask", context=None).fit(a)
    f.save(tmp_path / "m.safetensors")
    g = tsrec.S4Forecaster.load(tmp_path / "m.safetensors")
    assert g.missing == "mask" and np.isnan(g._stream.buffers[0]).any()
    pd.testing.assert_frame_equal(g.predict(), f.predict())
    nxt = small_frame.iloc[300:320]
    pd.testing.assert_frame_equal(g.partial_fit(nxt).predict(), f.partial_fit(nxt).predict())


def test_mask_forecasts_close_to_complete_data_on_etth1(etth1):
    """ETTh1 OT (3400 hourly rows, then 600 to forecast 24 steps ahead from every row) with 13% of the
    training targets knocked out, at random and in blocks of 12 hours: the mask model's MAE is within 15%
    of the model fitted on the complete rows, better than dropping the missing rows (the series then
    treated as consecutive), and far better than the seasonal naive forecast (see the report for the
    figures)."""
    y = etth1[["OT"]].iloc[-4000:]
    train, test = y.iloc[:3400], y.iloc[3400:]
    holed = _knock_out(train)
    assert 0.1 < holed["OT"].isna().mean() < 0.2
    # the network alone (theta_weight=0): what the mask channel gives, without a Theta share chosen on each
    # fit's own validation tail
    kw = dict(horizon=24, d_model=16, max_epochs=3, context=96, patch_len=24, stride=2, batch_size=64,
              theta_weight=0.0)

    def mae(f):
        pred, actual = f.rolling_forecasts(test)
        return float(np.nanmean(np.abs(pred[0] - actual[0])))

    complete = mae(make("LRUForecaster", **kw).fit(train))
    masked = mae(make("LRUForecaster", missing="mask", **kw).fit(holed))
    dropped = holed.dropna().set_axis(pd.date_range(end=train.index[-1], periods=int(holed.notna().sum().iloc[0]),
                                                    freq="h"))
    drop = mae(make("LRUForecaster", **kw).fit(dropped))
    full = y["OT"].to_numpy()
    origins = np.arange(len(train) - 1, len(y) - 1)
    snaive = np.nanmean([np.abs(full[o - 23 : o + 1][: len(full) - o - 1] - full[o + 1 : o + 25]).mean()
                         for o in origins])
    assert masked < 1.15 * complete, (masked, complete)
    assert masked < drop, (masked, drop)
    assert masked < 0.8 * snaive, (masked, snaive)


def test_mask_fills_integer_index_gaps_inside_and_at_the_seam(small_frame):
    """An integer index steps like a DatetimeIndex: under missing="mask" its gaps (inside the rows and at the
    seam of the stream) become rows of NaN, and the forecasts continue its numbering."""
    y = small_frame[["OT"]].iloc[:300].reset_index(drop=True).set_axis(np.arange(0, 600, 2))  # step 2
    f = make("LRUForecaster", missing="mask", max_epochs=1).fit(y.drop(y.index[100:104]))
    assert f._stream.metas[0].last == 598 and f._stream.metas[0].freq == 2
    nxt = small_frame[["OT"]].iloc[300:310].reset_index(drop=True).set_axis(np.arange(606, 626, 2))
    f.partial_fit(nxt, update_params=False)
    assert np.isnan(f._stream.buffers[0][-12:-10]).all() and not np.isnan(f._stream.buffers[0][-10:]).any()
    assert list(f.predict().index) == [626, 628, 630, 632]
    with pytest.raises(ValueError, match=r"starts at 606, expected 600 \(a gap.*missing='mask'"):
        make("LRUForecaster", max_epochs=1).fit(y).partial_fit(nxt)
