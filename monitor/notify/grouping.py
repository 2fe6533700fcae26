"""Which route node a delivery belongs to, and when a node's group may go out.

A delivery is recorded under a key in the store's `deliveries.receiver` column. A receiver
that one route node reaches keeps its plain name as the key (so stores written before
routing knew about nodes read the same); when several matching nodes name one receiver,
each is keyed by its node, `desk@0.1`. A delivery under the plain name counts for every
node of that receiver, and one under a node's key counts for the plain name, so a change of
version or of config never sends a notification again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from monitor.notify.routing import Destination


def delivery_keys(destinations: Sequence[Destination]) -> list[str]:
    """One key per destination, in order: the receiver, or the node when it repeats."""
    counts = Counter(d.receiver for d in destinations)
    return [d.receiver if counts[d.receiver] == 1 else d.node for d in destinations]


def _same(recorded: str, key: str, receiver: str) -> bool:
    return recorded in (key, receiver) or (key == receiver and recorded.startswith(f"{receiver}@"))


def delivered(key: str, receiver: str, done: Collection[str]) -> bool:
    """Whether a delivery recorded under one of `done` covers the destination `key`."""
    return any(_same(recorded, key, receiver) for recorded in done)


def last_heard(last: Mapping[str, datetime], key: str, receiver: str) -> datetime | None:
    """When the destination last got a notification, from deliveries under any key of it."""
    times = [at for recorded, at in last.items() if _same(recorded, key, receiver)]
    return max(times) if times else None


class GroupClock:
    """When each route node's group last went out, so the next notification of that group
    waits the node's `group_interval` (held in memory: a restart sends at once)."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, tuple[str, ...]], datetime] = {}

    def due(self, group: tuple[str, tuple[str, ...]], now: datetime) -> bool:
        until = self._until.get(group)
        return until is None or now >= until

    def flushed(self, group: tuple[str, tuple[str, ...]], interval: timedelta | None, now: datetime) -> None:
        """Hold the group for `interval` from now; groups whose hold is over are forgotten."""
        self._until = {key: until for key, until in self._until.items() if until > now}
        if interval is not None:
            self._until[group] = now + interval
