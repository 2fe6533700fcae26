"""Slack delivery, the only module that imports slack_sdk.

Web API mode: one parent message per alert episode, its chart and every later update in the
thread, the parent edited when the alert resolves. Where the parent is (channel, ts) is kept
per (receiver, fingerprint, episode) in the store, with how far the send got, so a restart
still threads and a half-done send resumes instead of posting twice. Incoming-webhook mode:
one message per notification, no threads.

Every call goes through one retry policy (monitor/notify/retry.py); what still fails raises
SlackDeliveryError, whose message names the receiver, the method and Slack's error code and
never the token, so the row stays in the outbox for the next drain.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse, WebClient
from slack_sdk.webhook import WebhookClient

from monitor.configfile import ConfigError, ConfigProblem
from monitor.notify import render
from monitor.notify.chart import alt_text, chart_png
from monitor.notify.retry import Gate, RetryPolicy, Transient, call_with_retries, retry_after_seconds
from monitor.store import ReceiverState

if TYPE_CHECKING:
    import pandas as pd

    from monitor.config import SlackReceiver

log = logging.getLogger(__name__)

TOKEN_ENV = "SLACK_BOT_TOKEN"
API_URL_ENV = "SLACK_API_URL"
DEFAULT_API_URL = "https://slack.com/api/"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
_MAX_PAGES = 200

HistoryFn = Callable[[str], "pd.Series"]

# How far a send got, per (receiver, fingerprint, episode).
POSTED = "posted"  # parent posted, chart not yet
FIRING = "firing"  # parent and chart done
RESOLVING = "resolving"  # resolution replied in the thread, parent not yet edited
RESOLVED = "resolved"
DIGEST = "digest"  # the alert went out inside a digest: replies thread there, no parent edit
GROUP_DONE = "done"


class ReceiverStateStore(Protocol):
    def receiver_state(self, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None: ...

    def save_receiver_states(self, states: Sequence[ReceiverState]) -> None: ...


class MemoryReceiverState:
    """Thread state for a notifier built without a store: lost on restart."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str, int], ReceiverState] = {}
        self._lock = threading.Lock()

    def receiver_state(self, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None:
        with self._lock:
            return self._states.get((receiver, fingerprint, episode))

    def save_receiver_states(self, states: Sequence[ReceiverState]) -> None:
        with self._lock:
            for s in states:
                self._states[(s.receiver, s.fingerprint, s.episode)] = s


class SlackDeliveryError(RuntimeError):
    """A notification Slack did not take; never carries the token."""


def api_base_url(configured: str | None, env: Mapping[str, str]) -> str:
    url = configured or env.get(API_URL_ENV) or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def build_slack_notifier(name: str, config: SlackReceiver, env: Mapping[str, str], where: str, *,
                         history: HistoryFn | None = None,
                         state: ReceiverStateStore | None = None) -> SlackNotifier:
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
                         timeout=config.timeout.total_seconds())


class _Vintage:
    """The history of a series and its newest fetch time, read once per send."""

    def __init__(self, history: HistoryFn | None, series: str) -> None:
        self.values: pd.Series | None = None
        self.at: datetime | None = None
        if history is None:
            return
        try:
            self.values = history(series)
            at = self.values.attrs.get("vintage")
            self.at = at if isinstance(at, datetime) else None
        except Exception:  # a chart is a nicety: its data failing must not stop the alert
            log.warning("no history for the chart series=%s", series, exc_info=True)


