"""Issue 12's faster ``partial_fit`` step gives what the plain path gives, on real data.

An updating call of a window model scores its calibration origins from the
gradient step's own forward (``_calibration_from_step``) instead of a second
forward; the window model reads its head at the last segment only
(``Stack.forward_last``). Each is checked against the path it replaces.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from tests._settings import NAMES, make
from tsrec.estimators import base
from tsrec.estimators.conformal import Calibration


def _streamed(f, chunks):
    for c in chunks:
        f.partial_fit(c)
    return f


def _forward_counter(monkeypatch):
    """Counts the separate calibration forwards (``forecast_many``) that ``_scored`` makes."""
    calls = []
    real = base.forecast_many

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(base, "forecast_many", counted)
    return calls


@pytest.mark.parametrize("case", ["one series", "panel, series scaling", "quantiles", "no Theta share"])
def test_calibration_scored_in_the_step_equals_its_own_forward(case, small_frame, monkeypatch):
    kw = {"scaling": "series"} if case.startswith("panel") else {"loss": "quantile"} if case == "quantiles" else {}
    kw["theta_weight"] = 0.0 if case == "no Theta share" else 0.5
    step = 8 if case.startswith("panel") else 16  # a panel of two trains on the newest 8 windows of each series
    if case.startswith("panel"):
        data = [small_frame, small_frame * 1.5 + 3.0]
        fit = [d.iloc[:400] for d in data]
        chunks = [[d.iloc[s : s + step] for d in data] for s in range(400, 480, step)]
    else:
        fit, chunks = small_frame.iloc[:400], [small_frame.iloc[s : s + step] for s in range(400, 480, step)]
    plain = make("LRUForecaster", max_epochs=1, **kw).fit(fit)
    fast = copy.deepcopy(plain)
    plain._calibration_from_step = False
    _streamed(plain, chunks)
    calls = _forward_counter(monkeypatch)
    _streamed(fast, chunks)
    assert len(fast._deferred) == len(chunks)  # forecast by the steps, scored when read
    fast._flush_calibration()
    assert not calls  # every updating call scored its origins from the step's forward
    assert len(fast._calibration.errors) == len(plain._calibration.errors) > 0
    # the step's windows take the scaling after the update: equal through the instance norm, but for its eps
    np.testing.assert_allclose(fast._calibration.errors, plain._calibration.errors, rtol=1e-5, atol=1e-6)
    for (k, a), b in zip(fast.model_.state_dict().items(), plain.model_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)  # the same steps
    one, two = fast.predict_interval(coverage=0.8), plain.predict_interval(coverage=0.8)
    for a, b in zip(one if isinstance(one, list) else [one], two if isinstance(two, list) else [two]):
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw, step", [({"dropout": 0.3}, 16), ({"instance_norm": False}, 16), ({}, 48)])
def test_calibration_falls_back_to_its_own_forward(kw, step, small_frame, monkeypatch):
    """Dropout (the step's forward trains), no instance norm (the scaling would matter), or origins older than
    the step's windows (48 rows but batch_size=16 windows): the origins get their own forward, as before."""
    plain = make("LRUForecaster", max_epochs=1, **kw).fit(small_frame.iloc[:400])
    fast = copy.deepcopy(plain)
    plain._calibration_from_step = False
    chunks = [small_frame.iloc[s : s + step] for s in range(400, 400 + 3 * step, step)]
    _streamed(plain, chunks)
    calls = _forward_counter(monkeypatch)
    _streamed(fast, chunks)
    assert len(calls) == len(chunks)
    np.testing.assert_array_equal(fast._calibration.errors, plain._calibration.errors)


@pytest.mark.parametrize("name", NAMES)
def test_forward_last_is_the_forecast_of_the_last_step(name):
    """``Stack.forward_last`` (a window model's body) gives ``forward``'s last step, for every model."""
    torch.manual_seed(0)
    for quantiles, skip_last in ((1, True), (3, False)):
        f = make(name, loss="quantile" if quantiles > 1 else "mse", quantiles=(0.1, 0.5, 0.9))
        body = f._build_stack(6, 2 * quantiles, skip_last).eval()
        x = torch.randn(5, 9, 6)
        torch.testing.assert_close(body.forward_last(x), body(x)[0][:, -1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scaling", ["global", "series"])
def test_stateful_calibration_batched_across_series_equals_series_by_series(scaling, small_frame):
    """A stateful panel's calibration forecasts, every series' in batched forwards from their stacked states,
    equal the series-by-series forecasts (uneven chunks: the series group by their rows)."""
    data = [small_frame, small_frame * 1.5 + 3.0, small_frame.iloc[::-1].set_index(small_frame.index)]
    plain = make("LRUForecaster", max_epochs=1, context=None, scaling=scaling).fit([d.iloc[:300] for d in data])
    fast = copy.deepcopy(plain)
    plain._batched_state_scoring = False
    for a, b in ((300, 316), (316, 340), (340, 352)):
        chunk = [d.iloc[a:b] if i != 1 else d.iloc[a : b - 4] for i, d in enumerate(data)] if b == 340 else \
            [d.iloc[a:b] for d in data]
        if b == 352:  # the shortened series catches up
            chunk[1] = data[1].iloc[a - 4 : b]
        for f in (plain, fast):
            f.partial_fit(chunk, update_params=a != 316)
    assert len(fast._calibration.errors) == len(plain._calibration.errors) > 0
    np.testing.assert_allclose(fast._calibration.errors, plain._calibration.errors, rtol=1e-5, atol=1e-5)


def _scored_now(f):
    """``f`` scoring each updating call's step origins in the call, as before the deferral."""
    f._defer_step_scoring = False
    return f


@pytest.mark.parametrize("case", ["one series", "panel, series scaling", "quantiles"])
def test_deferred_step_scoring_gives_the_errors_scored_in_each_call(case, etth1, tmp_path):
    """The step's origins scored only when the calibration is read give, to the bit, the errors each call scored
    at once: read at any point, between state-only calls, after a save and load and after the oldest deferred
    origins fell out of the calibration's window (which keeps the deferred forecasts bounded)."""
    frame = etth1[["HUFL", "MUFL", "OT"]]
    kw = {"scaling": "series"} if case.startswith("panel") else {"loss": "quantile"} if case == "quantiles" else {}
    data = [frame.iloc[:1400], frame.iloc[2000:3400] * 1.5 + 3.0] if case.startswith("panel") else [frame.iloc[:1400]]
    step = 8 if case.startswith("panel") else 16

    def chunk(a, b):
        return [d.iloc[a:b] for d in data] if len(data) > 1 else data[0].iloc[a:b]

    lazy = make("LRUForecaster", max_epochs=1, theta_weight=0.5, **kw).fit(chunk(0, 400))
    size = 60  # a short calibration window, so that the stream outruns it
    lazy._calibration = Calibration.empty(4, 3, lazy._n_quantiles, size=size).added(lazy._calibration.errors)
    eager = _scored_now(copy.deepcopy(lazy))
    reads = {440, 520, 680}  # predict_interval after these rows
    for a in range(400, 1000, step):
        for f in (lazy, eager):
            f.partial_fit(chunk(a, a + step), update_params=a not in (600, 608))
        assert lazy._pending is None or a in (600, 608)
        if a + step in reads:
            one, two = lazy.predict_interval(coverage=0.8), eager.predict_interval(coverage=0.8)
            for x, y in zip(one if isinstance(one, list) else [one], two if isinstance(two, list) else [two]):
                pd.testing.assert_frame_equal(x, y, check_exact=True)
            assert not lazy._deferred
        if a == 800:
            lazy.save(tmp_path / "m.safetensors")
            lazy = type(lazy).load(tmp_path / "m.safetensors")
            eager.save(tmp_path / "e.safetensors")
            eager = _scored_now(type(eager).load(tmp_path / "e.safetensors"))
    assert not eager._deferred
    kept = sum(len(s) for s in lazy._deferred)
    assert size <= kept < size + step * len(data)  # what the window can no longer read was dropped
    np.testing.assert_array_equal(lazy._flush_calibration().errors, eager._calibration.errors)
    assert len(eager._calibration.errors) == size
    assert np.isfinite(eager._calibration.errors).all()


def test_a_failed_call_keeps_the_deferred_origins(small_frame):
    f = make("LRUForecaster", max_epochs=1, theta_weight=0.5).fit(small_frame.iloc[:400])
    for a in (400, 416):
        f.partial_fit(small_frame.iloc[a : a + 16])
    deferred = f._deferred
    bad = small_frame.iloc[432:448].copy()
    bad.iloc[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        f.partial_fit(bad)
    assert f._deferred is deferred and len(deferred) == 2
    g = _scored_now(make("LRUForecaster", max_epochs=1, theta_weight=0.5).fit(small_frame.iloc[:400]))
    for a in (400, 416):
        g.partial_fit(small_frame.iloc[a : a + 16])
    np.testing.assert_array_equal(f._flush_calibration().errors, g._calibration.errors)


@pytest.mark.parametrize("case", ["one series", "panel", "stateful panel"])
def test_a_chunk_longer_than_the_calibration_window_scores_what_it_keeps(case, etth1):
    """A chunk with more origins than the calibration keeps scores only the last ones of each series, and the
    calibration is the one that scoring every origin gives: its newest errors (a panel's, every series')."""
    frame = etth1[["HUFL", "MUFL", "OT"]]
    data = [frame.iloc[:700], frame.iloc[2000:2700] * 1.5 + 3.0] if case.endswith("panel") else [frame.iloc[:700]]
    kw = {"context": None} if case.startswith("stateful") else {}

    def chunk(a, b):
        return [d.iloc[a:b] for d in data] if len(data) > 1 else data[0].iloc[a:b]

    kept = make("LRUForecaster", max_epochs=1, **kw).fit(chunk(0, 300))
    every = copy.deepcopy(kept)  # a window longer than the stream: every origin scored
    kept._calibration = Calibration.empty(4, 3, kept._n_quantiles, size=60).added(kept._calibration.errors)
    every._calibration = Calibration.empty(4, 3, kept._n_quantiles, size=10_000).added(every._calibration.errors)
    for f in (kept, every):
        f.partial_fit(chunk(300, 700), update_params=False)  # 396 new origins per series
    one, all_ = kept._flush_calibration().errors, every._flush_calibration().errors  # the pending origins scored
    assert len(one) == 60 and len(all_) > 396 * len(data)
    np.testing.assert_allclose(one, all_[-60:], rtol=1e-5, atol=1e-6)


def test_a_panels_long_state_only_chunk_leaves_every_series_errors_in_the_calibration(etth1):
    """One scoring pass over a panel's long chunk keeps the newest errors of every series, in turn, not those of the
    last series alone: here a series 100 times the other under one global scaling, whose errors are far larger."""
    ot = etth1[["OT"]]
    data = [ot.iloc[:700], ot.iloc[:700] * 100.0]
    f = make("LRUForecaster", max_epochs=1, scaling="global").fit([d.iloc[:300] for d in data])
    f._calibration = Calibration.empty(4, 1, f._n_quantiles, size=60).added(f._calibration.errors)
    f.partial_fit([d.iloc[300:700] for d in data], update_params=False)  # 396 new origins per series
    size = np.abs(f._flush_calibration().errors).mean(axis=(1, 2, 3))
    assert len(size) == 60
    small, large = size[0::2], size[1::2]  # the series in turn, the first one first
    assert large.min() > 10 * small.max()
