"""Small settings for every forecaster, importable from any test module (``from tests._settings import make``)."""

from __future__ import annotations

import importlib
import os
from typing import NoReturn

import pytest

import tsrec

# Small, fast settings per forecaster: the contract tests exercise behaviour, not accuracy.
SMALL = dict(horizon=4, d_model=16, n_layers=1, max_epochs=2, batch_size=16, random_state=0, device="cpu",
             chunk_length=32, stride=4)
ESTIMATORS = {
    "LRUForecaster": dict(d_state=16),
    "AarenForecaster": dict(n_heads=2),
    "TransformerForecaster": dict(n_heads=2, window=32),
    "LEMForecaster": dict(d_hidden=16),
    "S4Forecaster": dict(d_state=16),
}
NAMES = list(ESTIMATORS)  # every forecaster exists: a missing one must fail, not drop out of the suite


def make(name: str, **kw):
    """A small instance of forecaster ``name``."""
    params = {**SMALL, **ESTIMATORS[name], **kw}
    return getattr(tsrec, name)(**params)


# ------------------------------------------------------------------ missing data and optional dependencies
ALLOW_MISSING_DATA = os.environ.get("TSREC_ALLOW_MISSING_DATA", "") == "1"


def missing_data(message: str) -> NoReturn:
    """Fail (the suite must run on the real data) unless TSREC_ALLOW_MISSING_DATA=1 asks to skip instead."""
    if ALLOW_MISSING_DATA:
        pytest.skip(f"{message} (TSREC_ALLOW_MISSING_DATA=1)")
    pytest.fail(f"{message}: place shared/datasets beside the repository or set TSREC_DATA; "
                "set TSREC_ALLOW_MISSING_DATA=1 to skip the tests that need the data", pytrace=False)


def not_installed(module: str) -> bool:
    """True when ``module`` is not installed; an installed module that fails to import raises (a failure, not a
    skip: a broken optional dependency must not silently switch tests off)."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is not None and (e.name == module or module.startswith(e.name + ".")):
            return True
        raise
    return False


def needs(module: str):
    """``pytest.importorskip`` that skips only when ``module`` is not installed (see ``not_installed``)."""
    if not_installed(module):
        pytest.skip(f"{module} not installed", allow_module_level=True)
    return importlib.import_module(module)
