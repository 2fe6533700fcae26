"""Parameter checks that name the offending parameter as `<kind>.<name>`."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from detectors.errors import DetectorConfigError

DIRECTIONS = ("above", "below")


def direction(kind: str, value: Any) -> str:
    """'above' or 'below', nothing else."""
    if value not in DIRECTIONS or not isinstance(value, str):
        raise DetectorConfigError(f"{kind}.direction must be 'above' or 'below', got {value!r}")
    return value


def finite_number(kind: str, name: str, value: Any) -> float:
    """A finite real number (bools rejected: `true` in YAML is never a threshold)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise DetectorConfigError(f"{kind}.{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise DetectorConfigError(f"{kind}.{name} must be finite, got {value!r}")
    return number


def positive_int(kind: str, name: str, value: Any) -> int:
    """An integer >= 1 (bools and floats rejected)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise DetectorConfigError(f"{kind}.{name} must be an integer, got {value!r}")
    if value < 1:
        raise DetectorConfigError(f"{kind}.{name} must be >= 1, got {value!r}")
    return int(value)
