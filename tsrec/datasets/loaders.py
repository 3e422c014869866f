"""Loaders for the long-term-forecasting benchmark files and the embedded CO2 series."""

from __future__ import annotations

import pandas as pd

from ._files import PathLike, fetch
from .checksums import DATASETS

_ETT = ("ETTh1", "ETTh2", "ETTm1", "ETTm2")


_FILE_PARAMS = """path : str or path-like, optional
        The file itself, or a folder holding the dataset subfolders (the layout of
        ``shared/datasets``, e.g. ``<path>/ETT-small/ETTh1.csv``). If None, the file is
        looked up in ``$TSREC_DATA``, then ``<repo>/../shared/datasets``, then the cache
        folder ``~/.cache/tsrec``.
    download : bool, default=True
        If no local copy exists, download it from its public origin (a GitHub raw URL
        pinned to a commit) into ``path`` (a folder) or the cache folder. A failed
        download raises ``FileNotFoundError`` saying where the file was looked for.
    verify : bool, default=True
        Check the file's sha256 against the registry before parsing; a mismatch raises
        ``ValueError`` naming the file and both hashes."""


def _file_params_doc(fn):
    """Put the parameters every file loader shares into ``fn``'s docstring."""
    if fn.__doc__:  # None under python -OO
        fn.__doc__ = fn.__doc__.replace("{file_params}", _FILE_PARAMS)
    return fn


def _read(name: str, path: PathLike | None, download: bool, verify: bool) -> pd.DataFrame:
    relpath, freq = DATASETS[name]
    file = fetch(relpath, path, download_missing=download, verify_checksum=verify)
    df = pd.read_csv(file)  # compression inferred from the suffix
    index = pd.DatetimeIndex(pd.to_datetime(df.pop("date")), name="date")
    df.index = pd.DatetimeIndex(index, freq="infer")  # freq stays None if the index has gaps
    df = df.astype("float64")
    df.columns = [str(c) for c in df.columns]
    df.attrs["name"] = name
    df.attrs["freq"] = freq
    return df


@_file_params_doc
def load_ett(
    name: str = "ETTh1",
    path: PathLike | None = None,
    download: bool = True,
    verify: bool = True,
) -> pd.DataFrame:
    """Load one of the Electricity Transformer Temperature datasets (Zhou et al., 2021).

    Parameters
    ----------
    name : {"ETTh1", "ETTh2", "ETTm1", "ETTm2"}, default="ETTh1"
        Hourly (h) or 15-minute (m) data of transformer 1 or 2.
    {file_params}

    Returns
    -------
    pandas.DataFrame
        Index: ``DatetimeIndex`` named ``"date"`` (freq ``"h"`` or ``"15min"``).
        Columns (float64): HUFL, HULL, MUFL, MULL, LUFL, LULL, OT (oil temperature,
        the usual target). ETTh: 17420 rows; ETTm: 69680 rows.

    Notes
    -----
    ETTm files may be gzipped (``ETTm1.csv.gz``, as in ``shared/datasets``) or plain
    (``ETTm1.csv``, as in the ETDataset repository). Licensed CC BY-ND 4.0
    (github.com/zhouhaoyi/ETDataset): cite Zhou et al., "Informer", AAAI 2021.
    """
    if name not in _ETT:
        raise ValueError(f"name must be one of {_ETT}, got {name!r}")
    return _read(name, path, download, verify)


@_file_params_doc
def load_weather(
    path: PathLike | None = None, download: bool = True, verify: bool = True, consecutive: bool = False
) -> pd.DataFrame:
    """Load the Weather benchmark (Jena weather station, 2020, every 10 minutes).

    Parameters
    ----------
    {file_params}
    consecutive : bool, default=False
        Treat the rows as consecutive, as published results do: the index becomes
        a regular 10-minute grid (freq ``"10min"``) from the first stamp, so the
        rows between the duplicated stamp and the gap move 10 minutes later and
        those after the gap 80 minutes earlier (the last row, stamped 2021-01-01
        00:00 in the file, becomes 2020-12-31 22:40). The values are unchanged.

    Returns
    -------
    pandas.DataFrame
        52696 rows x 21 float64 columns (20 meteorological variables and ``OT``),
        indexed by a ``DatetimeIndex`` named ``"date"``.

    Notes
    -----
    The rows are returned exactly as stored, since the standard split counts rows. The
    file has one duplicated timestamp (2020-05-12 06:00) and one 100-minute gap
    (2020-05-29 09:30 to 11:10), so ``index.freq`` is None; the nominal frequency,
    ``"10min"``, is in ``df.attrs["freq"]``. The forecasters refuse that index
    (a duplicated stamp raises ValueError); ``consecutive=True`` gives one they
    accept. Three column names contain U+FFFD replacement characters, as in the
    original Autoformer bundle.

    Examples
    --------
    >>> df = load_weather(consecutive=True, download=False)  # doctest: +SKIP
    >>> df.index.freqstr, df.index[-1]  # doctest: +SKIP
    ('10min', Timestamp('2020-12-31 22:40:00'))
    """
    df = _read("weather", path, download, verify)
    if consecutive:
        df.index = pd.date_range(df.index[0], periods=len(df), freq="10min", name=df.index.name)
    return df


