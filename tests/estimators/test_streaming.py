"""Streaming: the prequential harness and the invariants of partial_fit, for every forecaster on ETTh1."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests._settings import NAMES, make
from tsrec.evaluation import Persistence, SeasonalNaive, prequential


def standardised_ot(df: pd.DataFrame, fraction: float = 0.1) -> pd.DataFrame:
    ot = df[["OT"]]
    head = ot.iloc[: int(fraction * len(ot))]
    return (ot - head.mean()) / head.std(ddof=0)


# ------------------------------------------------------------------ prequential
def test_persistence_reproduces_reference(etth1):
    """REFERENCES.md: persistence, OT standardised by the first 10%, horizon 24, warm-up 10%: MSE 0.218."""
    z = standardised_ot(etth1)
    r = prequential(Persistence(horizon=24), z.to_numpy(), warmup=0.1)
    assert r.mse == pytest.approx(0.218, abs=5e-4)
    assert r.n_origins == len(z) - int(0.1 * len(z)) - 24 + 1
    # a DataFrame stream gives the same numbers, the errors indexed by the origin timestamps
    r2 = prequential(Persistence(horizon=24), z, warmup=0.1)
    assert r2.mse == r.mse and r2.errors.index[0] == z.index[int(0.1 * len(z)) - 1]
    assert r.mse_by_horizon.shape == (24,) and np.all(np.diff(r.mse_by_horizon) > -0.02)  # error grows with lead
    assert r.mse_by_horizon.mean() == pytest.approx(r.mse)
    # rows revealed per second of predict + partial_fit time
    assert r.n_observations == r.n_origins - 1
    assert r.throughput == pytest.approx(r.n_observations / (r.predict_seconds + r.update_seconds), rel=1e-12)
    assert np.isfinite(r.peak_rss_mb) and r.peak_rss_mb > 0


class Recorder:
    """A stub forecaster that logs the calls and forecasts the last seen value plus the step number."""

    horizon = 3

    def __init__(self):
        self.calls, self.seen = [], np.zeros((0, 1))

    def fit(self, X):
        self.calls.append(("fit", len(X)))
        self.seen = np.asarray(X, float).reshape(len(X), -1)
        return self

    def partial_fit(self, X, update_params=True):
        self.calls.append(("partial_fit", len(X), update_params))
        self.seen = np.concatenate([self.seen, np.asarray(X, float).reshape(len(X), -1)])
        return self

    def predict(self):
        self.calls.append(("predict", len(self.seen)))
        return self.seen[-1] + np.arange(1, self.horizon + 1)[:, None]


def test_prequential_protocol():
    y = np.arange(40, dtype=float)[:, None] ** 1.5
    rec = Recorder()
    r = prequential(rec, y, warmup=10, step=4, update_every=2)
    origins = np.arange(9, 40 - 3, 4)
    assert list(r.errors.index) == list(origins)
    assert rec.calls[0] == ("fit", 10)
    preds = [c for c in rec.calls if c[0] == "predict"]
    assert [c[1] for c in preds] == list(origins + 1)  # each forecast sees rows 0..o, nothing after
    updates = [c for c in rec.calls if c[0] == "partial_fit"]
    assert all(c[1] == 4 for c in updates) and len(updates) == len(origins) - 1
    assert [c[2] for c in updates] == [i % 2 == 1 for i in range(len(updates))]
    expected = [np.mean((y[o] + np.arange(1, 4) - y[o + 1 : o + 4, 0]) ** 2) for o in origins]
    np.testing.assert_allclose(r.errors["mse"], expected)
    assert r.n_observations == 4 * (len(origins) - 1)


def test_prequential_checks_arguments():
    y = np.arange(30.0)
    for kw in (dict(warmup=0), dict(warmup=1.5), dict(warmup=28), dict(step=0), dict(horizon=0),
               dict(fit_method="refit"), dict(update_every=0)):
        with pytest.raises(ValueError):
            prequential(Persistence(horizon=3), y, **kw)
    with pytest.raises(TypeError):
        prequential(Persistence(horizon=3), y, warmup="10")
    with pytest.raises(ValueError, match="one series"):
        prequential(Persistence(horizon=3), [y, y])
    with pytest.raises(ValueError, match="NaN"):
        prequential(Persistence(horizon=3), np.r_[y, np.nan])


def test_seasonal_naive_is_exact_on_a_periodic_series():
    y = np.tile(np.sin(np.arange(24) / 24 * 2 * np.pi), 10)
    assert prequential(SeasonalNaive(horizon=30, season=24), y, warmup=48).mse < 1e-20
    assert prequential(Persistence(horizon=30), y, warmup=48).mse > 0.1


@pytest.mark.parametrize("name", NAMES)
def test_prequential_matches_rolling_forecasts(name, small_frame):
    """Without weight updates, prequential's forecasts are score's rolling forecasts at the same origins."""
    f = make(name, max_epochs=1).fit(small_frame.iloc[:300])
    preds, actual = copy.deepcopy(f).rolling_forecasts(small_frame.iloc[300:360])
    r = prequential(copy.deepcopy(f), small_frame.iloc[:360], warmup=300, step=3, update_params=False,
                    fit_method=None)
    idx = np.arange(0, 60 - 4 + 1, 3)  # origins 299, 302, ... with their whole horizon inside
    err = (preds[0][idx] - actual[0][idx]) ** 2
    np.testing.assert_allclose(r.errors["mse"].to_numpy(), err.mean(axis=(1, 2)), rtol=1e-4)
    assert list(r.errors.index) == list(small_frame.index[299 + idx])


# ------------------------------------------------------------------ invariants
_FITTED: dict = {}


def _fitted(name, context, frame):
    key = (name, context)
    if key not in _FITTED:
        _FITTED[key] = make(name, context=context, max_epochs=1).fit(frame.iloc[:200])
    return _FITTED[key]


N_STREAM = 48


@pytest.mark.parametrize("context", [None, 12])
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.sets(st.integers(1, N_STREAM - 1), max_size=12))
@example(cuts=set(range(1, N_STREAM)))  # one row at a time
def test_any_chunking_gives_the_same_forecast(name, context, cuts, small_frame):
    """updates off: predict after partial_fit on chunks == predict after one call on the concatenation."""
    f = _fitted(name, context, small_frame)
    new = small_frame.iloc[200 : 200 + N_STREAM]
    one = copy.deepcopy(f).partial_fit(new, update_params=False)
    chunked = copy.deepcopy(f)
    bounds = [0, *sorted(cuts), N_STREAM]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        chunked.partial_fit(new.iloc[a:b], update_params=False)
    pd.testing.assert_frame_equal(chunked.predict(), one.predict(), rtol=1e-4, atol=1e-4)
    pd.testing.assert_frame_equal(chunked.predict(new.iloc[-30:]), one.predict(new.iloc[-30:]))
    for p, q in zip(f.model_.parameters(), chunked.model_.parameters(), strict=True):
        assert torch.equal(p, q)


def stream_size(f) -> int:
    """Numbers the stream holds: state tensors, buffers, replay windows and the replay tails."""
    s = f._stream
    n = sum(v.numel() for v in (s.state or {}).values())
    return n + sum(b.size for b in s.buffers) + sum(r.size for r in s.replay) + \
        sum(t.size for t in s.tails or [])


@pytest.mark.parametrize("name", NAMES)
def test_state_size_does_not_grow(name, etth1):
    frame = etth1[["HUFL", "MUFL", "OT"]]
    f = make(name, max_epochs=1, replay_size=3).fit(frame.iloc[:200])
    sizes, pos = [], 200
    for _ in range(3):
        for _ in range(40):  # single rows, updates off
            f.partial_fit(frame.iloc[pos : pos + 1], update_params=False)
            pos += 1
        for _ in range(4):  # chunks with updates; chunks >= chunk_length rows feed the replay buffer
            f.partial_fit(frame.iloc[pos : pos + 40])
            pos += 40
        sizes.append(stream_size(f))
    f.partial_fit(frame.iloc[pos : pos + 500], update_params=False)  # one long chunk, many buffers long
    sizes.append(stream_size(f))
    assert len(set(sizes)) == 1, sizes
    assert len(f._stream.replay) == 3 and f._stream.replay_seen == 12
    assert all(len(b) == f._keep for b in f._stream.buffers)
    assert f.predict().index[0] == frame.index[pos + 500]


def test_small_chunks_fill_the_replay_buffer(etth1):
    """Chunks far shorter than a replay window (2 rows vs 32 + 6) still feed the reservoir: each update
    offers the last whole window of the stream, and those windows are the stream's own rows."""
    frame = etth1[["OT"]]
    f = make("LRUForecaster", max_epochs=1, replay_size=4).fit(frame.iloc[:200])
    W = f._replay_window
    for pos in range(200, 260, 2):
        f.partial_fit(frame.iloc[pos : pos + 2])
    assert f._stream.replay_seen == 30 and len(f._stream.replay) == 4
    rows = frame.to_numpy()[:260]
    for window in f._stream.replay:
        assert window.shape == (W, 1)
        starts = [s for s in range(260 - W + 1) if np.array_equal(rows[s : s + W], window)]
        assert starts and starts[0] + W >= 200  # a window that ends in the streamed rows
    # a fresh tail after turning replay off and on: no window spans rows the tail did not see
    f.set_params(replay_size=0).partial_fit(frame.iloc[260:300])
    assert f._stream.tails is None
    f.set_params(replay_size=4)
    for pos in range(300, 300 + W - 2, 2):
        f.partial_fit(frame.iloc[pos : pos + 2])
    assert f._stream.replay_seen == 30  # fewer than W rows since replay came back on
    f.partial_fit(frame.iloc[300 + W - 2 : 300 + W])
    assert f._stream.replay_seen == 31
    np.testing.assert_array_equal(f._stream.tails[0], frame.to_numpy()[300 : 300 + W])


