"""The scikit-learn face of tsrec: one forecaster per model family on one base class."""

from .aaren import AarenForecaster
from .base import FORMAT_VERSION, BaseForecaster
from .lru import LRUForecaster
from .transformer import TransformerForecaster

#: every forecaster by class name (what ``BaseForecaster.load`` may build)
FORECASTERS: dict[str, type[BaseForecaster]] = {
    c.__name__: c for c in (LRUForecaster, AarenForecaster, TransformerForecaster)
}

__all__ = ["BaseForecaster", "FORMAT_VERSION", "FORECASTERS", "LRUForecaster", "AarenForecaster",
           "TransformerForecaster"]
