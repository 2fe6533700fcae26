"""Inhibition against a real Alertmanager: the same rules and alerts, the same alerts muted
(two-sided matches and missing `equal` labels included)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import httpx
import pytest
import yaml

from monitor.alerts.lifecycle import Alert, Status
from monitor.config import InhibitRule
from monitor.notify.inhibit import inhibitors
from tests.monitor.httpserver import LocalServer, Reply
from tests.monitor.notify.alertmanager_process import running_alertmanager

NOW = datetime.now(UTC)
RULES = [
    # a total inhibits its chapters of the same pair; the totals of one pair match both sides
    {"source_matchers": ['commodity="TOTAL"'], "target_matchers": ['severity=~"warning|critical"'],
     "equal": ["partner"]},
    # both sides alike: alerts matching both never inhibit each other
    {"source_matchers": ['team="policy"'], "target_matchers": ['team="policy"'], "equal": ["rule"]},
    # `equal` on a label some alerts lack: missing equals missing
    {"source_matchers": ['severity="critical"', 'team="ops"'],
     "target_matchers": ['severity!="critical"', 'team="ops"'], "equal": ["zone"]},
]
ALERTS = [
    {"series": "t-rus", "commodity": "TOTAL", "partner": "RUS", "severity": "warning"},
    {"series": "t-rus-2", "commodity": "TOTAL", "partner": "RUS", "severity": "critical"},
    {"series": "c-rus", "commodity": "8458", "partner": "RUS", "severity": "warning"},
    {"series": "c-kaz", "commodity": "8458", "partner": "KAZ", "severity": "critical"},
    {"series": "t-chn", "commodity": "TOTAL", "partner": "CHN", "severity": "info"},
    {"series": "c-chn", "commodity": "27", "partner": "CHN", "severity": "warning"},
    {"series": "p1", "team": "policy", "rule": "decline"},
    {"series": "p2", "team": "policy", "rule": "decline"},
    {"series": "p3", "team": "policy", "rule": "surge"},
    {"series": "o1", "team": "ops", "severity": "critical"},
    {"series": "o2", "team": "ops", "severity": "warning"},
    {"series": "o3", "team": "ops", "severity": "warning", "zone": "eu"},
    {"series": "o4", "team": "ops", "severity": "critical", "zone": ""},
]


def _alert(labels: dict[str, str]) -> Alert:
    return Alert(fingerprint=labels["series"], rule="r", series=labels["series"],
                 labels=MappingProxyType(labels), severity="warning", status=Status.FIRING, episode=1,
                 period="2015-03", since_period="2015-03", value=1.0, reference=0.0, summary="",
                 active_at=NOW, fired_at=NOW, resolved_at=None, updated_at=NOW)


def _tradewatch() -> set[str]:
    rules = [InhibitRule.model_validate(rule) for rule in RULES]
    firing = [_alert(labels) for labels in ALERTS]
    return {labels["series"] for labels in ALERTS if inhibitors(labels, labels["series"], rules, firing)}


def _alertmanager(url: str) -> set[str]:
    answer = httpx.get(f"{url}/api/v2/alerts", timeout=5.0).json()
    return {a["labels"]["series"] for a in answer if a["status"]["inhibitedBy"]}


@pytest.mark.slow
def test_alertmanager_and_tradewatch_inhibit_the_same_alerts(tmp_path: Path,
                                                             local_server: LocalServer) -> None:
    local_server.route("/hook", Reply(200))
    # group_wait leaves Alertmanager's inhibitor time to learn of every alert posted before the
    # first flush (it subscribes to them asynchronously; a flush before that notifies a target).
    # 5 s was not always enough on a loaded 2-core machine.
    config = {"route": {"receiver": "hook", "group_by": ["..."], "group_wait": "15s"},
              "receivers": [{"name": "hook", "webhook_configs": [{"url": f"{local_server.url}/hook"}]}],
              "inhibit_rules": RULES}
    with running_alertmanager(tmp_path, yaml.safe_dump(config)) as url:
        ends = (NOW + timedelta(hours=1)).isoformat()
        posted = [{"labels": labels, "startsAt": NOW.isoformat(), "endsAt": ends} for labels in ALERTS]
        httpx.post(f"{url}/api/v2/alerts", json=posted, timeout=5.0).raise_for_status()
        expected = _tradewatch()
        deadline = time.monotonic() + 10
        while (found := _alertmanager(url)) != expected and time.monotonic() < deadline:
            time.sleep(0.2)  # the inhibitor learns of new alerts asynchronously
        assert found == expected
        # the two-sided cases stay: the totals of RUS, the policy alerts of one rule
        assert {"t-rus", "t-rus-2", "p1", "p2", "p3"}.isdisjoint(found)
        assert {"c-rus", "c-chn", "o2"} <= found and "o3" not in found
        deadline = time.monotonic() + 60
        while len(local_server.to("/hook")) < len(ALERTS) - len(found) and time.monotonic() < deadline:
            time.sleep(0.2)
        notified = {a["labels"]["series"] for request in local_server.to("/hook")
                    for a in yaml.safe_load(request.body)["alerts"]}
        assert notified == {labels["series"] for labels in ALERTS} - found
