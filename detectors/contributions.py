"""Who drove a parent's change: its children ranked by their share of it.

An aggregate alert ("the EU's exports to Russia fell 52%") is read only when it says which
members made the fall. Given the parent's change against its comparison period and each
child's level then and now, this ranks the children by their share of the parent's change
(the ones that moved with the parent most first), keeps the top N, counts the rest and
sums their change, and names the children without a value at either period, so that
top + rest + unattributed equals the parent's change. Pure: numbers in, a breakdown out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

DEFAULT_TOP = 5


@dataclass(frozen=True, slots=True)
class Contributor:
    """One child's part: its change in the series' unit, that change as a percent of its own
    level at the comparison period (`pct`) and as a percent of the parent's change (`share`)."""

    series: str
    labels: Mapping[str, str]
    change: float
    pct: float | None
    share: float | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))


@dataclass(frozen=True, slots=True)
class Missing:
    """A child without a value at the period or its comparison period: `value` is its label
    value, `series` None when no watched series has it at all."""

    value: str
    series: str | None = None


@dataclass(frozen=True, slots=True)
class Drivers:
    """The parent's change broken down along `label`."""

    label: str
    period: str
    compared_with: str
    parent_change: float
    top: tuple[Contributor, ...]
    rest_count: int
    rest_change: float
    missing: tuple[Missing, ...] = ()

    @property
    def unattributed(self) -> float:
        """What the children with values do not account for (missing children, rounding,
        a parent that is not the sum of its children)."""
        return self.parent_change - sum(c.change for c in self.top) - self.rest_change


@dataclass(frozen=True, slots=True)
class Child:
    series: str
    labels: Mapping[str, str]
    now: float
    before: float


def breakdown(label: str, period: str, compared_with: str, parent_change: float,
              children: Sequence[Child], missing: Sequence[Missing] = (), top: int = DEFAULT_TOP) -> Drivers:
    """Rank `children` by their share of `parent_change` and keep the first `top`; a child
    with a NaN at either period goes to `missing`."""
    have: list[Contributor] = []
    gone = list(missing)
    for child in children:
        if not (math.isfinite(child.now) and math.isfinite(child.before)):
            gone.append(Missing(child.labels.get(label, child.series), child.series))
            continue
        change = child.now - child.before
        pct = change / child.before * 100.0 if child.before else None
        share = change / parent_change * 100.0 if parent_change else None
        have.append(Contributor(child.series, child.labels, change, pct, share))
    sign = -1.0 if parent_change < 0 else 1.0
    have.sort(key=lambda c: (-sign * c.change, c.series))
    kept, rest = have[:top], have[top:]
    return Drivers(label, period, compared_with, parent_change, tuple(kept), len(rest),
                   sum(c.change for c in rest), tuple(sorted(gone, key=lambda m: m.value)))
