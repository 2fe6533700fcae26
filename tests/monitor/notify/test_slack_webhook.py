"""Slack incoming-webhook mode: the same Block Kit, one message, no threads."""

from __future__ import annotations

import json
import traceback

import pytest

from monitor.config import Notify
from monitor.notify.pipeline import build_notifiers
from monitor.notify.slack import SlackDeliveryError, SlackWebhookNotifier
from monitor.retry import RetryPolicy
from tests.fakes.payloads import FIRING_SUMMARY, alert, payload, resolved
from tests.fakes.slack_server import FakeSlack

FAST = RetryPolicy(attempts=3, deadline=10.0, backoff=0.01, max_backoff=0.05)
SECRET = "fakewebhooksecret"


def test_firing_and_resolved_are_one_message_each(fake: FakeSlack) -> None:
    hook = SlackWebhookNotifier("desk-hook", fake.webhook_url, retry=FAST)
    hook.send(payload())
    hook.send(resolved(alert()))
    firing, done = fake.webhook_messages
    assert firing["blocks"][0]["type"] == "header" and "in March 2015" in firing["blocks"][0]["text"]["text"]
    assert firing["blocks"][1]["text"]["text"] == FIRING_SUMMARY
    assert "Resolved" in done["blocks"][0]["text"]["text"]
    assert "thread_ts" not in firing and firing["unfurl_links"] is False


def test_data_cannot_ping_through_the_webhook(fake: FakeSlack) -> None:
    SlackWebhookNotifier("desk-hook", fake.webhook_url, retry=FAST).send(payload(summary="<!channel> now"))
    [message] = fake.webhook_messages
    assert "<!channel>" not in json.dumps(message)
    assert message["text"].endswith("&lt;!channel&gt; now")


def test_429_and_500_are_retried(fake: FakeSlack) -> None:
    fake.fail_next(1, status=429, retry_after=0.2, method="webhook")
    fake.fail_next(1, status=500, method="webhook")
    SlackWebhookNotifier("desk-hook", fake.webhook_url, retry=FAST).send(payload())
    statuses = [r.status for r in fake.calls("webhook")]
    assert statuses == [429, 500, 200]
    first, second = fake.calls("webhook")[:2]
    assert second.at - first.at >= 0.2
    assert len(fake.webhook_messages) == 1


def test_failures_raise_without_the_webhook_url(fake: FakeSlack) -> None:
    fake.fail_next(10, status=500, method="webhook")
    with pytest.raises(SlackDeliveryError, match="HTTP 500") as persistent:
        SlackWebhookNotifier("desk-hook", fake.webhook_url, retry=FAST).send(payload())
    fake.clear_faults()
    with pytest.raises(SlackDeliveryError, match="HTTP 404 no_service") as wrong:
        SlackWebhookNotifier("desk-hook", fake.base_url + "/services/T0/B0/wrong" + SECRET,
                             retry=FAST).send(payload())
    for raised in (persistent, wrong):
        assert SECRET not in "".join(traceback.format_exception(raised.value))


def test_built_from_config(fake: FakeSlack) -> None:
    notify = Notify.model_validate({
        "receivers": [{"name": "hook", "slack_webhook": {"url": fake.webhook_url}}],
        "route": {"receiver": "hook"}})
    hook = build_notifiers(notify)["hook"]
    assert isinstance(hook, SlackWebhookNotifier)
    hook.send(payload())
    assert len(fake.webhook_messages) == 1
