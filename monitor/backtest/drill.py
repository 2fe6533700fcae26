"""A rule's events along its hierarchy (`drill:`), as the daemon would have told them: a
parent's firing events carry the children that drove the change, and a child's events that
the daemon would have said in its parent's message are marked folded.

Both come from the figures as they stand at the window's end (`final_panel`); a revision
published later than an alert changes the amounts shown, not which alerts fired."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from detectors.contributions import DEFAULT_TOP, Drivers
from monitor.backtest.events import Event
from monitor.backtest.timeline import Timeline, final_panel
from monitor.config import Route
from monitor.drill import Drilled
from monitor.notify.routing import route
from monitor.runtime import CompiledRule
from monitor.store import SeriesInfo

Firing = dict[str, list[tuple[pd.Period, pd.Period | None]]]  # series -> [(fired at, resolved at)]


def along_hierarchy(rule: CompiledRule, tree: Route, timeline: Timeline, infos: Mapping[str, SeriesInfo],
                    events: list[Event]) -> list[Event]:
    """`events` (one frequency group, in the order they happened) with contributors and folds."""
    if rule.tree is None or not any(e.status == "firing" for e in events):
        return events
    panel = final_panel(timeline)
    nested = Drilled.of(rule.config, rule.tree, [infos[sid] for sid in timeline.names])
    drivers = _drivers(rule, nested, infos, panel, events)
    parents = {sid: up for sid in timeline.names if (up := nested.parent(infos[sid])) is not None}
    firing = _firing(events)
    folded: set[tuple[str, int]] = set()
    out = []
    for e in events:
        parent = parents.get(e.series)
        if e.status == "firing":
            e = replace(e, drivers=drivers.get((e.series, e.period)))
            if parent is not None and _fires_at(firing, parent, e.period) and _has(panel, parent, e.period) \
                    and any(d.fold_children for d in route(tree, e.labels)):
                folded.add((e.series, e.episode))
                e = replace(e, folded_into=parent)
        elif (e.series, e.episode) in folded:  # a folded child's resolution is folded too
            e = replace(e, folded_into=parent)
        out.append(e)
    return out


def _drivers(rule: CompiledRule, nested: Drilled, infos: Mapping[str, SeriesInfo], panel: pd.DataFrame,
             events: Sequence[Event]) -> dict[tuple[str, pd.Period], Drivers]:
    """One breakdown per period a parent fired at."""
    top = rule.config.drill.top if rule.config.drill is not None else DEFAULT_TOP

    def panel_of(ids: Sequence[str], _frequency: str) -> pd.DataFrame:
        return panel[[sid for sid in ids if sid in panel.columns]]

    found: dict[tuple[str, pd.Period], Drivers] = {}
    firing = [e for e in events if e.status == "firing"]
    for period in sorted({e.period for e in firing}):
        wanted = {e.series: period for e in firing if e.period == period}
        found.update({(sid, period): d for sid, d in nested.drivers(wanted, infos, panel_of, top).items()})
    return found


def _firing(events: Sequence[Event]) -> Firing:
    """When each series' alert fired and resolved (None: still firing at the end)."""
    spans: Firing = {}
    for e in events:
        if e.status == "firing":
            spans.setdefault(e.series, []).append((e.period, None))
        elif spans.get(e.series) and spans[e.series][-1][1] is None:
            spans[e.series][-1] = (spans[e.series][-1][0], e.period)
    return spans


def _fires_at(firing: Firing, series: str, period: pd.Period) -> bool:
    return any(start <= period and (end is None or period < end) for start, end in firing.get(series, ()))


def _has(panel: pd.DataFrame, series: str, period: pd.Period) -> bool:
    """The parent has a figure for the period: the daemon folds only then."""
    return series in panel.columns and period in panel.index and not pd.isna(panel.at[period, series])
