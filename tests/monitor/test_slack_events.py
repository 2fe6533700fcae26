"""Buttons on Slack messages, clicked as Slack clicks them: the real daemon (App) with its
HTTP listener and the fake Slack server, which posts signed `block_actions` requests to
/slack/events (and, in Socket Mode, sends them as envelopes over a websocket). Every button,
then requests that must change nothing: bad signature, stale timestamp, missing headers,
replays, and a user outside the allow list."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.app import App
from monitor.config import load_config
from monitor.notify.buttons import Action
from monitor.store.silences import Silence, SilenceStore
from tests.conftest import DEMO_CSV, IMPORTS_DAEMON, truncate_csv
from tests.fakes.slack_interactive import SignedRequest
from tests.fakes.slack_server import FakeSlack, Message, iter_blocks_text

CHANNEL = "C0TRADE0001"
ANA, BOB = "U0ANA0001", "U0BOB0002"
CONFIG = IMPORTS_DAEMON + """    release: {day: 20, lag: 1}
rules:
  - name: sharp_fall
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -30}
notify:
  receivers:
    - name: desk
      slack: {channel: "C0TRADE0001", chart: false, allowed_users: [U0ANA0001]}
  route: {receiver: desk}
"""


def wait_for(check: Callable[[], Any], what: str, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.05)
    return found


class Daemon:
    def __init__(self, app: App, slack: FakeSlack, url: str) -> None:
        self.app, self.slack, self.url = app, slack, url
        self.events = url + "/slack/events"
        self.silences = SilenceStore(app.store)

    def parent(self) -> Message:
        return wait_for(lambda: self.slack.parents(CHANNEL), "the parent message")[0]

    def buttons(self) -> list[str]:
        parent = self.parent()
        return [e["action_id"] for b in parent.blocks if b["type"] == "actions"
                for e in b["elements"] if e["action_id"].startswith("tradewatch_")]

    def click(self, action: Action, user: str = ANA) -> int:
        status = self.slack.click(self.events, CHANNEL, self.parent().ts, action.value, user=user)[0]
        self.settle()
        return status

    def settle(self) -> None:
        """Wait for what the daemon queued for Slack after answering the click."""
        assert self.app.listener is not None
        assert self.app.listener.clicks.settle(), "Slack's part never finished"

    def changes(self) -> tuple[int, int, int, list[Silence]]:
        """What a refused request must leave alone."""
        self.settle()
        parent = self.parent()
        return (len(self.slack.updates), len(self.slack.replies(CHANNEL, parent.ts)),
                len(self.slack.calls("chat.postMessage")), self.silences.all())

    def reply(self) -> str:
        return " ".join(iter_blocks_text(self.slack.replies(CHANNEL, self.parent().ts)[-1].blocks))

    def text(self) -> str:
        return " ".join(iter_blocks_text(self.parent().blocks))


@pytest.fixture
def daemon(write_config: Callable[[str], Path], russia_china_csv: Path,
           request: pytest.FixtureRequest) -> Iterator[Daemon]:
    truncate_csv(russia_china_csv, "2015-07")
    socket_mode = getattr(request, "param", False)
    with FakeSlack() as slack:
        env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url}
        env.update({"SLACK_APP_TOKEN": slack.app_token} if socket_mode else
                   {"SLACK_SIGNING_SECRET": slack.signing_secret})
        app = App(load_config(write_config(CONFIG)), env=env)
        url = app.start().removesuffix("/metrics")
        try:
            yield Daemon(app, slack, url)
        finally:
            app.stop()


def test_every_button_silences_acknowledges_or_unsilences_and_says_who(
        daemon: Daemon, russia_china_csv: Path) -> None:
    slack, silences = daemon.slack, daemon.silences
    assert daemon.buttons() == [a.value for a in (Action.SILENCE_30_DAYS, Action.SILENCE_UNTIL_RELEASE,
                                                  Action.ACKNOWLEDGE)]
    labels = {a.fingerprint: dict(a.labels) for a in daemon.app.book.alerts()}
    [alert_labels] = labels.values()

    before = datetime.now(UTC)
    assert daemon.click(Action.SILENCE_30_DAYS) == 200
    [silence] = silences.all()
    exact = {(name, "=", value) for name, value in alert_labels.items()}
    assert {(m.name, m.op, m.value) for m in silence.parsed()} == exact
    assert silence.silences(alert_labels, datetime.now(UTC))
    assert silence.created_by == f"ana (Slack {ANA})" and silence.comment.startswith("from Slack")
    assert before + timedelta(days=30) <= silence.ends_at <= datetime.now(UTC) + timedelta(days=30)
    assert slack.updates[-1].ts == daemon.parent().ts
    assert daemon.buttons() == [Action.UNSILENCE.value]
    assert f"*Silenced* by <@{ANA}> until" in daemon.text() and f"*Silenced* by <@{ANA}>" in daemon.reply()
    assert silence.id in daemon.reply()

    assert daemon.click(Action.UNSILENCE) == 200
    assert silences.get(silence.id).state(datetime.now(UTC)) == "expired"  # type: ignore[union-attr]
    assert len(daemon.buttons()) == 3 and f"*Unsilenced* by <@{ANA}>" in daemon.reply()

    assert daemon.click(Action.SILENCE_UNTIL_RELEASE) == 200
    release = next(s for s in silences.all() if s.id != silence.id)
    now = datetime.now(UTC)
    # the 20th after now: the release calendar's next due date (day 20, UTC)
    assert release.ends_at.day == 20 and release.ends_at.hour == 0
    assert now < release.ends_at <= now + timedelta(days=32)
    assert "the release of" in daemon.text() and "data by rosstat" in daemon.text()
    assert daemon.buttons() == [Action.UNSILENCE.value]
    assert daemon.click(Action.UNSILENCE) == 200

    assert daemon.click(Action.ACKNOWLEDGE) == 200
    ack = silences.all()[-1]
    assert silences.acknowledged(ack.id) and ack.comment.startswith("from Slack")
    assert f"*Acknowledged* by <@{ANA}>" in daemon.text()
    assert "its resolution will be posted" in daemon.reply()

    # the alert resolves with the next month's data: the acknowledgement ends, the resolution is told
    truncate_csv(russia_china_csv, "2015-08", source=DEMO_CSV)
    daemon.app.run_source("rosstat")
    daemon.app.drain()
    assert silences.get(ack.id).state(datetime.now(UTC)) == "expired"  # type: ignore[union-attr]
    assert "Resolved" in daemon.text() and daemon.buttons() == []
    assert "Resolved" in daemon.reply()


def test_refused_requests_change_nothing(daemon: Daemon) -> None:
    slack = daemon.slack
    daemon.parent()
    status, request = slack.click(daemon.events, CHANNEL, daemon.parent().ts, Action.SILENCE_30_DAYS.value)
    assert status == 200
    after_click = daemon.changes()
    assert len(after_click[3]) == 1

    assert request.send(daemon.events) == 200  # a replay: accepted as Slack expects, acted on once
    assert daemon.changes() == after_click

    fresh = slack.click_payload(CHANNEL, daemon.parent().ts, Action.UNSILENCE.value)
    signed = SignedRequest.of(fresh, slack.signing_secret)
    refused = {
        "bad signature": signed.with_header("X-Slack-Signature", "v0=" + "0" * 64),
        "wrong secret": SignedRequest.of(fresh, "another-apps-secret"),
        "stale timestamp": SignedRequest.of(fresh, slack.signing_secret, at=time.time() - 6 * 60),
        "future timestamp": SignedRequest.of(fresh, slack.signing_secret, at=time.time() + 6 * 60),
        "no signature": signed.without("X-Slack-Signature"),
        "no timestamp": signed.without("X-Slack-Request-Timestamp"),
        "timestamp not a number": signed.with_header("X-Slack-Request-Timestamp", "soon"),
        "altered body": SignedRequest(signed.body.replace(b"tradewatch_unsilence", b"tradewatch_acknowledge"),
                                      signed.headers),
    }
    for name, bad in refused.items():
        assert bad.send(daemon.events) == 401, name
        assert daemon.changes() == after_click, name
    assert slack.responses == []

    # a user outside the allow list: told so, privately; nothing changes
    assert daemon.click(Action.UNSILENCE, user=BOB) == 200
    assert daemon.changes() == after_click
    [answer] = slack.responses
    assert answer["response_type"] == "ephemeral" and "not allowed" in answer["text"]
    assert signed.send(daemon.events) == 200  # the good request still works, once
    assert daemon.silences.all()[0].state(datetime.now(UTC)) == "expired"


@pytest.mark.parametrize("daemon", [True], indirect=True)
def test_socket_mode_routes_interactive_envelopes_through_the_same_handler(daemon: Daemon) -> None:
    """SLACK_APP_TOKEN only: no request URL, clicks arrive over the websocket and are acked."""
    slack = daemon.slack
    assert len(daemon.buttons()) == 3  # an app token is enough for buttons
    wait_for(lambda: slack.sockets is not None and slack.sockets.connections, "the Socket Mode connection")
    payload = slack.click_payload(CHANNEL, daemon.parent().ts, Action.SILENCE_30_DAYS.value)
    envelope = {"envelope_id": "env-1", "type": "interactive", "accepts_response_payload": False,
                "payload": payload}
    assert slack.sockets is not None and slack.sockets.push(envelope)
    wait_for(lambda: daemon.buttons() == [Action.UNSILENCE.value], "the parent's edit")
    assert len(daemon.silences.all()) == 1 and f"*Silenced* by <@{ANA}>" in daemon.reply()
    redelivered = {**envelope, "envelope_id": "env-2"}  # Slack redelivers an envelope it thinks unacked
    assert slack.sockets.push(redelivered)
    assert slack.sockets.acks == ["env-1", "env-2"]
    time.sleep(0.5)
    assert len(daemon.silences.all()) == 1 and len(slack.updates) == 1
    assert slack.socket_click(CHANNEL, daemon.parent().ts, Action.UNSILENCE.value, user=BOB)
    wait_for(lambda: slack.responses, "the not-allowed answer")
    assert "not allowed" in slack.responses[0]["text"] and len(slack.updates) == 1
    # no signing secret: the HTTP endpoint does not exist
    assert slack.click(daemon.events, CHANNEL, daemon.parent().ts, Action.UNSILENCE.value)[0] == 404


def test_a_click_is_answered_at_once_while_slack_is_slow_to_take_the_edit(daemon: Daemon) -> None:
    """Slack wants an answer within 3 seconds. The silence is made before the answer; the
    parent's edit, held back by Slack for 5 s here, follows."""
    slack = daemon.slack
    parent = daemon.parent()
    holding = slack.hold_responses(5.0, method="chat.update")
    began = time.monotonic()
    status, _ = slack.click(daemon.events, CHANNEL, parent.ts, Action.SILENCE_30_DAYS.value)
    answered = time.monotonic() - began
    assert status == 200 and answered < 3.0, f"answered after {answered:.2f}s"
    assert len(daemon.silences.all()) == 1  # made before the answer
    assert holding.wait(10), "the edit never reached Slack"
    slack.release()
    daemon.settle()
    assert daemon.buttons() == [Action.UNSILENCE.value] and f"*Silenced* by <@{ANA}>" in daemon.reply()
