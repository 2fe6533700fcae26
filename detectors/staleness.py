"""Late data: a series whose newest period is older than its release calendar allows.

The calendar is simple and covers customs releases: the data for a reference period is due on
day `day` of the month that ends `lag` periods after the period ends (lag 1, day 20: July's data
on 20 August; a second quarter's on 20 September), and is late from the day after the due date
plus `grace_days`. The detector is pure: `evaluate` hands it the caller's clock reading (`now`),
because the Detector protocol's `scan(values)` has no notion of time.

It flags each series at its newest period, so use it with the `level` transform: another
transform may leave the newest period without a value and move the flag off it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from detectors import validate
from detectors.base import Cell, Scan, last_valid_rows
from detectors.errors import DetectorConfigError
from detectors.findings import FindingKind
from detectors.lazy import lazy
from detectors.panel import FreqLike
from detectors.wording import period_name, period_noun

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")

MAX_LAG = 120  # periods: ten years of months, a century of years
MAX_GRACE_DAYS = 3660


def release_day(period: pd.Period, lag: int, day: int) -> date:
    """When the data for `period` is due on a calendar of (`lag`, `day`): day `day` (clipped to
    the month's last day) of the month that ends `lag` periods after `period` ends. The one
    formula the detector, the schedule's metrics and Slack's "until next release" share."""
    month = (period + lag).asfreq("M", how="end")
    last_day = calendar.monthrange(month.year, month.month)[1]
    return date(month.year, month.month, min(day, last_day))


@dataclass(frozen=True, slots=True)
class Staleness:
    """Fires at a series' newest period when a later period is already overdue."""

    kind: ClassVar[str] = "staleness"
    finding_kind: ClassVar[FindingKind] = "condition"
    lag: int = 1
    day: int = 20
    grace_days: int = 0

    def __post_init__(self) -> None:
        # a due date past year 9999 is no date at all: lag and grace stay within a century
        object.__setattr__(self, "lag", validate.positive_int(self.kind, "lag", self.lag, MAX_LAG))
        day = validate.positive_int(self.kind, "day", self.day)
        if day > 31:
            raise DetectorConfigError(f"{self.kind}.day must be <= 31, got {day}")
        object.__setattr__(self, "day", day)
        grace = validate.int_at_least(self.kind, "grace_days", self.grace_days, 0, MAX_GRACE_DAYS)
        object.__setattr__(self, "grace_days", grace)

    def due_date(self, period: pd.Period) -> date:
        """When the data for `period` is due (day clipped to the month's last day)."""
        return release_day(period, self.lag, self.day)

    def expected_period(self, now: date, freq: FreqLike) -> pd.Period:
        """The newest period whose data is overdue on `now` (a date or datetime)."""
        today = now.date() if isinstance(now, datetime) else now
        period = pd.Period(today, freq=freq) - self.lag  # near the answer; due dates only grow
        while self._overdue(period + 1, today):
            period += 1
        while not self._overdue(period, today):
            period -= 1
        return period

    def _overdue(self, period: pd.Period, today: date) -> bool:
        return self.due_date(period) + timedelta(days=self.grace_days) < today

    def mask(self, values: pd.DataFrame, now: date | None = None) -> pd.DataFrame:
        """True at each series' newest period when that series is late on `now`."""
        mask = self.scan(values, now=now).mask
        return pd.DataFrame(mask, index=values.index, columns=values.columns)

    def scan(self, values: pd.DataFrame, now: date | None = None) -> Scan:
        """Mask at the late series' newest periods, with the expected period, how many periods
        late and the due date as evidence (the same for all series but `periods_late`).
        """
        if now is None:
            raise ValueError(f"{self.kind} needs `now`: pass the evaluation time")
        expected = self.expected_period(now, values.index.freq)
        raw = values.to_numpy(dtype=float)
        rows = last_valid_rows(raw)
        has_data = rows >= 0
        newest = np.asarray(values.index.asi8)[np.maximum(rows, 0)] if len(values.index) else rows
        late = np.where(has_data, np.maximum(expected.ordinal - newest, 0), 0)
        cols = np.flatnonzero(late > 0)
        mask = np.zeros(raw.shape, dtype=bool)
        mask[rows[cols], cols] = True
        shape = raw.shape
        evidence = {
            "expected_period": np.broadcast_to(np.array(str(expected), dtype=object), shape),
            "periods_late": np.broadcast_to(late.astype(np.int64), shape),
            "due_date": np.broadcast_to(
                np.array(self.due_date(expected).isoformat(), dtype=object), shape
            ),
        }
        reference = np.broadcast_to(np.float64(np.nan), shape)
        return Scan(mask=mask, reference=reference, evidence=evidence)

    def params(self) -> dict[str, Any]:
        """The release calendar, for finding details."""
        return {"lag": self.lag, "day": self.day, "grace_days": self.grace_days}

    def describe(self, cell: Cell) -> str:
        """Sentence such as: X has no data for August 2025, due 2025-09-20; the newest is July 2025.

        Several missing periods: X has no data for June 2025 to August 2025 (3 months), the last
        due 2025-09-20; the newest is May 2025.
        """
        late = int(cell.details["periods_late"])
        expected, due = period_name(cell.details["expected_period"]), cell.details["due_date"]
        newest = period_name(cell.period)
        if late == 1:
            return f"{cell.subject} has no data for {expected}, due {due}; the newest is {newest}."
        first = period_name(cell.period + 1)
        noun = period_noun(cell.period.freq)
        return (
            f"{cell.subject} has no data for {first} to {expected} ({late} {noun}s), "
            f"the last due {due}; the newest is {newest}."
        )
