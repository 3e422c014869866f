"""tsrec: time-series forecasting with recurrent and state-space models behind a scikit-learn API."""

from .estimators import AarenForecaster, LEMForecaster, LRUForecaster, S4Forecaster, TransformerForecaster

__version__ = "0.1.0"
__all__ = ["LEMForecaster", "LRUForecaster", "S4Forecaster", "AarenForecaster", "TransformerForecaster", "__version__"]
