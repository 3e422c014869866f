"""The estimators' rendered docstrings: one numpydoc entry per hyperparameter of ``__init__``."""

from __future__ import annotations

import inspect
import re

import pytest

import tsrec
from tests._settings import NAMES


def _parameters_section(doc: str) -> list[str]:
    """The lines of the docstring's Parameters section, without the class docstring's four-space indent."""
    lines = doc.splitlines()
    start = lines.index("    Parameters") + 2  # the heading, then its underline
    end = next((i for i in range(start, len(lines) - 1) if lines[i + 1].strip() and set(lines[i + 1].strip()) == {"-"}
                and len(lines[i + 1].strip()) == len(lines[i].strip())), len(lines))  # the next section's heading
    assert all(line == line.rstrip() for line in lines[start:end]), "trailing whitespace in the Parameters section"
    out = [line[4:] for line in lines[start:end]]
    while out and out[-1] == "":
        out.pop()
    return out


@pytest.mark.parametrize("name", NAMES)
def test_every_hyperparameter_has_one_entry(name):
    cls = getattr(tsrec, name)
    section = _parameters_section(cls.__doc__)
    heads = [m.group(1) for line in section if (m := re.match(r"^(\w+) : ", line))]
    assert sorted(heads) == sorted(p for p in inspect.signature(cls.__init__).parameters if p != "self")
    for line in section:
        assert line == "" or re.match(r"^\w+ : ", line) or line.startswith("    "), \
            f"an entry's text must be indented under its name in {name}'s docstring: {line!r}"


def test_list_items_render_as_an_indented_list():
    section = _parameters_section(tsrec.LRUForecaster.__doc__)
    start = next(i for i, line in enumerate(section) if line.startswith("theta_weight : "))
    end = next(i for i in range(start + 1, len(section)) if re.match(r"^\w+ : ", section[i]))
    entry = section[start:end]
    items = [i for i, line in enumerate(entry) if line.startswith("    - ")]
    assert len(items) == 6  # the six cases of "auto"
    assert entry[items[0] - 1] == ""  # a blank line opens the list, as reStructuredText needs
    for i in range(items[0], items[-1]):  # inside the list: items, or their continuations indented under them
        assert entry[i].startswith(("    - ", "      ")) and not entry[i].startswith("       ")
