"""Replay protection of interactive requests: an id is claimed once, by one process or
another, across restarts, and forgotten only long after any signature would be stale."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from monitor.store import Store
from monitor.store.requests import KEEP, Replayed
from monitor.store.silences import SilenceStore

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


def test_a_clicks_silence_and_its_claim_commit_together(store_url: Callable[..., str]) -> None:
    """Sixteen concurrent deliveries of one click from two processes make one silence; a
    click claimed already (refused earlier) makes none; an expiry is claimed the same way."""
    first, second = Store(store_url()), Store(store_url())
    stores = (SilenceStore(first), SilenceStore(second))

    def silence(i: int) -> bool:
        try:
            stores[i % 2].add(["series=rus-chn/import/total"], NOW, NOW + KEEP, "ana", "from Slack", NOW,
                              request_id="click-1")
        except Replayed:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(silence, range(16)))
    assert made.count(True) == 1 and len(stores[0].all()) == 1
    assert first.seen_request("click-1") and not first.seen_request("click-2")

    assert first.claim_request("click-2", NOW)
    with pytest.raises(Replayed):
        stores[1].add(["series=x"], NOW, NOW + KEEP, "ana", "from Slack", NOW, request_id="click-2")
    assert len(stores[0].all()) == 1

    [one] = stores[0].all()
    other = stores[0].add(["series=y"], NOW, NOW + KEEP, "ana", "from Slack", NOW)
    stores[0].expire(one.id, NOW, request_id="click-3")
    with pytest.raises(Replayed):
        stores[1].expire(other.id, NOW, request_id="click-3")
    assert stores[0].get(other.id).state(NOW) == "active"  # type: ignore[union-attr]
    first.close()
    second.close()
