"""The Slack receiver, with the real slack_sdk client talking to a strict fake Slack."""

from __future__ import annotations

import json
import logging
import random
import time
import traceback
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError
from slack_sdk.web import WebClient

from monitor.alerts.persist import AlertRows
from monitor.config import ConfigError, Notify, slack_mention
from monitor.notify.pipeline import Dispatcher, build_notifiers
from monitor.notify.render import TRUNCATED
from monitor.notify.retry import Deferred
from monitor.notify.slack import SlackDeliveryError, SlackNotifier
from monitor.retry import RetryPolicy
from monitor.store import ReceiverState, Store
from monitor.store.schema import deliveries
from tests.fakes.payloads import (
    FIRING_HEADLINE,
    FIRING_SUMMARY,
    RULES,
    SERIES,
    alert,
    payload,
    resolved,
)
from tests.fakes.slack_server import Channel, FakeSlack, iter_blocks_text

FAST = RetryPolicy(attempts=4, deadline=10.0, backoff=0.01, max_backoff=0.05, cooloff=0.0)
CHANNEL = "C0TRADE0001"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
DESK = {"receivers": [{"name": "policy-desk", "slack": {"channel": "#trade-alerts"}}],
        "route": {"receiver": "policy-desk"}}


def notifier(fake: FakeSlack, store: Store | None, **kwargs: Any) -> SlackNotifier:
    options: dict[str, Any] = {"token": fake.token, "channel": "#trade-alerts", "api_url": fake.api_url,
                               "state": store, "history": store.series_history if store else None,
                               "retry": FAST, "rules": RULES}
    options.update(kwargs)
    return SlackNotifier("policy-desk", **options)


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return list(iter_blocks_text(blocks))


# -- one episode: parent, chart, resolution -------------------------------------------------------
def test_firing_posts_one_parent_with_its_blocks_and_a_chart_in_its_thread(
        fake: FakeSlack, store: Store) -> None:
    notifier(fake, store).send(payload())
    [parent] = fake.parents(CHANNEL)
    header, sentence, fields, run, context = parent.blocks
    assert header["type"] == "header"
    assert header["text"]["text"] == f":large_orange_circle: {FIRING_HEADLINE}"
    assert sentence["text"]["text"] == FIRING_SUMMARY
    assert [f["text"] for f in fields["fields"]] == [
        "*Change*\n-21.6% YoY", "*Level*\nUS$ 3.0 bn in March 2015 against US$ 3.8 bn a year earlier",
        "*Threshold*\n-5% YoY", "*Period*\nNovember 2014 – March 2015", "*Severity*\nwarning"]
    assert texts([run])[0].startswith("*Run:* Nov 2014 -7.8% YoY · Dec 2014 -20.3% YoY")
    line, labels = texts([context])
    assert line == "Source: rosstat · Data as of 1 March 2026, 06:00 UTC · Rule yoy_consecutive_decline"
    assert labels.startswith(f"{SERIES} · commodity=TOTAL")
    assert parent.text.startswith(f"{FIRING_HEADLINE}. Russia's imports")
    [chart] = fake.files_in_thread(CHANNEL, parent.ts)
    assert chart.content is not None and chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.filename == "rus-chn-import-total-2015-03.png" and chart.length == len(chart.content)
    assert chart.alt_txt and "flagged periods (November 2014 – March 2015)" in chart.alt_txt
    [complete] = fake.calls("files.completeUploadExternal")
    assert (complete.params["channel_id"], complete.params["thread_ts"]) == (CHANNEL, parent.ts)
    assert fake.replies(CHANNEL, parent.ts) == []


