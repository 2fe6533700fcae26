"""Slack delivery, the one module that calls Slack's Web API (slack_sdk's WebClient).

Web API mode: the threads of monitor/notify/slack_state.py (one parent message per alert
episode, its chart and updates in the thread, digests) over the calls below; a message or file
that must exist once is looked for before it is sent again, by its metadata or its name.
Incoming-webhook mode: one message per notification, no threads. `METHOD_SCOPES` declares
every Web API method called here with the bot scope it needs; the app manifest
(deploy/slack/manifest.yaml) grants exactly those.

Every call goes through one retry policy (monitor/notify/retry.py); what still fails raises
SlackDeliveryError, whose message names the receiver, the method and Slack's error code and
never the token, so the row stays in the outbox for the next drain.
"""

from __future__ import annotations

import functools
import http.client
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse, WebClient
from slack_sdk.webhook import WebhookClient

from monitor.alerts.notification import Notification
from monitor.config import ConfigError, ConfigProblem
from monitor.config.templates import LINK_TEMPLATES
from monitor.notify import render
from monitor.notify.alertmanager import system_clock
from monitor.notify.chart import HistoryFn, SeriesData
from monitor.notify.retry import Gate, Refused, Transient, call_with_retries, retry_after_seconds
from monitor.notify.ruleinfo import RuleInfo
from monitor.notify.slack_state import (
    ALERT_EVENT,
    LOOKUP_LIMIT,
    LOOKUP_PAGES,
    ReceiverStateStore,
    SlackThreads,
    carries,
    metadata,
    search_oldest,
    shares_file,
)
from monitor.retry import RetryPolicy
from monitor.store import ReceiverState

if TYPE_CHECKING:
    from monitor.config import SlackReceiver, SlackWebhookReceiver

log = logging.getLogger(__name__)

TOKEN_ENV = "SLACK_BOT_TOKEN"
SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"  # interactive requests over HTTP (buttons)
APP_TOKEN_ENV = "SLACK_APP_TOKEN"  # interactive requests over Socket Mode (buttons)
# Every Web API method this module calls, with the bot token scope it needs.
METHOD_SCOPES: Mapping[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "conversations.list": "channels:read",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
BOT_SCOPES = tuple(sorted(set(METHOD_SCOPES.values())))
API_URL_ENV = "SLACK_API_URL"
DEFAULT_API_URL = "https://slack.com/api/"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
_MAX_PAGES = 200

T = TypeVar("T")


def _answer(exc: SlackApiError) -> tuple[int, str, Mapping[str, Any]]:
    """What Slack answered to a failed call: HTTP status, its `error` code, the whole body."""
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return int(exc.response.status_code), str(data.get("error") or ""), data


class SlackDeliveryError(RuntimeError):
    """A notification Slack did not take; never carries the token."""


class SlackRefused(SlackDeliveryError, Refused):
    """Slack refused for a reason no retry can fix (token, scope, channel, request)."""


def link_templates(config: SlackReceiver | SlackWebhookReceiver) -> tuple[tuple[str, str], ...]:
    """A receiver's link templates as (key, template), for the message's buttons."""
    return tuple((key, text) for key in LINK_TEMPLATES if (text := getattr(config, key, None)))


def api_base_url(configured: str | None, env: Mapping[str, str]) -> str:
    url = configured or env.get(API_URL_ENV) or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def build_slack_notifier(name: str, config: SlackReceiver, env: Mapping[str, str], where: str, *,
                         history: HistoryFn | None = None, state: ReceiverStateStore | None = None,
                         clock: Callable[[], datetime] | None = None,
                         rules: Mapping[str, RuleInfo] | None = None) -> SlackNotifier:
    """The notifier for a `slack:` receiver; a missing token is a config error naming both the
    receiver and the variable."""
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError([ConfigProblem(
            "environment", None, where,
            f"receiver {name!r} needs a Slack bot token: set the environment variable {TOKEN_ENV}")])
    if state is None:
        log.warning("slack receiver %s keeps its threads in memory only: a restart starts new threads",
                    name)
    return SlackNotifier(name, token=token, channel=config.channel,
                         api_url=api_base_url(config.api_url, env), state=state, history=history,
                         digest_size=config.digest_size, chart=config.chart, mention=config.mention,
                         timeout=config.timeout.total_seconds(), clock=clock or system_clock, rules=rules,
                         links=link_templates(config), buttons=interactive(env),
                         allowed_users=config.allowed_users)


def interactive(env: Mapping[str, str]) -> bool:
    """Whether Slack's button clicks can reach tradewatch: a signing secret (HTTP) or an app
    token (Socket Mode) is set. Without either, messages carry no silence buttons."""
    return bool(env.get(SIGNING_SECRET_ENV, "").strip() or env.get(APP_TOKEN_ENV, "").strip())


class SlackNotifier(SlackThreads):
    """A `slack:` receiver: threads per alert episode over the Web API."""

    digests: ClassVar[bool] = True

    def __init__(self, name: str, *, token: str, channel: str, api_url: str = DEFAULT_API_URL,
                 state: ReceiverStateStore | None = None, history: HistoryFn | None = None,
                 digest_size: int = 10, chart: bool = True, mention: str | None = None,
                 timeout: float = 10.0, retry: RetryPolicy | None = None,
                 clock: Callable[[], datetime] = system_clock,
                 rules: Mapping[str, RuleInfo] | None = None, links: Sequence[tuple[str, str]] = (),
                 buttons: bool = False, allowed_users: Sequence[str] | None = None) -> None:
        client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                           timeout=max(1, round(timeout)), retry_handlers=[])
        self.channel = channel
        self._web = _WebApi(name, channel, client, retry or RetryPolicy())
        super().__init__(name, self._web, state=state, history=history, digest_size=digest_size,
                         chart=chart, mention=mention, clock=clock, rules=rules, links=links,
                         buttons=buttons, allowed_users=allowed_users)

    def channel_id(self) -> str:
        return self._web.channel_id()


