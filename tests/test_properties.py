"""Property-based tests (hypothesis) of tsrec.data and the scan cores, and a bounded soak test of a long stream."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests._settings import NAMES, make
from tsrec.data import (
    StandardScaler,
    advance_meta,
    future_index,
    to_batch,
    to_output,
)
from tsrec.evaluation import rss_mb
from tsrec.scan import aaren_scan, linear_scan
from tsrec.scan.reference import linear_scan_ref
from tsrec.training import dense_targets, sliding_windows

SETTINGS = settings(max_examples=40, deadline=None)
FREQS = ["h", "15min", "D", "W-SUN", "MS"]


@st.composite
def series(draw, min_rows: int = 1, max_rows: int = 30):
    """A well-formed series: values (T, C) and an index of a random kind."""
    T = draw(st.integers(min_rows, max_rows))
    C = draw(st.integers(1, 4))
    values = draw(arrays(np.float64, (T, C), elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)))
    kind = draw(st.sampled_from(["array", "range", "int_step", "datetime"]))
    if kind == "array":
        return values, None, kind
    if kind == "range":
        index = pd.RangeIndex(0, T)
    elif kind == "int_step":
        start, step = draw(st.integers(-50, 50)), draw(st.integers(1, 5))
        index = pd.Index(np.arange(start, start + step * T, step))
    else:
        index = pd.date_range(pd.Timestamp("2020-01-06") + pd.Timedelta(hours=draw(st.integers(0, 100))),
                              periods=T, freq=draw(st.sampled_from(FREQS)))
    return values, index, kind


def as_input(values, index, kind):
    if kind == "array":
        return values
    return pd.DataFrame(values, index=index, columns=[f"c{i}" for i in range(values.shape[1])])


@SETTINGS
@given(series())
def test_to_batch_keeps_values_names_and_index(s):
    values, index, kind = s
    b = to_batch(as_input(values, index, kind))
    np.testing.assert_array_equal(b.values[0], values)
    assert b.values[0].dtype == np.float64 and b.n_targets == values.shape[1] and not b.covariate_names
    m = b.meta[0]
    if kind == "array":
        assert b.kind == "array" and b.target_names == [str(i) for i in range(values.shape[1])]
        assert (m.first, m.last) == (0, len(values) - 1)
    else:
        assert b.kind == "frame" and b.target_names == [f"c{i}" for i in range(values.shape[1])]
        assert m.first == index[0] and m.last == index[-1]
        if len(index) >= 2 or kind != "datetime":
            nxt = future_index(m, 3)
            step = index[1] - index[0] if len(index) >= 2 else 1
            if kind == "datetime":
                assert nxt[0] == index[-1] + index.freq
            else:
                assert list(nxt) == [index[-1] + step * k for k in (1, 2, 3)]
        out = to_output([values[:3]], [m], b.target_names, b.kind, False)
        assert list(out.columns) == b.target_names and len(out) == min(3, len(values))


@SETTINGS
@given(series(min_rows=2), st.data())
def test_chunked_index_bookkeeping_equals_whole(s, data):
    """advance_meta folded over any chunking ends where the whole series ends; a shifted last chunk is refused."""
    values, index, kind = s
    T = len(values)
    cuts = sorted(data.draw(st.sets(st.integers(1, T - 1), min_size=1, max_size=6)))
    bounds = [0, *cuts, T]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))

    def meta_of(a, b, idx=None):
        sub = None if index is None else (index[a:b] if idx is None else idx)
        return to_batch(as_input(values[a:b], sub, kind)).meta[0]

    whole = to_batch(as_input(values, index, kind)).meta[0]
    meta = meta_of(*spans[0])
    for a, b in spans[1:-1]:
        meta = advance_meta(meta, meta_of(a, b), b - a)
    a, b = spans[-1]
    end = advance_meta(meta, meta_of(a, b), b - a)
    assert end.last == whole.last
    if kind == "datetime":
        assert pd.tseries.frequencies.to_offset(end.freq) == pd.tseries.frequencies.to_offset(whole.freq)
    if kind != "array" and meta.freq is not None:  # the last chunk one step late: a gap at the seam
        # (after a single first row the step is unknown, so any later start is accepted as the step)
        shifted = index[a:b] + (index.freq if kind == "datetime" else index[1] - index[0])
        assume(kind == "datetime" or shifted[0] != 0)  # a fresh 0-based index is renumbered by design
        with pytest.raises(ValueError, match="gap"):
            advance_meta(meta, meta_of(a, b, shifted), b - a)


@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 3)),
              elements=st.floats(-1e4, 1e4, allow_nan=False)), st.data())
def test_online_scaler_equals_batch_statistics(x, data):
    T = len(x)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(T - 1, 1)), max_size=8))) if T > 1 else []
    bounds = [0, *cuts, T]
    sc = StandardScaler(x.shape[1])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        sc.update(x[a:b])
    assert sc.count == T
    np.testing.assert_allclose(sc.mean, x.mean(0), rtol=1e-9, atol=1e-9 * (1 + np.abs(x).max()))
    np.testing.assert_allclose(sc.m2 / T, x.var(0), rtol=1e-7, atol=1e-7 * (1 + x.var(0).max()))
    z = sc.transform(x)
    np.testing.assert_allclose(sc.inverse(z), x, rtol=1e-9, atol=1e-6)
    assert np.isfinite(z).all()


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 20), st.integers(1, 6), st.integers(1, 3), st.integers(0, 2))
def test_dense_targets_and_windows_match_naive_loops(B, L, H, C, extra):
    seq = torch.randn(B, L, C + extra, dtype=torch.float64)
    targets, mask = dense_targets(seq, H, C)
    for t in range(L):
        for k in range(H):
            if t + 1 + k < L:
                assert mask[t, k]
                assert torch.equal(targets[:, t, k], seq[:, t + 1 + k, :C])
            else:
                assert not mask[t, k]
    arrs = [seq[i].numpy() for i in range(B)]
    length = max(1, L // 2)
    w = sliding_windows(arrs, length, stride=2)
    naive = [a[s : s + length] for a in arrs for s in range(0, L - length + 1, 2)]
    np.testing.assert_array_equal(w, np.stack(naive))


@SETTINGS
@given(series(min_rows=3), st.data())
def test_bad_values_and_indexes_always_raise(s, data):
    values, index, kind = s
    bad = values.copy()
    i, j = data.draw(st.integers(0, len(values) - 1)), data.draw(st.integers(0, values.shape[1] - 1))
    bad[i, j] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with pytest.raises(ValueError, match="NaN|inf"):
        to_batch(as_input(bad, index, kind))
    if kind != "array":
        perm = data.draw(st.permutations(range(len(values))))
        assume(list(perm) != sorted(perm))
        with pytest.raises(ValueError, match="unsorted"):
            to_batch(as_input(values, index, kind).iloc[list(perm)])
        k = data.draw(st.integers(1, len(values) - 1))
        dup = index[:k].append(index[k - 1 : len(values) - 1])
        with pytest.raises(ValueError, match="duplicated"):
            to_batch(pd.DataFrame(values, index=dup))


# ------------------------------------------------------------------ scan cores
@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 40), st.integers(1, 8), st.booleans(), st.booleans(), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_linear_scan_matches_reference_and_chunks(B, L, D, complex_, varying, with_h0, seed):
    g = torch.Generator().manual_seed(seed)
    dtype = torch.complex128 if complex_ else torch.float64

    def rnd(*shape):
        x = torch.randn(*shape, generator=g, dtype=torch.float64)
        return torch.complex(x, torch.randn(*shape, generator=g, dtype=torch.float64)) if complex_ else x

    a = rnd(B, L, D) if varying else rnd(D)
    a = a / (a.abs() + 0.5)  # |a| < 1: a stable recurrence
    b, h0 = rnd(B, L, D), (rnd(B, D) if with_h0 else None)
    h = linear_scan(a, b, h0, backend="torch")
    ref = linear_scan_ref(a, b, h0)
    assert h.dtype == dtype
    torch.testing.assert_close(h, ref, rtol=1e-10, atol=1e-10)
    cut = L // 2
    if 0 < cut < L:
        a1, a2 = (a[:, :cut], a[:, cut:]) if varying else (a, a)
        h1 = linear_scan(a1, b[:, :cut], h0, backend="torch")
        h2 = linear_scan(a2, b[:, cut:], h1[:, -1], backend="torch")
        torch.testing.assert_close(torch.cat([h1, h2], 1), ref, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 2), st.integers(2, 30), st.integers(1, 3), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_aaren_scan_matches_softmax_and_chunks(B, L, K, E, seed):
    g = torch.Generator().manual_seed(seed)
    s = 3 * torch.randn(B, L, K, generator=g, dtype=torch.float64)
    v = torch.randn(B, L, K, E, generator=g, dtype=torch.float64)
    o, state = aaren_scan(s, v, backend="torch")
    w = torch.softmax(s.unsqueeze(1).expand(B, L, L, K).masked_fill(
        ~torch.ones(L, L, dtype=torch.bool).tril()[None, :, :, None], float("-inf")), dim=2)  # (B, t, i, K)
    naive = torch.einsum("btik,bike->btke", w, v)
    torch.testing.assert_close(o, naive, rtol=1e-9, atol=1e-9)
    cut = L // 2
    o1, st1 = aaren_scan(s[:, :cut], v[:, :cut], backend="torch")
    o2, _ = aaren_scan(s[:, cut:], v[:, cut:], st1, backend="torch")
    torch.testing.assert_close(torch.cat([o1, o2], 1), o, rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ soak
@pytest.mark.parametrize("name", NAMES)
def test_long_stream_memory_does_not_grow(name, etth1):
    """1,800 partial_fit calls (single rows, every 60th a 16-row chunk with a gradient step): after a
    warm-up, Python objects, RSS and the stream's own size stay flat."""
    z = etth1[["HUFL", "OT"]].to_numpy()
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        f = make(name).partial_fit(z[:64])
        pos = 64

        def run(steps: int) -> None:
            nonlocal pos
            for i in range(steps):
                if i % 60 == 59:
                    f.partial_fit(z[pos : pos + 16])
                    pos += 16
                else:
                    f.partial_fit(z[pos : pos + 1], update_params=False)
                    pos += 1

        run(300)  # warm-up: optimizer state, caches, lazily imported modules
        gc.collect()
        blocks0, rss0 = sys.getallocatedblocks(), rss_mb()["rss"]
        size0 = sum(b.size for b in f._stream.buffers) + sum(
            v.numel() for v in (f._stream.state or {}).values())
        run(1500)
        gc.collect()
        blocks1, rss1 = sys.getallocatedblocks(), rss_mb()["rss"]
        size1 = sum(b.size for b in f._stream.buffers) + sum(
            v.numel() for v in (f._stream.state or {}).values())
    finally:
        torch.set_num_threads(n)
    assert size1 == size0
    assert blocks1 - blocks0 < 1500, (blocks0, blocks1)  # a leak of one object per call would show
    assert rss1 - rss0 < 20, (rss0, rss1)  # MB
    assert np.isfinite(f.predict()).all()