def test_resolution_replies_in_the_thread_and_edits_the_parent(fake: FakeSlack, store: Store) -> None:
    slack = notifier(fake, store, chart=False)
    firing = alert()
    slack.send(payload())
    slack.send(resolved(firing))
    [parent] = fake.parents(CHANNEL)
    [reply] = fake.replies(CHANNEL, parent.ts)
    assert texts(reply.blocks)[0].startswith(
        ":white_check_mark: *Resolved · Russia's imports from China: back above -5% YoY*")
    assert "no longer holds" in texts(reply.blocks)[0]
    [update] = fake.updates
    assert update.ts == parent.ts
    assert "Resolved" in parent.blocks[0]["text"]["text"]
    shown = texts(parent.blocks)
    assert shown[1].startswith("*Resolved in September 2015:*")
    assert shown[2] == f"~{FIRING_SUMMARY}~"
    slack.send(resolved(firing))  # the same notification again (a retried drain) changes nothing
    assert len(fake.replies(CHANNEL, parent.ts)) == 1 and len(fake.updates) == 1


def test_a_restart_still_threads_and_edits(fake: FakeSlack, store: Store, tmp_path: Path) -> None:
    firing = alert()
    notifier(fake, store, chart=False).send(payload())
    store.close()
    reopened = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    lookups = len(fake.calls("conversations.list"))
    notifier(fake, reopened).send(resolved(firing))
    [parent] = fake.parents(CHANNEL)
    assert len(fake.replies(CHANNEL, parent.ts)) == 1
    assert [u.ts for u in fake.updates] == [parent.ts]
    assert len(fake.calls("conversations.list")) == lookups  # the stored channel id is used


def test_a_new_episode_gets_a_new_parent(fake: FakeSlack, store: Store) -> None:
    slack = notifier(fake, store, chart=False)
    slack.send(payload(episode=1))
    slack.send(resolved(alert(episode=1)))
    slack.send(payload(episode=2, period="2016-01", since="2016-01"))
    assert len(fake.parents(CHANNEL)) == 2


def test_a_half_done_send_resumes_without_a_second_parent(fake: FakeSlack, store: Store) -> None:
    fake.fail_next(20, status=500, method="files.getUploadURLExternal")
    slack = notifier(fake, store)
    with pytest.raises(SlackDeliveryError, match=r"files\.upload answered HTTP 500"):
        slack.send(payload())
    fake.clear_faults()
    slack.send(payload())
    [parent] = fake.parents(CHANNEL)
    assert len(fake.files_in_thread(CHANNEL, parent.ts)) == 1


def test_a_reminder_of_a_firing_episode_goes_into_the_thread(fake: FakeSlack, store: Store) -> None:
    slack = notifier(fake, store, chart=False)
    slack.send(payload())
    later = payload(period="2015-04", value=-25.0, summary="Still falling: 6th month.")
    slack.send(later.reminding("policy-desk"))
    [parent] = fake.parents(CHANNEL)
    [reply] = fake.replies(CHANNEL, parent.ts)
    assert "Still falling" in texts(reply.blocks)[0]
    assert texts(parent.blocks)[1] == "Still falling: 6th month."  # the parent shows the latest


# -- failures ----------------------------------------------------------------------------------------
def test_429_honours_retry_after(fake: FakeSlack, store: Store) -> None:
    fake.fail_next(1, status=429, retry_after=1, method="chat.postMessage")
    notifier(fake, store, chart=False).send(payload())
    first, second = fake.calls("chat.postMessage")
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 1.0
    assert len(fake.parents(CHANNEL)) == 1


def test_a_retry_after_beyond_the_deadline_gives_up_at_once(fake: FakeSlack, store: Store) -> None:
    fake.fail_next(1, status=429, retry_after=60, method="chat.postMessage")
    with pytest.raises(SlackDeliveryError, match="rate limited"):
        notifier(fake, store, chart=False).send(payload())
    assert len(fake.calls("chat.postMessage")) == 1


def test_500s_are_retried_then_succeed(fake: FakeSlack, store: Store) -> None:
    fake.fail_next(2, status=500, method="chat.postMessage")
    notifier(fake, store, chart=False).send(payload())
    assert [c.status for c in fake.calls("chat.postMessage")] == [500, 500, 200]
    assert len(fake.parents(CHANNEL)) == 1


