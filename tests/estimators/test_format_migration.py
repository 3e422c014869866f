"""Files of earlier format versions keep loading: version-1 files written by tsrec 0.1.0 (main at 97e07ac) and
version-2 files written by main at dc64c65."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

import tsrec
from tsrec.estimators import FORMAT_VERSION, BaseForecaster

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format_v1"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def assert_as_recorded(got, recorded) -> None:
    """A forecast equals the one recorded when its fixture was written, up to float32 rounding: the recording
    ran on another CPU, and float32 kernels round differently across instruction sets (AVX-512 there, AVX2 on
    some CI machines: ~1e-7 seen), and issue 12 reordered some sums (batched panels, real GEMMs for the LRU).
    Within one process a loaded model's forecasts stay bit for bit (the save-again checks)."""
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(recorded, dtype=np.float64),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_version_1_files_load_and_forecast_as_they_did(name, tmp_path):
    f = BaseForecaster.load(FIXTURES / f"{name}.safetensors")
    assert type(f) is getattr(tsrec, name)
    # the hyperparameters version 1 lacked take the values that give its model back: dense, single rows
    assert (f.head, f.patch_len, f.instance_norm, f.channel_independent, f.lr_schedule) == (
        "dense", 1, False, False, "constant")
    assert f.context == EXPECTED[name]["context"] and f.frame_.context == f.context and not f.frame_.direct
    forecast = f.predict()
    assert isinstance(forecast, pd.DataFrame) and list(forecast.columns) == ["y"]
    assert_as_recorded(forecast.to_numpy().ravel(), EXPECTED[name]["predict"])
    # saved again, the file is of the current version and gives the same forecast
    f.save(tmp_path / "now.safetensors")
    g = BaseForecaster.load(tmp_path / "now.safetensors")
    assert FORMAT_VERSION == 30
    np.testing.assert_array_equal(g.predict().to_numpy(), forecast.to_numpy())
    # and it keeps streaming
    g.partial_fit(pd.DataFrame({"y": [0.1, 0.2], "x": [0.3, 0.4]},
                               index=pd.date_range(forecast.index[0], periods=2, freq="h"))[["x"]],
                  pd.DataFrame({"y": [0.1, 0.2]}, index=pd.date_range(forecast.index[0], periods=2, freq="h")))
    assert np.isfinite(g.predict().to_numpy()).all()


def test_a_damaged_or_contradicting_frame_is_refused(tmp_path, small_frame):
    """Version 2 saves the frame resolved at fit; one that does not match the hyperparameters, or is not a
    frame at all, is a clear ValueError (and loading builds nothing)."""
    from safetensors.torch import safe_open, save_file

    f = tsrec.S4Forecaster(horizon=12, d_model=8, d_state=4, n_layers=1, max_epochs=1, random_state=0,
                           device="cpu").fit(small_frame[["OT"]])  # (an automatic window of four days: 8 horizons)
    path = tmp_path / "s4.safetensors"
    f.save(path)
    with safe_open(str(path), framework="pt") as h:
        tensors, meta = {k: h.get_tensor(k) for k in h.keys()}, dict(h.metadata())
    fitted = json.loads(meta["fitted"])
    assert fitted["frame"] == {"context": f.frame_.context, "patch_len": f.frame_.patch_len, "direct": True,
                               "period": 24, "theta_weight": f.frame_.theta_weight, "one_season": False,
                               "estimated_rows": 20, "partner_rows": 0, "history_one_season": False,
                               "naive_blend": f.frame_.naive_blend, "history_blend": False,
                               "naive_share": f.frame_.naive_share, "naive_period": f.frame_.naive_period,
                               "horizon_errors": True,  # (an hourly index: daily or finer)
                               "seasonal_skip": False,  # (neither monthly nor quarterly)
                               "skip_per_window": False,
                               "ridge_share": f.frame_.ridge_share,
                               "tail_season": False,  # (hourly: not monthly or coarser)
                               "positive_differences": False}  # (no partner that reads the rows before)
    for change, message in (({"context": 7}, "patch_len"), ({"direct": False, "context": None}, "does not match"),
                            ({"patch_len": 0}, "patch_len"), ({"period": -1}, "period"), (None, "frame"),
                            ({"theta_weight": 1.5}, "theta_weight"), ({"theta_weight": "0.5"}, "theta_weight"),
                            ({"extra": 1}, "frame"), ({"one_season": 1}, "one_season"),
                            ({"one_season": True}, "one_season"),  # (its window holds two seasons or more)
                            ({"estimated_rows": -1}, "estimated_rows"), ({"estimated_rows": 2.5}, "estimated_rows"),
                            ({"partner_rows": -1}, "partner_rows"),
                            ({"partner_rows": 40}, "partner_rows"),  # (its window is seasonal and long)
                            ({"partner_rows": 192}, "partner_rows"),  # (its window holds four seasons)
                            ({"history_one_season": 1}, "history_one_season"),
                            ({"history_one_season": True}, "history_one_season"),  # (no partner_rows)
                            ({"naive_blend": 1}, "naive_blend"),
                            ({"history_blend": 1}, "history_blend"),
                            ({"history_blend": True}, "history_blend"),  # (no partner_rows)
                            ({"naive_blend": True, "period": None}, "naive_blend"),  # (no period)
                            ({"naive_share": 1.5}, "naive_share"), ({"naive_share": "0.2"}, "naive_share"),
                            ({"naive_share": True}, "naive_share"),
                            ({"naive_share": 0.2, "context": 12, "patch_len": 4}, "naive_share"),  # (< a season)
                            ({"naive_share": 0.5, "naive_period": 2}, "naive_period"),  # (only naive: 1)
                            ({"naive_share": 0.5, "naive_period": "1"}, "naive_period"),
                            ({"naive_share": 0.5, "naive_period": True}, "naive_period"),
                            ({"naive_share": 0.0, "naive_period": 1}, "naive_period"),  # (a period without a share)
                            ({"horizon_errors": 1}, "horizon_errors"),
                            ({"seasonal_skip": 1}, "seasonal_skip"),
                            ({"seasonal_skip": "True"}, "seasonal_skip"),
                            ({"skip_per_window": 1}, "skip_per_window"),
                            ({"tail_season": 1}, "tail_season"),
                            ({"tail_season": True}, "tail_season"),  # (no history partner)
                            ({"positive_differences": 1}, "positive_differences"),
                            ({"positive_differences": True}, "positive_differences"),  # (no history partner)
                            ({"skip_per_window": True}, "skip_per_window"),  # (no seasonal skip)
                            ({"ridge_share": 1.5}, "ridge_share"), ({"ridge_share": "0.25"}, "ridge_share"),
                            ({"ridge_share": 0.25}, "weights do not match"),  # (a share without its saved map)
                            ({"horizon_errors": True, "direct": False, "context": None}, "does not match")):
        bad = dict(fitted, frame=None if change is None else {**fitted["frame"], **change})
        out = tmp_path / "bad.safetensors"
        save_file(tensors, str(out), metadata={**meta, "fitted": json.dumps(bad)})
        with pytest.raises(ValueError, match=message):
            BaseForecaster.load(out)


