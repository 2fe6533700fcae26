"""The lease loop: one replica active, a standby taking over when the lease is given up or
runs out, and an active replica that cannot renew stopping itself before anyone can take over."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from monitor.replica import Replica, Role
from monitor.store import Store
from tests.test_exactly_once import wait_until


def replica(store: Store, name: str, events: list[str], lease: float = 0.9, renew: float = 0.15) -> Replica:
    return Replica(store.elect(name, lease), renew, on_active=lambda epoch: events.append(f"{name} {epoch}"),
                   on_standby=lambda: events.append(f"{name} standby"))


@pytest.mark.postgres
def test_one_active_and_a_standby_takes_over_when_it_stops(postgres_database: Callable[[], str]) -> None:
    url = postgres_database()
    first, second = Store(url), Store(url)
    events: list[str] = []
    a, b = replica(first, "a", events), replica(second, "b", events)
    a.start()
    b.start()
    assert a.active() and not b.active()
    assert (b.status().role, b.status().holder, b.status().epoch) == (Role.STANDBY, "a", 1)
    time.sleep(1.5)  # renewals keep it
    assert a.active() and not b.active() and events == ["a 1"]
    a.stop()  # gives the lease up: taken at b's next try
    wait_until(b.active, 5, "b active")
    assert events == ["a 1", "b 2"] and b.status().epoch == 2
    b.stop()
    first.close()
    second.close()


def test_a_replica_that_cannot_renew_stops_acting_before_its_lease_runs_out(
        store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    events: list[str] = []
    a = replica(store, "a", events, lease=0.8, renew=0.3)
    a.tick()  # active, but its loop never runs again (a stalled process)
    assert a.active()
    time.sleep(0.6)  # past the lease less one renewal: no longer acting, though the row is still its
    assert not a.active() and a.status().role is Role.ACTIVE
    a.tick()  # renewed: nobody took it meanwhile, so it acts again at the same epoch
    assert a.active() and a.status().epoch == 1
    store.close()


def test_on_sqlite_the_one_daemon_takes_the_lease_at_once(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/tw.db"
    killed = Store(url)
    replica(killed, "dead", []).tick()  # held, then the process died without giving it up
    store = Store(url)
    events: list[str] = []
    alone = Replica(store.elect("alone", 60), 10, on_active=lambda e: events.append(str(e)),
                    on_standby=lambda: None, force=True)
    alone.tick()
    assert alone.active() and events == ["2"]
    killed.close()
    store.close()
