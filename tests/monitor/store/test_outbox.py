"""The outbox: rows queued in a write transaction, deliveries per receiver, done rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from monitor.store import OutboxRow, Store
from monitor.store.outbox import enqueue
from monitor.store.schema import outbox
from tests.monitor.store.support import V1, V2


@pytest.fixture
def store(store_url: Callable[..., str]) -> Store:
    return Store(store_url())


def test_deliveries_are_recorded_per_receiver(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(outbox.insert().values(fingerprint="f", episode=1, status="firing",
                                            payload='{"rule": "r"}', created_at=V1))
    [entry] = store.pending_outbox()
    assert entry.payload == {"rule": "r"} and entry.delivered_to == frozenset()
    store.record_delivery(entry.id, "slack", None, "HTTP 500")
    store.record_delivery(entry.id, "console", V2, None)
    [entry] = store.pending_outbox()
    assert entry.delivered_to == {"console"}
    assert store.outbox_depth() == (1, V1)
    store.mark_done_many([entry.id], V2)
    assert store.pending_outbox() == [] and store.outbox_depth() == (0, None)


def test_deliveries_recorded_together(store: Store) -> None:
    with store.engine.begin() as conn:
        for fp in ("f", "g"):
            conn.execute(outbox.insert().values(fingerprint=fp, episode=1, status="firing", payload="{}",
                                                created_at=V1))
    first, second = store.pending_outbox()
    store.record_delivery(first.id, "slack", None, "HTTP 500")  # failed once before
    store.record_deliveries([(first.id, "slack", V2, None), (second.id, "slack", V2, None)])
    assert [e.delivered_to for e in store.pending_outbox()] == [frozenset({"slack"})] * 2
    with store.engine.connect() as conn:
        attempts = conn.execute(sa.text("SELECT outbox_id, attempts, outcome, last_error FROM deliveries "
                                        "ORDER BY outbox_id")).all()
    assert [tuple(a) for a in attempts] == [(first.id, 2, "sent", None), (second.id, 1, "sent", None)]
    store.mark_done_many([first.id, second.id], V2)
    assert store.pending_outbox() == [] and store.outbox_depth() == (0, None)
    store.close()


def test_rows_queued_in_a_write_transaction_commit_with_it(store: Store) -> None:
    with store.write() as conn:
        enqueue(conn, [OutboxRow("f", 1, "firing", {"rule": "r", "n": 1}),
                       OutboxRow("g", 2, "resolved", {"rule": "r", "n": 2})], V1)
    with pytest.raises(RuntimeError), store.write() as conn:
        enqueue(conn, [OutboxRow("h", 1, "firing", {})], V2)
        raise RuntimeError("the change that caused it failed")
    queued = [(e.fingerprint, e.episode, e.status, e.payload, e.created_at) for e in store.pending_outbox()]
    assert queued == [("f", 1, "firing", {"n": 1, "rule": "r"}, V1),
                      ("g", 2, "resolved", {"n": 2, "rule": "r"}, V1)]


def test_reminders_are_numbered_and_last_sent_is_per_receiver(store: Store) -> None:
    store.enqueue_reminder("f", 1, {"rule": "r"}, V1)
    store.enqueue_reminder("f", 1, {"rule": "r"}, V2)
    with store.engine.connect() as conn:
        seqs = conn.execute(sa.select(outbox.c.seq).order_by(outbox.c.id)).scalars().all()
    assert seqs == [1, 2]
    first, second = store.pending_outbox()
    store.record_delivery(first.id, "slack", V1, None)
    store.record_delivery(second.id, "slack", V2, None)
    store.record_delivery(second.id, "ops", V2, None, outcome="silenced")
    assert store.last_sent("f", 1) == {"slack": V2}
    assert store.last_sent("f", 2) == {}
