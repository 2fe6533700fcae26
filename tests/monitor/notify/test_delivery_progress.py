"""Delivery always progresses and says so once: a look-up Slack refuses does not stall a
resend, a refusal parks the delivery (visible, retried after a reload), a digest never
swallows the resolution of an episode that has its own parent, and an outage is counted
once per attempt and logged once per receiver and interval.

Real slack-sdk against the fake Slack Web API server over loopback; a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.alerts.persist import AlertRows
from monitor.config import Notify
from monitor.notify.pipeline import Dispatcher
from monitor.notify.slack import SlackNotifier
from monitor.retry import RetryPolicy
from monitor.store import Store
from monitor.store.schema import deliveries
from tests.fakes.payloads import alert, demo_store
from tests.fakes.slack_server import FakeSlack

FAST = RetryPolicy(attempts=3, deadline=10.0, backoff=0.01, max_backoff=0.02, cooloff=0.0)
CHANNEL = "C0TRADE0001"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
DESK = {"receivers": [{"name": "policy-desk", "slack": {"channel": CHANNEL}}],
        "route": {"receiver": "policy-desk"}}


@pytest.fixture
def store(template: Path, tmp_path: Path, store_url: Callable[..., str]) -> Iterator[Store]:
    url = store_url()
    if url.startswith("sqlite"):
        shutil.copy(template, tmp_path / "tw.db")
        opened = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    else:
        opened = demo_store(url)
    yield opened
    opened.close()


def dispatcher(fake: FakeSlack, store: Store, notify: dict[str, Any] | None = None,
               outcomes: list[tuple[str, str]] | None = None, retry: RetryPolicy = FAST) -> Dispatcher:
    slack = SlackNotifier("policy-desk", token=fake.token, channel=CHANNEL, api_url=fake.api_url, state=store,
                          history=store.series_history, chart=False, retry=retry)
    hook = (lambda receiver, _rule, outcome: outcomes.append((receiver, outcome))) if outcomes is not None \
        else None
    return Dispatcher(store, Notify.model_validate(notify or DESK), {"policy-desk": slack}, on_delivery=hook)


def fire(store: Store, *alerts: Alert) -> None:
    AlertRows(store).commit(list(alerts), [], [Notification.of(a) for a in alerts], NOW)


def resolve(store: Store, firing: Alert, period: str = "2015-09") -> Alert:
    done = replace(firing, status=Status.RESOLVED, period=period, resolved_at=NOW,
                   summary=f"{firing.series} recovered; {firing.rule} no longer holds.")
    AlertRows(store).commit([done], [], [Notification.of(done)], NOW)
    return done


def header(fake: FakeSlack, ts: str) -> str:
    return str(fake.message(CHANNEL, ts).blocks[0]["text"]["text"])


def test_a_resend_whose_look_up_slack_refuses_posts_once_instead_of_stalling(
        fake: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """A 500 on the parent's post leaves an intent; the next attempt must look the message up
    first, and a bot without channels:history is refused. Before, the row stayed pending for
    good and every drain failed again."""
    fire(store, alert())
    drains = dispatcher(fake, store)
    fake.fail_next(FAST.attempts, status=500, method="chat.postMessage")
    assert drains.drain(lambda: NOW).pending == 1
    fake.refuse("conversations.history", "missing_scope", needed="channels:history")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            result = drains.drain(lambda: NOW)
    assert (result.sent, result.pending) == (0, 0)
    assert len(fake.parents(CHANNEL)) == 1
    told = [r.getMessage() for r in caplog.records if "cannot look for messages" in r.getMessage()]
    assert len(told) == 1 and "channels:history" in told[0]


def test_a_refusal_parks_the_delivery_until_a_reload(fake: FakeSlack, store: Store) -> None:
    outcomes: list[tuple[str, str]] = []
    fire(store, alert())
    fake.refuse("chat.postMessage", "not_in_channel")
    drains = dispatcher(fake, store, outcomes=outcomes)
    first = drains.drain(lambda: NOW)
    assert (first.sent, first.failed, first.pending) == (0, 1, 1)
    [parked] = store.parked_deliveries()
    assert parked.receiver == "policy-desk"
    assert "not_in_channel" in parked.reason and "/invite" in parked.reason
    posts = len(fake.calls("chat.postMessage"))
    assert drains.drain(lambda: NOW).pending == 1  # parked: not tried again, not counted again
    assert len(fake.calls("chat.postMessage")) == posts
    assert outcomes == [("policy-desk", "parked")]
    fake.allow("chat.postMessage")  # the bot was invited; the operator reloads the config
    assert store.unpark() == 1 and store.parked_deliveries() == []
    last = drains.drain(lambda: NOW)
    assert (last.sent, last.pending) == (1, 0)
    assert len(fake.parents(CHANNEL)) == 1
    assert outcomes == [("policy-desk", "parked"), ("policy-desk", "retried"), ("policy-desk", "sent")]


def test_a_resolution_with_its_own_parent_never_disappears_into_a_digest(fake: FakeSlack,
                                                                        store: Store) -> None:
    """HS 8456 fires alone; on the next release it resolves while five other series fire on
    the same route: its parent gets its reply and edit, the five a digest."""
    notify = {**DESK, "route": {"receiver": "policy-desk", "group_by": ["alertname"], "digest_over": 5}}
    drains = dispatcher(fake, store, notify)
    tools = alert(series="chn-rus/export/8456", period="2025-07", since="2025-07")
    fire(store, tools)
    assert drains.drain(lambda: NOW).pending == 0
    [parent] = fake.parents(CHANNEL)
    others = [alert(series=f"chn-rus/export/{code}", period="2025-08", since="2025-08")
              for code in ("8457", "8458", "8459", "8460", "8461")]
    resolve(store, tools, "2025-08")
    fire(store, *others)
    result = drains.drain(lambda: NOW)
    assert (result.sent, result.pending) == (6, 0)
    replies = fake.replies(CHANNEL, parent.ts)
    assert [r.metadata["event_type"] for r in replies if r.metadata] == ["tradewatch_resolution"]
    assert "Resolved" in header(fake, parent.ts) and fake.message(CHANNEL, parent.ts).edits
    [digest] = [m for m in fake.parents(CHANNEL) if m.ts != parent.ts]
    assert "5 trade alerts" in str(digest.blocks[0]) and "8456" not in str(digest.blocks)


def test_an_outage_is_counted_once_per_attempt_and_logged_once(
        fake: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Thirty notifications (one digest) and a Slack that answers nothing for six drains: the
    gate holds later sends back after the first attempt gives up, so failures count each
    notification of that attempt once, not once per drain, and the log has one line for the
    receiver, not one per row."""
    outcomes: list[tuple[str, str]] = []
    fire(store, *[alert(series=f"rus-p{i:02d}/export/total") for i in range(30)])
    drains = dispatcher(fake, store, outcomes=outcomes, retry=replace(FAST, cooloff=60.0))
    fake.down = True
    with caplog.at_level(logging.INFO):
        for _ in range(6):
            assert drains.drain(lambda: NOW).pending == 30
    failed = [o for o in outcomes if o[1] == "failed"]
    with store.engine.connect() as conn:
        attempts = conn.execute(sa.select(sa.func.sum(deliveries.c.attempts))).scalar()
    assert len(failed) == attempts == 30
    lines = [r for r in caplog.records
             if r.name.startswith("monitor.notify") and r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "receiver=policy-desk" in lines[0].getMessage()


def test_failures_past_the_first_are_summed_up_per_interval(
        fake: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """With no cool-off every drain attempts every row: each attempt counts, and the log
    still has one line for the first failure and one summary per interval with the counts."""
    outcomes: list[tuple[str, str]] = []
    fire(store, *[alert(series=f"rus-p{i:02d}/export/total") for i in range(10)])
    drains = dispatcher(fake, store, outcomes=outcomes)
    clock = [0.0]
    drains._log._monotonic = lambda: clock[0]  # the interval's clock, advanced by hand
    fake.down = True
    with caplog.at_level(logging.INFO):
        drains.drain(lambda: NOW)
        clock[0] = 61.0
        drains.drain(lambda: NOW)
        fake.down = False
        assert drains.drain(lambda: NOW).pending == 0
    assert sum(o[1] == "failed" for o in outcomes) == 20
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("monitor.notify")]
    assert [m.split(" receiver=")[0] for m in messages] == [
        "delivery failed", "delivery still failing", "delivery still failing", "delivery recovered"]
    assert [m.split("failed=")[1].split()[0] for m in messages[1:3]] == ["10", "9"]  # 19 after the first
