"""Dataset loaders: long-term-forecasting benchmark files, checksums, standard splits.

The benchmark files (ETTh1/2, ETTm1/2, Weather, Exchange-rate, ILI) are read from a local
folder (``path=``, ``$TSREC_DATA``, ``<repo>/../shared/datasets`` or ``~/.cache/tsrec``)
after a sha256 check, or downloaded from their pinned public origin. :func:`load_default`
gives the small CO2 series that ships with statsmodels, for the offline demo.
"""

from .checksums import DATASETS, FILES, FileInfo
from .loaders import (
    list_datasets,
    load_dataset,
    load_default,
    load_ett,
    load_exchange,
    load_illness,
    load_weather,
)
from .splits import Split, SplitBorders, split_borders, standard_split

__all__ = [
    "DATASETS",
    "FILES",
    "FileInfo",
    "Split",
    "SplitBorders",
    "list_datasets",
    "load_dataset",
    "load_default",
    "load_ett",
    "load_exchange",
    "load_illness",
    "load_weather",
    "split_borders",
    "standard_split",
]
