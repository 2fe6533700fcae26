"""One more sentence for the usual config mistakes, added to pydantic's message: the fix,
not just the fault. `for` counts periods, durations carry a unit, HS codes are text."""

from __future__ import annotations

import re
from typing import Any

_DURATION_LIKE = re.compile(r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|min|mins|minutes?|hours?|days?)\s*$", re.I)
_PERIOD_COUNTS = ("for", "keep_firing_for")
_CODE_LABELS = ("commodity", "hs", "hs_code", "cmd_code")


def hint(loc: tuple[str | int, ...], error_type: str, given: Any) -> str | None:
    """A hint for this error at this place, or None."""
    key = loc[-1] if loc else None
    if key in _PERIOD_COUNTS and isinstance(given, str) and _DURATION_LIKE.match(given):
        return (f"{key} counts periods (releases), e.g. {key}: 2; durations like {given.strip()} "
                "are not accepted here")
    if key in _PERIOD_COUNTS and error_type.startswith("int"):
        return f"{key} counts periods (releases): a whole number such as {key}: 2"
    if key in _CODE_LABELS and isinstance(given, int) and not isinstance(given, bool):
        return (f'HS codes are text: write {key}: "{given}" in quotes (unquoted, a code such as '
                "0101 loses its leading zero)")
    return None
