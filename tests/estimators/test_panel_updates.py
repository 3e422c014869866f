"""Batched panel updates: ``partial_fit`` on a panel advances every series in one pass and steps on one batch."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from tests._settings import make
from tsrec.training import TrainConfig, sequence_loss

CONTEXTS = ["auto", None]  # the window model (default) and the stateful dense model


@pytest.fixture(scope="module")
def three(etth1):
    """Three real series of different lengths and levels (ETTh1 OT, HUFL and LUFL)."""
    return [etth1[["OT"]].iloc[:300], etth1[["HUFL"]].iloc[:260].rename(columns={"HUFL": "OT"}),
            etth1[["LUFL"]].iloc[:280].rename(columns={"LUFL": "OT"})]


def _weights(f) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in f.model_.state_dict().items()}


@pytest.mark.parametrize("context", [24, None])
def test_panel_of_two_copies_learns_as_the_single_series(context, etth1):
    """The batched step's loss is the mean over every series' targets: two copies of one series give the
    gradient of that series alone, so the panel streams exactly as the single series (one step per call, not
    one per series). A window model takes the newest batch_size // n_series windows of each series: 4 each
    of the panel with batch_size 8, as the single series with batch_size 4."""
    a = etth1[["OT", "HUFL"]].iloc[:200]
    single = make("LRUForecaster", context=context, batch_size=4, replay_size=0).partial_fit(a.iloc[:80])
    panel = make("LRUForecaster", context=context, batch_size=8, replay_size=0).partial_fit([a.iloc[:80], a.iloc[:80]])
    assert (single.frame_.context, panel.frame_.context) == (context, context)
    for start in range(80, 200, 16):
        chunk = a.iloc[start : start + 16]
        single.partial_fit(chunk)
        panel.partial_fit([chunk, chunk])
    w1, w2 = _weights(single), _weights(panel)
    moved = max(float((w1[k] - v).abs().max()) for k, v in _weights(make("LRUForecaster", context=context).
                                                                       partial_fit(a.iloc[:80])).items())
    assert moved > 1e-3  # the stream did train
    for k in w1:
        torch.testing.assert_close(w2[k], w1[k], rtol=1e-4, atol=1e-5, msg=k)
    p1, (p2, p3) = single.predict(), panel.predict()
    pd.testing.assert_frame_equal(p2, p1, atol=1e-4, rtol=1e-4)
    pd.testing.assert_frame_equal(p3, p1, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("context", CONTEXTS)
def test_frozen_panel_advance_with_unequal_chunks_equals_each_history(context, three):
    """With update_params=False the batched advance (series moving by different row counts) gives, per series,
    the forecast of the model over that series' whole history."""
    fits = [s.iloc[:200] for s in three]
    f = make("LRUForecaster", context=None if context is None else 24, max_epochs=1).fit(fits)
    ends = [200, 200, 200]
    for lengths in ([5, 16, 1], [16, 3, 30], [1, 1, 40]):
        f.partial_fit([s.iloc[e : e + n] for s, e, n in zip(three, ends, lengths)], update_params=False)
        ends = [e + n for e, n in zip(ends, lengths)]
    streamed = f.predict()
    whole = f.predict([s.iloc[:e] for s, e in zip(three, ends)])
    for a, b in zip(streamed, whole, strict=True):
        pd.testing.assert_frame_equal(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("context", CONTEXTS)
def test_frozen_panel_chunking_equals_one_call(context, three):
    f = make("LRUForecaster", context=None if context is None else 24, max_epochs=1).fit([s.iloc[:200] for s in three])
    g = copy.deepcopy(f)
    f.partial_fit([s.iloc[200:250] for s in three], update_params=False)
    # uneven pieces, a different cut per series
    g.partial_fit([three[0].iloc[200:210], three[1].iloc[200:249], three[2].iloc[200:201]], update_params=False)
    g.partial_fit([three[0].iloc[210:250], three[1].iloc[249:250], three[2].iloc[201:250]], update_params=False)
    for a, b in zip(f.predict(), g.predict(), strict=True):
        pd.testing.assert_frame_equal(a, b, atol=1e-5, rtol=1e-5)


def test_padded_loss_is_the_mean_over_each_series_targets(etth1):
    """Sequences of unequal length, padded at the end: the masked loss and its gradient equal those of the
    unpadded sequences, weighted by their scored targets (the padding reaches no scored step)."""
    f = make("LRUForecaster", context=None, max_epochs=1).fit(etth1[["OT"]].iloc[:200])
    model, H = f.model_, f.horizon
    cfg = TrainConfig(loss="mse")
    z = f.scaler_.transform(etth1[["OT"]].to_numpy()[200:260]).astype(np.float32)
    seqs = [torch.from_numpy(z[:40]), torch.from_numpy(z[10:23]), torch.from_numpy(z[30:58])]
    state = model.init_state(3)
    state = {k: v + 0.1 * torch.randn_like(v) if v.is_floating_point() or v.is_complex() else v
             for k, v in state.items()}
    lengths = torch.tensor([len(s) for s in seqs])
    padded = torch.zeros(3, int(lengths.max()), 1)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
        padded[i, len(s):] = 1e3  # whatever the padding holds, it must not count
    model.zero_grad()
    batched = sequence_loss(model, padded, H, 1, cfg, state=state, lengths=lengths)
    batched.backward()
    g_batched = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    counts = [sum(max(min(H, len(s) - 1 - t), 0) for t in range(len(s))) for s in seqs]
    total = sum(sequence_loss(model, s[None], H, 1, cfg, state={k: v[i : i + 1] for k, v in state.items()}) * n
                for i, (s, n) in enumerate(zip(seqs, counts))) / sum(counts)
    total.backward()
    torch.testing.assert_close(batched, total, rtol=1e-5, atol=1e-6)
    for k, p in model.named_parameters():
        if p.grad is not None:
            torch.testing.assert_close(g_batched[k], p.grad, rtol=1e-4, atol=1e-6, msg=k)


@pytest.mark.parametrize("context", CONTEXTS)
def test_panel_with_unequal_chunks_trains_and_goes_on(context, three):
    f = make("LRUForecaster", context=None if context is None else 24, max_epochs=1, replay_size=8)
    f.fit([s.iloc[:200] for s in three])
    before = _weights(f)
    f.partial_fit([three[0].iloc[200:216], three[1].iloc[200:203], three[2].iloc[200:240]])
    assert any(not torch.equal(before[k], v) for k, v in _weights(f).items())
    out = f.predict()
    assert [o.index[0] for o in out] == [three[0].index[216], three[1].index[203], three[2].index[240]]
    assert all(np.isfinite(o.to_numpy()).all() for o in out)


@pytest.mark.parametrize("scaling", ["global", "series"])
def test_batched_bookkeeping_streams_as_series_by_series(scaling, three):
    """A stateful panel's batched bookkeeping (the shared scaling statistics merged once per call, the forecasts
    to user units in one op) streams as the series-by-series path: the same forecasts, calibration errors,
    weights and states after equal chunks, unequal ones and a frozen call (the pooled merge moves the
    statistics by float64 rounding, nothing more)."""
    f = make("LRUForecaster", context=None, max_epochs=1, scaling=scaling).fit([s.iloc[:200] for s in three])
    g = copy.deepcopy(f)
    g._batched_bookkeeping = False
    ends = [200, 200, 200]
    for lengths, update in (([16] * 3, True), ([16] * 3, True), ([5, 16, 1], True), ([3, 9, 30], False),
                            ([16] * 3, True)):
        chunk = [s.iloc[e : e + n] for s, e, n in zip(three, ends, lengths)]
        f.partial_fit(chunk, update_params=update)
        g.partial_fit(chunk, update_params=update)
        ends = [e + n for e, n in zip(ends, lengths)]
        np.testing.assert_allclose(f.scaler_.mean, g.scaler_.mean, rtol=1e-13)
        np.testing.assert_allclose(f.scaler_.scale, g.scaler_.scale, rtol=1e-13)
        for a, b in zip(f.predict(), g.predict(), strict=True):
            pd.testing.assert_frame_equal(a, b, rtol=1e-5, atol=1e-6)
    for k, v in _weights(g).items():
        torch.testing.assert_close(_weights(f)[k], v, rtol=1e-5, atol=1e-6, msg=k)
    for k, v in g._stream.state.items():
        torch.testing.assert_close(f._stream.state[k], v, rtol=1e-5, atol=1e-6, msg=k)
    cal_f, cal_g = f._flush_calibration().errors, g._flush_calibration().errors
    assert cal_f.shape == cal_g.shape and len(cal_f) > 100
    np.testing.assert_allclose(cal_f, cal_g, rtol=1e-4, atol=1e-6)
    assert f._stream.n_updates == g._stream.n_updates == 4


def test_stacked_continuation_keeps_each_series_buffer_and_state(three):
    """A panel whose series move by as many rows continues stacked (no per-series copies): each series keeps the
    last rows of its buffer and new rows, and the state is the batched advance over the rows that left, by
    ``state_after`` (bit for bit the state of the whole forward)."""
    from tsrec.estimators.stream import advance_panel

    f = make("LRUForecaster", context=None, max_epochs=1).fit([s.iloc[:200] for s in three])
    st, keep = f._stream, f._keep
    new = [s.iloc[200:216].to_numpy() for s in three]
    moved = st.continued(new, st.metas, f.model_, f.scaler_, keep=keep, stateful=True, replay_size=0,
                         replay_window=0, offer=False, device=f.device_)
    exts = [np.concatenate([b, v]) for b, v in zip(st.buffers, new)]
    for got, ext in zip(moved.buffers, exts, strict=True):
        np.testing.assert_array_equal(got, ext[-keep:])
    leaving = [e[: len(e) - keep] for e in exts]
    x = torch.from_numpy(f.scaler_.transform(np.stack(leaving)).astype(np.float32))
    with torch.no_grad():
        want = f.model_(x, st.state)[1]
    for k, v in advance_panel(f.model_, f.scaler_, leaving, st.state, f.device_).items():
        assert torch.equal(moved.state[k], v) and torch.equal(v, want[k]), k


@pytest.mark.parametrize("instance_norm", [True, False])
def test_stream_forecast_of_a_stateful_panel_is_its_forward_at_the_last_row(instance_norm, three):
    """``predict()`` of a stateful panel: with causal instance normalisation (the default) each forecast is read
    at the buffer's last row only, equal to the model's whole forward from the state up to float32 rounding; a
    plain dense stack (``instance_norm=False``, the stream model of every file saved before format 4) runs its
    whole forward, bit for bit."""
    from tsrec.nn.causal_norm import CausalInstanceNorm

    f = make("LRUForecaster", context=None, max_epochs=1, instance_norm=instance_norm)
    f.fit([s.iloc[:200] for s in three]).partial_fit([s.iloc[200:216] for s in three])
    assert (type(f.model_) is CausalInstanceNorm) is instance_norm
    st = f._stream
    x = torch.from_numpy(np.stack([f.scaler_.transform(b) for b in st.buffers]).astype(np.float32))
    with torch.no_grad():
        want = f._to_user_units(f.model_(x, st.state)[0][:, -1].numpy())
    got = np.stack([o.to_numpy() for o in f.predict()])
    if instance_norm:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, want)


