"""Until when "Silence until next release" silences: the next due date of the source's
release calendar, at the start of that day in the publisher's time zone; one period, said as
such, for a source without a calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config.sources import FileSource
from monitor.notify.release import next_release

LABELS = {"source": "customs", "series": "chn-rus/export/total"}


def source(**extra: Any) -> FileSource:
    return FileSource.model_validate({"name": "customs", "kind": "file", "path": "x.csv",
                                      "value_column": "value", **extra})


def test_the_next_due_date_in_the_publishers_time_zone() -> None:
    """After July's data, August's is next: due on 20 September, Beijing time, which is 16:00
    UTC on the 19th."""
    sources = [source(release={"day": 20, "lag": 1, "timezone": "Asia/Shanghai"})]
    until = next_release(LABELS, "2025-07", sources, datetime(2025, 8, 21, tzinfo=UTC))
    assert until.known and until.at == datetime(2025, 9, 19, 16, tzinfo=UTC)
    assert until.reason == "the release of August 2025 data by customs"


def test_a_due_date_already_past_moves_to_the_following_release() -> None:
    sources = [source(release={"day": 20, "lag": 1})]
    until = next_release(LABELS, "2025-07", sources, datetime(2025, 10, 3, tzinfo=UTC))
    assert until.at == datetime(2025, 10, 20, tzinfo=UTC)
    assert until.reason == "the release of September 2025 data by customs"


def test_quarterly_data_and_a_lag_of_two() -> None:
    sources = [source(frequency="Q", release={"day": 15, "lag": 2})]
    until = next_release(LABELS, "2025Q1", sources, datetime(2025, 4, 1, tzinfo=UTC))
    assert until.at == datetime(2025, 12, 15, tzinfo=UTC)  # two quarters after Q2: Q4, its last month
    assert until.reason == "the release of Q2 2025 data by customs"


def test_without_a_calendar_one_period_and_the_message_says_why() -> None:
    now = datetime(2025, 8, 1, tzinfo=UTC)
    for sources, period, days, words in (([source()], "2025-07", 30, "one month"),
                                         ([source(frequency="Q")], "2025Q2", 91, "one quarter"),
                                         ([], "2025", 365, "one year")):
        until = next_release(LABELS, period, sources, now)
        assert not until.known and until.at == now + timedelta(days=days)
        assert until.reason.startswith(words) and "no release calendar" in until.reason


def test_a_calendar_with_lag_zero_releases_within_the_month() -> None:
    """Lag 0 (allowed by the config): July's data is due on 28 July itself."""
    sources = [source(release={"day": 28, "lag": 0})]
    until = next_release(LABELS, "2025-06", sources, datetime(2025, 7, 1, tzinfo=UTC))
    assert until.at == datetime(2025, 7, 28, tzinfo=UTC)
    assert until.reason == "the release of July 2025 data by customs"
