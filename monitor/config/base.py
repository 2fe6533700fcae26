"""What every config model shares: strict frozen models, durations as written ("30s", "5m")
and the pattern of a name.

Kept apart so that each concern's models (sources, rules, notify, infrastructure) build on it
without importing one another.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_COUNT = 10_000  # periods, rows, items: far past any real rule or source, far short of overflow
MAX_DURATION = timedelta(days=365)  # longer than any poll, timeout or grace a config needs
MIN_INTERVAL = timedelta(milliseconds=1)  # a timeout or an interval of zero never makes sense


def parse_duration(value: Any) -> timedelta:
    """'5s', '5m', '1h', '1d' (or a number of seconds) -> timedelta, between 0 and 365 days:
    a huge, infinite or NaN duration is refused here, before timedelta overflows on it."""
    if isinstance(value, timedelta):
        return _bounded(value.total_seconds(), value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _bounded(float(value), value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return _bounded(float(match.group(1)) * _UNITS[match.group(2)], value)
    raise ValueError(f"invalid duration {_short(value)}: use a number and a unit, e.g. 30s, 5m, 1h, 1d")


def _bounded(seconds: float, value: Any) -> timedelta:
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {_short(value)}: must be 0s or more")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"invalid duration {_short(value)}: must be at most "
                         f"{format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


def _short(value: Any) -> str:
    """The value as written, cut short: an error message never repeats a megabyte."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _positive(value: timedelta) -> timedelta:
    if value < MIN_INTERVAL:
        raise ValueError(f"must be at least {format_duration(MIN_INTERVAL)}, got {format_duration(value)}")
    return value


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, for schemas and dumps: 90s -> '90s', 1h -> '1h'."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$",
                    "examples": ["30s", "5m", "1h", "1d"]}),
]
Interval = Annotated[Duration, AfterValidator(_positive)]  # timeouts and poll intervals: > 0


class Strict(BaseModel):
    """Base of every config model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
