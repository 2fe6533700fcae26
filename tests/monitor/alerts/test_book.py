"""The alert book against a real SQLite store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.alerts.book import AlertBook
from monitor.alerts.persist import AlertRows
from monitor.store import Store
from tests.monitor.alerts.test_lifecycle import evaluation, finding

NOW = datetime(2026, 3, 25, 6, 0, tzinfo=UTC)


def test_readers_see_the_alerts_before_a_commit_until_it_is_done(
    store_url: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow transaction (tens of thousands of alerts) does not hold up readers such as the
    next source's evaluation or a /metrics scrape: they see the state before it, then after."""
    store = Store(store_url())
    book = AlertBook(store)
    in_transaction, release = threading.Event(), threading.Event()
    commit = AlertRows.commit

    def slow_commit(self: AlertRows, *args: Any) -> None:
        in_transaction.set()
        assert release.wait(10)
        commit(self, *args)

    monkeypatch.setattr(AlertRows, "commit", slow_commit)
    worker = threading.Thread(target=book.apply, args=([evaluation("2015-03", finding("2015-03"))], NOW))
    worker.start()
    assert in_transaction.wait(10)
    assert book.active_series() == {} and book.alerts() == []  # not blocked, and nothing half-done
    release.set()
    worker.join(10)
    assert not worker.is_alive()
    assert book.active_series() == {"decline": {"rus-chn/import/total"}}
    assert [a.status.value for a in AlertBook(store).alerts()] == ["firing"]  # persisted as shown
    store.close()