V2 = Path(__file__).resolve().parents[1] / "fixtures" / "format_v2"
EXPECTED_V2 = json.loads((V2 / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED_V2))
def test_version_2_files_load_and_forecast_as_they_did(name, tmp_path):
    """Version-2 files written by main at dc64c65 (window and dense models, a quantile model, a long-frame
    panel, a replay buffer; each streamed before it was saved) load and forecast as they did (to float32
    rounding), also saved again."""
    f = BaseForecaster.load(V2 / f"{name}.safetensors")
    want = EXPECTED_V2[name]
    assert type(f) is getattr(tsrec, name)
    for k, v in want["params"].items():
        assert getattr(f, k) == v
    # what version 3 added takes the values that give a version-2 model back
    assert (f.ensemble_size, f.missing, f.scaling) == (1, "raise", "global")
    assert f.frame_.direct == (f.context != None)  # noqa: E711  (None: the dense model)

    def forecast(g):
        out = g.predict()
        return (out["y"] if "unique_id" in out.columns else out).to_numpy().ravel()

    assert_as_recorded(forecast(f), want["predict"])
    if "predict_quantiles" in want:
        assert_as_recorded(f.predict_quantiles().to_numpy().ravel(), want["predict_quantiles"])
    f.save(tmp_path / "again.safetensors")
    g = BaseForecaster.load(tmp_path / "again.safetensors")
    np.testing.assert_array_equal(forecast(g), forecast(f))


V3 = Path(__file__).resolve().parents[1] / "fixtures" / "format_v3"
EXPECTED_V3 = json.loads((V3 / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED_V3))
def test_version_3_files_load_and_forecast_as_they_did(name, tmp_path):
    """Version-3 files written by main at 96489b4 (each streamed after its fit) forecast as they did (to float32
    rounding), also saved again. Their stream models (the dense head, which ignored ``instance_norm`` then) load with
    ``instance_norm=False``; a window model keeps its RevIN."""
    f = BaseForecaster.load(V3 / f"{name}.safetensors")
    want = EXPECTED_V3[name]
    assert type(f) is getattr(tsrec, name.split("_")[0])
    assert f.instance_norm is (not want["dense"]) and f.frame_.direct is (not want["dense"])
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    f.save(tmp_path / "now.safetensors")
    g = BaseForecaster.load(tmp_path / "now.safetensors")
    assert g.instance_norm is f.instance_norm
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)


V4 = Path(__file__).resolve().parents[1] / "fixtures" / "format_v4"
EXPECTED_V4 = json.loads((V4 / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED_V4))
def test_version_4_files_load_and_forecast_as_they_did(name, tmp_path):
    """Version-4 files written by main at 23cd1cd (each streamed after its fit): stream models with the causal
    instance normalisation, window models with online gradient steps and with the online ridge correction. They
    forecast as they did (to float rounding: later speed-ups may reorder sums), keep their settings, forecast
    the same when saved again, and keep streaming."""
    f = BaseForecaster.load(V4 / f"{name}.safetensors")
    want = EXPECTED_V4[name]
    assert type(f) is getattr(tsrec, name.split("_")[0])
    assert f.instance_norm and f.frame_.direct is (not want["dense"]) and f.online_update == want["online_update"]
    assert f.linear_path == "dense"  # version 4 had only the dense path
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    assert_saved_again_and_streaming(f, forecast, np.sin(np.arange(240, 256) / 6), tmp_path)


def assert_saved_again_and_streaming(f, forecast, new_rows, tmp_path, start="2020-01-11"):
    """``f`` saved again forecasts ``forecast`` exactly, and streams on: ``new_rows`` (the 16 hourly rows after the
    fixture's, from ``start``) move its forecast, which stays finite."""
    f.save(tmp_path / "now.safetensors")
    g = BaseForecaster.load(tmp_path / "now.safetensors")
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)
    g.partial_fit(pd.DataFrame({"y": new_rows}, index=pd.date_range(start, periods=16, freq="h")))
    after = g.predict().to_numpy()
    assert np.isfinite(after).all() and not np.array_equal(after.ravel(), forecast)


V5 = Path(__file__).resolve().parents[1] / "fixtures" / "format_v5"
EXPECTED_V5 = json.loads((V5 / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED_V5))
def test_version_5_files_load_and_forecast_as_they_did(name, tmp_path):
    """Version-5 files written in session 7 (tests/fixtures/format_v5/make_v5.py, each streamed after its fit):
    window models with the period-sparse linear path and with none. They keep their path, have no Theta
    combination (version 6 added it), forecast as they did
    (to float rounding), forecast the same when saved again, and keep streaming."""
    f = BaseForecaster.load(V5 / f"{name}.safetensors")
    want = EXPECTED_V5[name]
    assert type(f) is getattr(tsrec, name.split("_")[0]) and f.linear_path == want["linear_path"]
    assert f.theta_weight == 0.0 and f.model_.theta_weight == 0.0  # version 5 had no Theta combination
    if want["linear_path"] == "sparse":  # 48-row window, hourly period 24: a 2 x 2 map over the 24 phases
        assert f.model_.linear.period == 24 and f.model_.linear.weight.shape == (2, 2)
    else:
        assert f.model_.linear is None
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    assert_saved_again_and_streaming(f, forecast, np.sin(2 * np.pi * np.arange(240, 256) / 24), tmp_path)