def test_after_giving_up_later_sends_fail_fast_until_the_retry_after(fake: FakeSlack, store: Store) -> None:
    slack = notifier(fake, store, chart=False, channel=CHANNEL, retry=replace(FAST, cooloff=5.0))
    fake.fail_next(1, status=429, retry_after=30, method="chat.postMessage")
    with pytest.raises(SlackDeliveryError, match="rate limited"):
        slack.send(payload())
    with pytest.raises(Deferred, match=r"not retried for another (29|30)s"):
        slack.send(payload(rule="other"))
    assert len(fake.calls("chat.postMessage")) == 1


def test_persistent_500s_raise_and_the_row_stays_in_the_outbox(fake: FakeSlack, store: Store) -> None:
    firing = alert()
    AlertRows(store).commit([firing], [], [payload()], NOW)
    notify = Notify.model_validate(DESK)
    dispatcher = Dispatcher(store, notify, {"policy-desk": notifier(fake, store, chart=False)})
    fake.fail_next(1000, status=500)
    result = dispatcher.drain(lambda: NOW)
    assert (result.sent, result.failed, result.pending) == (0, 1, 1)
    assert len(fake.calls("conversations.list")) == FAST.attempts
    with store.engine.connect() as conn:
        [error] = conn.execute(sa.select(deliveries.c.last_error)).scalars().all()
    assert "answered HTTP 500" in error and "stays in the outbox" in error and fake.token not in error
    fake.clear_faults()
    result = dispatcher.drain(lambda: NOW)
    assert (result.sent, result.failed, result.pending) == (1, 0, 0)
    assert len(fake.parents(CHANNEL)) == 1


def test_an_invalid_token_raises_without_the_token(fake: FakeSlack, store: Store,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    secret = "xoxb-1234-wrong-secret-value"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SlackDeliveryError) as raised:
        notifier(fake, store, token=secret, channel=CHANNEL).send(payload())
    message = str(raised.value)
    assert "invalid_auth" in message and "SLACK_BOT_TOKEN" in message and "policy-desk" in message
    assert secret not in "".join(traceback.format_exception(raised.value))
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert fake.calls("chat.postMessage")[0].authorization == f"Bearer {secret}"


@pytest.mark.parametrize(("channel", "error", "hint"), [
    ("#no-such-channel", "not found among public channels", "give a private channel's ID"),
    ("#quiet", "not_in_channel", "invite it"),
])
def test_channel_errors_say_what_to_do(fake: FakeSlack, channel: str, error: str, hint: str) -> None:
    with pytest.raises(SlackDeliveryError, match=error) as raised:
        notifier(fake, None, channel=channel).send(payload())
    assert hint in str(raised.value)


# -- what the message says ---------------------------------------------------------------------------
def test_text_from_data_is_escaped_and_cannot_ping_or_link(fake: FakeSlack, store: Store) -> None:
    evil = "Imports <!channel> fell; see <http://evil.example|click> & <@U0ADMIN>"
    labels = {"source": "a&b <!here>", "flow": "import", "reporter": "RUS"}
    notifier(fake, store, chart=False).send(payload(series="x&y/<!channel>", summary=evil, labels=labels))
    [parent] = fake.parents(CHANNEL)
    sent = json.dumps(parent.blocks) + parent.text
    for raw in ("<!channel>", "<!here>", "<http://evil.example|click>", "<@U0ADMIN>"):
        assert raw not in sent
    shown = texts(parent.blocks)
    assert shown[1] == ("Imports &lt;!channel&gt; fell; see &lt;http://evil.example|click&gt; "
                        "&amp; &lt;@U0ADMIN&gt;")
    assert shown[-1].startswith("x&amp;y/&lt;!channel&gt; · ")
    assert "Source: a&amp;b &lt;!here&gt;" in shown[-2]
    assert all(t.get("verbatim") for b in parent.blocks if b["type"] != "header"
               for t in ([b["text"]] if "text" in b else []) + b.get("fields", []) + b.get("elements", []))


def test_the_configured_mention_pings_and_only_on_firing(fake: FakeSlack, store: Store) -> None:
    slack = notifier(fake, store, chart=False, mention="<!subteam^S0POLICY>")
    slack.send(payload())
    slack.send(resolved(alert()))
    [parent] = fake.parents(CHANNEL)
    assert parent.edits[0]["blocks"][1]["text"]["text"].startswith("<!subteam^S0POLICY> Russia's")
    assert "<!subteam" not in json.dumps(fake.replies(CHANNEL, parent.ts)[0].blocks)


