"""Alertmanager-style routing: which receivers an alert's labels reach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.config import Route


@dataclass(frozen=True, slots=True)
class Destination:
    receiver: str
    group_by: tuple[str, ...]


def route(tree: Route, labels: Mapping[str, str]) -> list[Destination]:
    """Walk the tree depth first. A matching child takes the alert (and stops the search
    among its siblings unless it says `continue`); with no matching child the node itself
    is the destination. Children inherit receiver and group_by from their parent."""
    found = _walk(tree, labels, tree.receiver, tuple(tree.group_by))
    unique: dict[str, Destination] = {}
    for destination in found:
        unique.setdefault(destination.receiver, destination)
    return list(unique.values())


def _matches(node: Route, labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in node.match.items())


def _walk(node: Route, labels: Mapping[str, str], receiver: str | None,
          group_by: tuple[str, ...]) -> list[Destination]:
    receiver = node.receiver or receiver
    group_by = tuple(node.group_by) or group_by
    found: list[Destination] = []
    for child in node.routes:
        if not _matches(child, labels):
            continue
        found += _walk(child, labels, receiver, group_by)
        if not child.continue_:
            break
    if not found and receiver is not None:
        found.append(Destination(receiver, group_by))
    return found