class SlackNotifier:
    def __init__(self, name: str, *, token: str, channel: str, api_url: str = DEFAULT_API_URL,
                 state: ReceiverStateStore | None = None, history: HistoryFn | None = None,
                 digest_size: int = 10, chart: bool = True, mention: str | None = None,
                 timeout: float = 10.0, retry: RetryPolicy | None = None) -> None:
        self.name = name
        self.channel = channel
        self.digest_size = digest_size
        self._client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/",
                                 timeout=max(1, round(timeout)), retry_handlers=[])
        self._state: ReceiverStateStore = state if state is not None else MemoryReceiverState()
        self._history = history
        self._chart = chart
        self._mention = mention
        self._retry = retry or RetryPolicy()
        self._gate = Gate()
        self._channel_id: str | None = None
        self._lock = threading.Lock()

    # -- alerts ------------------------------------------------------------------------------
    def send(self, payload: Mapping[str, Any]) -> None:
        fp, episode = str(payload["fingerprint"]), int(payload["episode"])
        state = self._state.receiver_state(self.name, fp, episode)
        data = _Vintage(self._history, str(payload["series"]))
        if payload.get("status") == "resolved":
            self._resolve(payload, state, data)
        elif state is None or state.progress == POSTED:
            self._fire(payload, state, data)
        else:
            self._update(payload, state, data)

    def _fire(self, payload: Mapping[str, Any], state: ReceiverState | None, data: _Vintage) -> None:
        if state is None:
            channel = self.channel_id()
            ts = self._post(channel, render.alert_blocks(payload, data.at, self._mention),
                            render.fallback_text(payload))
            state = self._save(payload, channel, ts, POSTED, parent=payload)
        if self._chart and data.values is not None:
            png = _chart_or_none(data.values, payload)
            if png is not None:
                slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{payload['series']}-{payload['period']}")
                self._api("files.upload", lambda: self._client.files_upload_v2(
                    channel=state.channel, thread_ts=state.ts, file=png, filename=f"{slug}.png",
                    title=f"{payload['series']} ({render.period_span(payload)})",
                    alt_txt=alt_text(payload)))
        self._save(payload, state.channel, state.ts, FIRING, parent=state.parent)

    def _update(self, payload: Mapping[str, Any], state: ReceiverState, data: _Vintage) -> None:
        """A reminder or a revision of a firing episode: a reply, and the parent refreshed."""
        self._post(state.channel, render.thread_blocks(payload, data.at), render.fallback_text(payload),
                   thread_ts=state.ts)
        if state.progress == DIGEST:
            return
        self._edit(state, render.alert_blocks(payload, data.at), render.fallback_text(payload))
        self._save(payload, state.channel, state.ts, state.progress, parent=payload)

    def _resolve(self, payload: Mapping[str, Any], state: ReceiverState | None, data: _Vintage) -> None:
        if state is None:  # its firing went out before this receiver existed: a message of its own
            channel = self.channel_id()
            ts = self._post(channel, render.alert_blocks(payload, data.at), render.fallback_text(payload))
            self._save(payload, channel, ts, RESOLVED, parent=payload)
            return
        if state.progress == RESOLVED:
            return
        if state.progress != RESOLVING:
            self._post(state.channel, render.thread_blocks(payload, data.at),
                       render.fallback_text(payload), thread_ts=state.ts)
            if state.progress == DIGEST:
                self._save(payload, state.channel, state.ts, RESOLVED, parent=state.parent)
                return
            self._save(payload, state.channel, state.ts, RESOLVING, parent=state.parent)
        self._edit(state, render.resolved_parent_blocks(state.parent, payload, data.at),
                   render.fallback_text(payload))
        self._save(payload, state.channel, state.ts, RESOLVED, parent=state.parent)

    # -- digests -----------------------------------------------------------------------------
    def send_group(self, payloads: Sequence[Mapping[str, Any]], group_labels: Mapping[str, str]) -> None:
        """One message for many alerts (a release that moved hundreds of series): the largest
        moves first, the rest counted, the full list as CSV in the thread. Later updates of
        the firing alerts in it thread under it."""
        if not payloads:
            return
        if len(payloads) == 1:
            self.send(payloads[0])
            return
        members = sorted((str(p["fingerprint"]), int(p["episode"]), str(p["status"])) for p in payloads)
        key = "group:" + hashlib.sha256(json.dumps(members).encode()).hexdigest()[:20]
        state = self._state.receiver_state(self.name, key, 0)
        if state is None:
            channel = self.channel_id()
            top = render.order_by_move(payloads)[0]
            data = _Vintage(self._history, str(top["series"]))
            ts = self._post(channel, render.digest_blocks(payloads, group_labels, self.digest_size, data.at),
                            render.digest_text(payloads, group_labels))
            state = ReceiverState(self.name, key, 0, channel, ts, POSTED,
                                  {"count": len(payloads), "labels": dict(group_labels)})
            threaded = [ReceiverState(self.name, str(p["fingerprint"]), int(p["episode"]), channel, ts,
                                      DIGEST, dict(p))
                        for p in payloads if p.get("status") == "firing"
                        and self._state.receiver_state(self.name, str(p["fingerprint"]),
                                                       int(p["episode"])) is None]
            self._state.save_receiver_states([state, *threaded])
        if state.progress == POSTED:
            csv_text = render.digest_csv(payloads)
            current = state
            self._api("files.upload", lambda: self._client.files_upload_v2(
                channel=current.channel, thread_ts=current.ts, content=csv_text,
                filename="tradewatch-digest.csv", title=f"All {len(payloads)} alerts"))
            self._state.save_receiver_states([ReceiverState(
                self.name, key, 0, state.channel, state.ts, GROUP_DONE, state.parent)])

    # -- Slack calls ---------------------------------------------------------------------------
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
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            response = self._api("conversations.list", functools.partial(
                self._client.conversations_list, types="public_channel", exclude_archived=True,
                limit=200, cursor=cursor))
            for found in response.get("channels") or []:
                if found.get("name") == wanted:
                    return str(found["id"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        raise SlackDeliveryError(
            f"slack receiver {self.name}: channel #{wanted} not found among public channels "
            "(misspelt, archived, or private: give a private channel's ID, e.g. C0123ABCD)")

    def _post(self, channel: str, blocks: list[render.Block], text: str,
              thread_ts: str | None = None) -> str:
        response = self._api("chat.postMessage", lambda: self._client.chat_postMessage(
            channel=channel, blocks=blocks, text=text, thread_ts=thread_ts,
            unfurl_links=False, unfurl_media=False))
        return str(response["ts"])

    def _edit(self, state: ReceiverState, blocks: list[render.Block], text: str) -> None:
        self._api("chat.update", lambda: self._client.chat_update(
            channel=state.channel, ts=state.ts, blocks=blocks, text=text))

    def _save(self, payload: Mapping[str, Any], channel: str, ts: str, progress: str,
              parent: Mapping[str, Any]) -> ReceiverState:
        state = ReceiverState(self.name, str(payload["fingerprint"]), int(payload["episode"]), channel,
                              ts, progress, dict(parent))
        self._state.save_receiver_states([state])
        return state

    def _api(self, method: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        """One Slack call under the retry policy, its failure described without secrets."""

        def attempt() -> SlackResponse:
            try:
                return call()
            except SlackApiError as exc:
                status = int(exc.response.status_code)
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                error = str(data.get("error") or "")
                if status == 429 or error == "ratelimited":
                    after = retry_after_seconds(exc.response.headers)
                    raise Transient(f"{method} rate limited (HTTP {status})",
                                    1.0 if after is None else after) from None
                if status >= 500 or error in _TRANSIENT:
                    raise Transient(f"{method} answered HTTP {status} {error}".rstrip()) from None
                raise SlackDeliveryError(self._explain(method, status, error, data)) from None
            except (OSError, http.client.HTTPException) as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise Transient(f"{method} could not reach Slack ({reason})") from None
            except SlackRequestError as exc:
                raise SlackDeliveryError(f"slack receiver {self.name}: {method} failed: {exc}") from None

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
                             " (it needs chat:write, files:write, channels:read)",
            "invalid_blocks": "Slack rejected the blocks: " + "; ".join(map(str, data.get("errors", []))),
        }.get(error, "")
        detail = f" ({hint})" if hint else ""
        return f"slack receiver {self.name}: {method} failed: {error or f'HTTP {status}'}{detail}"


def _chart_or_none(history: pd.Series, payload: Mapping[str, Any]) -> bytes | None:
    try:
        return chart_png(history, payload)
    except Exception:  # a chart that cannot be drawn leaves the alert without one
        log.warning("chart not drawn series=%s", payload.get("series"), exc_info=True)
        return None


class SlackWebhookNotifier:
    """An incoming webhook: the same Block Kit in one message per notification."""

    def __init__(self, name: str, url: str, timeout: float = 10.0, history: HistoryFn | None = None,
                 mention: str | None = None, retry: RetryPolicy | None = None) -> None:
        self.name = name
        self._client = WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[])
        self._history = history
        self._mention = mention
        self._retry = retry or RetryPolicy()
        self._gate = Gate()

    def send(self, payload: Mapping[str, Any]) -> None:
        data = _Vintage(self._history, str(payload["series"]))
        blocks = render.alert_blocks(payload, data.at, self._mention)
        self._deliver(blocks, render.fallback_text(payload))

    def send_group(self, payloads: Sequence[Mapping[str, Any]], group_labels: Mapping[str, str]) -> None:
        """A digest without its CSV (webhooks cannot upload files)."""
        if payloads:
            self._deliver(render.digest_blocks(payloads, group_labels, 10),
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
                raise SlackDeliveryError(f"slack webhook {self.name}: HTTP {response.status_code} {body}")

        try:
            call_with_retries(attempt, self._retry, gate=self._gate)
        except Transient as exc:
            raise SlackDeliveryError(f"slack webhook {self.name}: {exc}; giving up for this drain, "
                                     "the notification stays in the outbox") from None
