"""Data-parallel training (tsrec.distributed): two torchrun processes on CPU (gloo) train the model one process does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tsrec import distributed

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "ddp_train.py"


def test_shard_batch_partitions_and_weights():
    idx = torch.randperm(29)
    for world in (1, 2, 3):
        parts = [distributed.shard_batch(idx, r, world) for r in range(world)]
        got = torch.cat([p for p, _ in parts]).sort().values
        assert torch.equal(got, idx.sort().values)  # every window once, by one process
        assert sum(w for _, w in parts) == pytest.approx(world)
    assert distributed.shard_batch(idx[:2], 0, 3) is None  # smaller than the world: skipped everywhere


def test_weighted_shards_give_the_full_batch_gradient():
    """DDP averages gradients over processes; with shard_batch's weights that is the whole batch's gradient."""
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1).double()
    x, y = torch.randn(7, 3, dtype=torch.float64), torch.randn(7, 1, dtype=torch.float64)
    full = torch.autograd.grad(((net(x) - y) ** 2).mean(), net.weight)[0]
    world, grads = 3, []
    for r in range(world):
        part, weight = distributed.shard_batch(torch.arange(7), r, world)
        loss = ((net(x[part]) - y[part]) ** 2).mean() * weight
        grads.append(torch.autograd.grad(loss, net.weight)[0])
    torch.testing.assert_close(sum(grads) / world, full, rtol=1e-12, atol=1e-12)


def test_setup_without_torchrun_is_a_single_process(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    assert distributed.setup() == (0, 1)
    assert not distributed.is_distributed() and distributed.is_main_process() and distributed.world_size() == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("TSREC_EXAMPLE_FAST", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_two_processes_train_the_same_model_as_one(etth1, tmp_path):
    """torchrun --nproc_per_node=2 examples/ddp_train.py (gloo) against the same script as one process."""
    one = _run([sys.executable, str(SCRIPT), "--fast", "--json", "one.json", "--out", "one.safetensors"], tmp_path)
    two = _run([sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
                "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(SCRIPT), "--fast",
                "--json", "two.json", "--out", "two.safetensors"], tmp_path)
    a = json.loads((tmp_path / "one.json").read_text())
    b = json.loads((tmp_path / "two.json").read_text())
    assert a["world_size"] == 1 and b["world_size"] == 2
    assert "1 process(es)" in one.stdout
    assert two.stdout.count("saved") == 1  # only rank 0 saves and prints
    assert (tmp_path / "two.safetensors").exists()
    # same model quality: the rolling test MSE agrees within 1 % (in practice to ~1e-6: the same training steps)
    assert b["mse"] == pytest.approx(a["mse"], rel=1e-2)
    assert len(b["loss"]) == len(a["loss"])
    assert b["loss"] == pytest.approx(a["loss"], rel=1e-3)
    for fa, fb in zip(a["forecast"], b["forecast"], strict=True):
        assert fb == pytest.approx(fa, rel=1e-3)
