"""The notification record: written to the outbox as JSON and read back equal; a missing
value is null, never NaN; reminders carry their receiver."""

from __future__ import annotations

import json
import math
from dataclasses import replace

from monitor.alerts.lifecycle import Status
from monitor.alerts.notification import Notification
from tests.fakes.payloads import alert


def test_a_notification_reads_back_from_its_json_as_it_was() -> None:
    firing = Notification.of(alert(event_period="2015-01"))
    assert Notification.from_json(json.loads(json.dumps(firing.to_json()))) == firing
    reminder = firing.reminding("policy-desk")
    assert Notification.from_json(json.loads(json.dumps(reminder.to_json()))) == reminder


def test_the_json_keeps_the_keys_receivers_are_sent() -> None:
    data = Notification.of(alert()).to_json()
    assert sorted(data) == ["episode", "event_period", "fingerprint", "labels", "period", "reference",
                            "rule", "series", "severity", "since_period", "status", "summary", "value"]
    assert data["status"] == "firing" and data["value"] == -21.6 and data["labels"]["partner"] == "CHN"
    reminder = Notification.of(alert()).reminding("ops").to_json()
    assert (reminder["reminder"], reminder["receiver"]) == (True, "ops")


def test_a_missing_value_is_null_not_nan() -> None:
    gone = Notification.of(replace(alert(status=Status.RESOLVED), value=math.nan, reference=math.inf))
    assert (gone.value, gone.reference, gone.resolved) == (None, None, True)
    assert "NaN" not in json.dumps(gone.to_json())


def test_an_older_row_without_some_keys_still_reads() -> None:
    old = Notification.from_json({"rule": "r", "labels": {"severity": "warning"}, "summary": "s"})
    assert (old.rule, old.status, old.labels, old.value, old.receiver) == (
        "r", Status.FIRING, {"severity": "warning"}, None, None)
