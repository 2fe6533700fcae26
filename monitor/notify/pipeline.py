"""Drains the outbox: route -> send -> record, at least once per receiver, never twice
for a delivery recorded as sent."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from monitor.config import Notify
from monitor.notify.console import ConsoleNotifier
from monitor.notify.routing import route
from monitor.notify.webhook import WebhookNotifier
from monitor.store import Store

log = logging.getLogger(__name__)


class Notifier(Protocol):
    name: str

    def send(self, payload: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class DrainResult:
    sent: int
    failed: int
    pending: int


DeliveryHook = Callable[[str, str, bool], None]  # receiver, rule, ok


def build_notifiers(config: Notify) -> dict[str, Notifier]:
    notifiers: dict[str, Notifier] = {}
    for receiver in config.receivers:
        if receiver.console is not None:
            notifiers[receiver.name] = ConsoleNotifier(receiver.name)
        elif receiver.webhook is not None:
            notifiers[receiver.name] = WebhookNotifier(
                receiver.name, receiver.webhook.url, receiver.webhook.timeout.total_seconds())
    return notifiers


class Dispatcher:
    """One drain at a time; a failed delivery stays in the outbox for the next drain."""

    def __init__(self, store: Store, notify: Notify, notifiers: Mapping[str, Notifier],
                 on_delivery: DeliveryHook | None = None) -> None:
        self._store = store
        self._notify = notify
        self._notifiers = dict(notifiers)
        self._on_delivery = on_delivery
        self._lock = threading.Lock()

    def drain(self, now: Callable[[], datetime]) -> DrainResult:
        sent = failed = 0
        with self._lock:
            entries = self._store.pending_outbox()
            for entry in entries:
                destinations = route(self._notify.route, entry.payload.get("labels", {}))
                complete = True
                for destination in destinations:
                    if destination.receiver in entry.delivered_to:
                        continue
                    notifier = self._notifiers.get(destination.receiver)
                    if notifier is None:
                        complete = False
                        continue
                    try:
                        notifier.send(entry.payload)
                    except Exception as exc:  # a receiver's failure must not stop the others
                        failed += 1
                        complete = False
                        reason = f"{type(exc).__name__}: {exc}"
                        log.warning("delivery failed receiver=%s rule=%s series=%s error=%s",
                                    destination.receiver, entry.payload.get("rule"),
                                    entry.payload.get("series"), reason)
                        self._store.record_delivery(entry.id, destination.receiver, None, reason)
                        self._hook(destination.receiver, entry.payload, ok=False)
                        continue
                    self._store.record_delivery(entry.id, destination.receiver, now(), None)
                    self._hook(destination.receiver, entry.payload, ok=True)
                    sent += 1
                if complete:
                    self._store.mark_done(entry.id, now())
        pending, _ = self._store.outbox_depth()
        return DrainResult(sent, failed, pending)

    def _hook(self, receiver: str, payload: Mapping[str, Any], ok: bool) -> None:
        if self._on_delivery is not None:
            self._on_delivery(receiver, str(payload.get("rule", "")), ok)
