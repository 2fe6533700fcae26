"""The alert book: current alerts in memory, every change persisted with its outbox rows."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from detectors.wording import retired_rule_sentence
from monitor.alerts.lifecycle import (
    Alert,
    Evaluation,
    Status,
    Transition,
    fingerprint,
    step,
    transition,
)
from monitor.alerts.notification import Notification
from monitor.alerts.persist import AlertRows
from monitor.store import Store

log = logging.getLogger(__name__)

Changes = Iterator[tuple[str, Alert | None]]  # fingerprint -> next state (None: drop it)


class AlertBook:
    """Loads state at start, applies evaluations, persists transitions and outbox atomically.

    Only evaluated (rule, series) pairs change: a series no source touched keeps its state."""

    def __init__(self, store: Store) -> None:
        self._rows = AlertRows(store)
        self._committing = threading.Lock()  # one batch of changes at a time, persisted first
        self._lock = threading.Lock()  # the in-memory alerts: held only to read or swap them
        self._alerts: dict[str, Alert] = self._rows.load()

    def reload(self) -> None:
        """Read every alert from the store again: another replica has been changing them (a
        replica that takes over, or a standby showing the active one's alerts)."""
        with self._committing:
            loaded = self._rows.load()
            with self._lock:
                self._alerts = loaded

    def apply(self, evaluations: Iterable[Evaluation], now: datetime) -> list[Transition]:
        return self._commit(self._steps(evaluations, now), now)

    def retire(self, rules: Sequence[str], now: datetime) -> list[Transition]:
        """The rules are gone from the config: resolve their firing alerts saying so, drop
        their pending ones."""
        return self._commit(self._retirements(set(rules), now), now)

    def _steps(self, evaluations: Iterable[Evaluation], now: datetime) -> Changes:
        for evaluation in evaluations:
            fp = fingerprint(evaluation.rule, evaluation.series)
            yield fp, step(self._alerts.get(fp), evaluation, now)

    def _retirements(self, rules: set[str], now: datetime) -> Changes:
        for alert in list(self._alerts.values()):
            if alert.rule not in rules or alert.status is Status.RESOLVED:
                continue
            if alert.status is Status.PENDING:
                yield alert.fingerprint, None
                continue
            yield alert.fingerprint, replace(
                alert, status=Status.RESOLVED, resolved_at=now, updated_at=now,
                summary=retired_rule_sentence(alert.rule, alert.summary))

    def _commit(self, changes: Changes, now: datetime) -> list[Transition]:
        """Consume `changes` (lazily) and persist them in one transaction, then show them.
        Readers are not held up by the transaction: they see the alerts before it until the
        alerts after it replace them."""
        with self._committing:  # only this thread changes _alerts meanwhile: reads need no lock
            upserts: list[Alert] = []
            deletes: list[str] = []
            transitions: list[Transition] = []
            for fp, nxt in changes:
                previous = self._alerts.get(fp)
                if nxt is None:
                    if previous is not None:
                        deletes.append(fp)
                    continue
                change = transition(previous, nxt)
                if change is None:
                    continue
                upserts.append(nxt)
                transitions.append(change)
            notifications = [Notification.of(t.alert) for t in transitions if t.notify]
            if upserts or deletes:
                self._rows.commit(upserts, deletes, notifications, now)
            with self._lock:
                for fp in deletes:
                    self._alerts.pop(fp, None)
                for alert in upserts:
                    self._alerts[alert.fingerprint] = alert
        for change in transitions:
            if change.notify or change.previous_status is None:
                log.info("alert %s rule=%s series=%s period=%s", change.alert.status.value,
                         change.alert.rule, change.alert.series, change.alert.period)
        return transitions

    def alerts(self, statuses: Sequence[Status] | None = None) -> list[Alert]:
        with self._lock:
            items = list(self._alerts.values())
        if statuses is not None:
            items = [a for a in items if a.status in statuses]
        return sorted(items, key=lambda a: (a.rule, a.series))

    def active_series(self) -> dict[str, set[str]]:
        """rule -> series with a pending or firing alert: the only series where an evaluation
        without a finding changes anything (no alert, or a resolved one, stays as it is)."""
        with self._lock:
            alerts = list(self._alerts.values())
        active: dict[str, set[str]] = {}
        for alert in alerts:
            if alert.status is not Status.RESOLVED:
                active.setdefault(alert.rule, set()).add(alert.series)
        return active

    def snapshot(self) -> Mapping[str, Alert]:
        with self._lock:
            return dict(self._alerts)
