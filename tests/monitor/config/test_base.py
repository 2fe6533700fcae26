"""Durations as written and the name pattern every model shares."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import parse_duration
from tests.monitor.config.support import SOURCE, errors, write

# --- parse_duration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5s", 5), ("5m", 300), ("1h", 3600), ("1d", 86400), ("250ms", 0.25), ("1.5h", 5400),
        (" 2 h ", 7200), ("0s", 0), (30, 30), (1.5, 1.5), (timedelta(minutes=2), 120),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["5 parsecs", "", "5", "s", "-5s", "5S", "1w", True, None, [5]])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == (
        f"invalid duration {value!r}: use a number and a unit, e.g. 30s, 5m, 1h, 1d"
    )


# --- in a file --------------------------------------------------------------------------------


def test_bad_duration(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    timeout: 5 parsecs\n")
    assert errors(path) == [
        f"{path}:6: sources[0].timeout: invalid duration '5 parsecs': "
        "use a number and a unit, e.g. 30s, 5m, 1h, 1d"
    ]


def test_bad_name(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE.replace("name: a", 'name: "a b"'))
    assert errors(path) == [
        f"{path}:2: sources[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$'"
    ]
