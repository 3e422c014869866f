"""Shared fixtures: real data from ../shared/datasets and small settings for every forecaster.

The suite runs on the real benchmark files (ETTh1, ...), found in ../shared/datasets beside the
repository or in the folder named by TSREC_DATA. Without them the tests that need them FAIL, so that
a green run always means the data was there. Set ``TSREC_ALLOW_MISSING_DATA=1`` to skip those tests
instead (each skip says so). Optional dependencies skip their tests only when not installed: an
installed one that fails to import fails the run. The settings (``SMALL``, ``ESTIMATORS``,
``NAMES``, ``make``) and these helpers live in tests/_settings.py, importable from every folder.
"""

from __future__ import annotations

import pytest
import torch

from tests._settings import ESTIMATORS, NAMES, SMALL, make, missing_data  # noqa: F401  (re-exported)

# The test models are tiny: one thread avoids the intra-op threading overhead that dominates them on
# 2 cores (measured: a small layer_norm 10 ms on 2 threads under load vs 0.09 ms on 1).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def etth1():
    from tsrec.datasets import load_ett

    try:
        return load_ett("ETTh1", download=False)
    except FileNotFoundError as e:
        missing_data(f"ETTh1 not found: {e}")


@pytest.fixture(scope="session")
def small_frame(etth1):
    """600 hourly rows of ETTh1, three channels (OT last)."""
    return etth1[["HUFL", "MUFL", "OT"]].iloc[:600]


@pytest.fixture(params=NAMES)
def name(request):
    return request.param