V6 = Path(__file__).resolve().parents[1] / "fixtures" / "format_v6"
EXPECTED_V6 = json.loads((V6 / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED_V6))
def test_version_6_files_load_and_forecast_as_they_did(name, tmp_path):
    """Version-6 files written in session 12 (tests/fixtures/format_v6/make_v6.py, each streamed after its fit):
    a window model whose "auto" Theta share was chosen on its validation tail (0 there), and a set share with
    quantiles. They keep the share they were saved with and the Theta partner (version 7 added ``partner``),
    forecast as they did (to float rounding), forecast the same when saved again, and keep streaming."""
    f = BaseForecaster.load(V6 / f"{name}.safetensors")
    want = EXPECTED_V6[name]
    assert type(f) is getattr(tsrec, name.split("_")[0]) and f.theta_weight == want["theta_weight"]
    assert f.frame_.theta_weight == want["frame_theta_weight"] == f.model_.theta_weight
    assert f.partner == "theta" == f.model_.partner  # version 7 added the partner; before it, Theta
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    t = np.arange(624, 640)
    assert_saved_again_and_streaming(f, forecast, np.sin(2 * np.pi * t / 24) + 0.002 * t, tmp_path,
                                     start="2020-01-27")


V7 = Path(__file__).resolve().parents[1] / "fixtures" / "format_v7"
EXPECTED_V7 = json.loads((V7 / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED_V7))
def test_version_7_files_load_and_forecast_as_they_did(name, tmp_path):
    """Version-7 files written in session 14 (tests/fixtures/format_v7/make_v7.py, each streamed after its fit):
    window models with damped Holt as their partner, an "auto" share chosen on the validation tail and a set
    share with quantiles. They keep partner and share, forecast as they did (to float rounding), forecast the
    same when saved again, and keep streaming."""
    f = BaseForecaster.load(V7 / f"{name}.safetensors")
    want = EXPECTED_V7[name]
    assert type(f) is getattr(tsrec, name.split("_")[0]) and f.theta_weight == want["theta_weight"]
    assert f.partner == want["partner"] == f.model_.partner
    assert f.frame_.theta_weight == want["frame_theta_weight"] == f.model_.theta_weight
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    t = np.arange(624, 640)
    assert_saved_again_and_streaming(f, forecast, np.sin(2 * np.pi * t / 24) + 0.002 * t, tmp_path,
                                     start="2020-01-27")


EXPECTED_V7_SHORT = json.loads((V7 / "expected_short_window.json").read_text())


def test_a_version_7_window_of_one_season_keeps_its_partner(tmp_path):
    """A version-7 file whose window holds one season of its period but not two (written in session 16 before
    format 8, tests/fixtures/format_v7/make_v7_short_window.py): format 8 would give such a fit the partner that
    removes one season; the file loads with the partner it had and forecasts as it did, saved again too."""
    name = "LRUForecaster_short_window"
    f = BaseForecaster.load(V7 / f"{name}.safetensors")
    want = EXPECTED_V7_SHORT[name]
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight) == (want["context"], want["period"],
                                                                          want["frame_theta_weight"])
    assert f.frame_.one_season is False and f.model_.one_season is False
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    f.save(tmp_path / "again.safetensors")
    g = BaseForecaster.load(tmp_path / "again.safetensors")
    assert g.frame_.one_season is False
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)


V8 = Path(__file__).resolve().parents[1] / "fixtures" / "format_v8"
EXPECTED_V8_SHORT = json.loads((V8 / "expected_short_window.json").read_text())


def test_a_version_8_short_window_keeps_its_damped_grid(tmp_path):
    """A version-8 file of a yearly series with a 12-row window and the damped partner (written in session 17
    before format 9, tests/fixtures/format_v8/make_v8_short_window.py): format 9 fits such windows' partner as
    statsmodels does; the file loads with the grid it had (``estimated_rows=0``) and forecasts as it did, saved
    again too. With the new partner the forecast would differ."""
    name = "LRUForecaster_short_window"
    f = BaseForecaster.load(V8 / f"{name}.safetensors")
    want = EXPECTED_V8_SHORT[name]
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight, f.partner) == (
        want["context"], want["period"], want["frame_theta_weight"], want["partner"])
    assert f.frame_.estimated_rows == 0 and f.model_.estimated_rows == 0
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    f.save(tmp_path / "again.safetensors")
    g = BaseForecaster.load(tmp_path / "again.safetensors")
    assert g.frame_.estimated_rows == 0
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)
    g.model_.estimated_rows = 20
    assert np.abs(g.predict().to_numpy().ravel() - forecast).max() > 1e-3


FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"
PARTNER_ON_THE_WINDOW = {  # file: (its expectations, its frequency)
    "format_v9/LRUForecaster_partner_rows": ("format_v9/expected_partner_rows.json", "YS"),
    "format_v10/LRUForecaster_season_rows": ("format_v10/expected_season_rows.json", "MS"),
}


