"""Periods: config frequency letters (M, Q, A), their pandas spellings, and the one reader of
period labels that files, feeds, `tradewatch detect`, backtest windows and the config share.
pandas is imported only to build a period, so the CLI can check spellings without it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

_PANDAS = {"M": "M", "Q": "Q", "A": "Y"}


def pandas_freq(frequency: str) -> str:
    """`A` (annual, the SDMX letter) is `Y` in pandas >= 2.2."""
    return _PANDAS.get(frequency, frequency)


def period_dtype(frequency: str) -> str:
    return f"period[{pandas_freq(frequency)}]"


def frequency_letter(freqstr: str) -> str:
    """pandas freqstr (`M`, `Q-DEC`, `Y-DEC`) -> M, Q or A."""
    head = freqstr.split("-")[0].upper()
    return {"M": "M", "Q": "Q", "QE": "Q", "Y": "A", "A": "A", "YE": "A"}.get(head, head)


def periods_per_year(frequency: str) -> int:
    return {"M": 12, "Q": 4, "A": 1}[frequency]


PERIOD_HINT = "use e.g. 2015-03, 2015M03, 201503, Mar 2015, 2015-03-01, 2015-Q1, 2015Q1 or 2015"

# --- reading the period spellings that real files and feeds use -----------------------------

_MONTH_NAMES = {
    name: number
    for number, names in enumerate((
        ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
        ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
        ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december"),
    ), start=1)
    for name in names
}
_MONTH = r"(0?[1-9]|1[0-2])"
_MONTHLY = (
    # 2015-03, 2015/03, 2015-3; "." needs two digits: 2015.1 is a float that lost October's 0
    re.compile(rf"^(?P<year>\d{{4}})\s*[-/]\s*(?P<month>{_MONTH})$"),
    re.compile(r"^(?P<year>\d{4})\.(?P<month>0[1-9]|1[0-2])$"),
    re.compile(rf"^(?P<year>\d{{4}})-?M(?P<month>{_MONTH})$", re.IGNORECASE),  # 2015M03 (SDMX, IMF)
    re.compile(r"^(?P<year>\d{4})(?P<month>0[1-9]|1[0-2])$"),  # 201503 (Comtrade)
    re.compile(rf"^(?P<month>{_MONTH})\s*[/.]\s*(?P<year>\d{{4}})$"),  # 03/2015, 03.2015
    re.compile(r"^(?P<name>[A-Za-z]+)\.?,?[\s-]*(?P<year>\d{4})$"),  # March 2015, Mar 2015, Mar-2015
    re.compile(r"^(?P<year>\d{4})[\s-]+(?P<name>[A-Za-z]+)\.?$"),  # 2015 March
)
# Several months released as one figure: China customs' January+February (2024-01/02,
# Jan-Feb 2024). "-" never joins two numbers here: 2024-01-02 is a date.
_COMBINED = (
    re.compile(rf"^(?P<year>\d{{4}})\s*[-/.]?\s*(?P<first>{_MONTH})\s*[/+&]\s*(?P<last>{_MONTH})$"),
    re.compile(r"^(?P<first_name>[A-Za-z]+)\.?\s*[-/+&]\s*(?P<last_name>[A-Za-z]+)\.?,?\s+(?P<year>\d{4})$"),
)
_QUARTERLY = (
    re.compile(r"^(?P<year>\d{4})\s*-?\s*Q(?P<quarter>[1-4])$", re.IGNORECASE),  # 2015-Q1, 2015Q1
    re.compile(r"^Q(?P<quarter>[1-4])\s*[-/ ]?\s*(?P<year>\d{4})$", re.IGNORECASE),  # Q1 2015
)
_ANNUAL = re.compile(r"^(?P<year>\d{4})(?:\.0+)?$")  # 2015, and 2015.0 from a float column
# Only dates go to pandas: its parser also reads "2015.1" and "2020" as months, silently.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T][0-9:.]+)?$")


FREQUENCIES = ("M", "Q", "A")  # the order a label of unknown frequency is tried in


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    """A parsed period label: the last period it covers and how many periods it spans
    (2 for a January+February release, 1 otherwise)."""

    last: pd.Period
    count: int = 1

    @property
    def periods(self) -> list[pd.Period]:
        return [self.last - offset for offset in range(self.count - 1, -1, -1)]


def period_parts(text: object, frequency: str) -> tuple[int, int, int] | None:
    """(year, month or quarter or 0, periods covered) of a label in any spelling publishers
    use; None when it is not a period of this frequency. Plain Python: config validation
    and the CLI read periods without loading pandas."""
    raw = str(text).strip()
    if not raw or raw.lower() in {"nan", "none", "nat"}:
        return None
    if frequency == "M":
        parts = _monthly_parts(raw)
        if parts is not None:
            return parts
    elif frequency == "Q":
        for pattern in _QUARTERLY:
            if match := pattern.match(raw):
                return int(match["year"]), int(match["quarter"]), 1
    elif match := _ANNUAL.match(raw):
        return int(match["year"]), 0, 1
    if not _DATE.match(raw):
        return None
    try:  # ISO dates, datetimes from spreadsheets
        day = date.fromisoformat(raw[:10])
    except ValueError:
        return None
    sub = {"M": day.month, "Q": (day.month - 1) // 3 + 1}.get(frequency, 0)
    return day.year, sub, 1


def parse_period_span(text: object, frequency: str) -> PeriodSpan | None:
    """Read one period label in any spelling publishers use; None when it is not a period."""
    parts = period_parts(text, frequency)
    if parts is None:
        return None
    import pandas as pd

    year, sub, count = parts
    freq = pandas_freq(frequency)
    if frequency == "M":
        return PeriodSpan(pd.Period(year=year, month=sub, freq=freq), count)
    if frequency == "Q":
        return PeriodSpan(pd.Period(year=year, quarter=sub, freq=freq))
    return PeriodSpan(pd.Period(year=year, freq=freq))


def parse_period(text: object, frequency: str) -> pd.Period | None:
    """One period; a combined label (Jan+Feb) is not one period, so it gives None."""
    span = parse_period_span(text, frequency)
    return span.last if span is not None and span.count == 1 else None


def label_frequency(text: object) -> str | None:
    """M, Q or A: the first frequency a single label reads as (2001M10, 200110 and
    2001-10-01 are months, 2001Q3 a quarter, 2001 a year); None when it is no period."""
    return next((f for f in FREQUENCIES if (p := period_parts(text, f)) is not None and p[2] == 1), None)


def read_period(text: object) -> pd.Period:
    """One period of whatever frequency its spelling says; ValueError naming the spellings."""
    frequency = label_frequency(text)
    if frequency is None:
        raise ValueError(f"invalid period {str(text)!r}: {PERIOD_HINT}")
    period = parse_period(text, frequency)
    assert period is not None
    return period


def infer_frequency(labels: Sequence[object]) -> str | None:
    """The frequency under which most distinct labels read (months first on a tie: a date
    is a month), so that one bad row is reported rather than changing the frequency."""
    uniques = list(dict.fromkeys(str(label).strip() for label in labels))[:2000]
    counts = {f: sum(period_parts(u, f) is not None for u in uniques) for f in FREQUENCIES}
    best = max(FREQUENCIES, key=lambda f: (counts[f], -FREQUENCIES.index(f)))
    return best if counts[best] else None


def _monthly_parts(raw: str) -> tuple[int, int, int] | None:
    for pattern in _MONTHLY:
        if match := pattern.match(raw):
            groups = match.groupdict()
            month = _MONTH_NAMES.get(groups["name"].lower()) if groups.get("name") else int(groups["month"])
            return None if month is None else (int(groups["year"]), month, 1)
    for pattern in _COMBINED:
        if match := pattern.match(raw):
            groups = match.groupdict()
            if groups.get("first_name"):
                first = _MONTH_NAMES.get(groups["first_name"].lower())
                last = _MONTH_NAMES.get(groups["last_name"].lower())
            else:
                first, last = int(groups["first"]), int(groups["last"])
            if first is None or last is None or last <= first:
                return None
            return int(groups["year"]), last, last - first + 1
    return None
