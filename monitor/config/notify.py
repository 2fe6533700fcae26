"""The models of notification: receivers (one kind each), the Alertmanager-style routing tree
and inhibition rules."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from monitor.config.base import MAX_COUNT, Duration, Interval, Strict
from monitor.config.matching import LabelRegexes, LabelValues, MatcherList, ReceiverName
from monitor.matchers import Matcher, parse_matcher


class ConsoleReceiver(Strict):
    """One line per notification on stdout."""


class WebhookReceiver(Strict):
    url: str
    timeout: Interval = timedelta(seconds=10)


_MENTION = re.compile(r"^<?@?(here|channel|everyone|[UW][A-Z0-9]{2,}|!(?:here|channel|everyone)"
                      r"|!subteam\^[A-Z0-9]{2,})>?$")


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def slack_mention(value: str) -> str:
    """`@here`, `<!here>`, a user id `U123ABC` or `<!subteam^S123>` -> Slack's `<...>` syntax."""
    match = _MENTION.match(value.strip())
    if match is None:
        raise ValueError(f"invalid mention {value!r}: use @here, @channel, a user id (U0123ABC) "
                         "or <!subteam^ID>")
    target = match.group(1)
    if target in ("here", "channel", "everyone"):
        return f"<!{target}>"
    return f"<{target}>" if target.startswith("!") else f"<@{target}>"


class SlackReceiver(Strict):
    """A channel through the Web API; the bot token comes from SLACK_BOT_TOKEN, the API URL
    from `api_url`, else SLACK_API_URL, else Slack's own."""

    channel: str = Field(min_length=2)
    api_url: str | None = None
    digest_size: int = Field(default=10, ge=1, le=100)
    chart: bool = True
    mention: str | None = None
    timeout: Interval = timedelta(seconds=10)
    dashboard_url: str | None = None  # a template (see monitor/config/templates.py): a button
    source_url: str | None = None  # a template: a button to the source's own data
    # Slack user IDs who may use the message's buttons (silence, acknowledge); anyone when unset.
    allowed_users: list[str] | None = Field(default=None, min_length=1)

    @field_validator("allowed_users")
    @classmethod
    def _users(cls, value: list[str] | None) -> list[str] | None:
        for user in value or []:
            if not _USER_ID.match(user):
                raise ValueError(f"invalid Slack user ID {user!r}: give IDs such as U0123ABCD "
                                 "(a member's profile, More, Copy member ID), not names")
        return value

    @field_validator("mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        return None if value is None else slack_mention(value)


class SlackWebhookReceiver(Strict):
    """An incoming webhook: one message per notification, no threads, no charts."""

    url: str
    timeout: Interval = timedelta(seconds=10)
    dashboard_url: str | None = None
    source_url: str | None = None


class AlertmanagerReceiver(Strict):
    """An Alertmanager (v2 API). A firing alert carries an endsAt `resolve_timeout` ahead, so
    Alertmanager keeps it firing between monthly releases until tradewatch resolves it."""

    url: str
    timeout: Interval = timedelta(seconds=10)
    generator_url: str | None = None
    resolve_timeout: Duration = timedelta(days=365)


RECEIVER_KINDS = ("console", "webhook", "slack", "slack_webhook", "alertmanager")


class Receiver(Strict):
    name: ReceiverName
    console: ConsoleReceiver | None = None
    webhook: WebhookReceiver | None = None
    slack: SlackReceiver | None = None
    slack_webhook: SlackWebhookReceiver | None = None
    alertmanager: AlertmanagerReceiver | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        kinds = [k for k in RECEIVER_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            known = ", ".join(RECEIVER_KINDS[:-1]) + f" or {RECEIVER_KINDS[-1]}"
            raise ValueError(f"give exactly one receiver kind: {known}"
                             + (f" (got {' and '.join(kinds)})" if kinds else ""))
        return self


Matchers = MatcherList  # each string one matcher, parsed back with parse_matcher


class Route(Strict):
    """Alertmanager-style routing tree: a matching child takes the alert (later siblings are
    tried too with `continue`); children inherit what they do not set."""

    receiver: str | None = None
    match: LabelValues = Field(default_factory=dict)
    match_re: LabelRegexes = Field(default_factory=dict)
    matchers: Matchers = Field(default_factory=list)
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    digest_over: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    # A child's alert goes into its parent's message when both fire on one release for one
    # rule (a rule's `drill`); false sends the child's own message as well. Inherited.
    fold_children: bool | None = None
    # How long a child's firing alert waits for a parent not yet published for its period (a
    # parent from another source, polled later): folded if the parent fires meanwhile, sent
    # alone after. Inherited; 1d when unset anywhere.
    fold_wait: Duration | None = None
    continue_: bool = Field(default=False, alias="continue")
    routes: list[Route] = Field(default_factory=list)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: list[str] | None) -> list[str] | None:
        """As Alertmanager: `...` (every label) stands alone, and no label is named twice."""
        if value is not None and "..." in value and len(value) > 1:
            raise ValueError("'...' groups by every label: give it alone, not with other labels")
        if value is not None and len(set(value)) < len(value):
            twice = sorted({name for name in value if value.count(name) > 1})
            raise ValueError(f"label {twice[0]!r} is named twice")
        return value

    @field_validator("group_interval", "repeat_interval")
    @classmethod
    def _not_zero(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    def all_matchers(self) -> list[Matcher]:
        return ([Matcher(k, "=", v) for k, v in self.match.items()]
                + [Matcher(k, "=~", v) for k, v in self.match_re.items()]
                + [parse_matcher(m) for m in self.matchers])


class InhibitRule(Strict):
    """While an alert matching `source_matchers` fires, alerts matching `target_matchers`
    with the same values of the `equal` labels are not notified (e.g. the all-goods alert
    suppresses the same rule's alerts on HS chapters of the same country pair)."""

    source_matchers: Matchers
    target_matchers: Matchers
    equal: list[str] = Field(default_factory=list)


class Notify(Strict):
    receivers: list[Receiver] = Field(
        default_factory=lambda: [Receiver(name="console", console=ConsoleReceiver())]
    )
    route: Route = Route(receiver="console")
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)
