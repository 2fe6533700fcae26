"""The probes' answers: an active replica by its cycles and first polls, a standby by its
lease loop, /-/leader only where the lease is held and fresh."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from monitor.health import leadership, liveness, readiness
from monitor.replica import ReplicaStatus, Role

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
WINDOW = timedelta(hours=3)
TAKEOVER = timedelta(seconds=30)


def status(role: Role, ticked_ago: float = 0.0) -> ReplicaStatus:
    now = time.monotonic()
    return ReplicaStatus(role, epoch=7, holder="tw-1", since=now, ticked=now - ticked_ago)


def test_an_active_replica_is_live_while_cycles_complete_within_the_window() -> None:
    assert liveness(status(Role.ACTIVE), TAKEOVER, NOW - timedelta(hours=2), NOW, WINDOW) == (True, "ok")
    assert liveness(None, TAKEOVER, NOW - timedelta(hours=4), NOW, WINDOW) == (
        False, "no cycle completed for 14400s (window 3:00:00)")


def test_a_standby_is_live_while_its_lease_loop_runs_however_old_the_last_cycle() -> None:
    long_ago = NOW - timedelta(days=3)
    assert liveness(status(Role.STANDBY, 5), TAKEOVER, long_ago, NOW, WINDOW) == (True, "ok (standby)")
    assert liveness(status(Role.STANDBY, 45), TAKEOVER, long_ago, NOW, WINDOW) == (
        False, "the lease loop has not run for 45s")


def test_readiness_by_role_and_first_polls() -> None:
    assert readiness(status(Role.STARTING), ["a"], []) == (False, "starting: the store's lease not tried yet")
    assert readiness(status(Role.STANDBY), ["a"], []) == (True, "standby: tw-1 is active (epoch 7)")
    assert readiness(status(Role.ACTIVE), ["b", "a", "c"], ["c"]) == (
        False, "waiting for the first poll of: a, b")
    assert readiness(None, ["a"], ["a"]) == (True, "ready")


def test_leader_only_where_the_lease_is_held_and_fresh() -> None:
    assert leadership(status(Role.ACTIVE), acting=True) == (True, "active (epoch 7)")
    assert leadership(status(Role.ACTIVE), acting=False) == (False, "standby: tw-1 is active")
    assert leadership(status(Role.STANDBY), acting=False) == (False, "standby: tw-1 is active")
    assert leadership(None, acting=False) == (False, "standby: no replica is active")
