"""Plain-language pieces for finding summaries, written for policy readers.

Percent changes read as verbs ("fell 21.6% YoY"), thresholds compactly with their sign
("-5%", "+10%"), levels with thousands separators and at most one decimal ("3,456.1"),
periods in words ("March 2015", "Q1 2015", "2015"). Sentences and messages share these, so
a finding and the message that carries it name a period the same way; data keeps ISO periods.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence

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


_MONTHLY = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTERLY = re.compile(r"^(\d{4})Q([1-4])$")
_ANNUAL = re.compile(r"^(\d{4})$")


def period_name(period: object) -> str:
    """`2015-03` -> "March 2015", `2025Q3` -> "Q3 2025", `2025` -> "2025" (a period or its
    text); anything else unchanged, so a name already in words stays as it is."""
    text = str(period or "").strip()
    if match := _MONTHLY.match(text):
        month = int(match.group(2))
        if 1 <= month <= 12:
            return f"{calendar.month_name[month]} {match.group(1)}"
    if match := _QUARTERLY.match(text):
        return f"Q{match.group(2)} {match.group(1)}"
    return text


def short_period_name(period: object) -> str:
    """`2015-03` -> "Mar 2015" (for lists of months); quarters and years as period_name."""
    text = str(period or "").strip()
    if (match := _MONTHLY.match(text)) and 1 <= int(match.group(2)) <= 12:
        return f"{calendar.month_abbr[int(match.group(2))]} {match.group(1)}"
    return period_name(text)


def frequency_of(period: object) -> str:
    """M, Q or A, read off how a period is written; M when it cannot tell."""
    text = str(period or "")
    if _QUARTERLY.match(text):
        return "Q"
    if _ANNUAL.match(text):
        return "A"
    return "M"


def span_name(since: object, period: object) -> str:
    """"November 2014 – March 2015", or one period's name."""
    if since and str(since) != str(period):
        return f"{period_name(since)} – {period_name(period)}"
    return period_name(period)


def run_phrase(count: int, noun: str, direction: str, bound: str) -> str:
    """How a finding says a run's length: "the 5th consecutive monthly decline below -5%"."""
    return f"the {ordinal(count)} consecutive {noun} {direction} {bound}"


def window_phrase(hits: int, noun: str, direction: str, bound: str, last: str) -> str:
    """How it says the periods beyond a threshold in a window, the newest among them: "the
    4th decline below -5% in the last 6 months"."""
    return f"the {ordinal(hits)} {noun} {direction} {bound} in {last}"


def window_tally(hits: int, last: str, direction: str, bound: str) -> str:
    """...and with the newest not among them: "4 of the last 6 months were below -5%"."""
    return f"{hits} of {last} were {direction} {bound}"


_COUNTED = re.compile(r"\bthe (\d+)(?:st|nd|rd|th) (?:consecutive \S|[^,;]* in the last )"
                      r"|; (\d+) of the last ")


def stated_count(sentence: object) -> int | None:
    """The count a sentence of run_phrase, window_phrase or window_tally states (the last one
    in it); None when it states none. A message's headline repeats this count instead of
    counting again from other facts, so the headline and the sentence cannot disagree."""
    found = _COUNTED.findall(str(sentence or ""))
    if not found:
        return None
    run, tally = found[-1]
    return int(run or tally)


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
    """A percent change as a verb phrase: "fell 21.6% YoY", "rose 12.0% YoY", "showed no change".

    The verb follows the sign of the value as shown (one decimal), so the sentence never
    contradicts its own number.
    """
    suffix = f" {label}" if label else ""
    shown = round(x, 1)
    if shown == 0:
        return f"showed no change{suffix}"
    verb = "rose" if shown > 0 else "fell"
    return f"{verb} {abs(shown):,.1f}%{suffix}"


def format_value(x: float, transform_label: str, *, percent: bool) -> str:
    """The "<subject> ..." predicate for a value: a change verb or "stood at <level>"."""
    return format_change(x, transform_label) if percent else f"stood at {format_level(x)}"


def format_threshold(x: float, *, percent: bool) -> str:
    """A threshold in the value's own units."""
    return format_percent_threshold(x) if percent else format_level(x)


def format_signed_level(x: float) -> str:
    """A change in level with its sign, as a threshold: -100, +2,500, 0."""
    text = format_level(x)
    return text if text == "0" or text.startswith("-") else f"+{text}"


