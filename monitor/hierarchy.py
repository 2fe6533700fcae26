"""Parents and children of label values, and the families of series they form.

A hierarchy from the config runs along one label: reporter groups as declared (EU27 and its
members, codes normalised as the label is), or HS codes by prefix, where a code's parent is
the nearest shorter code watched (TOTAL above the chapters), so a watch list that skips
headings still nests subheadings under their chapter. A family is the series that differ
only in that label (and their source): EU27's exports to Russia and each member's exports
to Russia, in one unit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from monitor.config.hierarchies import Hierarchy, HierarchyKind
from monitor.labels import normalise_label

TOTAL = "TOTAL"
FamilyKey = tuple[tuple[str, str], ...]
IGNORED = ("source",)  # labels that do not tell series apart (one series may come from two sources)


def hs_parent(code: str) -> str | None:
    """The code one level up: 845811 -> 8458 -> 84 -> TOTAL -> None."""
    if code.upper() == TOTAL:
        return None
    if len(code) <= 2:
        return TOTAL
    return code[:-2]


@dataclass(frozen=True, slots=True)
class Tree:
    """One hierarchy, ready to answer: `groups` hold normalised codes."""

    name: str
    label: str
    kind: HierarchyKind
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: Hierarchy) -> Tree:
        def norm(value: str) -> str:
            return normalise_label(spec.label, value)

        groups = {norm(parent): tuple(dict.fromkeys(norm(m) for m in members))
                  for parent, members in spec.groups.items()}
        return cls(spec.name, spec.label, spec.kind, groups)

    def parent_of(self, value: str, present: Collection[str]) -> str | None:
        """The nearest parent of `value` among the `present` values."""
        if self.kind is HierarchyKind.HS:
            up = hs_parent(value)
            while up is not None and up not in present:
                up = hs_parent(up)
            return up
        for parent, members in self.groups.items():
            if value in members and parent in present:
                return parent
        return None

    def children_of(self, value: str, present: Collection[str]) -> tuple[list[str], list[str]]:
        """(children present, children declared but absent). HS children are only known
        from what is watched, so none is absent there."""
        if self.kind is HierarchyKind.HS:
            return sorted(c for c in present if c != value and self.parent_of(c, present) == value), []
        members = self.groups.get(value, ())
        return [m for m in members if m in present], [m for m in members if m not in present]

    def nest(self, present: Collection[str]) -> dict[str, tuple[list[str], list[str]]]:
        """`children_of` for every parent among `present` at once (one pass for HS codes)."""
        if self.kind is HierarchyKind.GROUPS:
            return {p: self.children_of(p, present) for p in self.groups if p in present}
        out: dict[str, tuple[list[str], list[str]]] = {}
        for code in sorted(present):
            up = self.parent_of(code, present)
            if up is not None:
                out.setdefault(up, ([], []))[0].append(code)
        return out


def family_key(labels: Mapping[str, str], label: str) -> FamilyKey:
    return tuple(sorted((k, v) for k, v in labels.items() if k != label and k not in IGNORED))


def families(labelled: Iterable[tuple[str, Mapping[str, str]]],
             label: str) -> dict[FamilyKey, dict[str, str]]:
    """Series grouped by every label but `label`: family -> {label value: series id}."""
    out: dict[FamilyKey, dict[str, str]] = {}
    for sid, labels in labelled:
        value = labels.get(label)
        if value is not None:
            out.setdefault(family_key(labels, label), {})[value] = sid
    return out


def trees(specs: Iterable[Hierarchy]) -> dict[str, Tree]:
    return {spec.name: Tree.of(spec) for spec in specs}
