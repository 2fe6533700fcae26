"""Drilling an alert into its children: who drove a parent's change, and which parent a
child's alert belongs under.

Read from the store at the alert's period: the parent's and its watched children's levels
there and at the comparison period (a year back for year-on-year rules), broken down by
`detectors.contributions`. The evaluation attaches the breakdown to a parent's finding and
the parent's id to a child's, so one message can speak for both; `tradewatch alerts`
computes it again from the store for the alerts it lists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from detectors.contributions import DEFAULT_TOP, Child, Drivers, Missing, breakdown
from detectors.guards import comparison_lag
from monitor.alerts.lifecycle import Evaluation
from monitor.config import Rule
from monitor.hierarchy import FamilyKey, Tree, families, family_key
from monitor.store import SeriesInfo

PanelOf = Callable[[Sequence[str], str], pd.DataFrame]
Nest = dict[str, tuple[list[str], list[str]]]  # parent value -> (children present, children absent)


@dataclass(frozen=True, slots=True)
class Drilled:
    """A rule's watched series nested along its hierarchy, per frequency."""

    rule: Rule
    tree: Tree
    families: Mapping[str, dict[FamilyKey, dict[str, str]]]  # frequency -> family -> value -> series
    nests: dict[tuple[str, FamilyKey], Nest]

    @classmethod
    def of(cls, rule: Rule, tree: Tree, infos: Iterable[SeriesInfo],
           only: Collection[FamilyKey] | None = None) -> Drilled:
        """`only`: the families wanted (those of the series found), so a watch list of
        100,000 series is scanned for a few labels, not matched rule by rule."""
        by_frequency: dict[str, list[tuple[str, Mapping[str, str]]]] = {}
        for info in infos:
            if only is not None and family_key(info.labels, tree.label) not in only:
                continue
            if rule.matches(info.labels):
                by_frequency.setdefault(info.frequency, []).append((info.id, info.labels))
        return cls(rule, tree, {f: families(items, tree.label) for f, items in by_frequency.items()}, {})

    def _family(self, info: SeriesInfo) -> tuple[FamilyKey, dict[str, str]] | None:
        key = family_key(info.labels, self.tree.label)
        family = self.families.get(info.frequency, {}).get(key)
        return None if family is None else (key, family)

    def _nest(self, frequency: str, key: FamilyKey, family: dict[str, str]) -> Nest:
        nest = self.nests.get((frequency, key))
        if nest is None:
            nest = self.nests[(frequency, key)] = self.tree.nest(family.keys())
        return nest

    def parent(self, info: SeriesInfo) -> str | None:
        """The watched parent series of a child series, if any."""
        found = self._family(info)
        value = info.labels.get(self.tree.label)
        if found is None or value is None:
            return None
        up = self.tree.parent_of(value, found[1].keys())
        return None if up is None else found[1][up]

    def drivers(self, parents: Mapping[str, pd.Period], infos: Mapping[str, SeriesInfo],
                panel_of: PanelOf, top: int) -> dict[str, Drivers]:
        """The breakdown of each parent series' change at its period (children absent from the
        store or without a value there are named as missing)."""
        label = self.tree.label
        wanted: dict[str, tuple[pd.Period, list[str], list[str]]] = {}
        by_frequency: dict[str, set[str]] = {}
        for sid, period in parents.items():
            info = infos[sid]
            found = self._family(info)
            value = info.labels.get(label)
            if found is None or value is None:
                continue
            key, family = found
            kids, absent = self._nest(info.frequency, key, family).get(value, ([], []))
            if not kids and not absent:
                continue
            ids = [family[k] for k in kids]
            wanted[sid] = (period, ids, absent)
            by_frequency.setdefault(info.frequency, set()).update([sid, *ids])
        out: dict[str, Drivers] = {}
        for frequency, wanted_ids in by_frequency.items():
            panel = panel_of(sorted(wanted_ids), frequency)
            lag = comparison_lag(self.rule.transform.kind, panel.index.freq)
            for sid, (period, kids, absent) in wanted.items():
                if infos[sid].frequency != frequency:
                    continue
                then = period - lag
                change = _at(panel, period, sid) - _at(panel, then, sid)
                if pd.isna(change):
                    continue
                children = [Child(k, infos[k].labels, _at(panel, period, k), _at(panel, then, k))
                            for k in kids]
                out[sid] = breakdown(label, str(period), str(then), change, children,
                                     [Missing(value) for value in absent], top)
        return out


def _at(panel: pd.DataFrame, period: pd.Period, sid: str) -> float:
    if sid not in panel.columns or period not in panel.index:
        return float("nan")
    return float(panel.at[period, sid])


def drill_evaluations(rule: Rule, tree: Tree, evaluations: Sequence[Evaluation],
                      infos: Mapping[str, SeriesInfo], panel_of: PanelOf) -> list[Evaluation]:
    """The evaluations with a finding, told their parent (children) and their contributors
    (parents); `infos` are every series in the store, so children this fetch did not touch
    still count."""
    found = [e for e in evaluations if e.finding is not None]
    if not found:
        return list(evaluations)
    only = {family_key(infos[e.series].labels, tree.label) for e in found if e.series in infos}
    nested = Drilled.of(rule, tree, infos.values(), only)
    top = rule.drill.top if rule.drill is not None else DEFAULT_TOP
    drivers = nested.drivers({e.series: e.finding.period for e in found if e.finding is not None},
                             infos, panel_of, top)
    out = []
    for e in evaluations:
        if e.finding is not None and e.series in infos:
            e = replace(e, drivers=drivers.get(e.series), parent=nested.parent(infos[e.series]))
        out.append(e)
    return out
