"""How series nest along one label, and how a rule drills into them.

A desk watches a total and its parts: the EU and its member states (a reporter group the
config declares), a chapter and its HS headings and subheadings (nested by code prefix, so
nothing is declared). A hierarchy names the label it runs along; a rule's `drill` names the
hierarchy its alerts break down along, so that an alert on a parent says which children
drove it, and one message speaks for a parent and its children.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from monitor.config.base import NAME_PATTERN, Strict

MAX_TOP = 50  # contributors listed before "and N others"


class HierarchyKind(StrEnum):
    GROUPS = "groups"  # parents and their members declared in `groups`
    HS = "hs"  # HS codes by prefix: TOTAL > chapter (2 digits) > heading (4) > subheading (6) ...


class Hierarchy(Strict):
    """`groups: {EU27: [AT, BE, ...]}` along `label` (codes as the label is written after
    normalisation: AT, AUT and Austria all mean AUT); a member may itself be a group."""

    name: str = Field(pattern=NAME_PATTERN)
    label: str = Field(min_length=1)
    kind: HierarchyKind = HierarchyKind.GROUPS
    groups: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> Hierarchy:
        if self.kind is HierarchyKind.HS and self.groups:
            raise ValueError("kind hs nests codes by prefix: give no groups")
        if self.kind is HierarchyKind.GROUPS and not self.groups:
            raise ValueError("kind groups needs groups, e.g. {EU27: [AUT, BEL, ...]}")
        for parent, members in self.groups.items():
            if not members:
                raise ValueError(f"group {parent!r} has no members")
            if parent in members:
                raise ValueError(f"group {parent!r} lists itself")
            if len(set(members)) < len(members):
                twice = sorted({m for m in members if members.count(m) > 1})
                raise ValueError(f"group {parent!r} lists {twice[0]!r} twice")
        _no_cycle(self.groups)
        return self


def _no_cycle(groups: dict[str, list[str]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise ValueError(f"groups nest in a circle: {' > '.join((*path, node))}")
        state[node] = 1
        for member in groups.get(node, []):
            visit(member, (*path, node))
        state[node] = 2

    for parent in groups:
        visit(parent, ())


class Drill(Strict):
    """`drill: NAME` or `drill: {along: NAME, top: 5}`: the hierarchy a rule's alerts break
    down along, and how many contributors a message lists before counting the rest."""

    along: str = Field(pattern=NAME_PATTERN)
    top: int = Field(default=5, ge=1, le=MAX_TOP)

    @model_validator(mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return {"along": value} if isinstance(value, str) else value
