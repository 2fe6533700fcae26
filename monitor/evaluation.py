"""Rules over panels: which series each rule sees, one executor pass per shared panel, and
what each rule concluded about each series (an `Evaluation` for the alert book).

Steps 3 and 4 of a cycle. Pure given the store's panels: no clock is read here (a clock
rule's `now` is an argument) and no alert is changed (the engine hands the evaluations on).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd

from detectors import Finding, Needs, apply_transform, evaluate, latest_periods
from detectors.mirror import mirror_pairs
from detectors.revision import Revision as RevisionDetector
from detectors.transforms import value_phrase
from detectors.wording import resolution_sentence
from monitor.alerts.lifecycle import Evaluation
from monitor.drill import drill_evaluations
from monitor.executor import Executor, RulePlan, RuleResult, Subjects, evaluate_partition
from monitor.runtime import CompiledRule
from monitor.store import Revision, SeriesInfo, Store

log = logging.getLogger(__name__)


class RuleObserver(Protocol):
    def rule_evaluated(self, rule: str, findings: int, seconds: float = 0.0) -> None: ...


@dataclass(frozen=True, slots=True)
class RuleEvaluator:
    """Evaluates rules over the series of one fetch. `active` gives, per rule, the series with
    a pending or firing alert (those may resolve, so they are evaluated with no finding too)."""

    store: Store
    active: Callable[[], Mapping[str, set[str]]]
    executor: Callable[[], Executor]
    observer: RuleObserver

    def evaluate(self, rules: Sequence[CompiledRule], infos: Mapping[str, SeriesInfo],
                 revised: Mapping[str, Sequence[Revision]], now: datetime | None = None) -> list[Evaluation]:
        """Each rule over the panel of the series it selects, per frequency (with the parents
        a `share` needs as context). Rules over the same panel share one executor pass."""
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[CompiledRule, frozenset[str]]]] = {}
        everything = dict(infos)
        for rule in rules:
            if rule.config.transform.mirror is not None:
                try:
                    check_mirrors(rule, {**infos, **self.store.series(parent_ids(rule) - set(infos))})
                except MirrorMismatch as exc:
                    log.error("%s", exc)
                    continue
            by_frequency: dict[str, list[str]] = {}
            selected_infos = (infos.values() if rule.config.selects_all
                              else (info for info in infos.values() if rule.config.matches(info.labels)))
            for info in selected_infos:
                by_frequency.setdefault(info.frequency, []).append(info.id)
            parents = parent_ids(rule)
            for frequency, selected in by_frequency.items():
                own = frozenset(selected)
                context = self.store.series(parents - own) if parents else {}  # `share` needs its parents
                everything.update(context)
                groups.setdefault((frequency, tuple(sorted(own | set(context)))), []).append((rule, own))
        found = dict.fromkeys((r.name for r in rules), 0)
        seconds = dict.fromkeys((r.name for r in rules), 0.0)
        per_rule: dict[str, list[Evaluation]] = {r.name: [] for r in rules}
        for (frequency, ids), members in groups.items():
            panel = self.store.panel(ids, frequency)
            if panel.shape[1]:
                done = self._panel(members, panel, everything, revised, now, found, seconds)
                for name, evaluations in done.items():
                    per_rule[name] += evaluations
        everything_stored: Mapping[str, SeriesInfo] | None = None
        for rule in rules:
            if rule.tree is not None and any(e.finding is not None for e in per_rule[rule.name]):
                started = time.monotonic()
                everything_stored = everything_stored or self.store.series()
                per_rule[rule.name] = drill_evaluations(rule.config, rule.tree, per_rule[rule.name],
                                                        everything_stored, self.store.panel)
                seconds[rule.name] += time.monotonic() - started
        for name, count in found.items():
            self.observer.rule_evaluated(name, count, seconds[name])
        return [e for rule in rules for e in per_rule[rule.name]]  # in config order, as always

    def _panel(self, members: Sequence[tuple[CompiledRule, frozenset[str]]], panel: pd.DataFrame,
               infos: Mapping[str, SeriesInfo], revised: Mapping[str, Sequence[Revision]],
               now: datetime | None, found: dict[str, int],
               seconds: dict[str, float]) -> dict[str, list[Evaluation]]:
        """The rules of one panel, each reporting on its own series; counts findings and
        detection seconds per rule."""
        active = self.active()
        labels = LabelsOf(infos)
        columns = set(panel.columns.tolist())
        done: dict[str, list[Evaluation]] = {}
        plain = []
        for rule, own in members:
            watch = frozenset(active.get(rule.name, set()) & own)
            if not rule.needs(Needs.PREVIOUS):
                plain.append((rule, own, RulePlan(rule.name, rule.config.transform.kind,
                                                  rule.config.transform.params(), rule.detector,
                                                  rule.config.severity, watch,
                                                  rule.materiality(panel.index.freq))))
                continue
            try:
                started = time.monotonic()
                mine = evaluate_revisions(rule, panel, infos, revised, Subjects(labels), watch)
                seconds[rule.name] += time.monotonic() - started
            except Exception:  # one bad rule must not stop the others
                log.exception("rule failed rule=%s series=%d", rule.name, len(own))
                continue
            done[rule.name] = [e for e in mine if e.series in own]
            found[rule.name] += sum(e.finding is not None for e in done[rule.name])
        plans = [p for _, _, p in plain]
        try:
            results = self.executor().run(panel, plans, labels, now)
        except Exception:  # an unreachable cluster must not lose this fetch's alerts
            log.exception("detection executor failed; evaluating in-process series=%d", panel.shape[1])
            results = evaluate_partition(panel, plans, labels, now)
        for (rule, own, _), result in zip(plain, results, strict=True):
            seconds[rule.name] += result.seconds
            if result.error is not None:
                log.error("rule failed rule=%s series=%d error=%s", rule.name, len(own), result.error)
                continue
            if not own >= columns:  # context columns report nothing
                result = RuleResult([f for f in result.findings if f.series in own],
                                    {sid: v for sid, v in result.newest.items() if sid in own})
            found[rule.name] += len(result.findings)
            done[rule.name] = rule_evaluations(rule, result, infos, revised, Subjects(labels))
        return done


class MirrorMismatch(ValueError):
    """A mirror gap between series in different units or currencies: the rule does not run."""


UNIT_LABELS = ("unit", "currency")


def check_mirrors(rule: CompiledRule, infos: Mapping[str, SeriesInfo]) -> None:
    """Raise MirrorMismatch naming the rule and both series when a series and its mirror
    differ in unit or currency (a gap between US$ m and euros means nothing)."""
    mirror = rule.config.transform.mirror
    if mirror is None:
        return
    pairs = mirror_pairs(mirror, [sid for sid in infos if rule.config.matches(infos[sid].labels)])
    for own, other in sorted(pairs.items()):
        if own not in infos or other not in infos:
            continue
        for label in UNIT_LABELS:
            a, b = infos[own].labels.get(label), infos[other].labels.get(label)
            if a != b:
                raise MirrorMismatch(
                    f"rule {rule.name} refuses to start: series {own} has {label} {a or '(none)'} but its "
                    f"mirror {other} has {label} {b or '(none)'}; a mirror gap compares figures in one "
                    f"{label} (convert one side at the source)")


def parent_ids(rule: CompiledRule) -> set[str]:
    """The series a `share` transform divides by, or a `mirror_gap` compares with."""
    out: set[str] = set()
    for other in (rule.config.transform.parent, rule.config.transform.mirror):
        if other is not None:
            out |= {other} if isinstance(other, str) else set(other.values())
    return out


class LabelsOf(Mapping[str, Mapping[str, str]]):
    """Series id -> labels, read from the infos at hand (no copy of 100,000 dicts)."""

    def __init__(self, infos: Mapping[str, SeriesInfo]) -> None:
        self._infos = infos

    def __getitem__(self, series: str) -> Mapping[str, str]:
        return self._infos[series].labels

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)


def rule_evaluations(rule: CompiledRule, result: RuleResult, infos: Mapping[str, SeriesInfo],
                     revised: Mapping[str, Sequence[Revision]],
                     subjects: Mapping[str, str]) -> list[Evaluation]:
    """Evaluations only where the book can change: a finding, or an active alert (watched)
    that may resolve. Every other series would step from no alert to no alert."""
    params = rule.config.transform.params()
    out = [series_evaluation(rule, f.series, f.period, f, f.value, subjects[f.series], infos[f.series],
                             revised.get(f.series, ()), params) for f in result.findings]
    out += [series_evaluation(rule, sid, period, None, value, subjects[sid], infos[sid], revised.get(sid, ()),
                              params)
            for sid, (period, value) in sorted(result.newest.items())]
    return out


def evaluate_panel(rule: CompiledRule, panel: pd.DataFrame, infos: Mapping[str, SeriesInfo],
                   revised: Mapping[str, Sequence[Revision]] | None = None,
                   now: datetime | None = None) -> list[Evaluation]:
    """Pure: one rule over one panel -> one Evaluation per series with data. `revised` holds
    the values this fetch revised, per series: revision rules compare the panel before and
    after them, and a condition that stops holding because of one says so."""
    subjects = Subjects(LabelsOf(infos))
    config = rule.config
    revised = revised or {}
    if rule.needs(Needs.PREVIOUS):
        return evaluate_revisions(rule, panel, infos, revised, subjects)
    transformed = apply_transform(config.transform.kind, panel, **config.transform.params())
    findings = {f.series: f for f in evaluate(
        panel, rule=config.name, transform=config.transform.kind, detector=rule.detector,
        severity=config.severity, subjects=subjects, scope="latest", now=now,
        transform_params=config.transform.params(), transformed=transformed,
        materiality=rule.materiality(panel.index.freq))}
    return [series_evaluation(rule, sid, period, findings.get(sid), float(transformed.at[period, sid]),
                              subjects[sid], infos[sid], revised.get(sid, ()))
            for sid, period in latest_periods(panel).items()]


def evaluate_revisions(rule: CompiledRule, panel: pd.DataFrame, infos: Mapping[str, SeriesInfo],
                       revised: Mapping[str, Sequence[Revision]], subjects: Mapping[str, str],
                       watch: Collection[str] | None = None) -> list[Evaluation]:
    """The panel as it stood before this fetch (revised cells put back) against the panel now.
    With `watch`, only series with a finding or in `watch` are evaluated (see
    `rule_evaluations`); with no revision in the panel the two are equal and nothing is found."""
    rows, cols, values = [], [], []
    for sid, items in revised.items():
        if sid not in panel.columns:
            continue
        col = panel.columns.get_loc(sid)
        for item in items:
            row = panel.index.get_indexer([pd.Period(item.period, freq=panel.index.freq)])[0]
            if row >= 0:
                rows.append(row)
                cols.append(col)
                values.append(item.before)
    findings: dict[str, Finding] = {}
    if rows or watch is None:
        array = panel.to_numpy(dtype=float, copy=True)
        array[rows, cols] = values
        before = pd.DataFrame(array, index=panel.index, columns=panel.columns)
        config = rule.config
        detector = cast(RevisionDetector, rule.detector)  # registered with Needs.PREVIOUS
        findings = {f.series: f for f in detector.find(
            before, panel, rule=config.name, transform=config.transform.kind, severity=config.severity,
            subjects=subjects, transform_params=config.transform.params(),
            materiality=rule.materiality(panel.index.freq))}
    wanted = panel if watch is None else panel[sorted(set(findings) | (set(watch) & set(panel.columns)))]
    return [series_evaluation(rule, sid, period, findings.get(sid), float(panel.at[period, sid]),
                              subjects[sid], infos[sid])
            for sid, period in latest_periods(wanted).items()]


def series_evaluation(rule: CompiledRule, sid: str, period: pd.Period, finding: Finding | None,
                      value: float, subject_text: str, info: SeriesInfo,
                      revised: Sequence[Revision] = (),
                      transform_params: Mapping[str, Any] | None = None) -> Evaluation:
    """What one rule concluded about one series at `period` (its newest), with the sentence
    to send if a firing alert resolves there. Shared with the backtest; `transform_params`
    are the rule's, from a caller that evaluates many series."""
    config = rule.config
    kind = config.transform.kind
    params = config.transform.params() if transform_params is None else transform_params
    predicate = value_phrase(value, kind, period.freq, **params) if np.isfinite(value) else None
    resolution = resolution_sentence(subject_text, predicate, str(period), config.name, kind,
                                     [(r.period, r.before, r.after) for r in revised])
    labels = {**info.labels, **config.labels, "alertname": config.name, "series": sid,
              "severity": config.severity}
    return Evaluation(rule=config.name, series=sid, labels=labels, severity=config.severity,
                      for_periods=config.for_, period=str(period), finding=finding,
                      resolution=resolution, keep_firing_for=config.keep_firing_for)
