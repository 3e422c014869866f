"""Find, verify and download the benchmark files."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from .checksums import FILES, FileInfo

PathLike = str | os.PathLike


def repo_data_dir() -> Path:
    """``<repo>/../shared/datasets``, where ``<repo>`` holds the ``tsrec`` package."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def cache_dir() -> Path:
    """The user cache folder, ``$XDG_CACHE_HOME/tsrec`` (default ``~/.cache/tsrec``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tsrec"


def search_dirs() -> list[Path]:
    """Folders searched when no ``path`` is given, in order."""
    dirs = []
    if os.environ.get("TSREC_DATA"):
        dirs.append(Path(os.environ["TSREC_DATA"]).expanduser())
    dirs += [repo_data_dir(), cache_dir()]
    return dirs


def sha256sum(file: PathLike) -> str:
    """sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _expected_sha256(info: FileInfo, file: Path) -> str:
    # an uncompressed copy of a .gz file is checked against the uncompressed hash
    if info.sha256_uncompressed is not None and not file.name.endswith(".gz"):
        return info.sha256_uncompressed
    return info.sha256


def verify(file: PathLike, info: FileInfo) -> None:
    """Raise ``ValueError`` if ``file``'s sha256 differs from the registry's."""
    file = Path(file)
    expected = _expected_sha256(info, file)
    actual = sha256sum(file)
    if actual != expected:
        raise ValueError(
            f"sha256 mismatch for {file} ({info.relpath}): expected {expected}, got {actual}. "
            "The file is corrupted or a different version; delete it, or pass verify=False "
            "to read it anyway."
        )


def _candidates(folder: Path, info: FileInfo) -> list[Path]:
    files = [folder / info.relpath]
    if info.relpath.endswith(".gz"):  # an uncompressed copy, as in the original repositories
        files.append(folder / info.relpath[: -len(".gz")])
    return files


def _names_a_file(path: Path) -> bool:
    # an existing file, or a missing path that looks like one (a missing folder is created)
    return path.is_file() or (not path.exists() and path.suffix in (".csv", ".gz", ".txt"))


def download(info: FileInfo, folder: Path) -> Path:
    """Fetch ``info.url`` into ``folder / info.relpath`` and check its sha256.

    The bytes go to a ``.part`` file first, which replaces the target only once the
    hash matches; on a mismatch it is removed and ``ValueError`` is raised.
    """
    target = folder / info.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(info.url, timeout=60) as response, open(part, "wb") as f:
            for block in iter(lambda: response.read(1 << 20), b""):
                h.update(block)
                f.write(block)
        if h.hexdigest() != info.sha256:
            raise ValueError(
                f"sha256 mismatch for {info.url} ({info.relpath}): expected {info.sha256}, "
                f"got {h.hexdigest()}"
            )
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def fetch(
    relpath: str,
    path: PathLike | None = None,
    download_missing: bool = True,
    verify_checksum: bool = True,
) -> Path:
    """Locate (or download) one registry file and verify it.

    Parameters
    ----------
    relpath : str
        Key of :data:`~tsrec.datasets.checksums.FILES`.
    path : str or path-like, optional
        The file itself, or a folder holding the dataset subfolders. When given, only
        this place is used (a missing file is downloaded into the folder, which is
        created if needed).
        Otherwise ``$TSREC_DATA``, ``<repo>/../shared/datasets`` and the cache folder
        are searched, and a missing file is downloaded into the cache folder.
    download_missing : bool, default=True
        Download from the public origin when no local copy exists.
    verify_checksum : bool, default=True
        Check the sha256 of the file against the registry.

    Returns
    -------
    pathlib.Path
        The verified local file.
    """
    info = FILES[relpath]
    if path is not None and _names_a_file(Path(path).expanduser()):
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"{file} does not exist (expected {info.relpath})")
        if verify_checksum:
            verify(file, info)
        return file

    dirs = [Path(path).expanduser()] if path is not None else search_dirs()
    looked = []
    for folder in dirs:
        for file in _candidates(folder, info):
            looked.append(str(file))
            if file.is_file():
                if verify_checksum:
                    verify(file, info)
                return file

    where = "\n  ".join(looked)
    hint = "Pass path=..., set TSREC_DATA, or allow download=True."
    if not download_missing:
        raise FileNotFoundError(f"{info.relpath} not found. Looked in:\n  {where}\n{hint}")
    folder = dirs[0] if path is not None else cache_dir()
    try:
        return download(info, folder)
    except OSError as err:  # URLError, HTTPError, timeouts, unwritable folder
        raise FileNotFoundError(
            f"{info.relpath} not found. Looked in:\n  {where}\n"
            f"and the download from {info.url} into {folder} failed: {err}"
        ) from err
