"""The buttons a Slack parent carries and what a click payload is read as: buttons only when
clicks can reach tradewatch (a signing secret or an app token), each naming its alert
episode; anything that is not a tradewatch button is left alone."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from monitor.config import Notify, config_json_schema
from monitor.notify.buttons import Action, Target
from monitor.notify.pipeline import build_notifiers
from monitor.notify.slack_actions import read_click
from monitor.store import Store
from tests.fakes.payloads import payload
from tests.fakes.slack_server import FakeSlack, block_errors

CHANNEL = "C0TRADE0001"


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["action_id"], e.get("value", "")) for b in blocks if b["type"] == "actions"
            for e in b["elements"] if e["action_id"].startswith("tradewatch_")]


@pytest.mark.parametrize(("env", "shown"), [
    ({}, False), ({"SLACK_SIGNING_SECRET": "s3cret"}, True), ({"SLACK_APP_TOKEN": "xapp-1"}, True),
    ({"SLACK_SIGNING_SECRET": "  "}, False)])
def test_buttons_appear_only_when_clicks_can_arrive(fake: FakeSlack, store: Store, env: dict[str, str],
                                                    shown: bool) -> None:
    notify = Notify.model_validate({"receivers": [{"name": "desk", "slack": {"channel": CHANNEL,
                                                                             "chart": False}}],
                                    "route": {"receiver": "desk"}})
    env = {"SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url, **env}
    build_notifiers(notify, env=env, state=store, history=store.series_history)["desk"].send(payload())
    [parent] = fake.parents(CHANNEL)
    found = buttons(parent.blocks)
    assert block_errors(parent.blocks) == []
    if not shown:
        assert found == []
        return
    sent = payload()
    assert [action for action, _ in found] == [a.value for a in (
        Action.SILENCE_30_DAYS, Action.SILENCE_UNTIL_RELEASE, Action.ACKNOWLEDGE)]
    assert {Target.parse(value) for _, value in found} == {Target("desk", sent.fingerprint, sent.episode)}


def test_a_target_reads_back_and_nothing_else_does() -> None:
    target = Target("policy-desk", "abc123", 4, "5f0c-silence")
    assert Target.parse(target.value()) == target
    assert Target.parse(Target("d", "f", 1).value()) == Target("d", "f", 1, None)
    for junk in ("", "null", "[]", '{"r": "d"}', '{"r": "d", "f": "x", "e": "one"}', None, 7):
        assert Target.parse(junk) is None


def test_read_click_takes_tradewatch_buttons_only() -> None:
    value = Target("desk", "f1", 1).value()
    base: dict[str, Any] = {"type": "block_actions", "user": {"id": "U0ANA0001", "username": "ana"},
                            "trigger_id": "1.2.abc", "response_url": "http://x/response/1",
                            "container": {"message_ts": "1.000001"},
                            "actions": [{"action_id": Action.ACKNOWLEDGE.value, "value": value,
                                         "action_ts": "17.5"}]}
    click = read_click(base)
    assert click is not None and click.action is Action.ACKNOWLEDGE and click.user == "U0ANA0001"
    assert click.user_name == "ana" and click.target == Target("desk", "f1", 1)
    again = read_click(dict(base))
    assert again is not None and again.request_id == click.request_id  # a replay: the same id
    second = {**base, "trigger_id": "1.3.def", "actions": [{**base["actions"][0], "action_ts": "18"}]}
    other = read_click(second)
    assert other is not None and other.request_id != click.request_id  # a second click: its own
    assert read_click({**base, "actions": [{"action_id": "link-0", "url": "https://x"}]}) is None
    assert read_click({**base, "type": "view_submission"}) is None
    forged = [{"action_id": Action.ACKNOWLEDGE.value, "value": "forged"}]
    assert read_click({**base, "actions": forged}) is None
    assert read_click({**base, "user": {}}) is None


def test_the_allow_list_takes_slack_user_ids_and_is_in_the_schema() -> None:
    slack = config_json_schema()["$defs"]["SlackReceiver"]["properties"]
    assert "allowed_users" in slack
    ok = Notify.model_validate({"receivers": [{"name": "d", "slack": {
        "channel": CHANNEL, "allowed_users": ["U0ANA0001", "W0BOB0002"]}}], "route": {"receiver": "d"}})
    slack_config = ok.receivers[0].slack
    assert slack_config is not None and slack_config.allowed_users == ["U0ANA0001", "W0BOB0002"]
    for bad in (["ana"], ["@U0ANA0001"], []):
        with pytest.raises(ValidationError, match=r"Slack user ID|at least 1"):
            Notify.model_validate({"receivers": [{"name": "d", "slack": {
                "channel": CHANNEL, "allowed_users": bad}}], "route": {"receiver": "d"}})
