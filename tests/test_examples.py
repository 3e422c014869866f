"""Every script in examples/ runs with its small settings (TSREC_EXAMPLE_FAST=1), so none of them rots."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py"))
COVERED_ELSEWHERE = {"ddp_train.py": "tests/test_distributed.py runs it as one process and with torchrun"}


def _available(*modules: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except ImportError:  # a parent package is missing
        return False


def expected_output(name: str) -> str:
    """A line fragment each example prints when it ran to the end (or the message of a clean skip)."""
    if name == "optuna_tuning.py":
        return "best value" if _available("optuna", "tsrec.tuning") else "skipped: this example needs Optuna"
    if name == "sktime_evaluate.py":
        return "mean over" if _available("sktime", "tsrec.sktime") else "skipped: this example needs sktime"
    if name == "gpu.py":
        import torch

        return "trained" if torch.cuda.is_available() else "no CUDA GPU found"
    return {
        "quickstart.py": "saved and loaded LRUForecaster: same forecasts",
        "sklearn_gridsearch.py": "held-out -MSE",
        "streaming.py": "mean day-ahead MSE",
    }[name]


def test_every_example_is_covered():
    assert EXAMPLES, "examples/ is empty"
    for name in EXAMPLES:
        if name not in COVERED_ELSEWHERE:
            expected_output(name)  # a KeyError names an example without a check


@pytest.mark.parametrize("name", [n for n in EXAMPLES if n not in COVERED_ELSEWHERE])
def test_example_runs(name, etth1, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TSREC_EXAMPLE_FAST": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert expected_output(name) in proc.stdout, proc.stdout[-3000:]
    assert not re.search(r"\bnan\b", proc.stdout, flags=re.IGNORECASE), proc.stdout[-3000:]
