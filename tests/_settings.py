"""Small settings for every forecaster, importable from any test module (``from tests._settings import make``)."""

from __future__ import annotations

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
