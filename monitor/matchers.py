"""Label matchers in Alertmanager's syntax: `name=value`, `name!=value`, `name=~regex`,
`name!~regex` (regexes anchored at both ends). Shared by routes, silences and inhibition."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Op = Literal["=", "!=", "=~", "!~"]
_SYNTAX = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: Op
    value: str

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regex in matcher {self}: {exc}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """A missing label reads as "" (so `team!=ops` matches an alert without `team`)."""
        have = labels.get(self.name, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = re.fullmatch(self.value, have) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def parse_matcher(text: str) -> Matcher:
    """`severity=critical`, `commodity=~84.*`; quotes around the value are allowed."""
    match = _SYNTAX.match(text)
    if match is None:
        raise ValueError(f"invalid matcher {text!r}: use name=value, name!=value, name=~regex "
                         "or name!~regex")
    name, op, value = match.groups()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return Matcher(name, op, value)  # type: ignore[arg-type]


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