# two recurrences of different kinds (a linear one, attention carried as a recurrence): each run streams
# 460 rows twice in 2-row chunks, and the stream code they exercise is the five models' shared one
@pytest.mark.parametrize("name", ["LRUForecaster", "AarenForecaster"])
def test_level_shift_is_tracked(name, etth1):
    """A +4 std level shift in ETTh1 OT, tracked with weight updates (2 gradient steps at lr 1e-2 per
    2-row chunk): 100 steps after the shift, the rolling error is back near the pre-shift level and near
    the error of the same model on the unshifted series over the same window."""
    ot = etth1[["OT"]].iloc[:1060]
    shift_at, horizon, step = 800, 4, 2
    shifted = ot.copy()
    shifted.iloc[shift_at:, 0] += 4 * ot["OT"].iloc[:600].std()
    # the stateful model (context=None) carries the shift in its state at once; a window model sees it
    # through its instance normalisation only once the shift has left the window (``context`` rows)
    base = make(name, horizon=horizon, max_epochs=3, stride=2, n_steps=2, lr=1e-2, context=None).fit(ot.iloc[:600])
    runs = {}
    for label, series in (("shifted", shifted), ("control", ot)):
        r = prequential(copy.deepcopy(base), series, warmup=600, step=step, fit_method=None)
        runs[label] = r.errors["mse"].set_axis(np.asarray(599 + step * np.arange(len(r.errors))))
    s, c = runs["shifted"], runs["control"]
    pre = slice(600, shift_at - horizon - 1)
    np.testing.assert_allclose(s.loc[pre], c.loc[pre])  # identical until the shift is seen
    pre_level = c.loc[pre].mean()
    assert s.loc[shift_at - horizon : shift_at + 2].max() > 10 * pre_level  # the shift is felt
    for start in (shift_at + 100, shift_at + 150):
        window = slice(start, start + 100)
        assert s.loc[window].mean() < 1.5 * pre_level, (start, s.loc[window].mean(), pre_level)
        assert s.loc[window].mean() < 1.5 * c.loc[window].mean(), (start, s.loc[window].mean(), c.loc[window].mean())


