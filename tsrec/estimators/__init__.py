"""The scikit-learn face of tsrec: one forecaster per model family on one base class."""

from .aaren import AarenForecaster
from .base import BaseForecaster
from .lem import LEMForecaster
from .lru import LRUForecaster
from .persistence import FORMAT_VERSION
from .s4 import S4Forecaster
from .transformer import TransformerForecaster

#: every forecaster by class name (what ``BaseForecaster.load`` may build)
FORECASTERS: dict[str, type[BaseForecaster]] = {
    c.__name__: c for c in (LEMForecaster, LRUForecaster, S4Forecaster, AarenForecaster, TransformerForecaster)
}

__all__ = ["BaseForecaster", "FORMAT_VERSION", "FORECASTERS", "LEMForecaster", "LRUForecaster", "S4Forecaster",
           "AarenForecaster", "TransformerForecaster"]
