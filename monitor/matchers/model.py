"""The matcher itself: a label name, an operator and a value, matched as Alertmanager does (a
missing label reads as "", regexes are RE2 anchored at both ends)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from monitor.matchers.regex import Regex, compile_anchored

Op = Literal["=", "!=", "=~", "!~"]
OPS: tuple[Op, ...] = ("=", "!=", "=~", "!~")
# The matcher grammar takes Prometheus's metric-name characters (colons too); `match`,
# `match_re` and silences through the API take label names only (LABEL_NAME).
MATCHER_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Values printed bare still parse back to themselves, alone and in a comma list.
_BARE = re.compile(r"[^\s\"\\,{}]*(?:[ ]+[^\s\"\\,{}]+)*")


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled; the message names the text."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label test; build with `parse_matcher` or directly (the value taken literally)."""

    name: str
    op: Op
    value: str
    _regex: Regex | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise MatcherError(f"invalid operator {self.op!r} in matcher {self.name}{self.op}{self.value}: "
                               "use =, !=, =~ or !~")
        if MATCHER_NAME.fullmatch(self.name) is None:
            raise MatcherError(f"invalid label name {self.name!r}: use letters, digits, _ and :, "
                               "not starting with a digit")
        if self.op in ("=~", "!~"):
            try:
                object.__setattr__(self, "_regex", compile_anchored(self.value))
            except ValueError as exc:
                text = str(self)
                shown = text if len(text) <= 80 else text[:77] + "..."
                raise MatcherError(f"invalid regex in matcher {shown}: {exc}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """A missing label reads as "" (so `team!=ops` matches an alert without `team`)."""
        have = labels.get(self.name, "")
        if self._regex is None:
            return (have == self.value) is (self.op == "=")
        return (self._regex.search(have) is not None) is (self.op == "=~")

    def __str__(self) -> str:
        """Bare `name=value` when that parses back to this matcher, else Alertmanager's quoted
        form with `\\"`, `\\\\` and `\\n` escapes."""
        if _BARE.fullmatch(self.value):
            return f"{self.name}{self.op}{self.value}"
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
