"""The store's lease: one holder at a time, a new epoch with each holder, and the fence: a
process that lost the lease commits no alert, outbox, delivery or receiver-state write."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from monitor.store import Fenced, ReceiverState, Store
from monitor.store.outbox import OutboxRow, enqueue
from monitor.store.schema import deliveries, outbox
from monitor.store.silences import SilenceStore
from tests.monitor.store.support import V1, V2


@pytest.fixture
def stores(store_url: Callable[..., str]) -> Iterator[tuple[Store, Store]]:
    """Two processes' stores on one database."""
    first, second = Store(store_url()), Store(store_url())
    yield first, second
    first.close()
    second.close()


def queue_one(store: Store, fingerprint: str = "f") -> int:
    with store.write() as conn:
        enqueue(conn, [OutboxRow(fingerprint, 1, "firing", {"rule": "r"})], V1)
    with store.read() as conn:
        return int(conn.scalar(sa.select(sa.func.max(outbox.c.id))))


def test_one_holder_at_a_time_and_a_new_epoch_for_each(stores: tuple[Store, Store]) -> None:
    a, b = stores[0].elect("a", 0.6), stores[1].elect("b", 0.6)
    won = a.acquire()
    assert (won.mine, won.epoch, won.holder) == (True, 1, "a")
    lost = b.acquire()
    assert (lost.mine, lost.epoch, lost.holder) == (False, 1, "a") and 0 < lost.expires_in <= 0.6
    assert a.renew() and a.acquire().epoch == 1  # renewing keeps the epoch
    time.sleep(0.8)  # a stops renewing: the lease runs out
    taken = b.acquire()
    assert (taken.mine, taken.epoch) == (True, 2)
    assert not a.renew() and a.epoch is None
    seen = a.view()
    assert (seen.holder, seen.epoch, seen.mine) == ("b", 2, False) and b.view().mine


def test_a_lease_run_out_but_not_taken_is_still_the_holders(stores: tuple[Store, Store]) -> None:
    a = stores[0].elect("a", 0.3)
    a.acquire()
    time.sleep(0.5)
    assert a.renew() and a.epoch == 1


def test_released_lease_is_taken_at_once_and_force_takes_a_held_one(stores: tuple[Store, Store]) -> None:
    a, b = stores[0].elect("a", 60), stores[1].elect("b", 60)
    assert a.acquire().mine
    a.release()
    assert b.acquire().epoch == 2
    forced = a.acquire(force=True)  # SQLite's lock file proves the holder is gone
    assert (forced.mine, forced.epoch) == (True, 3) and not b.renew()


def test_writes_of_a_replica_that_lost_the_lease_are_not_committed(stores: tuple[Store, Store]) -> None:
    first, second = stores
    a, b = first.elect("a", 0.5), second.elect("b", 0.5)
    a.acquire()
    entry = queue_one(first)
    first.record_delivery(entry, "slack", V2, None)  # held: committed
    time.sleep(0.7)
    assert b.acquire().mine
    with pytest.raises(Fenced, match=r"no longer holds the store's lease \(b holds epoch 2\)"):
        queue_one(first, "g")
    with pytest.raises(Fenced):
        first.record_delivery(entry, "desk", V2, None)
    with pytest.raises(Fenced):
        first.save_receiver_states([ReceiverState("slack", "f", 1, "C1", "1.0", "posting", {})])
    with pytest.raises(Fenced):
        first.mark_done_many([entry], V2)
    with second.read() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(outbox)) == 1
        assert [r.receiver for r in conn.execute(sa.select(deliveries.c.receiver))] == ["slack"]
    assert second.receiver_state("slack", "f", 1) is None
    second.record_delivery(entry, "desk", V2, None)  # the new holder writes
    assert second.pending_outbox()[0].delivered_to == {"slack", "desk"}


def test_a_store_without_a_lease_writes_as_before(store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    queue_one(store)
    assert len(store.pending_outbox()) == 1
    store.close()


@pytest.mark.postgres
def test_a_takeover_waits_for_the_holders_transaction_in_flight(
        postgres_database: Callable[[], str]) -> None:
    """The old holder's check passed and its transaction is open when the lease runs out: the
    takeover waits for its commit, so the new holder reads what it wrote."""
    url = postgres_database()
    first, second = Store(url), Store(url)
    a, b = first.elect("a", 0.3), second.elect("b", 0.3)
    a.acquire()
    inside, finish = threading.Event(), threading.Event()

    def hold_a_write() -> None:
        with first.write() as conn:
            enqueue(conn, [OutboxRow("late", 1, "firing", {})], V1)
            inside.set()
            finish.wait(10)

    writer = threading.Thread(target=hold_a_write)
    writer.start()
    assert inside.wait(10)
    time.sleep(0.5)  # the lease has run out
    taken: list[bool] = []
    taker = threading.Thread(target=lambda: taken.append(b.acquire().mine))
    taker.start()
    taker.join(1.0)
    assert taker.is_alive() and not taken  # waiting for the holder's commit
    finish.set()
    writer.join(10)
    taker.join(10)
    assert taken == [True]
    assert [e.fingerprint for e in second.pending_outbox()] == ["late"]
    first.close()
    second.close()


def test_a_standby_still_claims_interactive_requests_and_makes_silences(stores: tuple[Store, Store]) -> None:
    """A Slack click may reach either replica: the claim and the silence are not fenced."""
    first, second = stores
    active, standby = first.elect("a", 60), second.elect("b", 60)
    assert active.acquire().mine and not standby.acquire().mine
    assert second.claim_request("click-1", V1) and not first.claim_request("click-1", V1)
    made = SilenceStore(second).add(["series=a"], V1, V1 + timedelta(days=30), "ana", "from Slack", V1,
                                    acknowledges=("f", 1))
    assert [s.id for s in SilenceStore(first).all()] == [made.id]
    with pytest.raises(Fenced):
        queue_one(second)
