"""tsrec.data: validation, online scaling, dense targets, output frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.data import SeriesMeta, StandardScaler, advance_meta, future_index, to_batch
from tsrec.training import dense_targets, sliding_windows


def test_online_scaler_equals_batch(etth1):
    v = etth1.to_numpy()[:3000]
    s = StandardScaler(v.shape[1])
    for lo in range(0, 3000, 701):
        s.update(v[lo : lo + 701])
    assert np.allclose(s.mean, v.mean(0)) and np.allclose(s.scale, v.std(0))
    back = s.inverse(s.transform(v))
    assert np.allclose(back, v)


def test_dense_targets():
    seq = torch.arange(10, dtype=torch.float64).reshape(1, 5, 2)  # rows [0,1],[2,3],...
    targets, mask = dense_targets(seq, horizon=3, n_targets=1)
    assert targets.shape == (1, 5, 3, 1)
    assert targets[0, 0, :, 0].tolist() == [2, 4, 6]
    assert mask.tolist()[3] == [True, False, False]
    assert not mask[4].any()


def test_sliding_windows_and_future_index(etth1):
    w = sliding_windows([etth1.to_numpy()[:50]], 10, stride=5)
    assert w.shape == (9, 10, 7) and np.array_equal(w[1], etth1.to_numpy()[5:15])
    meta = to_batch(etth1.iloc[:48]).meta[0]
    idx = future_index(meta, 3)
    assert list(idx) == list(etth1.index[48:51])


def test_batch_kinds(etth1):
    b = to_batch(etth1[["OT"]].iloc[:10], etth1[["HUFL"]].iloc[:10])
    assert b.target_names == ["HUFL"] and b.covariate_names == ["OT"]
    assert b.values[0][0, 0] == etth1["HUFL"].iloc[0]
    b = to_batch(np.zeros(7))
    assert b.kind == "array" and b.values[0].shape == (7, 1)
    long = pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 3, "ds": list(range(3)) * 2, "y": np.arange(6.0)})
    b = to_batch(long)
    assert b.kind == "long" and b.id_values == ["a", "b"] and b.values[1][:, 0].tolist() == [3, 4, 5]


def test_seam_checks(etth1):
    fit_meta = to_batch(etth1.iloc[:10]).meta[0]
    good = to_batch(etth1.iloc[10:12]).meta[0]
    assert advance_meta(fit_meta, good, 2).last == etth1.index[11]
    with pytest.raises(ValueError, match="gap"):
        advance_meta(fit_meta, to_batch(etth1.iloc[11:13]).meta[0], 2)
    with pytest.raises(ValueError, match="frequency"):
        advance_meta(fit_meta, to_batch(etth1.iloc[10:20:2]).meta[0], 5)
    ints = SeriesMeta("int", 9, 1, 0)
    assert advance_meta(ints, SeriesMeta("int", 14, 1, 10), 5).last == 14
    with pytest.raises(ValueError, match="continue"):
        advance_meta(ints, SeriesMeta("int", 20, 1, 16), 5)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="1-D or 2-D"):
        to_batch(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="empty"):
        to_batch(pd.DataFrame({"a": []}, dtype=float))
    with pytest.raises(ValueError, match="inf"):
        to_batch(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="duplicated"):
        to_batch(pd.DataFrame({"a": [1.0, 2.0]}, index=[3, 3]))
    with pytest.raises(TypeError, match="index"):
        to_batch(pd.DataFrame({"a": [1.0, 2.0]}, index=["x", 1]))
    with pytest.raises(TypeError, match="DataFrame"):
        to_batch("not data")


def test_a_column_of_stamps_is_named_as_the_index_to_set():
    """A frame whose stamps are a column, not the index, is refused with the ``set_index`` call that fixes it,
    its column named as the frame names it (an integer too); other non-numeric columns get no such hint, nor does
    an index of labels that do not read as dates (the bad-input matrix checks the hint for date strings)."""
    stamps = pd.date_range("2020-01-01", periods=30, freq="D")
    with pytest.raises(TypeError, match=r"non-numeric columns: \['0'\]; .*df\.set_index\(0\)"):
        to_batch(pd.DataFrame({0: stamps, 1: np.arange(30.0)}))
    with pytest.raises(TypeError, match=r"non-numeric columns: \['kind'\]$"):
        to_batch(pd.DataFrame({"kind": ["a"] * 30, "y": np.arange(30.0)}, index=stamps))
    with pytest.raises(TypeError, match=r"an integer index, got Index of (str|object)$"):  # labels, not dates
        to_batch(pd.DataFrame({"y": np.arange(30.0)}, index=[f"row {i}" for i in range(30)]))
