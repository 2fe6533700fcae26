"""Plain-language pieces for finding summaries, written for policy readers.

Percent changes read as verbs ("fell 21.6% YoY"), thresholds compactly with their sign
("-5%", "+10%"), levels with thousands separators and at most one decimal ("3,456.1").
"""

from __future__ import annotations

from detectors.panel import FreqLike, freq_code

_FREQ_WORD = {"M": "monthly", "Q": "quarterly", "Y": "annual"}
_PERIOD_NOUN = {"M": "month", "Q": "quarter", "Y": "year"}
_SUFFIX = {1: "st", 2: "nd", 3: "rd"}


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st, 22nd, ... 111th."""
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{_SUFFIX.get(n % 10, 'th')}"


def freq_word(freq: FreqLike) -> str:
    """The adjective: monthly, quarterly or annual."""
    return _FREQ_WORD[freq_code(freq)]


def period_noun(freq: FreqLike) -> str:
    """The noun: month, quarter or year."""
    return _PERIOD_NOUN[freq_code(freq)]


def _compact(x: float, decimals: int) -> str:
    """Thousands separators, trailing zeros dropped, no "-0"."""
    text = f"{abs(x):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "0":
        return text
    return f"-{text}" if x < 0 else text


def format_level(x: float) -> str:
    """A level such as 3,456.1 or 4,000."""
    return _compact(x, 1)


def format_percent_threshold(x: float) -> str:
    """A percent threshold with its sign: -5%, -2.5%, +10%, 0%."""
    text = _compact(x, 2)
    if text != "0" and not text.startswith("-"):
        text = f"+{text}"
    return f"{text}%"


def format_change(x: float, label: str) -> str:
    """A percent change as a verb phrase: "fell 21.6% YoY", "rose 12.0% YoY", "was unchanged".

    The verb follows the sign of the value as shown (one decimal), so the sentence never
    contradicts its own number.
    """
    suffix = f" {label}" if label else ""
    shown = round(x, 1)
    if shown == 0:
        return f"was unchanged{suffix}"
    verb = "rose" if shown > 0 else "fell"
    return f"{verb} {abs(shown):,.1f}%{suffix}"


def format_value(x: float, transform_label: str, *, percent: bool) -> str:
    """The "<subject> ..." predicate for a value: a change verb or "was <level>"."""
    return format_change(x, transform_label) if percent else f"was {format_level(x)}"


def format_threshold(x: float, *, percent: bool) -> str:
    """A threshold in the value's own units."""
    return format_percent_threshold(x) if percent else format_level(x)