def test_long_text_is_cut_to_slacks_limits_with_a_marker(fake: FakeSlack, store: Store) -> None:
    rule = "r" * 200
    notifier(fake, store, chart=False).send(payload(rule=rule, summary="fell " * 1000,
                                                    series="s" * 2500))
    [parent] = fake.parents(CHANNEL)  # the strict fake refused nothing
    header = parent.blocks[0]["text"]["text"]
    assert len(header) == 150 and header.endswith(TRUNCATED)
    section = parent.blocks[1]["text"]["text"]
    assert len(section) == 3000 and section.endswith(TRUNCATED)
    series = parent.blocks[-1]["elements"][-1]["text"]
    assert series.startswith("s" * 2500) and len(series) <= 3000


def test_channel_names_are_resolved_across_pages_once(store: Store) -> None:
    channels = [Channel(f"C0FILL{i:05d}", f"fill-{i}") for i in range(5)]
    channels.append(Channel("C0TARGET001", "trade-alerts"))
    with FakeSlack(channels=channels, page_size=2) as fake:
        slack = notifier(fake, store, chart=False)
        slack.send(payload())
        slack.send(payload(rule="other"))
        pages = fake.calls("conversations.list")
        assert len(pages) == 3
        assert "cursor" not in pages[0].params and pages[1].params["cursor"] and pages[2].params["cursor"]
        assert [m.channel for m in fake.messages] == ["C0TARGET001", "C0TARGET001"]


# -- digests -----------------------------------------------------------------------------------------
def test_a_digest_of_300_alerts_is_one_message_with_the_largest_moves_and_a_csv(
        fake: FakeSlack, store: Store) -> None:
    rng = random.Random(7)
    values = [rng.uniform(-60, 40) for _ in range(300)]
    payloads = [payload(series=f"s{i:03d}/import/total", value=v, reference=-5.0, summary=f"moved {v:.1f}")
                for i, v in enumerate(values)]
    slack = notifier(fake, store, digest_size=10)
    slack.send_group(payloads, {"rule": "yoy_consecutive_decline"})
    [parent] = fake.parents(CHANNEL)
    shown = "\n".join(texts(parent.blocks))
    expected = sorted(range(300), key=lambda i: -abs(values[i] + 5.0))[:10]
    lines = [line for line in shown.splitlines() if "/import/total" in line]
    assert [line.split("`")[1] for line in lines] == [f"s{i:03d}/import/total" for i in expected]
    assert "and 290 more" in shown and "300 trade alerts: 300 firing" in shown
    [csv_file] = fake.files_in_thread(CHANNEL, parent.ts)
    assert csv_file.filename.endswith(".csv") and csv_file.content is not None
    rows = csv_file.content.decode().splitlines()
    assert len(rows) == 301 and rows[0].startswith("status,rule,series")
    assert rows[1].split(",")[2] == f"s{expected[0]:03d}/import/total"
    # A member resolving later replies in the digest's thread and leaves the digest as it is.
    member = alert(series="s000/import/total", value=values[0])
    slack.send(resolved(member))
    assert len(fake.replies(CHANNEL, parent.ts)) == 1 and fake.updates == []
    slack.send_group(payloads, {"rule": "yoy_consecutive_decline"})  # a retried drain: nothing new
    assert len(fake.parents(CHANNEL)) == 1 and len(fake.files) == 1


# -- building from config ----------------------------------------------------------------------------
def test_a_slack_receiver_without_a_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        build_notifiers(Notify.model_validate(DESK), env={})
    assert "policy-desk" in str(raised.value) and "SLACK_BOT_TOKEN" in str(raised.value)
    assert "notify.receivers[0].slack" in str(raised.value)


