"""Loaders, checksums and standard splits on the real benchmark files (shared/datasets)."""

import gzip
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsrec
from tests._settings import missing_data, needs
from tsrec import datasets
from tsrec.datasets import _files
from tsrec.datasets.checksums import FILES


def _find_data_dir():
    for folder in _files.search_dirs():
        if (folder / "ETT-small" / "ETTh1.csv").is_file():
            return folder
    return None


DATA = _find_data_dir()


@pytest.fixture
def data_dir():
    if DATA is None:
        missing_data("benchmark files not found")
    return DATA


needs_data = pytest.mark.usefixtures("data_dir")

ETT_COLUMNS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]


def _copy(relpath, folder):
    target = Path(folder) / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DATA / relpath, target)
    return target


def _corrupt(file):
    data = bytearray(file.read_bytes())
    data[-3] = ord("7") if data[-3] != ord("7") else ord("8")  # one digit of the last row
    file.write_bytes(bytes(data))


# -- files and loaders ---------------------------------------------------------------------


def test_default_location_is_beside_the_repo():
    repo = Path(tsrec.__file__).resolve().parents[1]
    assert _files.repo_data_dir() == repo.parent / "shared" / "datasets"


@needs_data
@pytest.mark.parametrize("relpath", sorted(FILES))
def test_stored_files_match_registry(relpath):
    file = DATA / relpath
    if not file.is_file():
        missing_data(f"{file} absent")
    assert _files.sha256sum(file) == FILES[relpath].sha256
    _files.verify(file, FILES[relpath])


@needs_data
@pytest.mark.parametrize(
    "name, rows, freq, first, last",
    [
        ("ETTh1", 17420, "h", "2016-07-01 00:00", "2018-06-26 19:00"),
        ("ETTh2", 17420, "h", "2016-07-01 00:00", "2018-06-26 19:00"),
        ("ETTm1", 69680, "15min", "2016-07-01 00:00", "2018-06-26 19:45"),
        ("ETTm2", 69680, "15min", "2016-07-01 00:00", "2018-06-26 19:45"),
    ],
)
def test_load_ett(name, rows, freq, first, last):
    df = datasets.load_ett(name, download=False)
    assert df.shape == (rows, 7)
    assert list(df.columns) == ETT_COLUMNS
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "date"
    assert df.index.freq == pd.tseries.frequencies.to_offset(freq)
    assert df.index[0] == pd.Timestamp(first) and df.index[-1] == pd.Timestamp(last)
    assert (df.dtypes == np.float64).all()
    assert np.isfinite(df.to_numpy()).all()


@needs_data
def test_load_weather():
    df = datasets.load_weather(download=False)
    assert df.shape == (52696, 21)
    assert df.columns[0] == "p (mbar)" and df.columns[-1] == "OT"
    assert df.index.name == "date"
    assert df.index[0] == pd.Timestamp("2020-01-01 00:10")
    assert df.index[-1] == pd.Timestamp("2021-01-01 00:00")
    # one duplicated stamp and one gap in the file: no regular freq, nominal one in attrs
    assert df.index.freq is None and df.attrs["freq"] == "10min"
    assert (df.dtypes == np.float64).all() and np.isfinite(df.to_numpy()).all()


@needs_data
def test_load_exchange():
    df = datasets.load_exchange(download=False)
    assert df.shape == (7588, 8)
    assert list(df.columns) == ["0", "1", "2", "3", "4", "5", "6", "OT"]
    assert df.index.name == "date" and df.index.freqstr == "D"
    assert df.index[0] == pd.Timestamp("1990-01-01") and df.index[-1] == pd.Timestamp("2010-10-10")
    assert (df.dtypes == np.float64).all() and np.isfinite(df.to_numpy()).all()


@needs_data
def test_exchange_matches_lstnet_file_with_last_columns_swapped():
    lstnet = np.loadtxt(DATA / "exchange_rate_lstnet/exchange_rate.txt.gz", delimiter=",")
    df = datasets.load_exchange(download=False)
    np.testing.assert_allclose(df.to_numpy(), lstnet[:, [0, 1, 2, 3, 4, 5, 7, 6]], rtol=1e-12)


