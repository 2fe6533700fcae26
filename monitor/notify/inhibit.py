"""Silences and inhibition: whether a notification is sent, decided as Alertmanager decides it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.config import InhibitRule
from monitor.matchers import matches_all, parse_matcher
from monitor.store.silences import Silence


class Decision(StrEnum):
    """Why a notification is or is not sent to a receiver now."""

    SEND = "sent"
    SILENCED = "silenced"
    INHIBITED = "inhibited"
    FOLDED = "folded"  # said in the message of its parent along the rule's hierarchy


FiringKeys = frozenset[tuple[str, str, str]]  # (rule, series, period) of the firing alerts


def firing_keys(firing: Sequence[Alert]) -> FiringKeys:
    """Built once per drain, so that folding costs a lookup per notification."""
    return frozenset((a.rule, a.series, a.period) for a in firing if a.status is Status.FIRING)


def folded(notification: Notification, firing: FiringKeys) -> bool:
    """A child's firing alert whose parent series fires for the same rule on the same
    release (period): the parent's message, with its contributors, says both."""
    if notification.parent is None or notification.status is not Status.FIRING or notification.reminder:
        return False
    return (notification.rule, notification.parent, notification.period) in firing


def inhibitors(labels: Mapping[str, str], fingerprint: str, inhibit_rules: Sequence[InhibitRule],
               firing: Sequence[Alert]) -> list[Alert]:
    """The firing alerts that inhibit an alert with these labels, as Alertmanager's
    `Inhibitor.Mutes`: for a rule whose target matchers the labels match, a firing alert
    that matches its source matchers and has the same `equal` labels (a missing label
    equals a missing or empty one). When the labels match the rule's source matchers too,
    alerts that also match its target matchers are left out: two alerts that both match
    both sides never inhibit each other."""
    found: dict[str, Alert] = {}
    for rule in inhibit_rules:
        targets = [parse_matcher(m) for m in rule.target_matchers]
        if not matches_all(targets, labels):
            continue
        sources = [parse_matcher(m) for m in rule.source_matchers]
        two_sided = matches_all(sources, labels)
        for alert in firing:
            if alert.fingerprint == fingerprint or alert.fingerprint in found:
                continue
            if not matches_all(sources, alert.labels):
                continue
            if any(alert.labels.get(name, "") != labels.get(name, "") for name in rule.equal):
                continue
            if two_sided and matches_all(targets, alert.labels):
                continue
            found[alert.fingerprint] = alert
    return list(found.values())


def decide(labels: Mapping[str, str], fingerprint: str, silences: Sequence[Silence],
           inhibit_rules: Sequence[InhibitRule], firing: Sequence[Alert], now: datetime) -> Decision:
    """Pure: silenced beats inhibited beats send (`inhibitors` says who inhibits)."""
    if any(s.silences(labels, now) for s in silences):
        return Decision.SILENCED
    if inhibitors(labels, fingerprint, inhibit_rules, firing):
        return Decision.INHIBITED
    return Decision.SEND
