"""Registry of the benchmark files: relative path, sha256 and public origin.

The values are those of ``shared/datasets/SOURCES.md``. ``sha256`` is the hash of the
file as stored (for ``.gz`` files: the gzip blob); ``sha256_uncompressed`` is the hash of
the decompressed CSV, so that an uncompressed copy (as in the original repositories) is
accepted too. Each ``url`` is a raw.githubusercontent.com address pinned to a commit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileInfo:
    """One benchmark file.

    Attributes
    ----------
    relpath : str
        Path relative to the data folder, e.g. ``"ETT-small/ETTh1.csv"``.
    sha256 : str
        sha256 of the file as stored.
    url : str
        Public origin, pinned to a commit.
    sha256_uncompressed : str or None
        sha256 of the decompressed content, for ``.gz`` files.
    """

    relpath: str
    sha256: str
    url: str
    sha256_uncompressed: str | None = None


_RAW = "https://raw.githubusercontent.com"
_ETDATASET = f"{_RAW}/zhouhaoyi/ETDataset/1d16c8f4f943005d613b5bc962e9eeb06058cf07"
_HICR = f"{_RAW}/ljnvs/HiCR-Mamba/d472c100956ed4373e9ca3700481ce88f8f1e4dd"
_SSCF = f"{_RAW}/junwoopark92/Self-Supervised-Contrastive-Forecsating/f394705adbf5217811276f5e59576c6e7ea7586c"
_LSTNET = f"{_RAW}/laiguokun/multivariate-time-series-data/7f402f185cc2435b5e66aed13a3b560ed142e023"

FILES: dict[str, FileInfo] = {
    info.relpath: info
    for info in [
        FileInfo(
            "ETT-small/ETTh1.csv",
            "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
            f"{_ETDATASET}/ETT-small/ETTh1.csv",
        ),
        FileInfo(
            "ETT-small/ETTh2.csv",
            "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
            f"{_ETDATASET}/ETT-small/ETTh2.csv",
        ),
        FileInfo(
            "ETT-small/ETTm1.csv.gz",
            "73c18304514c26a5cddba02e6538513a0e23b2fbb59752535adbf541c9edc672",
            f"{_HICR}/datasets/ETT-small/ETTm1.csv.gz",
            "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
        ),
        FileInfo(
            "ETT-small/ETTm2.csv.gz",
            "5122051efae7be24b40bedc80ee445bd18298552b940084f0dbe329c5157110a",
            f"{_HICR}/datasets/ETT-small/ETTm2.csv.gz",
            "db973ca252c6410a30d0469b13d696cf919648d0f3fd588c60f03fdbdbadd1fd",
        ),
        FileInfo(
            "weather/weather.csv.gz",
            "862e9b447a3933f14b6f2d3d686a35d3adb5a486f97acfa46869be0e4bb682db",
            f"{_HICR}/datasets/weather/weather.csv.gz",
            "34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",
        ),
        FileInfo(
            "exchange_rate/exchange_rate.csv",
            "d55e7aa2641009814a18ba3279431b13f6d413b0eab195b9ff21988d8cf94e97",
            f"{_SSCF}/dataset/exchange_rate/exchange_rate.csv",
        ),
        FileInfo(
            "exchange_rate_lstnet/exchange_rate.txt.gz",
            "6a4fbb561dcdee43f071a83badbeec9223a335552278348656738b556f1c2e9d",
            f"{_LSTNET}/exchange_rate/exchange_rate.txt.gz",
            "0127465b51e3cd3c360f8eb2be30cfd294689a2a55903eb8245aafc396626c7f",
        ),
        FileInfo(
            "illness/national_illness.csv",
            "8594cecb98c6f2f9dc014eca11c4d5d1e38ad5ce6ed0592d4abe65b146fce395",
            f"{_SSCF}/dataset/illness/national_illness.csv",
        ),
    ]
}

# dataset name -> (file, nominal sampling frequency)
DATASETS: dict[str, tuple[str, str]] = {
    "ETTh1": ("ETT-small/ETTh1.csv", "h"),
    "ETTh2": ("ETT-small/ETTh2.csv", "h"),
    "ETTm1": ("ETT-small/ETTm1.csv.gz", "15min"),
    "ETTm2": ("ETT-small/ETTm2.csv.gz", "15min"),
    "weather": ("weather/weather.csv.gz", "10min"),
    "exchange_rate": ("exchange_rate/exchange_rate.csv", "D"),
    "illness": ("illness/national_illness.csv", "W-TUE"),
}