class _WebApi:
    """The Web API calls of one receiver (slack_state.SlackCalls), each under the retry policy."""

    def __init__(self, name: str, channel: str, client: WebClient, retry: RetryPolicy) -> None:
        self.name = name
        self.channel = channel
        self._client = client
        self._retry = retry
        self._gate = Gate()
        self._channel_id: str | None = None
        self._lock = threading.Lock()
        self._refused_lookups: set[str] = set()  # errors a look-up got, told once each

    def channel_id(self) -> str:
        """The configured channel as an ID: names are looked up once (conversations.list,
        every page) and cached for the notifier's life."""
        with self._lock:
            if self._channel_id is None:
                self._channel_id = self._lookup_channel(self.channel)
            return self._channel_id

    def _lookup_channel(self, channel: str) -> str:
        if _CHANNEL_ID.match(channel):
            return channel
        wanted = channel.lstrip("#")
        pages = self._pages(lambda cursor: self._call("conversations.list", functools.partial(
            self._client.conversations_list, types="public_channel", exclude_archived=True,
            limit=200, cursor=cursor)), "channels", _MAX_PAGES)
        for found in pages:
            if found.get("name") == wanted:
                return str(found["id"])
        raise SlackDeliveryError(
            f"slack receiver {self.name}: channel #{wanted} not found among public channels "
            "(misspelt, archived, or private: give a private channel's ID, e.g. C0123ABCD)")

    def post_once(self, state: ReceiverState, event: str, blocks: list[render.Block], text: str, *,
                  maybe_sent: bool, thread_ts: str | None = None) -> str:
        """Post a message carrying `event`'s metadata for `state`'s episode, or adopt the one an
        earlier attempt posted: a parent among the channel's messages since the intent (`ts`
        of a POSTING state), a reply in its thread."""
        wanted = metadata(event, state)

        def find() -> str | None:
            if thread_ts is None:
                messages = self._pages(lambda cursor: self._client.conversations_history(
                    channel=state.channel, oldest=search_oldest(state), limit=LOOKUP_LIMIT,
                    include_all_metadata=True, cursor=cursor), "messages", LOOKUP_PAGES)
            else:
                messages = self._thread(state.channel, thread_ts)
            return next((str(m["ts"]) for m in messages if carries(m, wanted)), None)

        return self._once("chat.postMessage", find, lambda: self._post(
            state.channel, blocks, text, thread_ts=thread_ts, metadata=wanted), maybe_sent)

    def upload_once(self, state: ReceiverState, filename: str, maybe_sent: bool, **upload: Any) -> None:
        """A file in `state`'s thread (chart, CSV), unless an earlier attempt shared it there."""
        filename = render.upload_filename(filename)
        if isinstance(upload.get("title"), str):
            upload["title"] = render.truncate(upload["title"], render.MAX_TITLE)

        def find() -> str | None:
            shared = any(shares_file(m, filename) for m in self._thread(state.channel, state.ts))
            return filename if shared else None

        def act() -> str:
            self._client.files_upload_v2(channel=state.channel, thread_ts=state.ts, filename=filename,
                                         **upload)
            return filename

        self._once("files.upload", find, act, maybe_sent)

    def reply(self, state: ReceiverState, blocks: list[render.Block], text: str) -> None:
        self._call("chat.postMessage", lambda: self._post(state.channel, blocks, text, thread_ts=state.ts))

    def edit(self, state: ReceiverState, blocks: list[render.Block], text: str) -> None:
        """The parent's new content; its metadata is sent again so that it stays."""
        self._call("chat.update", lambda: self._client.chat_update(
            channel=state.channel, ts=state.ts, blocks=blocks, text=text,
            metadata=metadata(ALERT_EVENT, state)))

    def _once(self, method: str, find: Callable[[], T | None], act: Callable[[], T], maybe_sent: bool) -> T:
        """`act` at most once in effect: when an earlier attempt may have got through (a process
        that died, or an answer lost to a timeout or a 5xx, which the retry policy repeats),
        `find` looks for its result first."""
        tried = maybe_sent

        def attempt() -> T:
            nonlocal tried
            found = self._look(method, find) if tried else None
            if found is not None:
                return found
            tried = True
            return act()

        return self._call(method, attempt)

    def _look(self, method: str, find: Callable[[], T | None]) -> T | None:
        """`find`, or None when Slack refuses the look-up itself (a bot without
        channels:history, say): the message is then sent again without looking, so the
        delivery goes on (at least once instead of exactly once), and the log says why once."""
        try:
            return find()
        except SlackApiError as exc:
            status, error, data = _answer(exc)
            if status == 429 or status >= 500 or error in _TRANSIENT:
                raise  # an outage: the look-up is retried like any call
            if error not in self._refused_lookups:
                self._refused_lookups.add(error)
                log.warning("slack receiver %s cannot look for messages an earlier attempt may have posted "
                            "(%s); sending again without looking. Grant channels:history (and "
                            "groups:history for a private channel) to send exactly once", self.name,
                            self._explain("conversations.history", status, error, data))
            return None

    def _post(self, channel: str, blocks: list[render.Block], text: str, *, thread_ts: str | None = None,
              metadata: dict[str, Any] | None = None) -> str:
        response = self._client.chat_postMessage(
            channel=channel, blocks=blocks, text=text, thread_ts=thread_ts, metadata=metadata,
            unfurl_links=False, unfurl_media=False)
        return str(response["ts"])

    def _thread(self, channel: str, ts: str) -> Iterator[Mapping[str, Any]]:
        return self._pages(lambda cursor: self._client.conversations_replies(
            channel=channel, ts=ts, limit=LOOKUP_LIMIT, include_all_metadata=True, cursor=cursor),
            "messages", LOOKUP_PAGES)

    @staticmethod
    def _pages(fetch: Callable[[str | None], SlackResponse], key: str,
               most: int) -> Iterator[Mapping[str, Any]]:
        """The items of a cursor-paginated method, page by page, `most` pages at most."""
        cursor: str | None = None
        for _ in range(most):
            response = fetch(cursor)
            yield from response.get(key) or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def _call(self, method: str, call: Callable[[], T]) -> T:
        """One Slack call under the retry policy, its failure described without secrets."""

        def attempt() -> T:
            try:
                return call()
            except SlackApiError as exc:
                status, error, data = _answer(exc)
                if status == 429 or error == "ratelimited":
                    after = retry_after_seconds(exc.response.headers)
                    raise Transient(f"{method} rate limited (HTTP {status})",
                                    1.0 if after is None else after) from None
                if status >= 500 or error in _TRANSIENT:
                    raise Transient(f"{method} answered HTTP {status} {error}".rstrip()) from None
                raise SlackRefused(self._explain(method, status, error, data)) from None
            except (OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise Transient(f"{method} could not reach Slack ({reason})") from None
            except SlackRequestError as exc:
                raise SlackRefused(f"slack receiver {self.name}: {method} failed: {exc}") from None

        try:
            return call_with_retries(attempt, self._retry, gate=self._gate)
        except Transient as exc:
            raise SlackDeliveryError(f"slack receiver {self.name}: {exc}; giving up for this drain, "
                                     "the notification stays in the outbox") from None

    def _explain(self, method: str, status: int, error: str, data: Mapping[str, Any]) -> str:
        hint = {
            "invalid_auth": f"the bot token in {TOKEN_ENV} was rejected",
            "not_authed": f"no bot token was sent; set {TOKEN_ENV}",
            "token_revoked": f"the bot token in {TOKEN_ENV} was revoked",
            "account_inactive": f"the bot token in {TOKEN_ENV} belongs to a deactivated app",
            "channel_not_found": f"channel {self.channel} not found",
            "not_in_channel": f"the bot is not in {self.channel}: invite it with /invite",
            "missing_scope": "the bot lacks the scope " + str(data.get("needed", "")) +
                             f" (it needs {', '.join(BOT_SCOPES)})",
            "invalid_blocks": "Slack rejected the blocks: " + "; ".join(map(str, data.get("errors", []))),
        }.get(error, "")
        detail = f" ({hint})" if hint else ""
        return f"slack receiver {self.name}: {method} failed: {error or f'HTTP {status}'}{detail}"


class SlackWebhookNotifier:
    """An incoming webhook: the same Block Kit in one message per notification."""

    digests: ClassVar[bool] = True

    def __init__(self, name: str, url: str, timeout: float = 10.0, history: HistoryFn | None = None,
                 mention: str | None = None, retry: RetryPolicy | None = None,
                 rules: Mapping[str, RuleInfo] | None = None, links: Sequence[tuple[str, str]] = ()) -> None:
        self.name = name
        self._rules: Mapping[str, RuleInfo] = rules or {}
        self._links = tuple(links)
        self._client = WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[])
        self._history = history
        self._mention = mention
        self._retry = retry or RetryPolicy()
        self._gate = Gate()

    def send(self, payload: Notification) -> None:
        data = SeriesData(self._history, str(payload.series))
        info = self._rules.get(payload.rule)
        blocks = render.alert_blocks(payload, data.at, self._mention, info=info, history=data.values,
                                     links=self._links)
        self._deliver(blocks, render.fallback_text(payload, info, data.values))

    def send_group(self, payloads: Sequence[Notification], group_labels: Mapping[str, str]) -> None:
        """A digest without its CSV (webhooks cannot upload files)."""
        if payloads:
            self._deliver(render.digest_blocks(payloads, group_labels, 10, rules=self._rules),
                          render.digest_text(payloads, group_labels))

    def _deliver(self, blocks: list[render.Block], text: str) -> None:
        def attempt() -> None:
            try:
                response = self._client.send(text=text, blocks=blocks, unfurl_links=False,
                                             unfurl_media=False)
            except (OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise Transient(f"could not reach the webhook ({reason})") from None
            if response.status_code == 429:
                after = retry_after_seconds(response.headers)
                raise Transient("rate limited (HTTP 429)", 1.0 if after is None else after)
            if response.status_code >= 500:
                raise Transient(f"HTTP {response.status_code}")
            if response.status_code != 200:
                body = str(response.body or "")[:200]
                raise SlackRefused(f"slack webhook {self.name}: HTTP {response.status_code} {body}")

        try:
            call_with_retries(attempt, self._retry, gate=self._gate)
        except Transient as exc:
            raise SlackDeliveryError(f"slack webhook {self.name}: {exc}; giving up for this drain, "
                                     "the notification stays in the outbox") from None