@pytest.mark.parametrize("name", NAMES)
def test_stream_begun_with_one_row_learns_its_step(name, small_frame):
    """A stream started by partial_fit on one row (no step known yet) takes its step from the next rows."""
    arr = small_frame.to_numpy()[:12]
    f = make(name)
    f.partial_fit(pd.DataFrame(arr[:1], index=[10], columns=small_frame.columns), update_params=False)
    f.partial_fit(pd.DataFrame(arr[1:6], index=range(12, 22, 2), columns=small_frame.columns))
    assert list(f.predict().index) == [22, 24, 26, 28]
    with pytest.raises(ValueError, match="gap"):
        f.partial_fit(pd.DataFrame(arr[6:7], index=[26], columns=small_frame.columns))
    stamps = list(small_frame.index[:4])  # no freq attribute: a plain list of timestamps
    g = make(name)
    g.partial_fit(pd.DataFrame(arr[:1], index=pd.DatetimeIndex(stamps[:1]), columns=small_frame.columns))
    g.partial_fit(pd.DataFrame(arr[1:3], index=pd.DatetimeIndex(stamps[1:3]), columns=small_frame.columns))
    assert g.predict().index[0] == stamps[3]


@pytest.mark.parametrize("name", NAMES)
def test_window_model_stream_begun_with_fewer_rows_than_its_window(name, small_frame):
    """A window model streamed from fewer rows than its context forecasts from the rows it has, the window
    padded at the front with the first row; once the window is full, the padding is gone."""
    f = make(name, context=24)
    f.partial_fit(small_frame.iloc[:10], update_params=False)
    assert f.frame_.direct and f.frame_.context == 24
    rows = f.scaler_.transform(small_frame.to_numpy()[:10])
    padded = np.concatenate([np.repeat(rows[:1], 14, axis=0), rows])
    with torch.no_grad():
        expected = f.model_(torch.from_numpy(padded.astype(np.float32))[None])[0].numpy()
    np.testing.assert_allclose(f.predict().to_numpy(), f._to_user_units(expected), rtol=1e-5, atol=1e-6)
    f.partial_fit(small_frame.iloc[10:40], update_params=False)
    np.testing.assert_array_equal(f.predict(small_frame.iloc[16:40]).to_numpy(), f.predict().to_numpy())
