"""Standard train/validation/test splits of the long-term-forecasting benchmarks.

As in the Autoformer / PatchTST / Time-Series-Library loaders: ETTh uses the first 12
months for training (8640 hourly rows), then 4 months for validation and 4 for testing
(2880 rows each); the rows after month 20 are unused. ETTm is the same at 15 minutes
(x4). Every other dataset is split 70% / 10% / 20% chronologically. The windows of the
validation and test splits start ``seq_len`` rows before their border, so that the first
forecast of a split is made right at the border; :meth:`SplitBorders.slices` does that.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from .checksums import DATASETS


class SplitBorders(NamedTuple):
    """Row borders of a standard split: train ``[0, train_end)``, validation
    ``[train_end, val_end)``, test ``[val_end, test_end)``."""

    train_end: int
    val_end: int
    test_end: int

    def slices(self, seq_len: int = 0) -> tuple[slice, slice, slice]:
        """Row slices of the three splits, with ``seq_len`` rows of look-back.

        Parameters
        ----------
        seq_len : int, default=0
            Input window length. The validation and test slices start ``seq_len`` rows
            before their border (the look-back of their first window); the training
            slice starts at row 0.

        Returns
        -------
        tuple of slice
            ``(train, val, test)`` for ``df.iloc``.
        """
        if seq_len < 0 or seq_len > self.train_end:
            raise ValueError(f"seq_len must be in [0, {self.train_end}], got {seq_len}")
        return (
            slice(0, self.train_end),
            slice(self.train_end - seq_len, self.val_end),
            slice(self.val_end - seq_len, self.test_end),
        )


class Split(NamedTuple):
    """The three parts of a standard split."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


def split_borders(name: str, n_rows: int) -> SplitBorders:
    """Row borders of the standard split of a benchmark dataset.

    Parameters
    ----------
    name : str
        ``"ETTh1"``, ``"ETTh2"`` (8640 / 2880 / 2880 rows), ``"ETTm1"``, ``"ETTm2"``
        (34560 / 11520 / 11520 rows), or any other dataset name, including ``"custom"``
        (70% / 10% / 20%, as ``int(0.7 * n)`` train and ``int(0.2 * n)`` test rows).
    n_rows : int
        Number of rows of the dataset.

    Returns
    -------
    SplitBorders
        ``(train_end, val_end, test_end)``; e.g. ``(8640, 11520, 14400)`` for ETTh1.
    """
    if name not in DATASETS and name != "custom":
        raise ValueError(f"unknown dataset {name!r}; choose from {[*DATASETS, 'custom']}")
    if name.startswith("ETT"):
        month = 30 * 24 * (4 if name.startswith("ETTm") else 1)
        borders = SplitBorders(12 * month, 16 * month, 20 * month)
        if n_rows < borders.test_end:
            raise ValueError(f"{name} split needs {borders.test_end} rows, got {n_rows}")
        return borders
    n_train, n_test = int(n_rows * 0.7), int(n_rows * 0.2)
    if n_rows - n_train - n_test < 1 or n_test < 1:
        raise ValueError(f"too few rows for a 70/10/20 split: {n_rows}")
    return SplitBorders(n_train, n_rows - n_test, n_rows)


def standard_split(df: pd.DataFrame, name: str, seq_len: int = 0) -> Split:
    """Cut a benchmark DataFrame into its standard train / validation / test parts.

    Parameters
    ----------
    df : pandas.DataFrame
        The dataset, rows in time order (e.g. from :func:`load_ett`).
    name : str
        Dataset name, see :func:`split_borders`.
    seq_len : int, default=0
        Look-back rows prepended to the validation and test parts (they start
        ``seq_len`` rows before their border, as in the benchmark loaders).

    Returns
    -------
    Split
        ``(train, val, test)`` DataFrames (row slices of ``df``).
    """
    train, val, test = split_borders(name, len(df)).slices(seq_len)
    return Split(df.iloc[train], df.iloc[val], df.iloc[test])
