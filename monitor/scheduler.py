"""One APScheduler 3.x job per source; the only module that imports apscheduler.

APScheduler's defaults are not what a daemon wants: everything here is UTC, missed runs are
coalesced into one, a job never overlaps itself, and late runs within a generous grace still
run instead of being dropped silently.

It also says when each source is due (the interval between its polls, its next poll, the
release its calendar promises next), which /metrics exports so that Prometheus' self-alerts
judge a source polled once a day by its own schedule.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import ReleaseCalendar, Schedule, SourceBase
from monitor.crontab import cron_trigger

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 3600
# How far back a cron schedule's previous run is looked for: a day of the month that exists
# only in leap years comes back within eight years.
_LOOKBACK = timedelta(days=8 * 366)


def trigger_for(every: timedelta | None, cron: str | None) -> CronTrigger | IntervalTrigger:
    if cron is not None:
        return cron_trigger(cron)
    assert every is not None  # guaranteed by config validation
    return IntervalTrigger(seconds=every.total_seconds(), timezone="UTC")


@dataclass(frozen=True, slots=True)
class SourceTiming:
    """When one source is due, as /metrics exports it."""

    source: str
    interval: timedelta
    next_poll: datetime | None  # None when no scheduler runs the source
    next_release: datetime | None  # None without a calendar or before the first data


def poll_interval(schedule: Schedule, now: datetime) -> timedelta:
    """The time between polls. A cron schedule's runs need not be evenly spaced (weekdays
    only, twice a month): its interval is the longer of the gap that ends at the next run and
    the gap before it, so a source that succeeded at its last run is never late before the
    next one, the day after a long gap included."""
    if schedule.every is not None:
        return schedule.every
    assert schedule.cron is not None  # guaranteed by config validation
    trigger = cron_trigger(schedule.cron)
    following: datetime | None = trigger.get_next_fire_time(None, now)
    last = _latest_fire(trigger, now)
    if following is None or last is None:  # a schedule that never runs again, or never ran
        return _LOOKBACK
    gaps = [following - last]
    before = _latest_fire(trigger, last - timedelta(seconds=1))
    if before is not None:
        gaps.append(last - before)
    return max(gaps)


def _latest_fire(trigger: CronTrigger, at: datetime) -> datetime | None:
    """The latest run of a cron trigger at or before `at`, searched in doubling windows."""
    window = timedelta(minutes=1)
    while window <= _LOOKBACK:
        fire: datetime | None = trigger.get_next_fire_time(None, at - window)
        if fire is not None and fire <= at:
            while True:  # crontab runs fall on whole minutes: look past this one
                following: datetime | None = trigger.get_next_fire_time(None, fire + timedelta(seconds=1))
                if following is None or following > at:
                    return fire
                fire = following
        window *= 2
    return None


def release_due(newest: str | None, frequency: str, release: ReleaseCalendar) -> datetime | None:
    """When the period after `newest` (the one awaited) is due: the start of the calendar's
    day in the publisher's time zone; None before the first data."""
    if newest is None:
        return None
    import pandas as pd

    from detectors.staleness import release_day
    from monitor.periods import pandas_freq

    # As the staleness detector's due dates, with lag 0 (the month the period ends) allowed.
    awaited = pd.Period(newest, freq=pandas_freq(frequency)) + 1
    due = release_day(awaited, release.lag, release.day)
    return datetime(due.year, due.month, due.day, tzinfo=ZoneInfo(release.timezone))


def in_release_window(newest: str | None, frequency: str, release: ReleaseCalendar,
                      now: datetime) -> bool:
    """Pure: is `now` near the due date of the period after `newest` (the one awaited)?"""
    due_at = release_due(newest, frequency, release)
    if due_at is None:
        return True
    return due_at - release.before <= now <= due_at + timedelta(days=1) + release.after



def source_timings(sources: Iterable[SourceBase], now: datetime,
                   next_run: Callable[[str], datetime | None],
                   newest_period: Callable[[str], str | None]) -> list[SourceTiming]:
    """Each source's interval, next poll (`next_run`: the scheduler's) and next release."""
    timings = []
    for source in sources:
        release = source.release
        due = release_due(newest_period(source.name), source.frequency, release) if release else None
        timings.append(SourceTiming(source.name, poll_interval(source.poll_schedule, now),
                                    next_run(source.name), due))
    return timings


class SourceScheduler:
    """Runs `job(source_name)` for each source on its own trigger."""

    def __init__(self, max_workers: int = 4) -> None:
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max_workers)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            },
            timezone="UTC",
        )

    def add(
        self,
        name: str,
        job: Callable[[str], None],
        every: timedelta | None,
        cron: str | None,
        first_run: datetime | None = None,
        job_id: str | None = None,
    ) -> None:
        """Schedule a job (replacing one of the same id); `first_run` (e.g. now) runs it
        before its trigger's first time."""
        extra = {"next_run_time": first_run} if first_run is not None else {}
        self._scheduler.add_job(
            job,
            trigger=trigger_for(every, cron),
            args=[name],
            id=job_id or f"source:{name}",
            name=f"poll {name}",
            replace_existing=True,
            **extra,
        )

    def remove(self, name: str) -> None:
        """Stop polling a source (a cycle in flight finishes)."""
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(f"source:{name}")

    def next_run(self, name: str) -> datetime | None:
        """When the source's job runs next (None when it is not scheduled, or not yet started)."""
        if not self._scheduler.running:
            return None
        job = self._scheduler.get_job(f"source:{name}")
        when: datetime | None = job.next_run_time if job is not None else None
        return when

    def run_all_now(self) -> None:
        """Every job runs now, then keeps its trigger (a replica that just took over)."""
        now = datetime.now(UTC)
        for job in self._scheduler.get_jobs():
            job.modify(next_run_time=now)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop scheduling and wait for the jobs in flight to finish."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