@pytest.mark.parametrize("name", sorted(PARTNER_ON_THE_WINDOW))
def test_a_short_window_of_an_earlier_version_keeps_its_partner_on_the_window(name, tmp_path):
    """A version-9 file of a yearly series with a 12-row window and the damped partner (written in session 18
    before format 10, tests/fixtures/format_v9/make_v9_partner_rows.py): format 10 lets such a partner read the
    40 rows before each origin. A version-10 file of a monthly series with an 8-row window, shorter than two
    seasons (session 19, before format 11, tests/fixtures/format_v10/make_v10_season_rows.py): format 11 lets
    that partner read the 8 seasons before each origin. Each file loads with the partner on the window
    (``partner_rows=0``), the share it had and its buffers, forecasts as it did, saved again too, and keeps
    streaming with those buffers."""
    expected, freq = PARTNER_ON_THE_WINDOW[name]
    f = BaseForecaster.load(FIXTURES_DIR / f"{name}.safetensors")
    want = json.loads((FIXTURES_DIR / expected).read_text())[name.split("/")[1]]
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight, f.partner) == (
        want["context"], want["period"], want["frame_theta_weight"], want["partner"])
    assert f.frame_.partner_rows == 0 and f.model_.partner_rows == 0 and f.frame_.estimated_rows == 20
    assert len(f._stream.buffers[0]) == f.frame_.context + f.horizon
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    f.save(tmp_path / "again.safetensors")
    g = BaseForecaster.load(tmp_path / "again.safetensors")
    assert g.frame_.partner_rows == 0
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)
    index = pd.date_range(f.predict().index[0], periods=3, freq=freq)
    g.partial_fit(pd.DataFrame({"y": forecast[:3]}, index=index))
    assert np.isfinite(g.predict().to_numpy()).all() and len(g._stream.buffers[0]) == f.frame_.context + f.horizon


def test_a_version_11_file_keeps_forecasting_one_season_of_history_without_the_season(tmp_path):
    """A version-11 file of an hourly series with a daily cycle and an 8-row window, whose damped partner reads the
    days before each origin, streamed to 43 rows: more than one day, fewer than two (session 20, before format 12,
    tests/fixtures/format_v11/make_v11_history_one_season.py). Format 12 lets that partner forecast such rows less
    their one season; the file loads with ``history_one_season=False``, forecasts as it did, saved again too, and
    keeps streaming. The flag is what decides: set, the same model forecasts otherwise."""
    name = "format_v11/LRUForecaster_history_one_season"
    f = BaseForecaster.load(FIXTURES_DIR / f"{name}.safetensors")
    want = json.loads((FIXTURES_DIR / "format_v11/expected_history_one_season.json").read_text())[name.split("/")[1]]
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight, f.frame_.partner_rows) == (
        want["context"], want["period"], want["frame_theta_weight"], want["partner_rows"])
    assert not f.frame_.history_one_season and not f.model_.history_one_season
    assert len(f._stream.buffers[0]) == 43
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    f.save(tmp_path / "again.safetensors")
    g = BaseForecaster.load(tmp_path / "again.safetensors")
    assert not g.frame_.history_one_season
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)
    g.model_.history_one_season = True
    assert np.abs(g.predict().to_numpy().ravel() - forecast).max() > 0.1
    index = pd.date_range(f.predict().index[0], periods=3, freq="h")
    f.partial_fit(pd.DataFrame({"y": forecast[:3]}, index=index))
    assert np.isfinite(f.predict().to_numpy()).all() and len(f._stream.buffers[0]) == 46


def _fixture_and_record(name: str, expected: str) -> tuple[BaseForecaster, dict]:
    """The forecaster saved as ``fixtures/<name>.safetensors`` and its record in ``fixtures/<expected>``."""
    f = BaseForecaster.load(FIXTURES_DIR / f"{name}.safetensors")
    return f, json.loads((FIXTURES_DIR / expected).read_text())[name.split("/")[1]]


def _saved_again(f: BaseForecaster, forecast: np.ndarray, tmp_path) -> BaseForecaster:
    """``f`` saved in the current format and loaded: it forecasts ``forecast`` exactly."""
    f.save(tmp_path / "again.safetensors")
    g = BaseForecaster.load(tmp_path / "again.safetensors")
    np.testing.assert_array_equal(g.predict().to_numpy().ravel(), forecast)
    return g


def _keeps_streaming(f: BaseForecaster, forecast: np.ndarray, column: str = "y", freq: str = "h") -> None:
    """``f`` (indexed at ``freq``, its target ``column``) learns three more rows and still forecasts finite
    values."""
    index = pd.date_range(f.predict().index[0], periods=3, freq=freq)
    f.partial_fit(pd.DataFrame({column: forecast[:3]}, index=index))
    assert np.isfinite(f.predict().to_numpy()).all()


def test_a_version_12_file_keeps_the_damped_partner_alone_on_a_long_seasonal_window(tmp_path):
    """A version-12 file of an hourly series whose daily cycle doubled in its last days, with a 120-row window (five
    days; its differences show the daily cycle), streamed 4 rows past its fit (session 21, before format 13,
    tests/fixtures/format_v12/make_v12_naive_blend.py). Format 13 blends the damped partner of such a window with
    seasonal naive where that forecast the window's last rows better; the file loads with ``naive_blend=False``,
    forecasts as it did, saved again too, and keeps streaming. The flag is what decides: set, the same model
    forecasts otherwise."""
    f, want = _fixture_and_record("format_v12/LRUForecaster_naive_blend", "format_v12/expected_naive_blend.json")
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight) == (
        want["context"], want["period"], want["frame_theta_weight"])
    assert not f.frame_.naive_blend and not f.model_.naive_blend
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert not g.frame_.naive_blend
    g.model_.naive_blend = True
    assert np.abs(g.predict().to_numpy().ravel() - forecast).max() > 0.1
    _keeps_streaming(f, forecast)


def test_a_version_13_file_keeps_the_partner_on_a_window_of_three_seasons(tmp_path):
    """A version-13 file of an hourly series with a 72-row window (three days: two seasons and more, fewer than
    four), streamed 4 rows past its fit (session 22, before format 14,
    tests/fixtures/format_v13/make_v13_history_four_seasons.py). Format 14 gives such a window's damped partner the
    eight seasons of rows before each origin; the file loads with the partner on its window (``partner_rows=0``),
    forecasts as it did, saved again too, and keeps streaming, while the same fit today reads 192 rows at the
    window's own share."""
    f, want = _fixture_and_record("format_v13/LRUForecaster_three_seasons", "format_v13/expected_three_seasons.json")
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight, f.frame_.partner_rows) == (
        want["context"], want["period"], want["frame_theta_weight"], 0)
    assert f.model_.partner_rows == 0
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.frame_.partner_rows == 0
    _keeps_streaming(f, forecast)
    rng = np.random.default_rng(13)  # the fixture's rows
    t = np.arange(400)
    y = pd.DataFrame({"y": 20 + 0.01 * t + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, 400)},
                     index=pd.date_range("2001-01-01", periods=400, freq="h"))
    now = tsrec.LRUForecaster(horizon=6, context=72, d_model=8, n_layers=1, max_epochs=1, batch_size=16,
                              random_state=0, device="cpu").fit(y.iloc[:396])
    assert (now.frame_.partner_rows, now.frame_.theta_weight) == (8 * 24, 0.5)


