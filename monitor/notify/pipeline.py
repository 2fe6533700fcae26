"""Drains the outbox: route -> silence/inhibit -> group -> send -> record, at least once per
route node an alert reaches, never twice for a delivery recorded as sent."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol, cast

from monitor.alerts.lifecycle import Alert
from monitor.alerts.notification import Notification
from monitor.config import Notify
from monitor.notify.alertmanager import AlertmanagerNotifier, system_clock
from monitor.notify.chart import HistoryFn
from monitor.notify.console import ConsoleNotifier
from monitor.notify.folding import Fold, Folding, published
from monitor.notify.grouping import GroupClock, delivered, delivery_keys, last_heard
from monitor.notify.inhibit import Decision, decide, firing_keys
from monitor.notify.outage import DeliveryLog
from monitor.notify.retry import Deferred, Refused
from monitor.notify.routing import Destination, repeats, route
from monitor.notify.ruleinfo import RuleInfo
from monitor.notify.slack import SlackWebhookNotifier, build_slack_notifier, link_templates
from monitor.notify.slack_state import ReceiverStateStore
from monitor.notify.webhook import WebhookNotifier
from monitor.store import OutboxEntry, Store
from monitor.store.outbox import PARKED
from monitor.store.silences import SilenceStore

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """A receiver. One that declares `digests` says many alerts of one routing group at once
    (`GroupNotifier.send_group`: a Slack digest, one Alertmanager request) past a route's
    `digest_over`; the others are sent one notification at a time."""

    name: str
    digests: ClassVar[bool]

    def send(self, payload: Notification) -> None: ...


class GroupNotifier(Notifier, Protocol):
    def send_group(self, payloads: Sequence[Notification], group_labels: Mapping[str, str]) -> None: ...


@dataclass(frozen=True, slots=True)
class DrainResult:
    sent: int
    failed: int
    pending: int


DeliveryHook = Callable[[str, str, str], None]  # receiver, rule, outcome


def build_notifiers(config: Notify, env: Mapping[str, str] | None = None,
                    history: HistoryFn | None = None, state: ReceiverStateStore | None = None,
                    clock: Callable[[], datetime] | None = None,
                    rules: Mapping[str, RuleInfo] | None = None) -> dict[str, Notifier]:
    """One notifier per receiver. The caller passes what only it may touch: the environment
    (SLACK_BOT_TOKEN, SLACK_API_URL), a series' history for charts, the store that keeps Slack
    threads across restarts, and the clock; `rules` (by name) words the messages. A Slack
    receiver without its token raises ConfigError naming the receiver and the variable."""
    env = env if env is not None else {}
    notifiers: dict[str, Notifier] = {}
    for index, receiver in enumerate(config.receivers):
        if receiver.console is not None:
            notifiers[receiver.name] = ConsoleNotifier(receiver.name, rules=rules)
        elif receiver.webhook is not None:
            notifiers[receiver.name] = WebhookNotifier(
                receiver.name, receiver.webhook.url, receiver.webhook.timeout.total_seconds(), rules=rules)
        elif receiver.slack is not None:
            notifiers[receiver.name] = build_slack_notifier(
                receiver.name, receiver.slack, env, f"notify.receivers[{index}].slack",
                history=history, state=state, clock=clock, rules=rules)
        elif receiver.slack_webhook is not None:
            notifiers[receiver.name] = SlackWebhookNotifier(
                receiver.name, receiver.slack_webhook.url, receiver.slack_webhook.timeout.total_seconds(),
                history=history, rules=rules, links=link_templates(receiver.slack_webhook))
        elif receiver.alertmanager is not None:
            am = receiver.alertmanager
            notifiers[receiver.name] = AlertmanagerNotifier(
                receiver.name, am.url, am.timeout.total_seconds(), generator_url=am.generator_url,
                resolve_timeout=am.resolve_timeout, clock=clock or system_clock)
    return notifiers


@dataclass(frozen=True, slots=True)
class _Item:
    entry: OutboxEntry
    notification: Notification
    destination: Destination
    key: str  # what its delivery is recorded under (monitor/notify/grouping.py)


class Dispatcher:
    """Drains the outbox in small stages: reminders -> route -> silence/inhibit -> group ->
    send -> record. One drain at a time; a failed delivery stays for the next drain without
    resending to the receivers that already have it. A process that dies after a receiver
    took a notification but before its delivery was recorded sends it again on the next
    drain: at least once for receivers that cannot be read back, a no-op for Slack, which
    keeps how far each send got (monitor/notify/slack_state.py)."""

    def __init__(self, store: Store, notify: Notify, notifiers: Mapping[str, Notifier],
                 on_delivery: DeliveryHook | None = None,
                 firing: Callable[[], Sequence[Alert]] | None = None,
                 delivery_log: DeliveryLog | None = None,
                 acting: Callable[[], bool] | None = None,
                 detections: Callable[[], tuple[int, int]] | None = None) -> None:
        self._store = store
        self._detections = detections or (lambda: (0, 0))  # Engine.detections
        self._acting = acting or (lambda: True)  # False once another replica may have the lease
        self._log = delivery_log or DeliveryLog()
        self._notify = notify
        self._notifiers = dict(notifiers)
        self._on_delivery = on_delivery
        self._firing = firing or (lambda: [])
        self._silences = SilenceStore(store)
        self._lock = threading.Lock()
        self._groups = GroupClock()

    def drain(self, now: Callable[[], datetime]) -> DrainResult:
        with self._lock:
            if not self._acting():
                return DrainResult(0, 0, self._store.outbox_depth()[0])
            at = now()
            detections = self._detections()  # before the alert book and the store are read
            firing = list(self._firing())
            self._enqueue_reminders(firing, at)
            entries = self._store.pending_outbox()
            notifications = {entry.id: Notification.from_json(entry.payload) for entry in entries}
            folding = self._folding(firing, notifications.values(), detections)
            # an acknowledgement lasts until its episode resolves: the resolution is told
            self._silences.end_acknowledgements(
                [(e.fingerprint, e.episode) for e in entries if notifications[e.id].resolved], at)
            silences = self._silences.active(at)
            routes = {entry.id: self._destinations(notifications[entry.id]) for entry in entries}
            handled: dict[int, set[str]] = {entry.id: set(entry.delivered_to) for entry in entries}
            groups: dict[tuple[str, tuple[str, ...]], list[_Item]] = {}
            waiting: set[int] = set()
            for entry in entries:
                notification = notifications[entry.id]
                labels = notification.labels
                for destination, key in routes[entry.id]:
                    if delivered(key, destination.receiver, entry.delivered_to) or key in entry.parked:
                        continue  # parked: refused for good, until a reload retries it
                    decision = decide(labels, entry.fingerprint, silences, self._notify.inhibit_rules,
                                      firing, at)
                    if decision is Decision.SEND:
                        fold = folding.decide(notification, entry.created_at, destination, key, at)
                        if fold is Fold.HOLD:
                            waiting.add(entry.id)  # for its parent: kept for a later drain
                            continue
                        if fold is Fold.FOLD:
                            decision = Decision.FOLDED
                    if decision is not Decision.SEND:
                        self._store.record_delivery(entry.id, key, at, None, decision.value)
                        self._hook(destination.receiver, notification, decision.value)
                        handled[entry.id].add(key)
                        continue
                    group = (destination.node, destination.group_key(labels))
                    groups.setdefault(group, []).append(_Item(entry, notification, destination, key))
            sent = failed = 0
            for group, items in groups.items():
                oldest = min(item.entry.created_at for item in items)
                if at - oldest < items[0].destination.group_wait or not self._groups.due(group, at):
                    waiting.update(item.entry.id for item in items)
                    continue
                delivered_now, bad = self._send_group(items, now)
                if delivered_now:
                    self._groups.flushed(group, items[0].destination.group_interval, at)
                for item in delivered_now:
                    handled[item.entry.id].add(item.key)
                sent, failed = sent + len(delivered_now), failed + bad
            self._finish(entries, routes, handled, waiting, now)
            self._log.flush()
        pending, _ = self._store.outbox_depth()
        return DrainResult(sent, failed, pending)

    def _folding(self, firing: Sequence[Alert], notifications: Iterable[Notification],
                 detections: tuple[int, int]) -> Folding:
        """What folding along the hierarchy needs from the store for this drain: the
        parents' figures for the children's periods, how resolved children's firing
        notifications were handled (monitor/notify/folding.py). A parent's figure counts as
        decided only when no detection was in flight while the alerts and figures were read:
        one under way may have stored the parent's figure and not yet booked its alert."""
        parents, episodes = Folding.wanted(notifications)
        infos = self._store.series({sid for sid, _ in parents}) if parents else {}
        decided = published(parents, infos, self._store.panel) if parents else frozenset()
        if decided and not (detections[1] == 0 and self._detections() == detections):
            decided = frozenset()  # undecided for now: held, and decided by a later drain
        outcomes = self._store.firing_outcomes(sorted(episodes)) if episodes else {}
        return Folding.of(firing_keys(firing), decided, outcomes)

    def _destinations(self, notification: Notification) -> list[tuple[Destination, str]]:
        """Every route node the notification reaches, with its delivery key."""
        destinations = route(self._notify.route, notification.labels)
        only = notification.receiver  # a reminder is for one receiver
        return [(d, key) for d, key in zip(destinations, delivery_keys(destinations), strict=True)
                if only is None or d.receiver == only]

    def _send_group(self, items: Sequence[_Item], now: Callable[[], datetime]) -> tuple[list[_Item], int]:
        """Deliver one route node's group: the items delivered, and how many failed."""
        receiver = items[0].destination.receiver
        notifier = self._notifiers.get(receiver)
        if notifier is None:
            return [], 0
        destination = items[0].destination
        if not self._acting():  # the lease may be another replica's: leave the group to it
            return [], 0
        if len(items) > destination.digest_over and notifier.digests:
            payloads = [item.notification for item in items]
            labels = destination.group_labels(payloads[0].labels)
            try:
                cast(GroupNotifier, notifier).send_group(payloads, labels)
            except Exception as exc:  # the whole digest is retried on the next drain
                return [], sum(self._not_sent(item, exc) for item in items)
            self._retried(items)
            sent_at = now()  # one request delivered them all: recorded in one transaction
            self._store.record_deliveries([(item.entry.id, item.key, sent_at, None) for item in items])
            for item in items:
                self._hook(receiver, item.notification, "sent")
            self._log.sent(receiver)
            return list(items), 0
        delivered: list[_Item] = []
        failed = 0
        for item in items:
            if not self._acting():
                break
            try:
                notifier.send(item.notification)
            except Exception as exc:  # a receiver's failure must not stop the others
                failed += self._not_sent(item, exc)
                continue
            self._retried([item])
            self._store.record_delivery(item.entry.id, item.key, now(), None)
            self._hook(receiver, item.notification, "sent")
            self._log.sent(receiver)
            delivered.append(item)
        return delivered, failed

    def _not_sent(self, item: _Item, exc: Exception) -> int:
        """Record why `item` was not delivered; 1 if it counts as a failed attempt. A deferred
        send (the receiver's gate is closed after a failure) was not attempted: it is neither
        counted nor logged. A refusal parks the delivery until a reload; anything else is
        retried on the next drain."""
        if isinstance(exc, Deferred):
            return 0
        receiver, notification = item.destination.receiver, item.notification
        self._retried([item])
        if isinstance(exc, Refused):
            reason = str(exc)
            self._store.record_delivery(item.entry.id, item.key, None, reason, PARKED)
            self._hook(receiver, notification, PARKED)
            self._log.parked(receiver, notification.rule, notification.series, reason)
            return 1
        reason = f"{type(exc).__name__}: {exc}"
        self._store.record_delivery(item.entry.id, item.key, None, reason)
        self._hook(receiver, notification, "failed")
        self._log.failed(receiver, notification.rule, notification.series, reason)
        return 1

    def _retried(self, items: Sequence[_Item]) -> None:
        """Count the attempts that repeat a failed one."""
        for item in items:
            if item.entry.attempts.get(item.key, 0) > 0:
                self._hook(item.destination.receiver, item.notification, "retried")

    def _finish(self, entries: Sequence[OutboxEntry], routes: Mapping[int, Sequence[tuple[Destination, str]]],
                handled: Mapping[int, set[str]], waiting: set[int], now: Callable[[], datetime]) -> None:
        """An entry is done once every destination has it (sent, silenced or inhibited): the
        deliveries it had before this drain, and those this drain recorded."""
        done = [entry.id for entry in entries if entry.id not in waiting and all(
            delivered(key, d.receiver, handled[entry.id]) for d, key in routes[entry.id])]
        if done:
            self._store.mark_done_many(done, now())

    def _enqueue_reminders(self, firing: Sequence[Alert], now: datetime) -> None:
        """A firing alert is repeated to a receiver once `repeat_interval` has passed since it
        last heard of it (wall clock), in the thread where it has one. Without a
        `repeat_interval` anywhere in the routing tree there is nothing to look at."""
        if not repeats(self._notify.route):
            return
        for alert in firing:
            destinations = route(self._notify.route, alert.labels)
            if not any(d.repeat_interval for d in destinations):
                continue
            last = self._store.last_sent(alert.fingerprint, alert.episode)
            due: set[str] = set()  # one reminder per receiver, for each of its route nodes
            for destination, key in zip(destinations, delivery_keys(destinations), strict=True):
                heard = last_heard(last, key, destination.receiver)
                interval = destination.repeat_interval
                if interval is not None and heard is not None and now - heard >= interval:
                    due.add(destination.receiver)
            for receiver in sorted(due):
                reminder = Notification.of(alert).reminding(receiver)
                self._store.enqueue_reminder(alert.fingerprint, alert.episode, reminder.to_json(), now)

    def _hook(self, receiver: str, notification: Notification, outcome: str) -> None:
        if self._on_delivery is not None:
            self._on_delivery(receiver, notification.rule, outcome)
