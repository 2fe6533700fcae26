"""What /-/healthy, /-/ready and /-/leader answer, as pure functions of what the daemon knows:
its role in the lease, when a cycle last completed and which sources have been polled. Kept
apart from the daemon's lifecycle so the answers can be read (and tested) on their own."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from monitor.config import SourceBase
from monitor.replica import ReplicaStatus, Role

CRON_HEALTH_WINDOW = timedelta(hours=25)

Answer = tuple[bool, str]


def health_window(sources: Iterable[SourceBase]) -> timedelta:
    """Three times the longest poll interval (a cron schedule counts as a day and an hour)."""
    longest = timedelta(minutes=1)
    for source in sources:
        every = source.poll_schedule.every
        longest = max(longest, every if every is not None else CRON_HEALTH_WINDOW)
    return longest * 3


def liveness(status: ReplicaStatus | None, takeover_within: timedelta, last_progress: datetime,
             now: datetime, window: timedelta) -> Answer:
    """Liveness means recent progress: a cycle completed within the expected window; for a
    standby, its lease loop trying (whether or not the database answers)."""
    if status is not None and status.role is not Role.ACTIVE:
        silent = time.monotonic() - status.ticked
        if silent > takeover_within.total_seconds():
            return False, f"the lease loop has not run for {silent:.0f}s"
        return True, f"ok ({status.role.value})"
    age = now - last_progress
    if age > window:
        return False, f"no cycle completed for {age.total_seconds():.0f}s (window {window})"
    return True, "ok"


def readiness(status: ReplicaStatus | None, sources: Iterable[str], polled: Iterable[str]) -> Answer:
    """Ready to serve: a standby is (it answers /metrics and the API, and takes over when
    needed); the active replica once every source was polled."""
    if status is not None and status.role is Role.STARTING:
        return False, "starting: the store's lease not tried yet"
    if status is not None and status.role is Role.STANDBY:
        return True, f"standby: {status.holder or 'no replica'} is active (epoch {status.epoch})"
    waiting = sorted(set(sources) - set(polled))
    if waiting:
        return False, f"waiting for the first poll of: {', '.join(waiting)}"
    return True, "ready"


def leadership(status: ReplicaStatus | None, acting: bool) -> Answer:
    """/-/leader: 200 on the active replica only (route traffic that must reach it); `acting`:
    it holds the lease and renewed it recently enough that no other replica can have it."""
    if acting and status is not None and status.role is Role.ACTIVE:
        return True, f"active (epoch {status.epoch})"
    return False, f"standby: {status.holder if status and status.holder else 'no replica'} is active"
