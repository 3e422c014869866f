"""tsrec: time-series forecasting with recurrent and state-space models behind a scikit-learn API."""

from .estimators import LRUForecaster

__version__ = "0.1.0"
__all__ = ["LRUForecaster", "__version__"]
