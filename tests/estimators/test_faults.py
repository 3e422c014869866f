"""Training faults: NaN/inf losses and gradients, bounded retries, checkpoints, resume after an interrupt or a kill."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import safe_open

import tsrec.training as training
from tests._settings import NAMES, make
from tsrec.training import TrainingDivergedError


@pytest.fixture(scope="module")
def data(etth1):
    return etth1[["HUFL", "OT"]].iloc[:260]


def weights(f) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in f.model_.state_dict().items()}


def assert_same_weights(a: dict, b: dict, atol: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=atol, msg=k)


class LossFault:
    """Wraps ``training.training_loss``: after ``arm()`` and ``skip`` more calls, ``times`` calls return ``value``.

    Records the model's weights at the faulty call and at the call after it
    (the retry), so a test can check that the retry starts from the last good weights.
    """

    def __init__(self, value: float = float("nan"), times: int = 1, grad: bool = False, skip: int = 0):
        self.value, self.times, self.grad, self.skip = value, times, grad, skip
        self.armed, self.fired, self.calls = False, 0, 0
        self.at_fault, self.at_retry = None, None
        self.real = training.training_loss

    def arm(self, *_):
        self.armed = True

    def __call__(self, model, *args, **kwargs):
        loss = self.real(model, *args, **kwargs)
        self.calls += 1
        if self.armed and self.skip:
            self.skip -= 1
        elif self.armed and self.fired < self.times:
            self.fired += 1
            if self.at_fault is None:
                self.at_fault = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if self.grad:  # a finite loss whose gradient is NaN
                return _NaNGrad.apply(loss)
            return loss * self.value if not np.isnan(self.value) else loss + self.value
        if self.fired and self.at_retry is None:
            self.at_retry = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return loss


class _NaNGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g * float("nan")


# --------------------------------------------------------------- NaN/inf in fit
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["nan_loss", "inf_loss", "nan_grad"])
def test_fit_recovers_from_a_fault(name, kind, data, monkeypatch):
    fault = LossFault(value=float("inf") if kind == "inf_loss" else float("nan"), grad=kind == "nan_grad")
    monkeypatch.setattr(training, "training_loss", fault)
    f = make(name, max_epochs=3, early_stopping=False, lr=3e-3)
    f.fit(data, epoch_callback=lambda epoch, loss: fault.arm() if epoch == 0 else None)
    assert fault.fired == 1
    assert_same_weights(fault.at_fault, fault.at_retry)  # the retry restarts from the last good weights
    assert f.history_["lr"] == pytest.approx([3e-3, 3e-4, 3e-4])  # and at a tenth of the learning rate
    assert len(f.history_["loss"]) == 3 and np.isfinite(f.history_["loss"]).all()
    assert all(torch.isfinite(v).all() for v in weights(f).values())
    assert np.isfinite(f.predict().to_numpy()).all()


@pytest.mark.parametrize("name", NAMES)
def test_fit_gives_up_after_bounded_retries(name, data, monkeypatch):
    fault = LossFault(times=10**9)
    monkeypatch.setattr(training, "training_loss", fault)
    f = make(name, max_epochs=3).fit(data.iloc[:200])  # a good fit first (fault not armed)
    before, pred = weights(f), f.predict()
    fault.arm()
    with pytest.raises(TrainingDivergedError, match=r"NaN/inf .* after 3 retries"):
        f.fit(data)
    assert fault.fired == 4  # one attempt and three retries, each stopped at its first batch
    assert_same_weights(before, weights(f))
    pd.testing.assert_frame_equal(f.predict(), pred)


# --------------------------------------------------------- NaN/inf in partial_fit
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_steps, kind", [(1, "nan_loss"), (3, "nan_loss"), (3, "nan_grad"), (1, "inf_loss")])
def test_partial_fit_fault_leaves_everything_as_it_was(name, n_steps, kind, data, monkeypatch):
    f = make(name, max_epochs=1, n_steps=n_steps).fit(data.iloc[:200])
    f.partial_fit(data.iloc[200:220])  # the optimizer has state
    before, stream, pred = weights(f), copy.deepcopy(f._stream), f.predict()
    opt = copy.deepcopy(f._optimizer.state_dict())
    # with n_steps > 1 the fault hits the last step, after good steps have moved the weights and the optimizer
    fault = LossFault(value=float("inf") if kind == "inf_loss" else float("nan"), grad=kind == "nan_grad",
                      skip=n_steps - 1)
    fault.arm()
    monkeypatch.setattr(training, "training_loss", fault)
    with pytest.raises(TrainingDivergedError, match="left as they were"):
        f.partial_fit(data.iloc[220:240])
    assert fault.fired == 1
    assert_same_weights(before, weights(f))
    pd.testing.assert_frame_equal(f.predict(), pred)
    assert f._stream.metas == stream.metas and f._stream.n_updates == stream.n_updates
    for a, b in zip(f._stream.buffers, stream.buffers):
        np.testing.assert_array_equal(a, b)
    new_opt = f._optimizer.state_dict()
    for i, s in opt["state"].items():
        for k, v in s.items():
            torch.testing.assert_close(new_opt["state"][i][k], v, rtol=0, atol=0)
    monkeypatch.setattr(training, "training_loss", fault.real)
    f.partial_fit(data.iloc[220:240])  # the stream goes on from where it was
    assert f.predict().index[0] == data.index[240]


@pytest.mark.parametrize("context", ["auto", None])
def test_partial_fit_fault_in_one_series_of_a_panel_changes_nothing(context, data, monkeypatch):
    """A panel takes its steps on one batch of every series: a NaN in the last series' rows of that batch
    makes the one loss NaN, and the weights, the optimizer and the stream stay as they were."""
    panel = [data.iloc[:200], data.iloc[:200] * 1.1]
    f = make("LRUForecaster", max_epochs=1, context=context).fit(panel)
    f.partial_fit([data.iloc[200:220], data.iloc[200:220] * 1.1])  # the optimizer has state
    before, pred = weights(f), f.predict()
    opt = copy.deepcopy(f._optimizer.state_dict())
    real, calls = training.training_loss, []

    def poison_last_series(model, seq, *args, **kwargs):
        calls.append(seq.shape[0])
        seq = seq.clone()
        seq[-1] = float("nan")  # the last series' sequence (dense) or its last window
        return real(model, seq, *args, **kwargs)

    monkeypatch.setattr(training, "training_loss", poison_last_series)
    with pytest.raises(TrainingDivergedError):
        f.partial_fit([data.iloc[220:240], data.iloc[220:240] * 1.1])
    assert len(calls) == 1 and calls[0] >= 2  # one batched loss holding both series
    assert_same_weights(before, weights(f))
    for i, st in opt["state"].items():
        for k, v in st.items():
            torch.testing.assert_close(f._optimizer.state_dict()["state"][i][k], v, rtol=0, atol=0)
    for a, b in zip(f.predict(), pred, strict=True):
        pd.testing.assert_frame_equal(a, b)
    monkeypatch.setattr(training, "training_loss", real)
    f.partial_fit([data.iloc[220:240], data.iloc[220:240] * 1.1])  # the stream goes on from where it was
    assert f.predict()[1].index[0] == data.index[240]


# ------------------------------------------------------------------ checkpoints
def _interrupt_after(k: int):
    def cb(epoch, loss):
        if epoch == k:
            raise KeyboardInterrupt

    return cb


@pytest.mark.parametrize("name, average", [(n, False) for n in NAMES] + [("LRUForecaster", True)])
def test_checkpoint_resume_after_keyboard_interrupt(name, average, data, tmp_path):
    """An interrupted fit resumes from its last checkpoint and ends as an uninterrupted one (with
    ``weight_average`` too: the average's running sums travel in the checkpoint)."""
    params = dict(max_epochs=4, dropout=0.1, patience=10, validation_fraction=0.2,  # dropout: RNG state matters
                  weight_average=average)
    ref = make(name, **params).fit(data)
    ckpt = tmp_path / "ckpt"
    f = make(name, **params)
    with pytest.raises(KeyboardInterrupt):
        f.fit(data, checkpoint_dir=ckpt, epoch_callback=_interrupt_after(1))
    assert not hasattr(f, "model_")  # an interrupted fit commits nothing
    assert [p.name for p in ckpt.iterdir()] == ["epoch-00002"]  # epochs 0 and 1 done, only the last kept
    progress = json.loads(safe_open(str(ckpt / "epoch-00002" / "weights.safetensors"), "pt").metadata()["progress"])
    assert progress["epoch"] == 2 and len(progress["history"]["loss"]) == 2
    state = torch.load(ckpt / "epoch-00002" / "optimizer.pt", weights_only=True)
    assert set(state) == {"optimizer", "generator", "torch_rng", "epoch"} | ({"average"} if average else set())
    seen = []
    f.fit(data, checkpoint_dir=ckpt, epoch_callback=lambda e, loss: seen.append(e))
    assert seen == [2, 3]  # resumed after the last checkpoint
    assert f.history_ == ref.history_
    assert_same_weights(weights(f), weights(ref))
    pd.testing.assert_frame_equal(f.predict(), ref.predict())
    # a finished fit found in the folder is returned without training
    g = make(name, **params).fit(data, checkpoint_dir=ckpt, epoch_callback=lambda e, loss: seen.append(e))
    assert seen == [2, 3]
    assert_same_weights(weights(g), weights(ref))


_KILLED_FIT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np, torch
    sys.path.insert(0, {root!r})
    torch.set_num_threads(1)
    from tests._settings import make
    data = np.load({data!r})

    def kill(epoch, loss):
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

    make({name!r}, **{params!r}).fit(data, checkpoint_dir={ckpt!r}, epoch_callback=kill)
""")


# one model: what a kill adds to the keyboard interrupt above (a process that dies between or during
# checkpoint writes) does not depend on the network, and each run costs a subprocess that imports torch
@pytest.mark.parametrize("name", NAMES[:1])
def test_checkpoint_resume_after_kill(name, data, tmp_path):
    params = dict(max_epochs=3, dropout=0.1, early_stopping=False)
    arr = data.to_numpy()
    np.save(tmp_path / "data.npy", arr)
    ckpt = tmp_path / "ckpt"
    root = str(Path(__file__).resolve().parents[2])
    script = _KILLED_FIT.format(root=root, data=str(tmp_path / "data.npy"), name=name, params=params, ckpt=str(ckpt))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert [p.name for p in ckpt.iterdir() if not p.name.startswith(".")] == ["epoch-00002"]
    f = make(name, **params).fit(arr, checkpoint_dir=ckpt)
    ref = make(name, **params).fit(arr)
    # the killed process may sum in another thread order than this one: equal up to float reordering
    assert f.history_["loss"] == pytest.approx(ref.history_["loss"], rel=1e-5)
    assert_same_weights(weights(f), weights(ref), atol=1e-4)
    np.testing.assert_allclose(f.predict(), ref.predict(), rtol=1e-4, atol=1e-4)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_checkpoint_of_another_fit_or_damaged_is_refused(data, tmp_path):
    name = NAMES[0]
    ckpt = tmp_path / "ckpt"
    make(name, max_epochs=1).fit(data, checkpoint_dir=ckpt)
    for other in (make(name, max_epochs=1, lr=1e-3), make(name, max_epochs=1, random_state=1)):
        with pytest.raises(ValueError, match="another fit"):
            other.fit(data, checkpoint_dir=ckpt)
    with pytest.raises(ValueError, match="another fit"):
        make(name, max_epochs=1).fit(data.iloc[:-1], checkpoint_dir=ckpt)
    # more epochs than the checkpointed run: with a constant learning rate it resumes and continues; a
    # schedule is planned over max_epochs, so there another max_epochs is another fit
    const = dict(early_stopping=False, lr_schedule="constant")
    f = make(name, max_epochs=2, **const).fit(data, checkpoint_dir=tmp_path / "c2")
    g = make(name, max_epochs=1, **const).fit(data, checkpoint_dir=tmp_path / "c3")
    g = make(name, max_epochs=2, **const).fit(data, checkpoint_dir=tmp_path / "c3")
    assert_same_weights(weights(f), weights(g))
    with pytest.raises(ValueError, match="another fit"):
        make(name, max_epochs=2).fit(data, checkpoint_dir=ckpt)
    # a truncated weights file or a pickle in place of the optimizer state: a clear error, no code run
    (path,) = list(ckpt.glob("epoch-*"))
    w = (path / "weights.safetensors").read_bytes()
    (path / "weights.safetensors").write_bytes(w[: len(w) // 2])
    with pytest.raises(ValueError, match="damaged"):
        make(name, max_epochs=1).fit(data, checkpoint_dir=ckpt)
    (path / "weights.safetensors").write_bytes(w)
    import pickle

    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    (path / "optimizer.pt").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="damaged"):
        make(name, max_epochs=1).fit(data, checkpoint_dir=ckpt)
    assert not (tmp_path / "pwned").exists()
