"""Alertmanager's routing: the route nodes an alert's labels reach, each with its own settings.

Every matching node is a destination of its own (its own group, timings and receiver), as in
Alertmanager, so two nodes that name one receiver notify it twice."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from monitor.config import Route
from monitor.matchers import matches_all

DEFAULT_GROUP_WAIT = timedelta(0)
DEFAULT_FOLD_WAIT = timedelta(days=1)  # see monitor/notify/folding.py
DEFAULT_DIGEST_OVER = 5
GROUP_BY_ALL = "..."


@dataclass(frozen=True, slots=True)
class Destination:
    """A route node an alert reached: its receiver and its settings (inherited down the tree).
    `path` is the node's place in the tree (child indices from the root), which tells two
    nodes with one receiver apart."""

    receiver: str
    group_by: tuple[str, ...] = ()
    group_wait: timedelta = DEFAULT_GROUP_WAIT
    repeat_interval: timedelta | None = None
    digest_over: int = DEFAULT_DIGEST_OVER
    group_interval: timedelta | None = None
    group_by_all: bool = False
    path: tuple[int, ...] = ()
    fold_children: bool = True  # a child's alert said in its parent's message (see inhibit.folded)
    fold_wait: timedelta = DEFAULT_FOLD_WAIT  # a child waits this long for a parent not yet published

    @property
    def node(self) -> str:
        """`desk@0.1`: the receiver and the node's path (`desk@root` for the root)."""
        return f"{self.receiver}@{'.'.join(map(str, self.path)) or 'root'}"

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels that name the alert's group: `group_by`'s (missing ones empty), or all
        of them with `group_by: ['...']`."""
        if self.group_by_all:
            return dict(sorted(labels.items()))
        return {name: labels.get(name, "") for name in self.group_by}

    def group_key(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """Alerts with equal group labels go out together (one digest when many)."""
        if self.group_by_all:
            return tuple(f"{name}={value}" for name, value in sorted(labels.items()))
        return tuple(labels.get(name, "") for name in self.group_by)


def root_destination(tree: Route) -> Destination:
    """The root's settings, the defaults filled in."""
    return _inherit(tree, Destination(receiver=""), ())


def route(tree: Route, labels: Mapping[str, str]) -> list[Destination]:
    """Alertmanager's `Route.Match`: depth first, left to right. A matching child takes the
    alert from its parent; after a matching child the search among its siblings stops unless
    that child says `continue`. A node none of whose children match is a destination. Every
    destination is returned, in that order, repeats included."""
    return [d for d in _walk(tree, labels, root_destination(tree)) if d.receiver]


def nodes(tree: Route) -> Iterator[tuple[Route, Destination, int]]:
    """Every node of the tree depth first, with its inherited settings and its depth."""
    def visit(node: Route, here: Destination, depth: int) -> Iterator[tuple[Route, Destination, int]]:
        yield node, here, depth
        for index, child in enumerate(node.routes):
            yield from visit(child, _inherit(child, here, (*here.path, index)), depth + 1)
    yield from visit(tree, root_destination(tree), 0)


def repeats(tree: Route) -> bool:
    """Whether any route of the tree sets `repeat_interval` (only then are reminders due)."""
    return tree.repeat_interval is not None or any(repeats(child) for child in tree.routes)


def child_destination(parent: Destination, index: int, child: Route) -> Destination:
    """The settings of `child`, the parent's `index`-th route, under `parent`'s."""
    return _inherit(child, parent, (*parent.path, index))


def _inherit(node: Route, parent: Destination, path: tuple[int, ...]) -> Destination:
    """Alertmanager's rules: what a node does not set comes from its parent; a `group_by`
    list replaces the parent's, `['...']` groups by every label."""
    here = replace(parent, path=path)
    if node.group_by is not None:
        by_all = GROUP_BY_ALL in node.group_by
        here = replace(here, group_by=() if by_all else tuple(node.group_by), group_by_all=by_all)
    return replace(
        here,
        receiver=node.receiver or parent.receiver,
        group_wait=node.group_wait if node.group_wait is not None else parent.group_wait,
        group_interval=node.group_interval if node.group_interval is not None else parent.group_interval,
        repeat_interval=node.repeat_interval if node.repeat_interval is not None else parent.repeat_interval,
        digest_over=node.digest_over or parent.digest_over,
        fold_children=node.fold_children if node.fold_children is not None else parent.fold_children,
        fold_wait=node.fold_wait if node.fold_wait is not None else parent.fold_wait,
    )


def _walk(node: Route, labels: Mapping[str, str], here: Destination) -> list[Destination]:
    found: list[Destination] = []
    for index, child in enumerate(node.routes):
        if not matches_all(child.all_matchers(), labels):
            continue
        found += _walk(child, labels, _inherit(child, here, (*here.path, index)))
        if not child.continue_:
            break
    return found or [here]
