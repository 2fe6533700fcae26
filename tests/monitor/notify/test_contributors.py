"""Contributors in every receiver's words: the console line, the webhook's JSON and text, a
Slack section within Block Kit's limits, and the outbox round trip."""

from __future__ import annotations

from dataclasses import replace

from detectors.contributions import Child, Missing, breakdown
from monitor.alerts.notification import Notification
from monitor.notify import render
from tests.fakes.payloads import alert, payload, resolved
from tests.fakes.slack_server import block_errors

HS = {"reporter": "CHN", "partner": "RUS", "flow": "export", "commodity": "84", "unit": "USD"}


def _drivers(children: int = 3, top: int = 5) -> Notification:
    kids = [Child(f"chn-rus/export/84{k:02d}", {**HS, "commodity": f"84{k:02d}"}, 100.0 + k, 200.0 + 3 * k)
            for k in range(children)]
    parent_change = sum(c.now - c.before for c in kids) - 50.0  # 50 that no child explains
    drivers = breakdown("commodity", "2025-08", "2024-08", parent_change, kids, [Missing("8499")], top)
    return replace(payload(series="chn-rus/export/84", labels=HS, period="2025-08"), drivers=drivers)


def test_ranked_by_share_with_the_rest_and_the_missing() -> None:
    p = _drivers(children=8, top=3)
    assert p.drivers is not None
    # changes -100, -102, ..., -114: the largest falls first
    assert [c.series[-4:] for c in p.drivers.top] == ["8407", "8406", "8405"]
    assert p.drivers.rest_count == 5 and p.drivers.rest_change == -(100 + 102 + 104 + 106 + 108)
    assert p.drivers.unattributed == -50.0
    line = render.console_line(p)
    # 114 of 221 is 51.6%; 114 of the parent's 906 (856 from children, 50 unexplained) is 13%
    assert "Driven by HS 8407 -US$ 114 (-51.6%, 13% of the change), HS 8406 -US$ 112 (-51.4%, 12%)" in line
    assert "; 5 others -US$ 520; no figures for HS 8499 (change from August 2024 to August 2025)." in line


def test_the_webhook_carries_contributors_and_the_outbox_keeps_them() -> None:
    p = _drivers()
    body = render.webhook_body(p, "hook")
    assert [c["series"] for c in body["alert"]["contributors"]] == [
        "chn-rus/export/8402", "chn-rus/export/8401", "chn-rus/export/8400"]
    first = body["alert"]["contributors"][0]
    assert set(first) == {"series", "labels", "change", "pct", "share"}
    assert first["labels"]["commodity"] == "8402" and first["change"] == -104.0
    assert body["alert"]["contributors_summary"]["missing"] == [{"value": "8499", "series": None}]
    assert "Driven by HS 8402" in body["text"]
    assert Notification.from_json(p.to_json()) == p


def test_slack_blocks_stay_within_limits_with_many_long_contributors() -> None:
    kids = [Child(f"s{k}", {**HS, "commodity": "9" * 40 + str(k)}, 1.0, 1e12 + k) for k in range(60)]
    drivers = breakdown("commodity", "2025-08", "2024-08", -6e13, kids, [Missing("x" * 80)] * 30, 50)
    p = replace(payload(labels=HS), drivers=drivers)
    blocks = render.alert_blocks(p)
    assert block_errors(blocks) == []
    section = next(b for b in blocks if "Who drove it" in b.get("text", {}).get("text", ""))
    assert len(section["text"]["text"]) < 3000 and section["text"]["text"].endswith("…")
    assert block_errors(render.thread_blocks(p.reminding("desk"))) == []


def test_resolutions_and_alerts_without_children_say_nothing_of_contributors() -> None:
    p = _drivers()
    assert "Who drove it" not in str(render.thread_blocks(replace(resolved(alert()), drivers=p.drivers)))
    assert "Who drove it" not in str(render.alert_blocks(payload()))
    assert "contributors" not in payload().to_json()