def test_the_design_config_shape_builds_a_working_notifier(fake: FakeSlack, store: Store) -> None:
    env = {"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url}
    notifiers = build_notifiers(Notify.model_validate(DESK), env=env, history=store.series_history,
                                state=store)
    slack = notifiers["policy-desk"]
    assert isinstance(slack, SlackNotifier)
    slack.send(payload())
    [parent] = fake.parents(CHANNEL)
    assert len(fake.files_in_thread(CHANNEL, parent.ts)) == 1


def test_slack_receiver_config_keys() -> None:
    notify = Notify.model_validate({"receivers": [
        {"name": "a", "slack": {"channel": "#x", "api_url": "http://127.0.0.1:1/api", "digest_size": 5,
                                "chart": False, "mention": "@here"}},
        {"name": "b", "slack_webhook": {"url": "http://127.0.0.1:1/services/x"}},
        {"name": "c", "alertmanager": {"url": "http://127.0.0.1:9093", "resolve_timeout": "30d"}},
    ], "route": {"receiver": "a"}})
    slack = notify.receivers[0].slack
    assert slack is not None and (slack.digest_size, slack.chart, slack.mention) == (5, False, "<!here>")
    assert slack_mention("U0ABC123") == "<@U0ABC123>" and slack_mention("<!channel>") == "<!channel>"
    with pytest.raises(ValueError, match="invalid mention"):
        Notify.model_validate({"receivers": [{"name": "a", "slack": {"channel": "#x", "mention": "<http://x|y>"}}],
                               "route": {"receiver": "a"}})


# -- exactly once across crashes -----------------------------------------------------------------------
class Crash(Exception):
    """The process dies here."""


class CrashingState:
    """The store, with the process dying at the first save of `progress`: before the row is
    written (Slack has acted, the store does not know) or just after it."""

    def __init__(self, store: Store, progress: str, written: bool) -> None:
        self._store, self._progress, self._written = store, progress, written

    def receiver_state(self, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None:
        return self._store.receiver_state(receiver, fingerprint, episode)

    def save_receiver_states(self, states: Sequence[ReceiverState]) -> None:
        hit = any(s.progress == self._progress for s in states)
        if hit and not self._written:
            raise Crash(self._progress)
        self._store.save_receiver_states(states)
        if hit:
            raise Crash(self._progress)


def resolution_replies(fake: FakeSlack) -> list[Any]:
    return fake.with_metadata(CHANNEL, "tradewatch_resolution")


@pytest.mark.parametrize(("progress", "written"), [
    ("posting", True),  # intent saved, Slack not called yet
    ("posted", False),  # Slack has the parent, the store does not know
    ("posted", True),  # parent saved, chart not uploaded
    ("firing", False),  # chart shared in the thread, not saved
    ("firing", True),  # the firing done, the drain did not record it
    ("resolving", True),  # resolution intent saved, reply not posted
    ("resolved", False),  # reply posted and parent edited, not saved
    ("resolved", True),  # the resolution done, the drain did not record it
])
def test_a_crash_anywhere_leaves_one_parent_one_chart_one_resolution(
        fake: FakeSlack, store: Store, progress: str, written: bool) -> None:
    firing, resolution = payload(), resolved(alert())
    dying = notifier(fake, store, state=CrashingState(store, progress, written))
    with pytest.raises(Crash):
        dying.send(firing)
        dying.send(resolution)
    restarted = notifier(fake, store)  # the next process: what the outbox still holds, again
    restarted.send(firing)
    restarted.send(resolution)
    [parent] = fake.parents(CHANNEL)
    assert parent.metadata == {"event_type": "tradewatch_alert", "event_payload": {
        "fingerprint": firing.fingerprint, "episode": 1, "receiver": "policy-desk"}}
    assert len(fake.files_in_thread(CHANNEL, parent.ts)) == 1
    [reply] = fake.replies(CHANNEL, parent.ts)
    assert resolution_replies(fake) == [reply]
    assert "Resolved" in parent.blocks[0]["text"]["text"]
    assert len(fake.calls("chat.postMessage")) == 2  # nothing was ever posted twice
    state = store.receiver_state("policy-desk", firing.fingerprint, 1)
    assert state is not None and (state.ts, state.progress) == (parent.ts, "resolved")


def test_a_parent_whose_answer_is_lost_is_found_not_posted_again(fake: FakeSlack, store: Store) -> None:
    holding = fake.hold_responses(5.0)  # Slack stores the parent; its answer outlives the 1 s timeout
    notifier(fake, store, timeout=1.0).send(payload())
    assert holding.is_set()
    [parent] = fake.parents(CHANNEL)
    assert len(fake.calls("chat.postMessage")) == 1
    [lookup] = fake.calls("conversations.history")
    assert lookup.params["include_all_metadata"] in ("1", "true") and lookup.params["oldest"]
    assert len(fake.files_in_thread(CHANNEL, parent.ts)) == 1
    state = store.receiver_state("policy-desk", payload().fingerprint, 1)
    assert state is not None and (state.ts, state.progress) == (parent.ts, "firing")


def test_a_resolution_reply_whose_answer_is_lost_is_found_not_posted_again(
        fake: FakeSlack, store: Store) -> None:
    notifier(fake, store, chart=False).send(payload())
    holding = fake.hold_responses(5.0, match=lambda params: bool(params.get("thread_ts")))
    notifier(fake, store, chart=False, timeout=1.0).send(resolved(alert()))
    assert holding.is_set()
    [parent] = fake.parents(CHANNEL)
    [reply] = fake.replies(CHANNEL, parent.ts)
    assert resolution_replies(fake) == [reply]
    assert len(fake.calls("conversations.replies")) == 1 and [u.ts for u in fake.updates] == [parent.ts]


def test_a_posting_intent_adopts_the_message_slack_has_among_others(store: Store) -> None:
    with FakeSlack(history_page_size=2) as fake:
        firing = payload()
        intent = ReceiverState("policy-desk", firing.fingerprint, 1, CHANNEL, f"{time.time():.6f}",
                               "posting", firing.to_json())
        store.save_receiver_states([intent])
        client = WebClient(token=fake.token, base_url=fake.api_url)

        def post(text: str, **event_payload: Any) -> str:
            event = {"fingerprint": firing.fingerprint, "episode": 1, "receiver": "policy-desk",
                     **event_payload}
            response = client.chat_postMessage(channel=CHANNEL, text=text, metadata={
                "event_type": "tradewatch_alert", "event_payload": event})
            return str(response["ts"])

        post("another episode", episode=2)
        post("another receiver", receiver="ops")
        ts = post("the one a crashed process posted")
        for n in range(4):
            client.chat_postMessage(channel=CHANNEL, text=f"later chatter {n}")
        posts = len(fake.calls("chat.postMessage"))
        notifier(fake, store).send(firing)
        assert len(fake.calls("chat.postMessage")) == posts  # adopted, not posted
        pages = fake.calls("conversations.history")
        assert len(pages) == 3 and all(p.params["limit"] == "200" for p in pages)  # newest first, 2 a page
        assert "cursor" not in pages[0].params and all(p.params["cursor"] for p in pages[1:])
        assert len(fake.files_in_thread(CHANNEL, ts)) == 1
        state = store.receiver_state("policy-desk", firing.fingerprint, 1)
        assert state is not None and (state.ts, state.progress) == (ts, "firing")


def test_a_posting_intent_without_its_message_posts_once(fake: FakeSlack, store: Store) -> None:
    firing = payload()
    store.save_receiver_states([ReceiverState("policy-desk", firing.fingerprint, 1, CHANNEL,
                                              f"{time.time():.6f}", "posting", firing.to_json())])
    notifier(fake, store, chart=False).send(firing)
    [parent] = fake.parents(CHANNEL)
    assert len(fake.calls("conversations.history")) == 1 and len(fake.calls("chat.postMessage")) == 1
    assert parent.metadata is not None
    assert parent.metadata["event_payload"]["fingerprint"] == firing.fingerprint


@pytest.mark.parametrize(("progress", "written"), [
    ("posting", True), ("posted", False), ("posted", True), ("done", False), ("done", True)])
def test_a_crash_while_sending_a_digest_leaves_one_digest_and_one_csv(
        fake: FakeSlack, store: Store, progress: str, written: bool) -> None:
    payloads = [payload(series=f"s{i}/import/total", value=-30.0 - i) for i in range(6)]
    labels = {"rule": "yoy_consecutive_decline"}
    with pytest.raises(Crash):
        notifier(fake, store, state=CrashingState(store, progress, written)).send_group(payloads, labels)
        raise Crash("after the digest: the drain records nothing")
    notifier(fake, store).send_group(payloads, labels)
    [digest] = fake.parents(CHANNEL)
    assert digest.metadata is not None and digest.metadata["event_type"] == "tradewatch_digest"
    assert [f.filename for f in fake.files_in_thread(CHANNEL, digest.ts)] == ["tradewatch-digest.csv"]
    assert len(fake.calls("chat.postMessage")) == 1


def test_alerts_of_a_digest_half_recorded_do_not_go_into_a_second_digest(
        fake: FakeSlack, store: Store) -> None:
    """A drain stopped while recording a digest's deliveries: the unrecorded alerts come back,
    grouped with newer ones; only the newer ones make the next digest."""
    old = [payload(series=f"s{i}/import/total", value=-30.0 - i) for i in range(6)]
    new = [payload(series=f"n{i}/import/total", value=-40.0 - i) for i in range(2)]
    slack = notifier(fake, store, chart=False)
    slack.send_group(old, {})
    slack.send_group(old[3:] + new, {})
    first, second = fake.parents(CHANNEL)
    assert "6 trade alerts" in texts(first.blocks)[0] and "2 trade alerts" in texts(second.blocks)[0]
    assert all("n0/import/total" not in t for t in texts(first.blocks))
    assert fake.replies(CHANNEL, first.ts) == []


def test_the_fake_shows_metadata_only_when_asked_and_threads_with_their_files(fake: FakeSlack) -> None:
    client = WebClient(token=fake.token, base_url=fake.api_url)
    event = {"event_type": "tradewatch_alert", "event_payload": {"fingerprint": "f", "episode": 1}}
    parent = client.chat_postMessage(channel=CHANNEL, text="parent", metadata=event)["ts"]
    client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent)
    client.files_upload_v2(channel=CHANNEL, thread_ts=parent, content="a,b\n", filename="x.csv")
    plain = client.conversations_history(channel=CHANNEL)["messages"]
    assert [(m["text"], m.get("reply_count"), "metadata" in m) for m in plain] == [("parent", 2, False)]
    [shown] = client.conversations_history(channel=CHANNEL, include_all_metadata=True)["messages"]
    assert shown["metadata"] == event
    assert client.conversations_history(channel=CHANNEL, oldest=parent)["messages"] == []
    thread = client.conversations_replies(channel=CHANNEL, ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["parent", "reply", ""]
    assert thread[2]["files"][0]["name"] == "x.csv" and thread[2]["thread_ts"] == parent
    with pytest.raises(SlackApiError, match="invalid_metadata_schema"):
        client.chat_postMessage(channel=CHANNEL, text="x", metadata={"event_payload": {}})


def test_an_uploaded_files_name_and_title_are_cut_to_slacks_limits(fake: FakeSlack, store: Store) -> None:
    series = "chn-rus/export/" + "8456" * 1250  # a 5,000-character label from a source file
    slack = notifier(fake, store, history=lambda _: store.series_history(SERIES))
    slack.send(payload(series=series))
    slack.send(payload(series=series))  # a second send finds the cut name: no second chart
    [parent] = fake.parents(CHANNEL)
    [chart] = fake.files_in_thread(CHANNEL, parent.ts)
    assert len(chart.filename) == 255 and chart.filename.endswith(".png")
    assert chart.filename.startswith("chn-rus-export-84568456")
    assert chart.title is not None and len(chart.title) == 250 and chart.title.endswith(TRUNCATED)


def test_a_server_error_on_the_upload_url_is_retried_not_parked(fake: FakeSlack, store: Store) -> None:
    fake.fail_next(1, status=500, method="upload")
    notifier(fake, store).send(payload())
    [parent] = fake.parents(CHANNEL)
    assert len(fake.files_in_thread(CHANNEL, parent.ts)) == 1
    assert len(fake.calls("upload")) == 2
