"""Folding along a rule's hierarchy: a child's alert said in its parent's message, decided
per drain for every notification of a child (an alert whose rule drills and whose series has
a watched parent).

- A child's firing alert whose parent fires for the same rule on the same release (period)
  is folded: the parent's message, with its contributors, says both.
- A child's firing alert whose parent has no figure yet for that period (the parent comes
  from another source, polled later: the EU aggregate from Eurostat, the member states from
  national customs) is held, as Alertmanager holds a group for `group_wait`, until the
  parent's figure arrives or the route's `fold_wait` has passed since the child fired
  (default a day): folded if the parent fires meanwhile, sent alone otherwise. A parent
  whose figure is in the store is decided: firing (fold) or not (send), unless a poll was
  under way while the drain read the alerts and the figures (`Engine.detections`): it may
  have stored the parent's figure and not yet booked its alert, so the child waits for a
  drain that reads a settled store.
- A child that was never announced alone is not resolved alone: the resolution of an episode
  whose firing notification was folded for a destination is folded there too; while that
  firing notification is held, so is its resolution.

Pure decisions over what one drain reads once: the firing alerts, the parents' figures and
how earlier firing notifications were handled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import pandas as pd

from monitor.alerts.lifecycle import Status
from monitor.alerts.notification import Notification
from monitor.notify.grouping import delivered
from monitor.notify.inhibit import Decision, FiringKeys, folded
from monitor.notify.routing import Destination
from monitor.periods import pandas_freq
from monitor.store import SeriesInfo

FOLDED = Decision.FOLDED.value


class Fold(StrEnum):
    SEND = "send"
    FOLD = "fold"
    HOLD = "hold"  # wait for the parent (or for the firing notification it resolves)


PanelOf = Callable[[list[str], str], pd.DataFrame]


def published(pairs: Iterable[tuple[str, str]], infos: Mapping[str, SeriesInfo],
              panel_of: PanelOf) -> frozenset[tuple[str, str]]:
    """Of (parent series, period) pairs, those whose parent has a figure for the period in
    the store (its release is in: the parent is decided)."""
    wanted: dict[str, set[tuple[str, str]]] = {}
    for sid, period in pairs:
        info = infos.get(sid)
        if info is not None:
            wanted.setdefault(info.frequency, set()).add((sid, period))
    out: set[tuple[str, str]] = set()
    for frequency, items in wanted.items():
        panel = panel_of(sorted({sid for sid, _ in items}), frequency)
        freq = pandas_freq(frequency)
        for sid, period in items:
            try:
                at = pd.Period(period, freq=freq)
            except ValueError:
                continue
            if sid in panel.columns and at in panel.index and not math.isnan(float(panel.at[at, sid])):
                out.add((sid, period))
    return frozenset(out)


@dataclass(slots=True)
class Folding:
    """One drain's folding decisions. `parents` are the firing alerts' keys, `decided` the
    (parent, period) pairs with a figure in the store, `folded_before` the destinations
    under which each (fingerprint, episode)'s firing notification was folded."""

    parents: FiringKeys
    decided: frozenset[tuple[str, str]]
    folded_before: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    held: set[tuple[str, int, str]] = field(default_factory=set)  # (fingerprint, episode, key) this drain

    @staticmethod
    def wanted(notifications: Iterable[Notification]) -> tuple[set[tuple[str, str]], set[tuple[str, int]]]:
        """What to read for these notifications: (parent, period) of firing children, and
        (fingerprint, episode) of resolved ones."""
        parents, episodes = set(), set()
        for n in notifications:
            if n.parent is None or n.reminder:
                continue
            if n.status is Status.FIRING:
                parents.add((n.parent, n.period))
            elif n.resolved:
                episodes.add((n.fingerprint, n.episode))
        return parents, episodes

    @classmethod
    def of(cls, parents: FiringKeys, decided: frozenset[tuple[str, str]],
           outcomes: Mapping[tuple[str, int], Mapping[str, str]]) -> Folding:
        return cls(parents, decided, {episode: {k for k, how in by_key.items() if how == FOLDED}
                                      for episode, by_key in outcomes.items()})

    def decide(self, notification: Notification, created_at: datetime, destination: Destination,
               key: str, now: datetime) -> Fold:
        """Fold, hold or send one notification of a child at one destination."""
        n = notification
        if n.parent is None or n.reminder or not destination.fold_children:
            return Fold.SEND
        episode = (n.fingerprint, n.episode)
        if n.resolved:
            if (*episode, key) in self.held:
                return Fold.HOLD
            earlier = self.folded_before.get(episode, set())
            return Fold.FOLD if delivered(key, destination.receiver, earlier) else Fold.SEND
        if n.status is not Status.FIRING:
            return Fold.SEND
        if folded(n, self.parents):
            self.folded_before.setdefault(episode, set()).add(key)
            return Fold.FOLD
        if (n.parent, n.period) not in self.decided and now - created_at < destination.fold_wait:
            self.held.add((*episode, key))
            return Fold.HOLD
        return Fold.SEND
