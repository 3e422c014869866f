"""pytest, for the whole repository: the docstring examples of ``tsrec/`` run as doctests
(``--doctest-modules`` in pyproject.toml). A module whose import needs an optional extra that is
not installed is left out of the doctest collection rather than failing it (tsrec.plotting and
tsrec.scan.cupy import their optional packages only when called, so they always import)."""

import importlib.util

#: module file -> the package its import needs (the extra that brings it)
_OPTIONAL = {
    "tsrec/sktime.py": "sktime",  # tsrec[sktime]
    "tsrec/tuning.py": "optuna",  # tsrec[optuna]
    "tsrec/scan/_numba_kernels.py": "numba",  # tsrec[fast]
}

collect_ignore = [path for path, package in _OPTIONAL.items() if importlib.util.find_spec(package) is None]
