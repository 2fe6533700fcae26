"""Mirror gaps checked when the config is read: a `mirror_gap` rule whose series and mirror
are in different units or currencies, as far as the config alone tells them, is refused by
`check` and at start, naming the rule and both series.

The config knows a series' unit when every source that could publish that series id sets
the `unit` (or `currency`) label as a constant: a wide file's columns name their series
exactly; any other source could publish every id its constant labels do not contradict. A
series some source could publish without a constant unit is only known from its data, and
the evaluation refuses it there (monitor/evaluation.py `check_mirrors`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.config.model import Config
from monitor.config.rules import Rule
from monitor.labels import normalise_label, series_id

UNIT_LABELS = ("unit", "currency")
ID_LABELS = ("reporter", "partner", "flow", "commodity")  # what a series id is made of


@dataclass(frozen=True, slots=True)
class _Publisher:
    source: str
    constants: Mapping[str, str]  # normalised constant labels (the source's name included)
    exact: Mapping[str, Mapping[str, str]] | None  # wide files: series id -> its labels

    def could_publish(self, sid: str) -> Mapping[str, str] | None:
        """The labels known for `sid` if this source could publish it, else None."""
        if self.exact is not None:
            return self.exact.get(sid)
        head, *rest = sid.split("/")
        pair = head.split("-", 1) if "-" in head else None
        for key in ID_LABELS:
            value = self.constants.get(key)
            if value is None:
                continue
            value = value.lower().replace(" ", "_")
            if pair is not None and key in ("reporter", "partner"):
                if pair[key == "partner"] != value:
                    return None
            elif value not in (rest if pair is not None else re.split(r"[-/]", sid)):
                return None
        return self.constants


def _publishers(config: Config) -> list[_Publisher]:
    out = []
    for source in config.sources:
        constants = dict(source.labels) if source.kind != "http_json" else {}
        constants |= dict(getattr(source, "constant_labels", None) or {})
        constants = {k: normalise_label(k, v) for k, v in constants.items()} | {"source": source.name}
        columns = getattr(source, "columns", None)
        exact = None
        if source.kind == "file" and columns is not None:
            labelled = [constants | {k: normalise_label(k, v) for k, v in extra.items()}
                        for extra in columns.values()]
            exact = {series_id(labels): labels for labels in labelled}
        out.append(_Publisher(source.name, constants, exact))
    return out


def _unit(sid: str, label: str, publishers: list[_Publisher]) -> tuple[str, str] | None:
    """(unit, source) when every source that could publish `sid` sets one and the same."""
    found = set()
    for publisher in publishers:
        labels = publisher.could_publish(sid)
        if labels is None:
            continue
        if label not in labels:
            return None
        found.add((labels[label], publisher.source))
    units = {unit for unit, _ in found}
    return min(found) if len(units) == 1 else None


def _pairs(rule: Rule, publishers: list[_Publisher]) -> dict[str, str]:
    mirror = rule.transform.mirror
    if isinstance(mirror, Mapping):
        return dict(mirror)
    if mirror is None:
        return {}
    own = {sid for p in publishers if p.exact for sid, labels in p.exact.items() if rule.matches(labels)}
    return {sid: mirror for sid in sorted(own) if sid != mirror}


def mirror_problems(config: Config) -> list[tuple[tuple[str | int, ...], str]]:
    """(where in the file, what is wrong) for each mirror_gap rule mixing units the config knows."""
    publishers = _publishers(config)
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, rule in enumerate(config.rules):
        if rule.transform.kind != "mirror_gap":
            continue
        for own, other in sorted(_pairs(rule, publishers).items()):
            for label in UNIT_LABELS:
                a, b = _unit(own, label, publishers), _unit(other, label, publishers)
                if a is not None and b is not None and a[0] != b[0]:
                    problems.append((("rules", index, "transform", "mirror"), (
                        f"rule {rule.name}: series {own} has {label} {a[0]} (source {a[1]}) but its mirror "
                        f"{other} has {label} {b[0]} (source {b[1]}); a mirror gap compares figures in one "
                        f"{label} (convert one side at the source)")))
                    break
    return problems
