"""Safe persistence: ``load`` never unpickles; a tampered or hostile file raises a clear ValueError, running no code."""

from __future__ import annotations

import contextlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import safe_open, save_file

import tsrec
from tests._settings import NAMES, make
from tsrec.estimators import FORMAT_VERSION, BaseForecaster

_SAVED: dict[str, bytes] = {}


@pytest.fixture
def no_unpickling(monkeypatch):
    """A context manager in which any use of pickle or torch.load fails the test.

    Only the ``load`` calls under test run inside it: building and running a model outside it
    may read numba's on-disk kernel cache, which numba stores with pickle.
    """

    @contextlib.contextmanager
    def forbid():
        calls = []

        def forbidden(*args, **kwargs):
            calls.append(args)
            raise AssertionError("load must not unpickle")

        class NoUnpickler(pickle.Unpickler):
            def __init__(self, *args, **kwargs):
                forbidden()

        with monkeypatch.context() as m:
            for mod, attr in ((pickle, "load"), (pickle, "loads"), (torch, "load")):
                m.setattr(mod, attr, forbidden)
            m.setattr(pickle, "Unpickler", NoUnpickler)
            yield
        assert not calls, "load unpickled (and hid the AssertionError)"

    return forbid


def saved(name: str, frame: pd.DataFrame, tmp_path: Path) -> Path:
    """A valid saved file of forecaster ``name`` (streamed, so state and buffers are in use)."""
    if name not in _SAVED:
        f = make(name).partial_fit(frame.iloc[:60])
        p = tmp_path / "valid.safetensors"
        f.save(p)
        _SAVED[name] = p.read_bytes()
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(_SAVED[name])
    return path


def parts(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata())


def rewrite(path: Path, tensors: dict, meta: dict) -> Path:
    out = path.with_name("tampered.safetensors")
    save_file(tensors, str(out), metadata=meta)
    return out


class Boom:
    """A pickle payload whose unpickling creates a file."""

    target = ""

    def __reduce__(self):
        return (open, (self.target, "w"))


def _first(tensors: dict, prefix: str) -> str:
    return next(k for k in tensors if k.startswith(prefix))


def _edit_json(meta: dict, key: str, change) -> dict:
    d = json.loads(meta[key])
    change(d)
    return {**meta, key: json.dumps(d)}