def test_a_version_14_file_keeps_the_history_partner_unblended(tmp_path):
    """A version-14 file of an hourly series whose daily cycle doubled in its last days, with a one-day window whose
    partner reads the eight days before each origin, streamed 4 rows past its fit (session 22, before format 15,
    tests/fixtures/format_v14/make_v14_history_blend.py). Format 15 blends that partner with seasonal naive where
    that forecast the rows' last values better; the file loads with ``history_blend=False``, forecasts as it did,
    saved again too, and keeps streaming. The flag is what decides: set, the same model forecasts otherwise."""
    f, want = _fixture_and_record("format_v14/LRUForecaster_history", "format_v14/expected_history.json")
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight, f.frame_.partner_rows) == (
        want["context"], want["period"], want["frame_theta_weight"], want["partner_rows"])
    assert not f.frame_.history_blend and not f.model_.history_blend
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert not g.frame_.history_blend
    g.model_.history_blend = True
    assert np.abs(g.predict().to_numpy().ravel() - forecast).max() > 0.1
    _keeps_streaming(f, forecast)


def test_a_version_15_file_keeps_its_ridge_correction_without_the_blend(tmp_path):
    """A version-15 file of a window model with ``online_update="ridge"``, streamed 48 rows past its fit in three
    updating calls (session 24, before format 16, tests/fixtures/format_v15/make_v15_ridge.py). Format 16 added
    ``persistence_blend``; the file loads without it (None, no blend buffers), forecasts as it did, saved again
    too, and its correction keeps updating."""
    f, want = _fixture_and_record("format_v15/LRUForecaster_ridge", "format_v15/expected_ridge.json")
    assert f.persistence_blend is None and f.model_.blend_half_life is None
    assert "blend_errors" not in f.model_.state_dict() and float(f.model_.total) == want["total"]
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.persistence_blend is None
    index = pd.date_range(f.predict().index[0], periods=16, freq="h")
    rows = pd.DataFrame(f.predict().to_numpy()[:1].repeat(16, axis=0), columns=["a", "b"], index=index)
    f.partial_fit(rows)
    assert float(f.model_.total) != want["total"] and np.isfinite(f.predict().to_numpy()).all()


def test_a_version_16_file_loads_with_timestamps(tmp_path):
    """A version-16 file of a monthly series with month-start stamps, streamed 12 rows past its fit (session 28,
    before format 17, tests/fixtures/format_v16/make_v16_monthly.py). Format 17 added each series' ``period``
    (the frequency of a PeriodIndex); the file loads with none, forecasting as it did on the timestamps it had,
    saved again too, and it keeps streaming on timestamps."""
    f, want = _fixture_and_record("format_v16/S4Forecaster_monthly", "format_v16/expected_monthly.json")
    assert [m.period for m in f._stream.metas] == [None]
    forecast = f.predict()
    assert isinstance(forecast.index, pd.DatetimeIndex) and [str(s) for s in forecast.index] == want["index"]
    assert_as_recorded(forecast.to_numpy().ravel(), want["predict"])
    g = _saved_again(f, forecast.to_numpy().ravel(), tmp_path)
    assert [m.period for m in g._stream.metas] == [None]
    g.partial_fit(pd.DataFrame({"sales": forecast.to_numpy()[:3, 0]}, index=forecast.index[:3]))
    assert g.predict().index[0] == forecast.index[3] and np.isfinite(g.predict().to_numpy()).all()


def test_a_version_17_file_loads_without_the_seasonal_naive_share(tmp_path):
    """A version-17 file of a noisy hourly series, streamed 4 rows past its fit (session 29, before format 18,
    tests/fixtures/format_v17/make_v17_naive_share.py). Format 18 moves such a fit's forecast a share of the way to
    seasonal naive where its validation windows ask for it; the file loads without it (``naive_share=0.0``),
    forecasts as it did, saved again too, and keeps streaming, while the same fit today takes 0.2. The share is
    what decides: set, the same model forecasts otherwise."""
    f, want = _fixture_and_record("format_v17/LRUForecaster_hourly", "format_v17/expected_hourly.json")
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight) == (
        want["context"], want["period"], want["frame_theta_weight"])
    assert f.frame_.naive_share == 0.0 and f.model_.naive_share == 0.0
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.frame_.naive_share == 0.0
    g.model_.naive_share = 0.2
    assert np.abs(g.predict().to_numpy().ravel() - forecast).max() > 0.01
    index = pd.date_range(f.predict().index[0], periods=3, freq="h")
    f.partial_fit(pd.DataFrame({"load": forecast[:3]}, index=index))
    assert f.frame_.naive_share == 0.0 and np.isfinite(f.predict().to_numpy()).all()
    rng = np.random.default_rng(17)  # the fixture's rows
    t = np.arange(400)
    y = pd.DataFrame({"load": 10 + 2 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1.5, 400)},
                     index=pd.date_range("2001-01-01", periods=400, freq="h"))
    now = tsrec.LRUForecaster(horizon=6, d_model=8, n_layers=1, max_epochs=2, random_state=0,
                              device="cpu").fit(y.iloc[:396])
    assert now.frame_.naive_share == 0.2 and now.model_.naive_share == 0.2


