"""Parameter checks that name the offending parameter as `<kind>.<name>`."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from detectors.errors import DetectorConfigError
from detectors.lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

DIRECTIONS = ("above", "below")
MAX_COUNT = 10_000  # periods or points: past any real window, short of any overflow


def direction(kind: str, value: Any) -> str:
    """'above' or 'below', nothing else."""
    if value not in DIRECTIONS or not isinstance(value, str):
        raise DetectorConfigError(f"{kind}.direction must be 'above' or 'below', got {value!r}")
    return value


def finite_number(kind: str, name: str, value: Any) -> float:
    """A finite real number (bools rejected: `true` in YAML is never a threshold)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise DetectorConfigError(f"{kind}.{name} must be a number, got {_short(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer past float's range
        number = math.inf
    if not math.isfinite(number):
        raise DetectorConfigError(f"{kind}.{name} must be finite, got {value!r}")
    return number


def positive_int(kind: str, name: str, value: Any, maximum: int = MAX_COUNT) -> int:
    """An integer from 1 to `maximum` (bools and floats rejected)."""
    return int_at_least(kind, name, value, 1, maximum)


def choice(kind: str, name: str, value: Any, options: tuple[str, ...]) -> str:
    """One of a fixed set of strings; the message lists them in order."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options[:-1]) + f" or {options[-1]!r}"
        raise DetectorConfigError(f"{kind}.{name} must be {listed}, got {value!r}")
    return value


def boolean(kind: str, name: str, value: Any) -> bool:
    """A real bool: "yes" or 1 in YAML is more likely a typo than a decision."""
    numpy_bool = type(value).__name__ == "bool_" and type(value).__module__ == "numpy"
    if not (isinstance(value, bool) or numpy_bool):
        raise DetectorConfigError(f"{kind}.{name} must be true or false, got {value!r}")
    return bool(value)


def int_at_least(kind: str, name: str, value: Any, minimum: int, maximum: int = MAX_COUNT) -> int:
    """An integer from `minimum` to `maximum` (bools and floats rejected): a count of 1e29
    periods is a typo, and would overflow the arrays and dates it sizes."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise DetectorConfigError(f"{kind}.{name} must be an integer, got {_short(value)}")
    number = int(value)
    if number < minimum:
        raise DetectorConfigError(f"{kind}.{name} must be >= {minimum}, got {value!r}")
    if number > maximum:
        raise DetectorConfigError(f"{kind}.{name} must be <= {maximum}, got {_short(value)}")
    return number


def _short(value: Any) -> str:
    """The value as written, cut short for a one-line message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