def _long(frames: list[pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for uid, fr in zip(["a", "b", "c"], frames):
        parts.append(pd.DataFrame({"unique_id": uid, "ds": fr.index, "y": fr["OT"].to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _bad_chunks(three):
    nxt = [s.iloc[200:216] for s in three]
    nan = [c.copy() for c in nxt]
    nan[1].iloc[3, 0] = np.nan
    gap = list(nxt)
    gap[2] = three[2].iloc[201:216]
    return {
        "nan_in_one_series": (nan, r"X\[1\] contains NaN"),
        "gap_at_one_seam": (gap, r"X\[2\] does not continue"),
        "long_nan": (_long(nan), r"unique_id 'b'.*NaN"),
        "long_gap": (_long(gap), r"unique_id 'c'.*does not continue"),
        "long_unknown_id": (_long(nxt).replace({"unique_id": {"c": "z"}}), r"unknown unique_id \['z'\]"),
    }


@pytest.mark.parametrize("case", ["nan_in_one_series", "gap_at_one_seam", "long_nan", "long_gap", "long_unknown_id"])
def test_bad_panel_chunk_names_the_series_and_changes_nothing(case, three):
    long = case.startswith("long")
    fits = [s.iloc[:200] for s in three]
    f = make("LRUForecaster", context=24, max_epochs=1).fit(_long(fits) if long else fits)
    before, pred, stream = _weights(f), f.predict(), copy.deepcopy(f._stream)
    chunk, message = _bad_chunks(three)[case]
    with pytest.raises(ValueError, match=message):
        f.partial_fit(chunk)
    for k, v in _weights(f).items():
        assert torch.equal(before[k], v)
    assert f._stream.metas == stream.metas and f._stream.n_updates == stream.n_updates
    if long:
        pd.testing.assert_frame_equal(f.predict(), pred)
    else:
        for a, b in zip(f.predict(), pred, strict=True):
            pd.testing.assert_frame_equal(a, b)
    good = [s.iloc[200:216] for s in three]
    f.partial_fit(_long(good) if long else good)  # the stream goes on from where it was


@pytest.mark.parametrize("context", [24, None])
def test_panel_with_known_future_covariates_learns_as_the_single_series(context, etth1):
    """With ``future_covariates`` the batched step reads each series' lookahead rows: two copies of one series
    still learn as the series alone, and a panel with unequal chunks (padded, its padding reaching neither a
    scored target nor a scored step's known future) trains and forecasts from X_future."""
    x, y = etth1[["HUFL"]].iloc[:200], etth1[["OT"]].iloc[:200]
    kw = dict(context=context, future_covariates=("HUFL",), replay_size=0)
    single = make("LRUForecaster", batch_size=4, **kw).partial_fit(x.iloc[:80], y.iloc[:80])
    panel = make("LRUForecaster", batch_size=8, **kw).partial_fit([x.iloc[:80]] * 2, [y.iloc[:80]] * 2)
    for start in range(80, 176, 16):
        cx, cy = x.iloc[start : start + 16], y.iloc[start : start + 16]
        single.partial_fit(cx, cy)
        panel.partial_fit([cx, cx], [cy, cy])
    if context is None:  # (the window model's covariate head starts with gradients near zero, where Adam turns
        # float32 summation-order noise into lr-sized steps: there the forecasts are compared, to 1e-3)
        for k, v in _weights(single).items():
            torch.testing.assert_close(_weights(panel)[k], v, rtol=1e-4, atol=1e-5, msg=k)
    future = x.iloc[176:180]
    p1, (p2, _) = single.predict(X_future=future), panel.predict(X_future=[future, future])
    pd.testing.assert_frame_equal(p2, p1, atol=1e-3, rtol=1e-3)
    before = _weights(panel)
    panel.partial_fit([x.iloc[176:190], x.iloc[176:179]], [y.iloc[176:190], y.iloc[176:179]])
    assert any(not torch.equal(before[k], v) for k, v in _weights(panel).items())
    assert all(np.isfinite(o.to_numpy()).all() for o in panel.predict(X_future=[x.iloc[190:194], x.iloc[179:183]]))


def test_forecast_many_equals_forecast_at_per_series(three):
    """The batched calibration pass (every series' windows in one forward) gives each series' forecast_at,
    origins before a full window included, each series by its own scaler."""
    from tsrec.estimators.stream import forecast_at, forecast_many

    f = make("LRUForecaster", context=24, max_epochs=1, scaling="series").fit([s.iloc[:200] for s in three])
    rows = [s.iloc[150:230].to_numpy() for s in three]
    origins = [np.arange(5, 60, 3), np.arange(30, 70), np.array([], dtype=int)]
    scalers = f.series_scalers_
    got = forecast_many(f.model_, scalers, rows, origins, 24, f.horizon, f.device_)
    for i in range(3):
        want = forecast_at(f.model_, scalers[i], rows[i], None, origins[i], 24, f.horizon, f.device_)
        np.testing.assert_allclose(got[i], want, rtol=1e-5, atol=1e-6)
    assert got[2].shape == (0, f.horizon, 1)