@needs_data
def test_load_illness():
    df = datasets.load_illness(download=False)
    assert df.shape == (966, 7)
    assert list(df.columns) == [
        "% WEIGHTED ILI", "%UNWEIGHTED ILI", "AGE 0-4", "AGE 5-24",
        "ILITOTAL", "NUM. OF PROVIDERS", "OT",
    ]
    assert df.index.freqstr == "W-TUE"
    assert df.index[0] == pd.Timestamp("2002-01-01") and df.index[-1] == pd.Timestamp("2020-06-30")
    assert (df.dtypes == np.float64).all()


def test_list_and_load_dataset_by_name():
    assert datasets.list_datasets() == [
        "ETTh1", "ETTh2", "ETTm1", "ETTm2", "weather", "exchange_rate", "illness", "co2",
    ]
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.load_dataset("electricity")
    with pytest.raises(ValueError, match="name must be one of"):
        datasets.load_ett("ETTh3")


@needs_data
def test_path_may_be_the_file_or_a_folder(tmp_path):
    file = _copy("illness/national_illness.csv", tmp_path)
    expected = datasets.load_illness(download=False)
    pd.testing.assert_frame_equal(datasets.load_illness(path=file), expected)
    pd.testing.assert_frame_equal(datasets.load_illness(path=tmp_path, download=False), expected)


@needs_data
def test_corrupted_copy_raises_naming_the_mismatch(tmp_path):
    file = _copy("ETT-small/ETTh1.csv", tmp_path)
    _corrupt(file)
    bad = _files.sha256sum(file)
    good = FILES["ETT-small/ETTh1.csv"].sha256
    for path in (file, tmp_path):
        with pytest.raises(ValueError, match="sha256 mismatch") as info:
            datasets.load_ett("ETTh1", path=path, download=False)
        message = str(info.value)
        assert str(file) in message and good in message and bad in message
    # verify=False reads it anyway
    df = datasets.load_ett("ETTh1", path=file, verify=False)
    assert df.shape == (17420, 7)


@needs_data
def test_uncompressed_ettm_copy_is_accepted(tmp_path):
    target = tmp_path / "ETT-small" / "ETTm1.csv"
    target.parent.mkdir()
    target.write_bytes(gzip.decompress((DATA / "ETT-small/ETTm1.csv.gz").read_bytes()))
    df = datasets.load_ett("ETTm1", path=tmp_path, download=False)
    assert df.shape == (69680, 7) and df.index.freqstr == "15min"
    _corrupt(target)
    with pytest.raises(ValueError, match="sha256 mismatch"):
        datasets.load_ett("ETTm1", path=target)


@needs_data
def test_tsrec_data_env_var_is_searched_first(tmp_path, monkeypatch):
    file = _copy("ETT-small/ETTh1.csv", tmp_path)
    monkeypatch.setenv("TSREC_DATA", str(tmp_path))
    assert _files.search_dirs()[0] == tmp_path
    assert datasets.load_ett("ETTh1", download=False).shape == (17420, 7)
    _corrupt(file)  # the copy under TSREC_DATA is the one read
    with pytest.raises(ValueError, match=str(file)):
        datasets.load_ett("ETTh1", download=False)


def test_missing_file_without_download_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("TSREC_DATA", raising=False)
    monkeypatch.setattr(_files, "repo_data_dir", lambda: tmp_path / "nowhere")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="not found") as info:
        datasets.load_illness(download=False)
    assert str(tmp_path / "nowhere") in str(info.value)
    assert str(tmp_path / "cache" / "tsrec") in str(info.value)


def _point_url(monkeypatch, relpath, url):
    info = FILES[relpath]
    monkeypatch.setitem(FILES, relpath, type(info)(info.relpath, info.sha256, url, info.sha256_uncompressed))