def test_a_version_18_file_loads_without_the_naive_share(tmp_path):
    """A version-18 file of a daily random walk, streamed 4 rows past its fit (session 30, before format 19,
    tests/fixtures/format_v18/make_v18_last_share.py). Format 19 moves such a fit's forecast half of the way to
    naive (the last value) where its validation windows ask for it; the file loads without it (``naive_share=0.0``,
    ``naive_period=None``), forecasts as it did, saved again too, and keeps streaming, while the same fit today
    takes the share. The share is what decides: set, the same model forecasts otherwise."""
    f, want = _fixture_and_record("format_v18/LRUForecaster_daily", "format_v18/expected_daily.json")
    assert (f.frame_.context, f.frame_.period, f.frame_.theta_weight) == (
        want["context"], want["period"], want["frame_theta_weight"])
    assert (f.frame_.naive_share, f.frame_.naive_period) == (0.0, None) and f.model_.naive_share == 0.0
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert (g.frame_.naive_share, g.frame_.naive_period) == (0.0, None)
    g.model_.naive_share, g.model_.naive_period = 0.5, 1
    assert np.abs(g.predict().to_numpy().ravel() - forecast).max() > 0.01
    index = pd.date_range(f.predict().index[0], periods=3, freq="D")
    f.partial_fit(pd.DataFrame({"rate": forecast[:3]}, index=index))
    assert f.frame_.naive_share == 0.0 and np.isfinite(f.predict().to_numpy()).all()
    rng = np.random.default_rng(18)  # the fixture's rows
    y = pd.DataFrame({"rate": 100 + rng.normal(0, 1, 600).cumsum()},
                     index=pd.date_range("2001-01-01", periods=600, freq="D"))
    now = tsrec.LRUForecaster(horizon=7, d_model=8, n_layers=1, max_epochs=2, random_state=0,
                              device="cpu").fit(y.iloc[:596])
    assert (now.frame_.naive_share, now.frame_.naive_period) == (0.5, 1)


def test_a_version_19_file_loads_with_the_training_it_had(tmp_path):
    """A version-19 file of a noisy seasonal weekly series, streamed 4 rows past its fit (session 32, before
    format 20, tests/fixtures/format_v19/make_v19_weight_average.py). Format 20 added the hyperparameter
    ``weight_average``; the file loads with ``weight_average=False`` (how it was fitted: the last step's weights
    of the best epoch), forecasts as it did, saved again too, and keeps streaming; its clone refits with the
    same setting, and with the average set the same fit keeps other weights."""
    f, want = _fixture_and_record("format_v19/LRUForecaster_weekly", "format_v19/expected_weekly.json")
    assert f.weight_average is False and f.frame_.context == want["context"]
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.weight_average is False
    rng = np.random.default_rng(19)  # the fixture's rows
    t = np.arange(300)
    y = pd.DataFrame({"sales": 50 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 1, 300)},
                     index=pd.date_range("2001-01-07", periods=300, freq="W"))
    f.partial_fit(y.iloc[-4:].set_axis(pd.date_range(f.predict().index[0], periods=4, freq="W")))
    assert np.isfinite(f.predict().to_numpy()).all()
    plain = clone(g).fit(y.iloc[:296])
    averaged = clone(g).set_params(weight_average=True).fit(y.iloc[:296])
    assert plain.weight_average is False and averaged.weight_average is True
    diff = max(float((a - b).abs().max()) for a, b in zip(plain.model_.state_dict().values(),
                                                           averaged.model_.state_dict().values()))
    assert diff > 1e-4


def test_a_version_20_file_keeps_the_partner_chosen_by_one_step_errors(tmp_path):
    """A version-20 file of an hourly series whose daily cycle rides on a level that fell in its last hours,
    streamed 4 rows past its fit (session 33, before format 21, tests/fixtures/format_v20/make_v20_horizon_errors.py).
    Format 21 chooses the damped partner of a series indexed daily or finer by its errors a horizon ahead as well;
    the file loads with ``horizon_errors=False`` (the partner it had), forecasts as it did, saved again too, and
    keeps streaming; its clone refits with the partner of today."""
    f, want = _fixture_and_record("format_v20/LRUForecaster_hourly", "format_v20/expected_hourly.json")
    assert f.frame_.horizon_errors is False and f.model_.horizon_errors is False
    assert (f.frame_.context, f.frame_.theta_weight) == (want["context"], want["theta_weight"])
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.frame_.horizon_errors is False
    _keeps_streaming(g, forecast, "temp")
    rng = np.random.default_rng(20)  # the fixture's rows
    t = np.arange(264)
    y = 15 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, 264).cumsum() * 0.3
    y[-30:] -= np.linspace(0, 4, 30)
    rows = pd.DataFrame({"temp": y}, index=pd.date_range("2001-03-01", periods=264, freq="h"))
    now = clone(f).fit(rows.iloc[:260])
    assert now.frame_.horizon_errors is True and now.model_.horizon_errors is True


def test_a_version_21_file_keeps_the_last_value_as_its_networks_skip(tmp_path):
    """A version-21 file of a short monthly series with a trend and a strong season, streamed 4 rows past its fit
    (session 36, before format 22, tests/fixtures/format_v21/make_v21_seasonal_skip.py). Format 22 gives such a
    short fit's network the seasonal naive skip; the file loads with ``seasonal_skip=False`` (the last value, as
    it was trained), forecasts as it did, saved again too, and keeps streaming; its clone refits with the skip of
    today."""
    f, want = _fixture_and_record("format_v21/LRUForecaster_monthly", "format_v21/expected_monthly.json")
    assert f.frame_.seasonal_skip is False and f.model_.seasonal_skip is False
    assert (f.frame_.context, f.frame_.theta_weight) == (want["context"], want["theta_weight"])
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.frame_.seasonal_skip is False
    _keeps_streaming(g, forecast, "sales", "MS")
    rng = np.random.default_rng(21)  # the fixture's rows
    t = np.arange(108)
    y = 40 + 0.2 * t + 6 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 108)
    rows = pd.DataFrame({"sales": y}, index=pd.date_range("2001-01-01", periods=108, freq="MS"))
    now = clone(f).fit(rows.iloc[:104])
    assert now.frame_.seasonal_skip is True and now.model_.seasonal_skip is True


