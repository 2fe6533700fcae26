"""Label matchers in Alertmanager's syntax: `name=value`, `name!=value`, `name=~regex`,
`name!~regex` (regexes anchored at both ends). Shared by routes, silences and inhibition."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Op = Literal["=", "!=", "=~", "!~"]
_SYNTAX = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
MAX_REGEX_LENGTH = 1000  # a label regex is a few dozen characters
MAX_REPEAT = 1000  # x{n}: Python's re compiles a huge n into a huge program, or overflows
MAX_GROUP_DEPTH = 32  # nested groups: re's parser recurses on each one
_REPEAT = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")


def check_regex(pattern: str, where: str) -> None:
    """Raise ValueError naming `where` unless `pattern` compiles, within size limits:
    a pattern that cannot compile, or would compile for long, is a config error."""
    def refuse(reason: str) -> ValueError:
        shown = where if len(where) <= 60 else where[:57] + "..."
        return ValueError(f"invalid regex in matcher {shown}: {reason}")

    if len(pattern) > MAX_REGEX_LENGTH:
        raise refuse(f"longer than {MAX_REGEX_LENGTH} characters")
    for match in _REPEAT.finditer(pattern):
        if pattern[:match.start()].endswith("\\"):  # an escaped brace is text, not a repetition
            continue
        counts = [n for n in match.groups() if n]  # digits only; compared as text, never int()ed
        if any(len(n.lstrip("0")) > len(str(MAX_REPEAT)) or int(n) > MAX_REPEAT for n in counts):
            raise refuse(f"repetition {match.group(0)[:20]} over {MAX_REPEAT}")
    depth = deepest = 0
    escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > MAX_GROUP_DEPTH:
        raise refuse(f"groups nested more than {MAX_GROUP_DEPTH} deep")
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise refuse(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: Op
    value: str

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            check_regex(self.value, str(self))

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