@needs_data
def test_download_into_cache_then_verify(tmp_path, monkeypatch):
    relpath = "illness/national_illness.csv"
    origin = _copy(relpath, tmp_path / "origin")
    _point_url(monkeypatch, relpath, origin.as_uri())
    monkeypatch.delenv("TSREC_DATA", raising=False)
    monkeypatch.setattr(_files, "repo_data_dir", lambda: tmp_path / "nowhere")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    df = datasets.load_illness()
    cached = tmp_path / "cache" / "tsrec" / relpath
    assert cached.is_file() and _files.sha256sum(cached) == FILES[relpath].sha256
    assert df.shape == (966, 7)
    origin.unlink()  # second call reads the cache, no download
    pd.testing.assert_frame_equal(datasets.load_illness(), df)


@needs_data
def test_download_into_path_folder_and_bad_download(tmp_path, monkeypatch):
    relpath = "illness/national_illness.csv"
    origin = _copy(relpath, tmp_path / "origin")
    _corrupt(origin)
    _point_url(monkeypatch, relpath, origin.as_uri())
    target = tmp_path / "data"
    with pytest.raises(ValueError, match="sha256 mismatch"):
        datasets.load_illness(path=target)
    assert not any(p.is_file() for p in target.rglob("*"))  # nothing half-written is kept
    shutil.copyfile(DATA / relpath, origin)
    assert datasets.load_illness(path=target).shape == (966, 7)
    assert (target / relpath).is_file()


def test_failed_download_raises_file_not_found(tmp_path, monkeypatch):
    relpath = "illness/national_illness.csv"
    _point_url(monkeypatch, relpath, (tmp_path / "missing.csv").as_uri())
    with pytest.raises(FileNotFoundError, match="download from .* failed"):
        datasets.load_illness(path=tmp_path / "data")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.load_illness(path=tmp_path / "national_illness.csv")


# -- standard splits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, n_rows, borders",
    [
        ("ETTh1", 17420, (8640, 11520, 14400)),
        ("ETTh2", 17420, (8640, 11520, 14400)),
        ("ETTm1", 69680, (34560, 46080, 57600)),
        ("illness", 966, (676, 773, 966)),
        ("exchange_rate", 7588, (5311, 6071, 7588)),
        ("weather", 52696, (36887, 42157, 52696)),
        ("custom", 1000, (700, 800, 1000)),
    ],
)
def test_split_borders(name, n_rows, borders):
    assert tuple(datasets.split_borders(name, n_rows)) == borders


def test_split_borders_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.split_borders("ETTh3", 17420)
    with pytest.raises(ValueError, match="needs 14400 rows"):
        datasets.split_borders("ETTh1", 10000)
    with pytest.raises(ValueError, match="seq_len"):
        datasets.split_borders("ETTh1", 17420).slices(9000)


def test_standard_split_with_look_back():
    index = pd.date_range("2016-07-01", periods=17420, freq="h", name="date")
    df = pd.DataFrame({"x": np.arange(17420.0)}, index=index)
    train, val, test = datasets.standard_split(df, "ETTh1", seq_len=96)
    assert (len(train), len(val), len(test)) == (8640, 2880 + 96, 2880 + 96)
    assert train["x"].iloc[-1] == 8639
    assert val["x"].iloc[0] == 8640 - 96 and val["x"].iloc[-1] == 11519
    assert test["x"].iloc[0] == 11520 - 96 and test["x"].iloc[-1] == 14399
    train, val, test = datasets.standard_split(df, "ETTh1")
    assert val["x"].iloc[0] == 8640 and test["x"].iloc[0] == 11520


# -- embedded default ----------------------------------------------------------------------


def test_load_default_co2():
    needs("statsmodels")
    df = datasets.load_default()
    assert list(df.columns) == ["co2"] and len(df) == 2284
    assert df.index.name == "date" and df.index.freqstr == "W-SAT"
    assert not df.isna().any().any()
    assert df.index[0] == pd.Timestamp("1958-03-29") and df.index[-1] == pd.Timestamp("2001-12-29")
    assert 310 < df["co2"].min() < df["co2"].max() < 380


def test_load_default_without_statsmodels(monkeypatch):
    monkeypatch.setitem(sys.modules, "statsmodels.datasets", None)
    with pytest.raises(ImportError, match=r"pip install tsrec\[data\]"):
        datasets.load_default()
