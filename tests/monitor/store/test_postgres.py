"""What only PostgreSQL needs: write transactions of two processes queue on one lock, and
timestamps read back in UTC whatever the server's zone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC

import pytest

from monitor.store import OutboxRow, Store
from monitor.store.outbox import enqueue
from tests.monitor.store.support import V1, V2, frame

pytestmark = pytest.mark.postgres


def test_write_transactions_of_two_stores_queue_on_one_lock(postgres_database: Callable[[], str]) -> None:
    url = postgres_database()
    mine, theirs = Store(url), Store(url)
    order: list[str] = []
    started = threading.Event()

    def other_writer() -> None:
        started.set()
        with theirs.write() as conn:
            order.append("theirs")
            enqueue(conn, [OutboxRow("g", 1, "firing", {})], V2)

    with mine.write() as conn:
        enqueue(conn, [OutboxRow("f", 1, "firing", {})], V1)
        thread = threading.Thread(target=other_writer)
        thread.start()
        started.wait()
        time.sleep(0.3)  # the other store's transaction is waiting for this one
        order.append("mine")
    thread.join(10)
    assert order == ["mine", "theirs"]
    assert [e.fingerprint for e in mine.pending_outbox()] == ["f", "g"]
    mine.close()
    theirs.close()


def test_timestamps_read_back_in_utc_from_a_server_in_another_zone(
    postgres_database: Callable[[], str],
) -> None:
    url = postgres_database()
    store = Store(url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE {store.engine.url.database} SET timezone TO 'Asia/Tokyo'")
    store.close()
    store = Store(url)
    store.ingest(frame([("a", "2015-01", 1.0)]), V1, "M")
    with store.write() as conn:
        enqueue(conn, [OutboxRow("f", 1, "firing", {})], V2)
    [entry] = store.pending_outbox()
    assert entry.created_at == V2 and entry.created_at.tzinfo is UTC
    assert store.vintages("a")["vintage"].tolist() == [V1]
    assert store.series_history("a").attrs["vintage"] == V1
    store.close()