def test_a_version_22_file_keeps_its_seasonal_skip_per_window(tmp_path):
    """A version-22 file of a short monthly series whose season fades in its last rows, streamed 4 rows past its
    fit (session 37, before format 23, tests/fixtures/format_v22/make_v22_skip_per_window.py): its network took the
    seasonal skip per window, and its last window does not show the season. Format 23 decides the skip once per
    fit; the file loads with ``skip_per_window=True`` (as it was trained), forecasts as it did, which the skip of
    every window would not, saved again too, and keeps streaming; its clone refits with the skip of today."""
    f, want = _fixture_and_record("format_v22/LRUForecaster_monthly", "format_v22/expected_monthly.json")
    assert f.frame_.seasonal_skip is True and f.frame_.skip_per_window is True and f.model_.skip_per_window is True
    assert (f.frame_.context, f.frame_.theta_weight) == (want["context"], want["theta_weight"])
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    f.model_.skip_per_window = False  # (the fixture tells the two apart)
    assert np.abs(f.predict().to_numpy().ravel() - forecast).max() > 0.1
    f.model_.skip_per_window = True
    g = _saved_again(f, forecast, tmp_path)
    assert g.frame_.skip_per_window is True
    _keeps_streaming(g, forecast, "sales", "MS")
    rng = np.random.default_rng(22)  # the fixture's rows
    t = np.arange(108)
    y = 40 + 0.2 * t + 6 * np.clip((108 - t) / 36, 0, 1) * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 108)
    rows = pd.DataFrame({"sales": y}, index=pd.date_range("2001-01-01", periods=108, freq="MS"))
    now = clone(f).fit(rows.iloc[:104])
    assert now.frame_.seasonal_skip is True and now.frame_.skip_per_window is False
    assert now.model_.skip_per_window is False


def test_a_version_23_file_loads_without_start_padding(tmp_path):
    """A version-23 file of a two-series yearly panel with a fixed context of 8, streamed 2 rows past its fit
    (session 39, before format 24, tests/fixtures/format_v23/make_v23_panel.py). Format 24 added the
    hyperparameter ``start_padding``; the file loads with it False (its fit needed ``context + horizon`` rows in
    every series), forecasts as it did, saved again too, and keeps streaming."""
    f, want = _fixture_and_record("format_v23/LRUForecaster_panel", "format_v23/expected_panel.json")
    assert f.start_padding is False and f.get_params()["start_padding"] is False
    assert (f.frame_.context, f.frame_.theta_weight) == (want["context"], want["theta_weight"])
    forecasts = f.predict()
    for got, recorded in zip(forecasts, want["predict"], strict=True):
        assert_as_recorded(got.to_numpy().ravel(), recorded)
    f.save(tmp_path / "again.safetensors")
    g = BaseForecaster.load(tmp_path / "again.safetensors")
    assert g.start_padding is False
    for a, b in zip(g.predict(), forecasts, strict=True):
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    g.partial_fit([pd.DataFrame({"value": p.to_numpy().ravel()[:2]},
                                index=pd.date_range(p.index[0], periods=2, freq="YS")) for p in forecasts])
    assert all(np.isfinite(p.to_numpy()).all() for p in g.predict())
    with pytest.raises(ValueError, match="too few rows: a history has 5"):  # as it was: no padded fit
        g.predict(X=pd.DataFrame({"value": np.arange(5.0)}, index=pd.date_range("1990", periods=5, freq="YS")))


def _hourly_fixture_rows() -> pd.DataFrame:
    """The 1,203 hourly rows of the version-24 and version-25 fixtures (their scripts' ``rows()``)."""
    rng = np.random.default_rng(24)
    t = np.arange(1203)
    y = 20 + 0.002 * t + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, 1203).cumsum() * 0.2 \
        + rng.normal(0, 0.5, 1203)
    return pd.DataFrame({"load": y}, index=pd.date_range("2020-01-01", periods=1203, freq="h"))


def test_a_version_24_file_loads_without_the_ridge_partner(tmp_path):
    """A version-24 file of one long hourly series with a fixed context of 48, streamed 3 rows past its fit
    (session 45, before format 25, tests/fixtures/format_v24/make_v24_hourly.py). Format 25 may add a ridge
    partner to such a fit; the file loads without one (``ridge_share=0.0``, no ridge buffers), forecasts as it
    did, saved again too, and keeps streaming; its clone refits with the partner's share chosen on its tail."""
    f, want = _fixture_and_record("format_v24/LRUForecaster_hourly", "format_v24/expected_hourly.json")
    assert f.frame_.ridge_share == 0.0 and f.model_.ridge_share == 0.0 and f.model_.ridge_weight is None
    assert (f.frame_.context, f.frame_.theta_weight) == (want["context"], want["theta_weight"])
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.frame_.ridge_share == 0.0
    _keeps_streaming(g, forecast, "load", "h")
    rows = _hourly_fixture_rows()
    now = clone(f).fit(rows.iloc[:-3])
    assert now.frame_.ridge_share > 0 and now.model_.ridge_weight.shape == (48, 6)


def test_a_version_25_file_keeps_its_ridge_map_fixed_through_a_stream(tmp_path):
    """A version-25 file of one long hourly series whose fit took the ridge partner, saved as its map alone
    (session 46, before format 26, tests/fixtures/format_v25/make_v25_hourly.py). It loads with that map and share
    and no sums, forecasts as it did, saved again too; an updating stream leaves the map as it was (no sums to add
    to), while its clone refits with the sums, whose closed-form stream (``online_update="ridge"``) moves the map."""
    f, want = _fixture_and_record("format_v25/LRUForecaster_hourly", "format_v25/expected_hourly.json")
    assert f.frame_.ridge_share == want["ridge_share"] > 0 and f.model_.ridge_share == want["ridge_share"]
    assert f.model_.ridge_weight.shape == (48, 6) and f.model_.ridge_gram is None
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert g.model_.ridge_gram is None and g.frame_.ridge_share == want["ridge_share"]
    weight = g.model_.ridge_weight.clone()
    _keeps_streaming(g, forecast, "load", "h")
    torch.testing.assert_close(g.model_.ridge_weight, weight, rtol=0, atol=0)
    rows = _hourly_fixture_rows()
    now = clone(f).set_params(online_update="ridge").fit(rows.iloc[:-3])
    assert now.frame_.ridge_share > 0 and now.model_.inner.ridge_gram.shape == (49, 49)
    before = now.model_.inner.ridge_weight.clone()
    now.partial_fit(rows.iloc[-3:])
    assert (now.model_.inner.ridge_weight - before).abs().max() > 0