@_file_params_doc
def load_exchange(
    path: PathLike | None = None, download: bool = True, verify: bool = True
) -> pd.DataFrame:
    """Load the daily exchange rates of 8 currencies (Lai et al., 2018), Autoformer layout.

    Parameters
    ----------
    {file_params}

    Returns
    -------
    pandas.DataFrame
        7588 rows x 8 float64 columns ``"0"`` .. ``"6"``, ``"OT"``, indexed by a
        ``DatetimeIndex`` named ``"date"`` with freq ``"D"``.

    Notes
    -----
    The ``date`` column is synthetic: consecutive days from 1990-01-01 added by the
    Autoformer authors. Do not read it as real calendar dates (the data are business-day
    rates). The values equal the LSTNet file with its last two columns swapped.
    """
    return _read("exchange_rate", path, download, verify)


@_file_params_doc
def load_illness(
    path: PathLike | None = None, download: bool = True, verify: bool = True
) -> pd.DataFrame:
    """Load the weekly US influenza-like-illness counts (CDC ILINet), 2002 to 2020.

    Parameters
    ----------
    {file_params}

    Returns
    -------
    pandas.DataFrame
        966 rows x 7 float64 columns (% WEIGHTED ILI, %UNWEIGHTED ILI, AGE 0-4,
        AGE 5-24, ILITOTAL, NUM. OF PROVIDERS, OT), indexed by a ``DatetimeIndex``
        named ``"date"`` with freq ``"W-TUE"``.
    """
    return _read("illness", path, download, verify)


def load_default() -> pd.DataFrame:
    """Load the embedded default series: weekly atmospheric CO2 at Mauna Loa, 1958 to 2001.

    The data ship with statsmodels (``statsmodels.api.datasets.co2``); the 59 missing
    weeks are filled by time interpolation.

    Returns
    -------
    pandas.DataFrame
        2284 rows, one float64 column ``"co2"`` (ppm), indexed by a ``DatetimeIndex``
        named ``"date"`` with freq ``"W-SAT"``.

    Raises
    ------
    ImportError
        If statsmodels is not installed (``pip install tsrec[data]``).
    """
    try:
        from statsmodels.datasets import co2
    except ImportError as err:
        raise ImportError(
            "load_default needs statsmodels, which ships the CO2 data: pip install tsrec[data]"
        ) from err
    df = co2.load_pandas().data[["co2"]].astype("float64")
    df = df.interpolate(method="time")
    df.index = pd.DatetimeIndex(df.index, freq="W-SAT", name="date")
    df.attrs["name"] = "co2"
    df.attrs["freq"] = "W-SAT"
    return df


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`: the benchmark files and ``"co2"``."""
    return [*DATASETS, "co2"]


def load_dataset(name: str, **kwargs) -> pd.DataFrame:
    """Load a dataset by name (see :func:`list_datasets`).

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.
    **kwargs
        Passed to the loader (``path``, ``download``, ``verify``; none for ``"co2"``).

    Returns
    -------
    pandas.DataFrame
    """
    if name in _ETT:
        return load_ett(name, **kwargs)
    loaders = {
        "weather": load_weather,
        "exchange_rate": load_exchange,
        "illness": load_illness,
        "co2": load_default,
    }
    if name not in loaders:
        raise ValueError(f"unknown dataset {name!r}; choose from {list_datasets()}")
    return loaders[name](**kwargs)
