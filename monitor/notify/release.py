"""Until when "Silence until next release" silences an alert: the start of the day (in the
publisher's time zone) the source's release calendar says the next period's data is due,
so that the release itself, and an alert it resolves, are heard. A source without a release
calendar has no known release: the silence lasts one period of the series' frequency, and
the message says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from detectors.staleness import release_day
from monitor.config import SourceConfig
from monitor.notify.wording import frequency_of, period_name
from monitor.periods import pandas_freq

_ONE_PERIOD = {"M": (timedelta(days=30), "one month"), "Q": (timedelta(days=91), "one quarter"),
               "A": (timedelta(days=365), "one year")}
_MOST_PERIODS = 240  # how far ahead a release is looked for (a calendar always has one)


@dataclass(frozen=True, slots=True)
class Until:
    """When a silence ends and, in words, why then ("the release of April 2015 data")."""

    at: datetime
    reason: str
    known: bool  # False: no release calendar, a fallback of one period


def next_release(labels: Mapping[str, str], period: str, sources: Sequence[SourceConfig],
                 now: datetime) -> Until:
    """The next release of the series' source after `now` for a period after `period`."""
    name = labels.get("source", "")
    source = next((s for s in sources if s.name == name), None)
    frequency = source.frequency if source is not None else frequency_of(period)
    if source is not None and source.release is not None:
        release = source.release
        zone = ZoneInfo(release.timezone)
        try:
            awaited = pd.Period(period, freq=pandas_freq(frequency)) + 1
        except (TypeError, ValueError):
            awaited = None
        for _ in range(_MOST_PERIODS if awaited is not None else 0):
            due = release_day(awaited, release.lag, release.day)
            at = datetime(due.year, due.month, due.day, tzinfo=zone).astimezone(UTC)
            if at > now:
                return Until(at, f"the release of {period_name(str(awaited))} data by {name}", True)
            awaited += 1
    step, words = _ONE_PERIOD.get(frequency, _ONE_PERIOD["M"])
    why = f"source {name} has" if name else "this series has"
    return Until(now + step, f"{words}: {why} no release calendar, so its next release is not known", False)
