"""One APScheduler 3.x job per source; the only module that imports apscheduler.

APScheduler's defaults are not what a daemon wants: everything here is UTC, missed runs are
coalesced into one, a job never overlaps itself, and late runs within a generous grace still
run instead of being dropped silently.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 3600


def trigger_for(every: timedelta | None, cron: str | None) -> CronTrigger | IntervalTrigger:
    if cron is not None:
        return CronTrigger.from_crontab(cron, timezone="UTC")
    assert every is not None  # guaranteed by config validation
    return IntervalTrigger(seconds=every.total_seconds(), timezone="UTC")


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