# name -> (tensors, meta) -> (tensors, meta) of a tampered file, and the expected message
TAMPER = {
    "unknown_metadata_key": (lambda t, m: (t, {**m, "exec": "import os"}), "unexpected metadata keys"),
    "missing_metadata_key": (lambda t, m: (t, {k: v for k, v in m.items() if k != "fitted"}), "metadata keys"),
    "other_format_version": (lambda t, m: (t, {**m, "format_version": str(FORMAT_VERSION + 1)}), "format version"),
    "no_format_marker": (lambda t, m: (t, {**m, "format": "other"}), "not a tsrec model file"),
    "unknown_class": (lambda t, m: (t, {**m, "class": "os.system"}), "unknown estimator class"),
    "unknown_hyperparameter": (lambda t, m: (t, _edit_json(m, "params", lambda d: d.update(evil=1))),
                               "unknown hyperparameters"),
    "missing_hyperparameter": (lambda t, m: (t, _edit_json(m, "params", lambda d: d.pop("horizon"))), "lacks"),
    "invalid_hyperparameter": (lambda t, m: (t, _edit_json(m, "params", lambda d: d.update(horizon=-1))),
                               "horizon"),
    "unknown_fitted_key": (lambda t, m: (t, _edit_json(m, "fitted", lambda d: d.update(code="x"))),
                           "unexpected fitted keys"),
    "damaged_json": (lambda t, m: (t, {**m, "params": m["params"][:-3]}), "damaged config"),
    "json_not_object": (lambda t, m: (t, {**m, "fitted": "[1, 2]"}), "damaged config"),
    "wrong_type_in_fitted": (lambda t, m: (t, _edit_json(m, "fitted", lambda d: d.update(c_in="three"))),
                             "not a valid"),
    "wrong_sizes": (lambda t, m: (t, _edit_json(m, "fitted", lambda d: d.update(c_out=7))), "not a valid"),
    "bad_kind": (lambda t, m: (t, _edit_json(m, "fitted", lambda d: d.update(kind="pickle"))), "not a valid"),
    "bad_period": (lambda t, m: (t, _edit_json(m, "fitted", lambda d: d["metas"][0].update(period="now and then"))),
                   "period frequency is damaged"),
    "extra_tensor": (lambda t, m: ({**t, "payload.x": torch.zeros(3)}, m), "unexpected tensors"),
    "weight_wrong_shape": (lambda t, m: ({**t, _first(t, "model."): torch.zeros(2, 2)}, m), "weights do not match"),
    "missing_weight": (lambda t, m: ({k: v for k, v in t.items() if k != _first(t, "model.")}, m),
                       "weights do not match"),
    "state_wrong_shape": (lambda t, m: ({k: (v[:, :1] if k.startswith("state.") and v.dim() > 1 and v.shape[1] > 1
                                             else v)
                                         for k, v in t.items()}, m), "state does not match"),
    "buffer_nan": (lambda t, m: ({**t, "buffer.0": t["buffer.0"] * np.nan}, m), "NaN/inf"),
    "buffer_wrong_width": (lambda t, m: ({**t, "buffer.0": t["buffer.0"][:, :1].contiguous()}, m),
                           "buffers do not match"),
    "missing_buffer": (lambda t, m: ({k: v for k, v in t.items() if k != "buffer.0"}, m), "not a valid"),
    "scaler_wrong_shape": (lambda t, m: ({**t, "scaler.mean": torch.zeros(7, dtype=torch.float64)}, m), "scaler"),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", list(TAMPER))
def test_tampered_file_is_refused(name, case, small_frame, tmp_path, no_unpickling):
    path = saved(name, small_frame, tmp_path)
    tensors, meta = parts(path)
    change, pattern = TAMPER[case]
    bad = rewrite(path, *change(dict(tensors), dict(meta)))
    with no_unpickling(), pytest.raises(ValueError, match=pattern):
        BaseForecaster.load(bad)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_bytes_are_refused_and_run_no_code(name, small_frame, tmp_path, no_unpickling):
    path = saved(name, small_frame, tmp_path)
    good = path.read_bytes()
    Boom.target = str(tmp_path / "pwned")
    buf = io.BytesIO()
    torch.save({"model": Boom()}, buf)  # a torch zip checkpoint with a pickle inside
    payloads = {
        "pickle": pickle.dumps(Boom()),
        "pickle_protocol_0": pickle.dumps(Boom(), protocol=0),
        "torch_save": buf.getvalue(),
        "empty": b"",
        "random": np.random.default_rng(0).bytes(4096),
        "huge_header_length": (2**62).to_bytes(8, "little") + b"{}",
        "header_not_json": len(b"{notjson").to_bytes(8, "little") + b"{notjson",
        "pickle_after_header": good[: 8 + int.from_bytes(good[:8], "little")] + pickle.dumps(Boom()),
    }
    for cut in (4, 9, len(good) // 2, len(good) - 1):
        payloads[f"truncated_at_{cut}"] = good[:cut]
    for label, data in payloads.items():
        path.write_bytes(data)
        with no_unpickling(), pytest.raises(ValueError, match="tsrec model|not a readable|not a valid"):
            BaseForecaster.load(path)
        assert not (tmp_path / "pwned").exists(), label
    with no_unpickling(), pytest.raises(ValueError, match="not a readable"):
        BaseForecaster.load(tmp_path / "missing.safetensors")
    with no_unpickling(), pytest.raises(ValueError, match="not a readable"):
        BaseForecaster.load(tmp_path)  # a folder


@pytest.mark.parametrize("name", NAMES)
def test_wrong_class_is_refused(name, small_frame, tmp_path, no_unpickling):
    path = saved(name, small_frame, tmp_path)
    others = [getattr(tsrec, n) for n in NAMES if n != name]
    with no_unpickling():
        for other in others:
            with pytest.raises(ValueError, match=f"holds a {name}, not a {other.__name__}"):
                other.load(path)
        assert type(getattr(tsrec, name).load(path)).__name__ == name
        assert type(BaseForecaster.load(path)).__name__ == name


@pytest.mark.parametrize("name", NAMES)
def test_saved_file_carries_format_version_and_round_trips(name, small_frame, tmp_path, no_unpickling):
    path = saved(name, small_frame, tmp_path)
    tensors, meta = parts(path)
    assert meta["format"] == "tsrec" and meta["format_version"] == str(FORMAT_VERSION) and meta["class"] == name
    g = make(name).partial_fit(small_frame.iloc[:60])
    expected = g.predict()
    with no_unpickling():
        f = BaseForecaster.load(path)  # no pickle, no torch.load
    pd.testing.assert_frame_equal(f.predict(), expected, check_exact=True)  # the same weights: bit-identical


# ---------------------------------------------------------------- every input kind round-trips
def _long(frame: pd.DataFrame) -> pd.DataFrame:
    """Two series in the long (unique_id, ds, y) layout, integer ids."""
    return pd.concat([pd.DataFrame({"unique_id": uid, "ds": frame.index, "y": frame[col].to_numpy()})
                      for uid, col in ((7, "HUFL"), (3, "OT"))], ignore_index=True)


def _assert_same_output(got, expected) -> None:
    """The same output kind and bit-identical values (the same weights and stream, the same arithmetic)."""
    assert type(got) is type(expected)
    if isinstance(expected, list):
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            _assert_same_output(a, b)
    elif isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    else:
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# input kind -> (rows -> input of that kind, the type predict returns)
KINDS = {
    "list_panel": (lambda d: [d.iloc[:150], d.iloc[150:]], list),
    "long_frame": (_long, pd.DataFrame),
    "array": (lambda d: d.to_numpy(), np.ndarray),
    "list_of_arrays": (lambda d: [d.to_numpy()[:150], d.to_numpy()[150:]], list),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_input_kind_round_trips(name, kind, small_frame, tmp_path, no_unpickling):
    """A saved list panel comes back a list, a long frame a long frame, an array-fitted model gives arrays:
    the same kind and bit-identical forecasts, from the saved stream and from a new history."""
    build, out_type = KINDS[kind]
    data = build(small_frame.iloc[:300])
    f = make(name, max_epochs=1).fit(data)
    expected = f.predict()
    assert type(expected) is out_type
    f.save(tmp_path / "m.safetensors")
    with no_unpickling():
        g = BaseForecaster.load(tmp_path / "m.safetensors")
    _assert_same_output(g.predict(), expected)
    history = build(small_frame.iloc[100:400])
    _assert_same_output(g.predict(history), f.predict(history))
