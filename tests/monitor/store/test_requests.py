"""Replay protection of interactive requests: an id is claimed once, by one process or
another, across restarts, and forgotten only long after any signature would be stale."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from monitor.store import Store
from monitor.store.requests import KEEP

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_an_id_is_claimed_once_even_after_a_restart(store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    assert store.claim_request("click-1", NOW)
    assert not store.claim_request("click-1", NOW)
    assert store.claim_request("click-2", NOW)
    store.close()
    again = Store(store_url())
    assert not again.claim_request("click-1", NOW)
    again.close()


def test_concurrent_replays_of_one_id_are_claimed_once(store_url: Callable[..., str]) -> None:
    """Two stores on one database (two processes), eight threads each, one id."""
    first, second = Store(store_url()), Store(store_url())
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(lambda i: (first, second)[i % 2].claim_request("click", NOW), range(16)))
    assert claims.count(True) == 1
    first.close()
    second.close()


def test_ids_are_forgotten_after_they_are_kept(store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    assert store.claim_request("click", NOW)
    assert not store.claim_request("click", NOW + KEEP / 2)
    assert store.claim_request("click", NOW + 2 * KEEP + KEEP / 2) is True
    store.close()