def test_a_version_26_file_loads_without_a_cross_channel_ridge(tmp_path):
    """A version-26 file of a frame of two targets that move together, fitted with ``ridge_share=0.5`` under
    ``online_update="ridge"`` and streamed 3 rows (session 47, before format 27,
    tests/fixtures/format_v26/make_v26_wide.py). It loads with ``cross_ridge_rows=0`` and no cross-channel map,
    forecasts as it did, saved again too, and keeps streaming its one map; its clone with ``cross_ridge_rows``
    refits with a cross-channel map as well."""
    import importlib.util

    f, want = _fixture_and_record("format_v26/LRUForecaster_wide", "format_v26/expected_wide.json")
    assert f.cross_ridge_rows == 0 and f.frame_.ridge_share == want["ridge_share"] == 0.5
    host = f.model_.inner
    assert host.cross_ridge_weight is None and host.ridge_gram.shape == (49, 49)
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    spec = importlib.util.spec_from_file_location("make_v26_wide", FIXTURES_DIR / "format_v26" / "make_v26_wide.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rows = script.rows()
    weight = g.model_.inner.ridge_weight.clone()
    g.partial_fit(pd.DataFrame(forecast.reshape(6, 2)[:3], columns=["a", "b"],
                               index=pd.date_range(g.predict().index[0], periods=3, freq="h")))
    assert np.isfinite(g.predict().to_numpy()).all() and (g.model_.inner.ridge_weight - weight).abs().max() > 0
    now = clone(f).set_params(cross_ridge_rows=12).fit(rows.iloc[:-3])
    assert now.model_.inner.cross_ridge_weight.shape == (24, 12)


def test_a_version_27_file_loads_fitted_without_a_refit(tmp_path):
    """A version-27 file of a frame of two hourly targets, fitted with early stopping on its last quarter (session
    48, before format 28, tests/fixtures/format_v27/make_v27_refit.py). It loads with ``refit=False``, its history
    as it was (no refit losses), forecasts as it did, saved again too, and keeps streaming; its clone with
    ``refit=True`` refits for the epochs its early stopping chose."""
    import importlib.util

    f, want = _fixture_and_record("format_v27/LRUForecaster_hourly", "format_v27/expected_hourly.json")
    assert f.refit is False and "refit_loss" not in f.history_
    np.testing.assert_allclose(f.history_["val_loss"], want["val_loss"], rtol=1e-6)
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    g.partial_fit(pd.DataFrame(forecast.reshape(6, 2)[:3], columns=["a", "b"],
                               index=pd.date_range(g.predict().index[0], periods=3, freq="h")))
    assert np.isfinite(g.predict().to_numpy()).all()
    spec = importlib.util.spec_from_file_location("make_v27", FIXTURES_DIR / "format_v27" / "make_v27_refit.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    now = clone(f).set_params(refit=True).fit(script.rows())
    assert len(now.history_["refit_loss"]) == int(np.argmin(now.history_["val_loss"])) + 1


def _a_partner_flag_file(folder: str, script: str, flag: str, change: float, tmp_path) -> None:
    """The file ``fixtures/<folder>/LRUForecaster_monthly.safetensors``, of a monthly series whose partner reads the
    rows before its short window, saved before the frame's ``flag`` (a bool of the history partner) existed: it loads
    with the flag False, forecasts as it did, saved again too, and keeps streaming. The flag is what decides: set, the
    same model's forecast moves by more than ``change``; refitted on the rows of ``fixtures/<folder>/<script>``, the
    flag is set."""
    import importlib.util

    f, want = _fixture_and_record(f"{folder}/LRUForecaster_monthly", f"{folder}/expected_monthly.json")
    assert (f.frame_.context, f.frame_.partner_rows, f.frame_.theta_weight) == (
        want["context"], want["partner_rows"], want["theta_weight"])
    assert not getattr(f.frame_, flag) and not getattr(f.model_, flag) and f.frame_.history_one_season
    forecast = f.predict().to_numpy().ravel()
    assert_as_recorded(forecast, want["predict"])
    g = _saved_again(f, forecast, tmp_path)
    assert not getattr(g.frame_, flag)
    setattr(g.model_, flag, True)
    assert np.abs(g.predict().to_numpy().ravel() - forecast).max() > change
    _keeps_streaming(f, forecast, freq="MS")
    spec = importlib.util.spec_from_file_location(f"make_{folder}", FIXTURES_DIR / folder / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert getattr(clone(f).fit(module.rows()).frame_, flag)


def test_a_version_28_short_monthly_file_keeps_forecasting_without_the_season_the_test_missed(tmp_path):
    """A version-28 file of 30 monthly rows of a season around a trend (session 51, before format 29,
    tests/fixtures/format_v28/make_v28_tail_season.py), whose partner reads the rows before its short window and,
    on two and a half seasons, misses the season. Format 29 lets such a partner keep it (``tail_season``); the file
    keeps forecasting without it (:func:`_a_partner_flag_file`)."""
    _a_partner_flag_file("format_v28", "make_v28_tail_season.py", "tail_season", 0.5, tmp_path)


def test_a_version_29_file_keeps_a_season_its_differences_show_by_a_negative_autocorrelation(tmp_path):
    """A version-29 file of 60 monthly rows of a random walk whose steps correlate negatively at lag 12 (session 55,
    before format 30, tests/fixtures/format_v29/make_v29_positive_differences.py), whose partner reads the rows
    before its short window: their levels fail the seasonality test and their differences pass its two-sided form.
    Format 30 takes a season from the differences only where they correlate positively (``positive_differences``);
    the file keeps taking it (:func:`_a_partner_flag_file`)."""
    _a_partner_flag_file("format_v29", "make_v29_positive_differences.py", "positive_differences", 0.1, tmp_path)
