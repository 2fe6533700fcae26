"""The alertmanager receiver: the postable alert it builds, and a real Alertmanager taking it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from monitor.config import Notify
from monitor.notify.alertmanager import AlertmanagerNotifier, alertmanager_alert
from monitor.notify.pipeline import build_notifiers
from monitor.notify.webhook import DeliveryError
from monitor.retry import RetryPolicy
from tests.fakes.payloads import FIRING_SUMMARY, alert, payload, resolved
from tests.monitor.notify.alertmanager_process import running_alertmanager

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, deadline=5.0, backoff=0.01, max_backoff=0.05)


def test_a_firing_alert_carries_labels_annotations_and_a_long_end() -> None:
    body = alertmanager_alert(payload(labels={"source": "rosstat", "hs-code": "8458"}), NOW,
                              timedelta(days=30), "http://tradewatch:9470/")
    assert body["labels"] == {"source": "rosstat", "hs_code": "8458", "team": "policy",
                              "alertname": "yoy_consecutive_decline", "series": "rus-chn/import/total",
                              "severity": "warning"}
    assert body["annotations"]["summary"] == FIRING_SUMMARY
    assert body["annotations"]["period"] == "2015-03" and body["annotations"]["threshold"] == "-5.0"
    assert body["startsAt"] == "2026-03-01T12:00:00.000000Z"
    assert body["endsAt"] == "2026-03-31T12:00:00.000000Z"
    assert body["generatorURL"] == "http://tradewatch:9470/api/v1/series/rus-chn%2Fimport%2Ftotal"


def test_a_resolution_ends_now_with_the_same_labels() -> None:
    firing = alert()
    fired = alertmanager_alert(payload(), NOW, timedelta(days=30))
    done = alertmanager_alert(resolved(firing), NOW + timedelta(days=200), timedelta(days=30))
    assert done["labels"] == fired["labels"]
    assert "startsAt" not in done and done["endsAt"] == "2026-09-17T12:00:00.000000Z"


def test_an_unreachable_alertmanager_raises_after_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notifier = AlertmanagerNotifier("am", f"http://127.0.0.1:{port}", 1.0, retry=FAST)
    with pytest.raises(DeliveryError, match="alertmanager am could not connect"):
        notifier.send(payload())


# -- a real Alertmanager ------------------------------------------------------------------------------
@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    with running_alertmanager(tmp_path, "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n") as url:
        yield url


def _active(url: str) -> dict[str, dict[str, object]]:
    alerts = httpx.get(f"{url}/api/v2/alerts", timeout=5.0).json()
    return {a["labels"]["series"]: a for a in alerts}


@pytest.mark.slow
def test_a_real_alertmanager_receives_fires_and_resolves(alertmanager: str) -> None:
    notify = Notify.model_validate({
        "receivers": [{"name": "am", "alertmanager": {"url": alertmanager,
                                                      "generator_url": "http://tradewatch:9470"}}],
        "route": {"receiver": "am"}})
    now = datetime.now(UTC)
    am = build_notifiers(notify, clock=lambda: now)["am"]
    imports, exports = alert(), alert(series="rus-chn/export/total", severity="critical")
    assert isinstance(am, AlertmanagerNotifier)
    am.send_group([payload(), payload(series="rus-chn/export/total", severity="critical")], {})
    active = _active(alertmanager)
    assert set(active) == {imports.series, exports.series}
    got = active[imports.series]
    assert got["labels"]["alertname"] == "yoy_consecutive_decline"  # type: ignore[index]
    assert got["annotations"]["summary"] == FIRING_SUMMARY  # type: ignore[index]
    assert got["status"]["state"] == "active"  # type: ignore[index]
    assert str(got["generatorURL"]).endswith("/api/v1/series/rus-chn%2Fimport%2Ftotal")
    assert str(got["endsAt"]).startswith(str((now + timedelta(days=365)).year))
    am.send(resolved(imports))
    assert set(_active(alertmanager)) == {exports.series}
