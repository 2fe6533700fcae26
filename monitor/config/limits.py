"""Limits on what a config file may cost to read.

A config is a few kilobytes; a hostile or broken one must be refused, quickly and with a
located message, before it costs a gigabyte or blows the stack: a file over a size cap, a
document nested too deep, an alias that contains itself, or aliases that expand to too many
values (a "billion laughs" document is a few hundred bytes that expand to a billion strings).
The checks run while PyYAML composes the node graph, before anything is constructed or copied.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_CONFIG_BYTES = 1024 * 1024  # 1 MiB; the largest real config is a few kilobytes
MAX_DEPTH = 64  # nested mappings and lists; a real config nests about 8 deep
MAX_VALUES = 100_000  # every value counted as often as aliases repeat it

MAX_PATH_PARTS = 8

Loc = tuple[str | int, ...]


class LimitExceeded(Exception):
    """A document refused by a limit: where (path and 0-based line) and why."""

    def __init__(self, loc: Loc, line: int, message: str) -> None:
        super().__init__(message)
        self.loc, self.line, self.message = loc, line, message


class LimitedComposer(yaml.SafeLoader):
    """PyYAML's safe loader whose composer counts depth and values, aliases included.

    Each anchored node remembers how many values it holds and how deep it goes, so an alias
    costs what its expansion would, without expanding it."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int] = []
        self._values = 0
        self._open: set[str] = set()  # anchors whose node is still being composed
        self._sizes: dict[str, tuple[int, int]] = {}  # anchor -> (values, height)
        self._heights = [0]  # tallest child so far, per level being composed

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        self._path.append(_part(index))
        try:
            if isinstance(event, yaml.AliasEvent):
                return self._alias(event, parent, index)
            return self._node(event, parent, index)
        finally:
            self._path.pop()

    def _alias(self, event: yaml.AliasEvent, parent: Any, index: Any) -> Any:
        anchor = str(event.anchor)
        if anchor in self._open:
            self._refuse(event, f"recursive alias *{anchor}: the anchor &{anchor} contains itself")
        node = super().compose_node(parent, index)  # an undefined alias is PyYAML's error
        values, height = self._sizes.get(anchor, (1, 1))
        self._grow(event, values, height)
        return node

    def _node(self, event: yaml.Event, parent: Any, index: Any) -> Any:
        if len(self._heights) > MAX_DEPTH:
            self._refuse(event, f"nested more than {MAX_DEPTH} levels deep")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        before = self._values
        self._heights.append(0)
        node = super().compose_node(parent, index)
        height = self._heights.pop() + 1
        self._grow(event, 1, height)
        if anchor is not None:
            self._open.discard(anchor)
            self._sizes[anchor] = (self._values - before, height)
        return node

    def _grow(self, event: yaml.Event, values: int, height: int) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            self._refuse(event, f"more than {MAX_VALUES} values once aliases are expanded")
        if len(self._heights) - 1 + height > MAX_DEPTH:
            self._refuse(event, f"nested more than {MAX_DEPTH} levels deep once aliases are expanded")
        self._heights[-1] = max(self._heights[-1], height)

    def _refuse(self, event: yaml.Event, message: str) -> None:
        loc = tuple(p for p in self._path if p != "")[:MAX_PATH_PARTS]  # a line, not a screenful
        raise LimitExceeded(loc, event.start_mark.line if event.start_mark else 0, message)


def _part(index: Any) -> str | int:
    """The path part of the node being composed: a list index, a key's text, or "" for the
    root and for a key itself (a key sits at its mapping's path)."""
    if isinstance(index, int) and not isinstance(index, bool):
        return index
    if isinstance(index, yaml.ScalarNode):
        return str(index.value)
    return ""


def compose(text: str) -> yaml.Node | None:
    """The node graph of a single-document YAML text; raises LimitExceeded or YAMLError."""
    loader = LimitedComposer(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()
