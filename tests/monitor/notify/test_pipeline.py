"""The outbox is drained at least once per receiver and never twice once recorded as sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.config import Notify
from monitor.notify.pipeline import Dispatcher
from monitor.store import Store
from monitor.store.schema import outbox

NOW = datetime(2026, 3, 1, tzinfo=UTC)
NOTIFY = Notify.model_validate({
    "receivers": [{"name": "desk", "console": {}}, {"name": "ops", "console": {}}],
    "route": {"receiver": "desk", "routes": [
        {"match": {"severity": "critical"}, "receiver": "ops", "continue": True},
        {"receiver": "desk"}]},
})


class Recorder:
    digests = False

    def __init__(self, name: str, failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.sent: list[Notification] = []

    def send(self, payload: Notification) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("receiver down")
        self.sent.append(payload)


def add_outbox_row(store: Store, fingerprint: str, severity: str) -> None:
    import json

    payload = {"rule": "r", "labels": {"severity": severity}, "summary": fingerprint}
    with store.engine.begin() as conn:
        conn.execute(outbox.insert().values(fingerprint=fingerprint, episode=1, status="firing",
                                            payload=json.dumps(payload), created_at=NOW))


def test_each_receiver_gets_each_notification_once(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    desk, ops = Recorder("desk"), Recorder("ops")
    add_outbox_row(store, "a", "critical")
    add_outbox_row(store, "b", "warning")
    result = Dispatcher(store, NOTIFY, {"desk": desk, "ops": ops}).drain(lambda: NOW)
    assert (result.sent, result.failed, result.pending) == (3, 0, 0)
    assert [p.summary for p in desk.sent] == ["a", "b"]
    assert [p.summary for p in ops.sent] == ["a"]
    Dispatcher(store, NOTIFY, {"desk": desk, "ops": ops}).drain(lambda: NOW)
    assert len(desk.sent) == 2 and len(ops.sent) == 1


def test_a_failing_receiver_keeps_the_row_and_does_not_resend_to_the_others(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    desk, ops = Recorder("desk"), Recorder("ops", failures=2)
    outcomes: list[tuple[str, str]] = []
    dispatcher = Dispatcher(store, NOTIFY, {"desk": desk, "ops": ops},
                            on_delivery=lambda receiver, _rule, outcome: outcomes.append((receiver, outcome)))
    add_outbox_row(store, "a", "critical")
    assert dispatcher.drain(lambda: NOW).pending == 1
    assert dispatcher.drain(lambda: NOW).pending == 1
    assert dispatcher.drain(lambda: NOW).pending == 0
    assert [p.summary for p in desk.sent] == ["a"]
    assert [p.summary for p in ops.sent] == ["a"]
    assert outcomes == [("ops", "failed"), ("desk", "sent"), ("ops", "retried"), ("ops", "failed"),
                        ("ops", "retried"), ("ops", "sent")]



class GroupRecorder(Recorder):
    digests = True

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.groups: list[tuple[list[str], dict[str, str]]] = []

    def send_group(self, payloads: list[Notification], group_labels: Mapping[str, str]) -> None:
        self.groups.append(([str(p.summary) for p in payloads], dict(group_labels)))


def add_alert_row(store: Store, fingerprint: str, labels: dict[str, str], status: str = "firing",
                  created_at: datetime = NOW) -> None:
    import json

    payload = {"rule": labels.get("alertname", "r"), "labels": labels, "summary": fingerprint,
               "status": status}
    with store.engine.begin() as conn:
        conn.execute(outbox.insert().values(fingerprint=fingerprint, episode=1, status=status,
                                            payload=json.dumps(payload), created_at=created_at))


def firing_alert(fingerprint: str, labels: dict[str, str]) -> Alert:
    from types import MappingProxyType

    return Alert(fingerprint=fingerprint, rule=labels.get("alertname", "r"), series=labels["series"],
                 labels=MappingProxyType(labels), severity="warning", status=Status.FIRING, episode=1,
                 period="2015-03", since_period="2015-03", value=-20.0, reference=-5.0,
                 summary=fingerprint, active_at=NOW, fired_at=NOW, resolved_at=None, updated_at=NOW)


def one_receiver(extra: str = "") -> Notify:
    import yaml

    return Notify.model_validate(yaml.safe_load(f"""
        receivers: [{{name: desk, console: {{}}}}]
        route: {{receiver: desk{extra}}}
    """))


def test_silenced_alerts_are_recorded_not_sent(tmp_path: Path) -> None:
    from monitor.store.silences import SilenceStore

    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    SilenceStore(store).add(["series=a"], NOW, NOW + timedelta(hours=1), "ana", "known", NOW)
    add_alert_row(store, "fa", {"series": "a"})
    add_alert_row(store, "fb", {"series": "b"})
    desk = Recorder("desk")
    outcomes: list[str] = []
    result = Dispatcher(store, one_receiver(), {"desk": desk},
                        on_delivery=lambda _r, _rule, outcome: outcomes.append(outcome)).drain(lambda: NOW)
    assert [p.summary for p in desk.sent] == ["fb"]
    assert sorted(outcomes) == ["sent", "silenced"] and result.pending == 0


def test_a_firing_parent_inhibits_its_children_with_equal_labels(tmp_path: Path) -> None:
    import yaml

    notify = Notify.model_validate(yaml.safe_load("""
        receivers: [{name: desk, console: {}}]
        route: {receiver: desk}
        inhibit_rules:
          - source_matchers: [commodity=TOTAL]
            target_matchers: ["commodity!=TOTAL"]
            equal: [alertname, partner]
    """))
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    parent = {"alertname": "decline", "series": "chn-rus/export/total", "commodity": "TOTAL",
              "partner": "RUS"}
    child = {**parent, "series": "chn-rus/export/8458", "commodity": "8458"}
    other_pair = {**child, "series": "chn-kaz/export/8458", "partner": "KAZ"}
    other_rule = {**child, "alertname": "sharp_fall"}
    for fp, labels in (("p", parent), ("c", child), ("k", other_pair), ("o", other_rule)):
        add_alert_row(store, fp, labels)
    desk = Recorder("desk")
    Dispatcher(store, notify, {"desk": desk},
               firing=lambda: [firing_alert("p", parent)]).drain(lambda: NOW)
    assert sorted(p.summary for p in desk.sent) == ["k", "o", "p"]


def test_a_big_group_goes_out_as_one_digest_after_group_wait(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    notify = one_receiver(", group_by: [alertname], group_wait: 30s, digest_over: 3")
    for index in range(5):
        add_alert_row(store, f"d{index}", {"alertname": "decline", "series": f"s{index}"})
    add_alert_row(store, "x", {"alertname": "sharp_fall", "series": "s0"})
    desk = GroupRecorder("desk")
    dispatcher = Dispatcher(store, notify, {"desk": desk})
    early = dispatcher.drain(lambda: NOW + timedelta(seconds=10))
    assert (early.sent, early.pending, desk.groups, desk.sent) == (0, 6, [], [])
    late = dispatcher.drain(lambda: NOW + timedelta(seconds=30))
    assert late.sent == 6 and late.pending == 0
    assert desk.groups == [([f"d{i}" for i in range(5)], {"alertname": "decline"})]
    assert [p.summary for p in desk.sent] == ["x"]  # a group of one is a normal message


def test_reminders_repeat_a_firing_alert_after_repeat_interval(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    notify = one_receiver(", repeat_interval: 1h")
    labels = {"alertname": "decline", "series": "a"}
    add_alert_row(store, "fa", labels)
    desk = Recorder("desk")
    dispatcher = Dispatcher(store, notify, {"desk": desk}, firing=lambda: [firing_alert("fa", labels)])
    dispatcher.drain(lambda: NOW)
    dispatcher.drain(lambda: NOW + timedelta(minutes=59))
    assert len(desk.sent) == 1
    dispatcher.drain(lambda: NOW + timedelta(hours=1))
    dispatcher.drain(lambda: NOW + timedelta(hours=1, minutes=30))
    assert [(p.summary, p.reminder) for p in desk.sent] == [("fa", False), ("fa", True)]
    dispatcher.drain(lambda: NOW + timedelta(hours=2))
    assert len(desk.sent) == 3


def test_two_routes_to_one_receiver_notify_it_twice_and_only_twice(tmp_path: Path) -> None:
    import yaml

    notify = Notify.model_validate(yaml.safe_load("""
        receivers: [{name: desk, console: {}}]
        route: {receiver: desk, routes: [{continue: true}, {}]}
    """))
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    add_alert_row(store, "a", {"alertname": "decline", "series": "s"})
    desk = Recorder("desk")
    dispatcher = Dispatcher(store, notify, {"desk": desk})
    dispatcher.drain(lambda: NOW)
    dispatcher.drain(lambda: NOW + timedelta(minutes=5))
    assert [p.summary for p in desk.sent] == ["a", "a"]
    assert store.pending_outbox() == []


def test_a_delivery_recorded_under_the_plain_receiver_is_not_sent_again(tmp_path: Path) -> None:
    import yaml

    notify = Notify.model_validate(yaml.safe_load("""
        receivers: [{name: desk, console: {}}]
        route: {receiver: desk, routes: [{continue: true}, {}]}
    """))
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    add_alert_row(store, "a", {"alertname": "decline", "series": "s"})
    [entry] = store.pending_outbox()
    store.record_delivery(entry.id, "desk", NOW, None)  # written by a version that collapsed routes
    desk = Recorder("desk")
    Dispatcher(store, notify, {"desk": desk}).drain(lambda: NOW)
    assert desk.sent == []
    assert store.pending_outbox() == []


def test_alerts_matching_both_sides_of_an_inhibit_rule_do_not_inhibit_each_other(tmp_path: Path) -> None:
    import yaml

    notify = Notify.model_validate(yaml.safe_load("""
        receivers: [{name: desk, console: {}}]
        route: {receiver: desk}
        inhibit_rules:
          - source_matchers: [severity=critical]
            target_matchers: [severity=~"critical|warning"]
            equal: [partner]
    """))
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    one = {"alertname": "decline", "series": "a", "severity": "critical", "partner": "RUS"}
    two = {**one, "series": "b"}
    warning = {**one, "series": "c", "severity": "warning"}
    for fp, labels in (("one", one), ("two", two), ("w", warning)):
        add_alert_row(store, fp, labels)
    desk = Recorder("desk")
    Dispatcher(store, notify, {"desk": desk},
               firing=lambda: [firing_alert("one", one), firing_alert("two", two)]).drain(lambda: NOW)
    assert sorted(p.summary for p in desk.sent) == ["one", "two"]


def test_group_interval_holds_a_groups_next_notification(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    notify = one_receiver(", group_by: [alertname], group_interval: 10m")
    desk = Recorder("desk")
    dispatcher = Dispatcher(store, notify, {"desk": desk})
    add_alert_row(store, "first", {"alertname": "decline", "series": "a"})
    dispatcher.drain(lambda: NOW)
    add_alert_row(store, "second", {"alertname": "decline", "series": "b"}, created_at=NOW)
    add_alert_row(store, "other", {"alertname": "surge", "series": "c"}, created_at=NOW)
    dispatcher.drain(lambda: NOW + timedelta(minutes=5))
    assert [p.summary for p in desk.sent] == ["first", "other"]  # another group goes out at once
    dispatcher.drain(lambda: NOW + timedelta(minutes=10))
    assert [p.summary for p in desk.sent] == ["first", "other", "second"]
