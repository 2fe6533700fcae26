"""Receiver state per alert episode survives a new store and is upserted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from monitor.store import ReceiverState, Store


def test_receiver_state_is_kept_per_episode_and_replaced_on_save(store_url: Callable[..., str]) -> None:
    url = store_url()
    store = Store(url)
    posting = ReceiverState("desk", "f", 1, "C1", "", "posting", {"since": "2026-03-01"})
    store.save_receiver_states([posting, replace(posting, episode=2, ts="2.0", progress="posted")])
    store.save_receiver_states([replace(posting, ts="1.5", progress="posted")])
    store.close()
    again = Store(url)
    assert again.receiver_state("desk", "f", 1) == replace(posting, ts="1.5", progress="posted")
    assert again.receiver_state("desk", "f", 2) == replace(posting, episode=2, ts="2.0", progress="posted")
    assert again.receiver_state("desk", "g", 1) is None
    again.close()
