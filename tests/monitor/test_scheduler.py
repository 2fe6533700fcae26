"""When sources are due: poll intervals of fixed and cron schedules, the next release a
calendar promises, and the next run of a real scheduler."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import ReleaseCalendar, Schedule
from monitor.scheduler import SourceScheduler, poll_interval, release_due

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FRIDAY = datetime(2024, 3, 8, 9, 0, tzinfo=UTC)  # a Friday, 09:00 UTC


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        (Schedule(every=HOUR), FRIDAY, HOUR),
        (Schedule(every=timedelta(hours=6)), FRIDAY, timedelta(hours=6)),
        (Schedule(cron="0 6 * * *"), FRIDAY, DAY),  # daily
        (Schedule(cron="0 6 * * *"), datetime(2024, 3, 8, 6, 0, tzinfo=UTC), DAY),  # at a run
        (Schedule(cron="*/15 * * * *"), FRIDAY + timedelta(minutes=7), timedelta(minutes=15)),
        # Weekdays at 09:00: three days around a weekend, one day in the week.
        (Schedule(cron="0 9 * * mon-fri"), FRIDAY + timedelta(days=1), 3 * DAY),  # Saturday
        (Schedule(cron="0 9 * * mon-fri"), FRIDAY + timedelta(days=3, hours=1), 3 * DAY),  # Monday 10:00
        (Schedule(cron="0 9 * * mon-fri"), FRIDAY + timedelta(days=4, hours=1), DAY),  # Tuesday 10:00
        (Schedule(cron="0 9 * * mon-fri"), FRIDAY - timedelta(days=1), DAY),  # Thursday 09:00
        # The 1st and the 2nd of each month: the long gap counts on both days.
        (Schedule(cron="0 9 1,2 * *"), datetime(2024, 3, 1, 12, tzinfo=UTC), timedelta(days=28)),
        (Schedule(cron="0 9 1,2 * *"), datetime(2024, 3, 2, 12, tzinfo=UTC), timedelta(days=30)),
    ],
)
def test_poll_interval(schedule: Schedule, now: datetime, expected: timedelta) -> None:
    assert poll_interval(schedule, now) == expected


def test_a_source_that_succeeded_at_each_weekday_run_is_never_past_its_interval() -> None:
    """What the late rule relies on: between two runs, the time since the last one stays
    within the interval exported at that moment, every hour of two weeks, even while the
    poll after a long gap is still running."""
    schedule = Schedule(cron="0 9 * * mon-fri")
    runs = [FRIDAY + timedelta(days=d) for d in range(16) if (FRIDAY + timedelta(days=d)).weekday() < 5]
    for hour in range(1, 14 * 24):
        now = FRIDAY + timedelta(hours=hour)
        last = max(run for run in runs if run <= now)
        assert now - last <= poll_interval(schedule, now), now
    for run in runs[1:-1]:  # a run whose poll takes ten minutes: the run before was the last success
        now = run + timedelta(minutes=10)
        before = max(r for r in runs if r < run)
        assert now - before <= poll_interval(schedule, now) + timedelta(minutes=10), now


@pytest.mark.parametrize(
    ("newest", "frequency", "calendar", "expected"),
    [
        (None, "M", ReleaseCalendar(), None),  # no data yet: nothing awaited
        ("2015-03", "M", ReleaseCalendar(day=20, lag=1), datetime(2015, 5, 20, tzinfo=UTC)),
        ("2015-01", "M", ReleaseCalendar(day=31, lag=0), datetime(2015, 2, 28, tzinfo=UTC)),  # clipped
        ("2015Q1", "Q", ReleaseCalendar(day=20, lag=1), datetime(2015, 9, 20, tzinfo=UTC)),
        # China customs: midnight in Beijing is 16:00 UTC the day before.
        ("2024-01", "M", ReleaseCalendar(day=7, lag=1, timezone="Asia/Shanghai"),
         datetime(2024, 3, 6, 16, tzinfo=UTC)),
    ],
)
def test_release_due(newest: str | None, frequency: str, calendar: ReleaseCalendar,
                     expected: datetime | None) -> None:
    assert release_due(newest, frequency, calendar) == expected


@pytest.mark.parametrize("lag", [1, 2, 3])
def test_release_due_dates_agree_with_the_staleness_detector(lag: int) -> None:
    import pandas as pd

    from detectors import Staleness

    for newest in pd.period_range("2023-01", "2025-12", freq="M"):
        due = Staleness(lag=lag, day=31).due_date(newest + 1)
        assert release_due(str(newest), "M", ReleaseCalendar(day=31, lag=lag)) == datetime(
            due.year, due.month, due.day, tzinfo=UTC)


def test_next_run_is_the_running_schedulers() -> None:
    scheduler = SourceScheduler(max_workers=1)
    ran = threading.Event()
    scheduler.add("hourly", lambda _name: ran.set(), HOUR, None)
    scheduler.add("daily", lambda _name: None, None, "0 6 * * *")
    assert scheduler.next_run("hourly") is None  # not started
    before = datetime.now(UTC)
    scheduler.start()
    try:
        hourly, daily = scheduler.next_run("hourly"), scheduler.next_run("daily")
        assert hourly is not None and daily is not None
        assert before + HOUR - timedelta(seconds=5) <= hourly <= datetime.now(UTC) + HOUR
        assert (daily.hour, daily.minute, daily.second) == (6, 0, 0) and before < daily <= before + DAY
        assert scheduler.next_run("missing") is None
        scheduler.remove("hourly")
        assert scheduler.next_run("hourly") is None
    finally:
        scheduler.shutdown()
    assert not ran.is_set()
