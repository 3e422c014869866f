"""tsrec: time-series forecasting with recurrent and state-space models behind a scikit-learn API."""

from .estimators import AarenForecaster, LRUForecaster, TransformerForecaster

__version__ = "0.1.0"
__all__ = ["AarenForecaster", "LRUForecaster", "TransformerForecaster", "__version__"]
