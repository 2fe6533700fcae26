"""The outbox is drained at least once per receiver and never twice once recorded as sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.config import Notify
from monitor.notify.pipeline import Dispatcher
from monitor.store import Store, outbox

NOW = datetime(2026, 3, 1, tzinfo=UTC)
NOTIFY = Notify.model_validate({
    "receivers": [{"name": "desk", "console": {}}, {"name": "ops", "console": {}}],
    "route": {"receiver": "desk", "routes": [
        {"match": {"severity": "critical"}, "receiver": "ops", "continue": True},
        {"receiver": "desk"}]},
})


class Recorder:
    def __init__(self, name: str, failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.sent: list[Mapping[str, Any]] = []

    def send(self, payload: Mapping[str, Any]) -> None:
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
    assert [p["summary"] for p in desk.sent] == ["a", "b"]
    assert [p["summary"] for p in ops.sent] == ["a"]
    Dispatcher(store, NOTIFY, {"desk": desk, "ops": ops}).drain(lambda: NOW)
    assert len(desk.sent) == 2 and len(ops.sent) == 1


def test_a_failing_receiver_keeps_the_row_and_does_not_resend_to_the_others(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    desk, ops = Recorder("desk"), Recorder("ops", failures=2)
    outcomes: list[tuple[str, bool]] = []
    dispatcher = Dispatcher(store, NOTIFY, {"desk": desk, "ops": ops},
                            on_delivery=lambda receiver, _rule, ok: outcomes.append((receiver, ok)))
    add_outbox_row(store, "a", "critical")
    assert dispatcher.drain(lambda: NOW).pending == 1
    assert dispatcher.drain(lambda: NOW).pending == 1
    assert dispatcher.drain(lambda: NOW).pending == 0
    assert [p["summary"] for p in desk.sent] == ["a"]
    assert [p["summary"] for p in ops.sent] == ["a"]
    assert outcomes == [("ops", False), ("desk", True), ("ops", False), ("ops", True)]

