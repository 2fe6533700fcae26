"""Silenced, inhibited and folded marks for many alerts at once.

The page answers for every alert what `notify.inhibit.decide` would answer for it now, but
`inhibitors` compares each alert with every firing alert; over 20,000 alerts that is 400
million comparisons. Here each inhibit rule's source alerts are indexed once by their
`equal` labels, so an alert is one dictionary look-up per rule. The semantics are
`inhibitors`' (tests/monitor/ui/test_marks.py compares the two). A child's alert whose
parent fires for the same rule on the same release is folded (said in the parent's message)
where a route it reaches folds children, as `notify.inhibit.folded` decides it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.config import InhibitRule, Notify, Route
from monitor.matchers import Matcher, matches_all, parse_matcher
from monitor.notify.inhibit import Decision, firing_keys, folded
from monitor.notify.routing import route
from monitor.store.silences import Silence


@dataclass(frozen=True, slots=True)
class _Rule:
    targets: tuple[Matcher, ...]
    sources: tuple[Matcher, ...]
    equal: tuple[str, ...]
    by_equal: Mapping[tuple[str, ...], tuple[Alert, ...]]


class Marks:
    """Built once per page from the active silences, the inhibit rules and the firing alerts."""

    def __init__(self, silences: Sequence[Silence], rules: Sequence[InhibitRule],
                 firing: Sequence[Alert], now: datetime, tree: Route | None = None) -> None:
        self._tree = tree  # the routing tree, for `fold_children`; None: every route folds
        self._parents = firing_keys(firing)
        self._silences = [s.parsed() for s in silences if s.state(now) == "active"]
        self._rules: list[_Rule] = []
        for rule in rules:
            sources = tuple(parse_matcher(m) for m in rule.source_matchers)
            equal = tuple(rule.equal)
            index: dict[tuple[str, ...], list[Alert]] = {}
            for alert in firing:
                if alert.status is Status.FIRING and matches_all(sources, alert.labels):
                    index.setdefault(tuple(alert.labels.get(n, "") for n in equal), []).append(alert)
            self._rules.append(_Rule(tuple(parse_matcher(m) for m in rule.target_matchers), sources,
                                     equal, {k: tuple(v) for k, v in index.items()}))

    @classmethod
    def of(cls, notify: Notify, silences: Sequence[Silence], firing: Sequence[Alert], now: datetime) -> Marks:
        """The marks under a config's inhibit rules and routing tree."""
        return cls(silences, notify.inhibit_rules, firing, now, notify.route)

    def silenced(self, labels: Mapping[str, str]) -> bool:
        return any(matches_all(matchers, labels) for matchers in self._silences)

    def inhibited(self, labels: Mapping[str, str], fingerprint: str) -> bool:
        for rule in self._rules:
            if not matches_all(rule.targets, labels):
                continue
            two_sided = matches_all(rule.sources, labels)
            for alert in rule.by_equal.get(tuple(labels.get(n, "") for n in rule.equal), ()):
                if alert.fingerprint == fingerprint:
                    continue
                if two_sided and matches_all(rule.targets, alert.labels):
                    continue
                return True
        return False

    def folded(self, alert: Alert) -> bool:
        if alert.parent is None or not folded(Notification.of(alert), self._parents):
            return False
        return self._tree is None or any(d.fold_children for d in route(self._tree, alert.labels))

    def mark(self, alert: Alert) -> Decision:
        """What would happen to a notification of the alert now: silenced beats inhibited beats
        folded, as in the dispatcher."""
        if self.silenced(alert.labels):
            return Decision.SILENCED
        if self.inhibited(alert.labels, alert.fingerprint):
            return Decision.INHIBITED
        if self.folded(alert):
            return Decision.FOLDED
        return Decision.SEND


def muted(decision: Decision) -> str:
    """The `muted` field of the listings: why the alert is not notified now, or ""."""
    return "" if decision is Decision.SEND else decision.value
