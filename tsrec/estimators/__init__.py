"""The scikit-learn face of tsrec: one forecaster per model family on one base class."""

from .base import FORMAT_VERSION, BaseForecaster
from .lru import LRUForecaster

FORECASTERS: dict[str, type[BaseForecaster]] = {c.__name__: c for c in (LRUForecaster,)}

__all__ = ["BaseForecaster", "FORMAT_VERSION", "FORECASTERS", "LRUForecaster"]