def format_level_change(x: float, label: str) -> str:
    """A change in level as a verb phrase: "fell 120.5 MoM", "rose 3,000", "showed no change MoM"."""
    suffix = f" {label}" if label else ""
    shown = round(x, 1)
    if shown == 0:
        return f"showed no change{suffix}"
    verb = "rose" if shown > 0 else "fell"
    return f"{verb} {format_level(abs(shown))}{suffix}"


def format_percent_level(x: float) -> str:
    """A percent level such as a share, without a sign: 12.3%, 100%, 0.25%."""
    return f"{_compact(x, 2)}%"


def shift_phrase(before: float, after: float, period: str, *, kind: str = "level") -> str:
    """A move from one regime to the next as a "<subject> ..." predicate.

    Levels move by a percent of the old level when that level is positive ("shifted down 31%
    in January 2015: from 2,845.3 to 1,963.2 on average"), else by their difference; percent
    changes and percent levels by points ("shifted down 25.3 points ...: from +12% to -13.3%
    on average"); changes in level by their difference ("shifted up by 120.5 ..."). The
    direction and amount follow the numbers as shown, so the sentence never contradicts them.
    """
    show = {
        "percent_change": lambda x: f"{format_signed_level(x)}%",
        "percent_level": lambda x: f"{format_level(x)}%",
        "change": format_signed_level,
    }.get(kind, format_level)
    old, new = show(before), show(after)
    if old == new:
        return f"changed regime in {period_name(period)}, averaging {old} before and after"
    direction = "up" if after > before else "down"
    if kind in ("percent_change", "percent_level"):
        amount = f"{_compact(abs(after - before), 1)} points"
    elif kind == "level" and before > 0:
        amount = f"{_compact(abs(100.0 * (after - before) / before), 1)}%"
    else:
        amount = f"by {format_level(abs(after - before))}"
    if amount in ("0%", "0 points", "by 0"):
        amount = "slightly"
    return f"shifted {direction} {amount} in {period_name(period)}: from {old} to {new} on average"


def trend_break_phrase(expected: float, actual: float, period: str, *, kind: str = "level") -> str:
    """A break in a trend as a "<subject> ..." predicate: where the new regime's line starts
    against where the old regime's line was heading ("broke trend in January 2015: 3,210.5
    against 4,650.2 on the old trend (-31%)"). Regime means would mislead here: after a
    crash a growing series can average more than it did before.
    """
    show = {
        "percent_change": lambda x: f"{format_signed_level(x)}%",
        "percent_level": lambda x: f"{format_level(x)}%",
        "change": format_signed_level,
    }.get(kind, format_level)
    if kind in ("percent_change", "percent_level"):
        gap = f"{format_signed_level(actual - expected)} points"
    elif kind == "level" and expected > 0:
        gap = f"{format_signed_level(100.0 * (actual - expected) / expected)}%"
    else:
        gap = format_signed_level(actual - expected)
    return (f"broke trend in {period_name(period)}: {show(actual)} against {show(expected)} "
            f"on the old trend ({gap})")


def resolution_sentence(subject: str, predicate: str | None, period: str, rule: str, kind: str,
                        revisions: Sequence[tuple[str, float, float]] = ()) -> str:
    """What a firing alert's resolution says: the value that no longer meets the rule (or
    that there is none), and the revision that caused it, if one did.

    `predicate` is `value_phrase(...)` of the newest value, None when it is missing;
    `revisions` are (period, before, after), newest first as the store reports them."""
    if predicate is not None:
        sentence = f"{subject} {predicate} in {period_name(period)}; {rule} no longer holds."
    else:
        sentence = f"{subject} has no {kind} value for {period_name(period)}; {rule} no longer holds."
    if not revisions:
        return sentence
    changes = "; ".join(f"{period_name(p)} from {format_level(before)} to {format_level(after)}"
                        for p, before, after in revisions[:3])
    more = f" and {len(revisions) - 3} more" if len(revisions) > 3 else ""
    return f"After a revision ({changes}{more}), {sentence}"


def retired_rule_sentence(rule: str, last: str) -> str:
    """A firing alert resolved because its rule left the config."""
    return f"Rule {rule} was removed from the config; this alert no longer applies (last: {last})"
