"""Alertmanager-style routing: which receivers an alert's labels reach, and how."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from monitor.config import Route
from monitor.matchers import matches_all

DEFAULT_GROUP_WAIT = timedelta(0)
DEFAULT_DIGEST_OVER = 5


@dataclass(frozen=True, slots=True)
class Destination:
    """A receiver and the settings of the route that chose it (inherited down the tree)."""

    receiver: str
    group_by: tuple[str, ...] = ()
    group_wait: timedelta = DEFAULT_GROUP_WAIT
    repeat_interval: timedelta | None = None
    digest_over: int = DEFAULT_DIGEST_OVER

    def group_key(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """Alerts with equal values of `group_by` go out together (one digest when many)."""
        return tuple(labels.get(name, "") for name in self.group_by)


def route(tree: Route, labels: Mapping[str, str]) -> list[Destination]:
    """Walk the tree depth first. A matching child takes the alert (and stops the search
    among its siblings unless it says `continue`); with no matching child the node itself
    is the destination. Children inherit receiver and settings from their parent."""
    root = Destination(
        receiver=tree.receiver or "",
        group_by=tuple(tree.group_by or ()),
        group_wait=tree.group_wait if tree.group_wait is not None else DEFAULT_GROUP_WAIT,
        repeat_interval=tree.repeat_interval,
        digest_over=tree.digest_over or DEFAULT_DIGEST_OVER,
    )
    found = _walk(tree, labels, root)
    unique: dict[str, Destination] = {}
    for destination in found:
        unique.setdefault(destination.receiver, destination)
    return list(unique.values())


def repeats(tree: Route) -> bool:
    """Whether any route of the tree sets `repeat_interval` (only then are reminders due)."""
    return tree.repeat_interval is not None or any(repeats(child) for child in tree.routes)


def _inherit(node: Route, parent: Destination) -> Destination:
    return Destination(
        receiver=node.receiver or parent.receiver,
        group_by=tuple(node.group_by) if node.group_by is not None else parent.group_by,
        group_wait=node.group_wait if node.group_wait is not None else parent.group_wait,
        repeat_interval=node.repeat_interval if node.repeat_interval is not None else parent.repeat_interval,
        digest_over=node.digest_over or parent.digest_over,
    )


def _walk(node: Route, labels: Mapping[str, str], here: Destination) -> list[Destination]:
    found: list[Destination] = []
    for child in node.routes:
        if not matches_all(child.all_matchers(), labels):
            continue
        found += _walk(child, labels, _inherit(child, here))
        if not child.continue_:
            break
    if not found and here.receiver:
        found.append(here)
    return found
