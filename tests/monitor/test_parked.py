"""A delivery Slack refuses for good is parked, not retried on every drain: it shows in
/api/v1/outbox with its reason and in tradewatch_outbox_parked, and a config reload retries
it. The real daemon (App) with its HTTP listener, slack-sdk and the fake Slack server."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from monitor.app import App
from monitor.config import load_config
from tests.conftest import IMPORTS_DAEMON, truncate_csv
from tests.fakes.slack_server import FakeSlack

CONFIG = IMPORTS_DAEMON + """rules:
  - name: sharp_fall
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -20}
notify:
  receivers:
    - name: desk
      slack: {channel: "C0TRADE0001", chart: false}
  route: {receiver: desk}
"""


def test_a_refused_delivery_is_parked_shown_and_retried_after_a_reload(
        write_config: Callable[[str], Path], russia_china_csv: Path) -> None:
    truncate_csv(russia_china_csv, "2015-03")
    with FakeSlack() as slack:
        slack.refuse("chat.postMessage", "channel_not_found")
        app = App(load_config(write_config(CONFIG)),
                  env={"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url})
        url = app.start().removesuffix("/metrics")
        try:
            deadline = time.monotonic() + 30
            while not httpx.get(f"{url}/api/v1/outbox").json()["data"]["parked"]:
                assert time.monotonic() < deadline, "the delivery was never parked"
                time.sleep(0.1)
            outbox = httpx.get(f"{url}/api/v1/outbox").json()["data"]
            [parked] = outbox["parked"]
            assert outbox["pending"] == 1 and parked["receiver"] == "desk"
            assert "channel_not_found" in parked["reason"] and parked["attempts"] == 1
            assert 'tradewatch_outbox_parked{receiver="desk"} 1.0' in httpx.get(f"{url}/metrics").text
            posts = len(slack.calls("chat.postMessage"))
            app.drain()
            app.drain()
            assert len(slack.calls("chat.postMessage")) == posts  # parked: left alone
            slack.allow("chat.postMessage")  # the channel was fixed; the operator reloads
            assert app.reload() == (True, "reloaded")
            app.drain()
            assert httpx.get(f"{url}/api/v1/outbox").json()["data"] == {
                "pending": 0, "oldestCreatedAt": None, "parked": []}
            assert len(slack.parents("C0TRADE0001")) == 1
            assert 'tradewatch_outbox_parked{receiver="desk"}' not in httpx.get(f"{url}/metrics").text
        finally:
            app.stop()
