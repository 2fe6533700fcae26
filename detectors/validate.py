"""Parameter checks that name the offending parameter as `<kind>.<name>`."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

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


def choice(kind: str, name: str, value: Any, options: tuple[str, ...]) -> str:
    """One of a fixed set of strings; the message lists them in order."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options[:-1]) + f" or {options[-1]!r}"
        raise DetectorConfigError(f"{kind}.{name} must be {listed}, got {value!r}")
    return value


def boolean(kind: str, name: str, value: Any) -> bool:
    """A real bool: "yes" or 1 in YAML is more likely a typo than a decision."""
    if not isinstance(value, bool | np.bool_):
        raise DetectorConfigError(f"{kind}.{name} must be true or false, got {value!r}")
    return bool(value)


def int_at_least(kind: str, name: str, value: Any, minimum: int) -> int:
    """An integer >= minimum (bools and floats rejected)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise DetectorConfigError(f"{kind}.{name} must be an integer, got {value!r}")
    if value < minimum:
        raise DetectorConfigError(f"{kind}.{name} must be >= {minimum}, got {value!r}")
    return int(value)
