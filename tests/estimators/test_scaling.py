"""Per-series scaling (``scaling="series"``): a panel of one real series and the same series times 1000.

With per-series statistics the two series look the same to the model, so the forecasts are 1000x
apart and both accurate. With the global statistics (pooled over the panel) the small series
shrinks to a near-constant in scaled units and its forecasts lose the series' shape. The default,
``scaling="auto"``, scales series one by one where their scales differ by more than 1000x.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.torch import save_file

import tsrec
from tests._settings import make
from tsrec.data import StandardScaler

KW = dict(horizon=24, context=96, patch_len=24, d_model=16, max_epochs=3, stride=2, batch_size=64)


@pytest.fixture(scope="module")
def ot(etth1):
    s = etth1[["OT"]].iloc[-2000:]
    return s.iloc[:1600], s.iloc[1600:]


def _maes(f, test):
    preds, actual = f.rolling_forecasts([test, test * 1000])
    return [float(np.nanmean(np.abs(p - a))) for p, a in zip(preds, actual)]


def _snaive_mae(train, test):
    full = np.concatenate([train["OT"].to_numpy(), test["OT"].to_numpy()])
    origins = range(len(train) - 1, len(full) - 1)
    return float(np.mean([np.abs(full[o - 23 : o + 1][: len(full) - o - 1] - full[o + 1 : o + 25]).mean()
                          for o in origins]))


def test_series_scaling_forecasts_a_panel_1000x_apart(ot):
    train, test = ot
    f = make("LRUForecaster", scaling="series", **KW).fit([train, train * 1000])
    a, b = f.predict()
    np.testing.assert_allclose(b.to_numpy(), 1000 * a.to_numpy(), rtol=1e-4)
    small, large = _maes(f, test)
    snaive = _snaive_mae(train, test)
    assert small < 0.8 * snaive and large / 1000 < 0.8 * snaive, (small, large, snaive)
    assert large / 1000 == pytest.approx(small, rel=1e-3)
    np.testing.assert_allclose(f.series_scalers_[1].mean, 1000 * f.series_scalers_[0].mean, rtol=1e-12)
    # global statistics: the small series is a near-constant in scaled units, its forecasts far worse
    g = make("LRUForecaster", scaling="global", **KW).fit([train, train * 1000])
    g_small, g_large = _maes(g, test)
    assert g_small > 1.2 * small, (g_small, small)


def test_dense_stream_model_with_series_scaling(ot):
    """The stateful ``context=None`` model: the same 1000x through the carried state."""
    train, _ = ot
    f = make("LRUForecaster", scaling="series", context=None, horizon=24, max_epochs=1).fit(
        [train.iloc[-600:], train.iloc[-600:] * 1000])
    a, b = f.predict()
    np.testing.assert_allclose(b.to_numpy(), 1000 * a.to_numpy(), rtol=1e-4)


def test_partial_fit_updates_each_series_statistics(ot):
    train, test = ot
    f = make("LRUForecaster", scaling="series", **{**KW, "max_epochs": 1}).fit([train, train * 1000])
    before = f.scaler_.state()
    f.partial_fit([test.iloc[:50], test.iloc[:50] * 1000 + 7], update_params=False)  # frozen statistics
    np.testing.assert_array_equal(f.scaler_.state()["mean"], before["mean"])
    f.partial_fit([test.iloc[50:100], test.iloc[50:100] * 1000 + 7])
    for i, (k, c) in enumerate([(1, 0), (1000, 7)]):
        rows = np.concatenate([train["OT"] * k, test["OT"].iloc[50:100] * k + c])  # the frozen call counts nothing
        ref = StandardScaler(1).update(rows[:, None])
        np.testing.assert_allclose(f.series_scalers_[i].mean, ref.mean, rtol=1e-12)
        np.testing.assert_allclose(f.series_scalers_[i].scale, ref.scale, rtol=1e-10)
        assert f.series_scalers_[i].count == len(rows)


def test_new_history_uses_its_own_statistics(ot):
    """predict(X=history) scales each given series by the statistics of its rows: a history times 5 plus 3
    forecasts 5x plus 3, whether or not it is a series of the fitted panel."""
    train, test = ot
    f = make("LRUForecaster", scaling="series", **{**KW, "max_epochs": 1}).fit([train, train * 1000])
    h = test.iloc[:200]
    base = f.predict(h)
    np.testing.assert_allclose(f.predict(h * 5 + 3).to_numpy(), 5 * base.to_numpy() + 3, rtol=1e-4)
    one, other = f.predict([h, h * 1e6])
    np.testing.assert_allclose(other.to_numpy(), 1e6 * one.to_numpy(), rtol=1e-4)


def test_series_scaling_save_load_round_trip(ot, tmp_path):
    train, test = ot
    f = make("S4Forecaster", scaling="series", replay_size=4, **{**KW, "max_epochs": 1}).fit(
        [train, train * 1000])
    f.partial_fit([test.iloc[:30], test.iloc[:30] * 1000])
    f.save(tmp_path / "m.safetensors")
    g = tsrec.S4Forecaster.load(tmp_path / "m.safetensors")
    assert g.scaling == "series" and len(g.series_scalers_) == 2
    for a, b in zip(f.series_scalers_, g.series_scalers_):
        assert all(np.array_equal(a.state()[k], b.state()[k]) for k in a.state())
    for x, y in zip(g.predict(), f.predict()):
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())
    nxt = [test.iloc[30:60], test.iloc[30:60] * 1000]
    g.partial_fit(nxt, update_params=False)
    f.partial_fit(nxt, update_params=False)
    for x, y in zip(g.predict(), f.predict()):
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())
    # the statistics keep updating per series after the round trip (the file keeps no optimizer state yet,
    # so the weights' steps differ: compare the statistics)
    nxt = [test.iloc[60:90], test.iloc[60:90] * 1000]
    g.partial_fit(nxt)
    f.partial_fit(nxt)
    for a, b in zip(f.series_scalers_, g.series_scalers_):
        assert all(np.array_equal(a.state()[k], b.state()[k]) for k in a.state())


def test_file_without_the_new_hyperparameters_loads_as_global(ot, tmp_path):
    """A format-2 file, written before ``missing`` and ``scaling`` existed, loads with missing="raise" and
    scaling="global" and forecasts the same."""
    train, _ = ot
    f = make("LRUForecaster", **{**KW, "max_epochs": 1}).fit(train)
    path = tmp_path / "m.safetensors"
    f.save(path)
    with safe_open(str(path), framework="pt") as fh:
        meta, tensors = fh.metadata(), {k: fh.get_tensor(k) for k in fh.keys()}
    params = json.loads(meta["params"])
    del params["missing"], params["scaling"], params["ensemble_size"]
    old = tmp_path / "old.safetensors"
    save_file(tensors, str(old), metadata={**meta, "params": json.dumps(params), "format_version": "2"})
    g = tsrec.LRUForecaster.load(old)
    assert (g.missing, g.scaling, g.series_scalers_) == ("raise", "global", None)
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())


V2_MAIN = Path(__file__).resolve().parents[1] / "fixtures" / "format_v2_main"


@pytest.mark.parametrize("name", ["window", "dense"])
def test_files_written_by_main_load_as_they_forecast(name, tmp_path):
    """Format-2 files written by main at dc64c65 (a panel, no ``missing`` or ``scaling``) load as
    missing="raise", scaling="global" and forecast as they did (to float32 rounding); saved again they round-trip."""
    expected = json.loads((V2_MAIN / "expected.json").read_text())[name]["predict"]
    f = tsrec.LRUForecaster.load(V2_MAIN / f"{name}.safetensors")
    assert (f.missing, f.scaling, f.series_scalers_) == ("raise", "global", None)
    # a panel's stream forecasts run in one batched forward since issue 12 (per series before): float32 rounding
    # of the batched matmuls moves them by ~1e-7 (a single series' stay bit for bit: test_format_migration)
    for got, want in zip(f.predict(), expected, strict=True):
        np.testing.assert_allclose(got.to_numpy().ravel(), np.asarray(want, dtype=np.float64), rtol=1e-5, atol=1e-6)
    f.save(tmp_path / "again.safetensors")
    g = tsrec.LRUForecaster.load(tmp_path / "again.safetensors")
    for a, b in zip(g.predict(), f.predict()):
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


@pytest.mark.parametrize("name", ["LRUForecaster", "LEMForecaster", "S4Forecaster", "AarenForecaster",
                                  "TransformerForecaster"])
def test_forecasts_follow_the_units_of_the_series(ot, name):
    """A series in other units (x 1e-30 ... x 1e30, shifted) forecasts the same in those units: the scale is
    judged constant only relative to the mean, with no absolute floor (a series whose spread is below 1e-12
    was once left unscaled, and its forecasts were off by orders of magnitude)."""
    y = ot[0].iloc[-300:]
    base = make(name, horizon=12).fit(y).predict()["OT"].to_numpy()
    spread = float(y["OT"].std())
    for a, c in ((1e-15, 0.0), (1e-30, 3e-29), (1e30, -1e31)):
        got = make(name, horizon=12).fit(y * a + c).predict()["OT"].to_numpy()
        assert np.isfinite(got).all()
        np.testing.assert_allclose((got - c) / a, base, rtol=0, atol=1e-6 * spread, err_msg=f"x {a:g} + {c:g}")


def test_auto_scales_series_one_by_one_where_their_scales_differ(ot):
    """The default: a panel whose scales differ by more than 1000x is scaled series by series (as "series" would,
    bit for bit); one whose scales are close is pooled (as "global" would); each fit chooses again."""
    train, _ = ot
    small = {**KW, "max_epochs": 1}
    f = make("LRUForecaster", **small).fit([train, train * 1e4])
    assert f.scaling == "auto" and len(f.series_scalers_) == 2
    a, b = f.predict()
    np.testing.assert_allclose(b.to_numpy(), 1e4 * a.to_numpy(), rtol=1e-4)
    ref = make("LRUForecaster", scaling="series", **small).fit([train, train * 1e4])
    for x, y in zip(f.predict(), ref.predict()):
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())
    close = [train, train * 3 + 5]
    f.fit(close)  # refitted: the new panel's scales are close, so pooled
    assert f.series_scalers_ is None
    ref = make("LRUForecaster", scaling="global", **small).fit(close)
    for x, y in zip(f.predict(), ref.predict()):
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())


@pytest.mark.parametrize("scaling", ["global", "series"])
def test_one_series_is_scaled_alike_under_every_value(ot, scaling):
    """One series: "auto", "global" and "series" fit and stream the same, bit for bit."""
    train, test = ot
    small = {**KW, "max_epochs": 1}
    f, g = make("LRUForecaster", **small).fit(train), make("LRUForecaster", scaling=scaling, **small).fit(train)
    np.testing.assert_array_equal(f.predict().to_numpy(), g.predict().to_numpy())
    f.partial_fit(test.iloc[:16])
    g.partial_fit(test.iloc[:16])
    np.testing.assert_array_equal(f.predict().to_numpy(), g.predict().to_numpy())


def test_auto_chooses_at_a_first_partial_fit_and_keeps_the_choice(ot, tmp_path):
    """An unfitted estimator's first ``partial_fit`` chooses from its rows; later calls, a saved file and
    ``predict(X=history)`` keep the choice."""
    train, test = ot
    f = make("LRUForecaster", **{**KW, "max_epochs": 1}).partial_fit([train.iloc[:400], train.iloc[:400] * 1e4])
    assert len(f.series_scalers_) == 2
    f.partial_fit([train.iloc[400:416], train.iloc[400:416] * 3])  # close in scale: the choice stays
    assert len(f.series_scalers_) == 2
    h = test.iloc[:200]
    one, other = f.predict([h, h * 1e6])  # each history by its own statistics, as the fit chose
    np.testing.assert_allclose(other.to_numpy(), 1e6 * one.to_numpy(), rtol=1e-4)
    f.save(tmp_path / "series.safetensors")
    g = tsrec.LRUForecaster.load(tmp_path / "series.safetensors")
    assert g.scaling == "auto" and len(g.series_scalers_) == 2
    for x, y in zip(g.predict(), f.predict()):
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())
    p = make("LRUForecaster", **{**KW, "max_epochs": 1}).fit([train, train * 2])
    p.save(tmp_path / "pooled.safetensors")
    q = tsrec.LRUForecaster.load(tmp_path / "pooled.safetensors")
    assert q.scaling == "auto" and q.series_scalers_ is None
    for x, y in zip(q.predict(), p.predict()):
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())
