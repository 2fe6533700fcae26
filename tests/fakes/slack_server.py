"""A fake Slack Web API on loopback, strict enough that the real slack_sdk client can be
tested against it.

It speaks the protocol as Slack does: Bearer token check (`ok: false, error: invalid_auth`
otherwise), form or JSON bodies as slack_sdk sends them, `ok: false` errors on HTTP 200,
Block Kit limits enforced (`invalid_blocks`), paginated conversations.list, chat.postMessage
and chat.update with message `metadata`, conversations.history (newest first: oldest,
latest, inclusive, limit, cursor) and conversations.replies (the parent, then its replies
and shared files, oldest first), both returning metadata only with include_all_metadata,
the three-step external upload of files_upload_v2 (files.getUploadURLExternal, a POST of the
bytes to the returned URL on this server, files.completeUploadExternal, which shares the
file as a message in the thread), and incoming webhooks under /services/. Message ts are
Unix times, as Slack's are. It rejects a thread_ts that is no message of the channel
(`thread_not_found`), so broken threading fails loudly. Faults can be injected for the next
N requests (429 with Retry-After, 500); every request can be slowed (`latency`); the answer
to a request Slack has acted on can be held back (`hold_responses`), the window in which
the client cannot know that its message exists; everything received is recorded.

Interactivity (tests/fakes/slack_interactive.py): `click` sends a signed `block_actions`
request for a button of a message it holds to an app's request URL, as Slack does, with a
`response_url` on this server, whose POSTs are recorded in `responses`; `socket_click` sends
the same payload as a Socket Mode `interactive` envelope over the websocket whose ws:// URL
apps.connections.open returns for the app token.

    with FakeSlack() as slack:
        client = WebClient(token=slack.token, base_url=slack.api_url)
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.slack_interactive import SignedRequest, WebSocketServer, block_actions

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40000
BOT_USER = "U0TRADEBOT"
BLOCK_TYPES = {"section", "header", "context", "divider", "image", "actions", "rich_text", "file",
               "input", "video", "markdown"}


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first
    metadata: dict[str, Any] | None = None


@dataclass
class Update:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str | None = None
    alt_txt: str | None = None
    content: bytes | None = None
    channel: str | None = None
    thread_ts: str | None = None
    share_ts: str | None = None  # the ts of the message that shared it


@dataclass
class Received:
    """One request as it arrived: what a test inspects to see what the client sent."""

    name: str  # API method, "upload" or "webhook"
    params: dict[str, Any]
    authorization: str | None
    at: float  # time.monotonic()
    status: int = 200


@dataclass
class _Fault:
    remaining: int
    status: int
    retry_after: float | None
    method: str | None


@dataclass
class _Hold:
    method: str
    match: Callable[[dict[str, Any]], bool] | None
    seconds: float
    holding: threading.Event
    released: threading.Event


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class FakeSlack:
    def __init__(self, token: str = "xoxb-fake-0000-token", channels: Sequence[Channel] | None = None,
                 page_size: int = 2, history_page_size: int = 100, latency: float = 0.0) -> None:
        self.token = token
        self.signing_secret = "fake-signing-secret-0123456789abcdef"
        self.app_token = "xapp-1-A0FAKE-0000-fake"
        self.responses: list[dict[str, Any]] = []  # what arrived at response_url, in order
        self.sockets: WebSocketServer | None = None  # Socket Mode, started by apps.connections.open
        self.page_size = page_size  # conversations.list
        self.history_page_size = history_page_size  # conversations.history and .replies
        self.latency = latency  # seconds per request: half before it is handled, half before the answer
        self.channels: list[Channel] = list(channels) if channels is not None else [
            Channel("C0GENERAL01", "general"), Channel("C0RANDOM001", "random"),
            Channel("C0OLD000001", "old-alerts", is_archived=True),
            Channel("C0SECRET001", "policy-private", is_private=True),
            Channel("C0TRADE0001", "trade-alerts"), Channel("C0QUIET0001", "quiet", is_member=False),
        ]
        self.requests: list[Received] = []
        self.messages: list[Message] = []
        self.updates: list[Update] = []
        self.files: dict[str, UploadedFile] = {}
        self.webhook_messages: list[dict[str, Any]] = []
        self._faults: list[_Fault] = []
        self._holds: list[_Hold] = []
        self._refusals: dict[str, tuple[str, dict[str, Any]]] = {}  # method -> Slack error, extra fields
        self.down = False  # unreachable: every connection is dropped without an answer
        self._lock = threading.Lock()
        self._counter = 0
        self._last_ts = Decimal(0)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-slack",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        if self.sockets is not None:
            self.sockets.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    @property
    def webhook_url(self) -> str:
        return self.base_url + "/services/T0FAKE/B0FAKE/fakewebhooksecret"

    # -- interactivity ------------------------------------------------------------------------
    def click_payload(self, channel: str, ts: str, action_id: str, user: str = "U0ANA0001",
                      user_name: str = "ana") -> dict[str, Any]:
        """What Slack sends when `user` clicks the button `action_id` of message `ts`."""
        with self._lock:
            self._counter += 1
            url = f"{self.base_url}/response/{self._counter}"
        return block_actions(self.message(channel, ts), action_id, user, user_name, url)

    def click(self, url: str, channel: str, ts: str, action_id: str, user: str = "U0ANA0001",
              user_name: str = "ana", at: float | None = None) -> tuple[int, SignedRequest]:
        """Click as Slack does: the signed request POSTed to the app's request URL (signed at
        `at`, a Unix time, default now). The HTTP status, and the request to replay or alter."""
        request = SignedRequest.of(self.click_payload(channel, ts, action_id, user, user_name),
                                   self.signing_secret, at)
        return request.send(url), request

    def socket_click(self, channel: str, ts: str, action_id: str, user: str = "U0ANA0001",
                     user_name: str = "ana", envelope_id: str | None = None) -> bool:
        """Click over Socket Mode: an `interactive` envelope to the connected client; True
        once the client acknowledges it."""
        if self.sockets is None:
            raise RuntimeError("no Socket Mode client has called apps.connections.open")
        payload = self.click_payload(channel, ts, action_id, user, user_name)
        envelope = {"envelope_id": envelope_id or f"env-{payload['trigger_id']}", "type": "interactive",
                    "accepts_response_payload": False, "payload": payload}
        return self.sockets.push(envelope)

    # -- faults and assertions ----------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500, retry_after: float | None = None,
                  method: str | None = None) -> None:
        """The next `count` requests (to `method` only, if given: an API method name,
        "upload" or "webhook") answer `status`; a 429 carries Retry-After."""
        with self._lock:
            self._faults.append(_Fault(count, status, retry_after, method))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def refuse(self, method: str, error: str, **extra: Any) -> None:
        """Every later `method` call answers as Slack does when it refuses one: HTTP 200 with
        `ok: false` and `error` (e.g. missing_scope with needed=channels:history), until
        allow(method)."""
        with self._lock:
            self._refusals[method] = (error, dict(extra))

    def allow(self, method: str) -> None:
        with self._lock:
            self._refusals.pop(method, None)

    def hold_responses(self, seconds: float, method: str = "chat.postMessage",
                       match: Callable[[dict[str, Any]], bool] | None = None) -> threading.Event:
        """The next `method` request that succeeds (and that `match` accepts, given its params)
        is handled as usual, its message stored, and then its answer is held back for
        `seconds` or until release(). The returned event is set once it is being held: Slack
        has the message, the client does not know yet."""
        hold = _Hold(method, match, seconds, threading.Event(), threading.Event())
        with self._lock:
            self._holds.append(hold)
        return hold.holding

    def release(self) -> None:
        """Answer every held request now."""
        with self._lock:
            for hold in self._holds:
                hold.released.set()

    def calls(self, name: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.name == name]

    def parents(self, channel: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.thread_ts is None]

    def replies(self, channel: str, ts: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.thread_ts == ts]

    def files_in_thread(self, channel: str, ts: str) -> list[UploadedFile]:
        with self._lock:
            return [f for f in self.files.values() if f.channel == channel and f.thread_ts == ts]

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            return next(m for m in self.messages if m.channel == channel and m.ts == ts)

    def with_metadata(self, channel: str, event_type: str) -> list[Message]:
        """Messages of the channel (parents and replies) whose metadata has that event type."""
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.metadata is not None
                    and m.metadata.get("event_type") == event_type]

    # -- request handling (called from the server's threads) ----------------------------------
    def _take_fault(self, name: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method in (None, name):
                fault.remaining -= 1
                return fault
        return None

    def _take_hold(self, name: str, params: dict[str, Any]) -> _Hold | None:
        """The first waiting hold for this request (its `match` runs under the lock)."""
        for hold in self._holds:
            if hold.holding.is_set() or hold.method != name:
                continue
            if hold.match is None or hold.match(params):
                hold.holding.set()
                return hold
        return None

    def _next_ts(self) -> str:
        """Unix time with microseconds, unique and increasing, as Slack's message ts."""
        self._last_ts = max(Decimal(f"{time.time():.6f}"), self._last_ts + Decimal("0.000001"))
        return f"{self._last_ts:.6f}"

    def _channel(self, value: Any) -> Channel:
        key = str(value or "")
        for channel in self.channels:
            if key in (channel.id, channel.name, "#" + channel.name):
                return channel
        raise SlackError("channel_not_found")

    def handle_api(self, method: str, params: dict[str, Any], authorization: str | None) -> dict[str, Any]:
        token = params.pop("token", None)
        if method == "apps.connections.open":  # the app-level token's one method here
            if authorization != f"Bearer {self.app_token}":
                raise SlackError("invalid_auth")
            if self.sockets is None:
                self.sockets = WebSocketServer()
            return {"ok": True, "url": self.sockets.url}
        if authorization is None and token is None:
            raise SlackError("not_authed")
        if authorization != f"Bearer {self.token}" and token != self.token:
            raise SlackError("invalid_auth")
        handler = {
            "auth.test": self._auth_test,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        if method in self._refusals:
            error, extra = self._refusals[method]
            raise SlackError(error, **extra)
        return handler(params)

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": "fake", "user": "tradewatch", "bot_id": "B0FAKE"}

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        types = str(params.get("types") or "public_channel").split(",")
        exclude_archived = str(params.get("exclude_archived", "")).lower() in ("1", "true")
        limit = max(1, min(int(params.get("limit") or 100), 1000, self.page_size))
        wanted = [c for c in self.channels
                  if ("private_channel" if c.is_private else "public_channel") in types
                  and not (exclude_archived and c.is_archived)]
        offset = 0
        if params.get("cursor"):
            try:
                offset = int(base64.b64decode(str(params["cursor"])).decode().removeprefix("offset:"))
            except ValueError:
                raise SlackError("invalid_cursor") from None
        page = wanted[offset:offset + limit]
        following = offset + limit
        cursor = base64.b64encode(f"offset:{following}".encode()).decode() if following < len(wanted) else ""
        return {"ok": True, "channels": [{"id": c.id, "name": c.name, "is_channel": True,
                                          "is_private": c.is_private, "is_archived": c.is_archived,
                                          "is_member": c.is_member} for c in page],
                "response_metadata": {"next_cursor": cursor}}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages (not replies in threads), newest first."""
        channel = self._member_channel(params)
        top = [m for m in self._timeline(channel) if m.get("thread_ts") in (None, m["ts"])]
        return self._page(list(reversed(top)), params, newest_first=True)

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent first, then replies and shared files, oldest first."""
        channel = self._member_channel(params)
        ts = str(params.get("ts") or "")
        if not self._is_parent(channel, ts):
            raise SlackError("thread_not_found")
        thread = [m for m in self._timeline(channel) if m["ts"] == ts or m.get("thread_ts") == ts]
        return self._page(thread, params, newest_first=False)

    def _member_channel(self, params: dict[str, Any]) -> Channel:
        channel = self._channel(params.get("channel"))
        if not channel.is_member:
            raise SlackError("not_in_channel")
        return channel

    def _timeline(self, channel: Channel) -> list[dict[str, Any]]:
        """Every message and file share of a channel as the API shows it, oldest first;
        metadata is kept under a private key until _page decides whether to show it."""
        replies: dict[str, int] = {}
        for m in self.messages:
            if m.channel == channel.id and m.thread_ts is not None:
                replies[m.thread_ts] = replies.get(m.thread_ts, 0) + 1
        for f in self.files.values():
            if f.channel == channel.id and f.thread_ts is not None and f.share_ts is not None:
                replies[f.thread_ts] = replies.get(f.thread_ts, 0) + 1
        items: list[dict[str, Any]] = []
        for m in self.messages:
            if m.channel != channel.id:
                continue
            item: dict[str, Any] = {"type": "message", "user": BOT_USER, "bot_id": "B0FAKE", "text": m.text,
                                    "ts": m.ts, "blocks": m.blocks, "_metadata": m.metadata}
            if m.thread_ts is not None:
                item["thread_ts"] = m.thread_ts
            elif m.ts in replies:
                item.update(thread_ts=m.ts, reply_count=replies[m.ts])
            items.append(item)
        for f in self.files.values():
            if f.channel == channel.id and f.share_ts is not None:
                item = {"type": "message", "user": BOT_USER, "text": "", "ts": f.share_ts, "upload": True,
                        "files": [{"id": f.id, "name": f.filename, "title": f.title}], "_metadata": None}
                if f.thread_ts is not None:
                    item["thread_ts"] = f.thread_ts
                items.append(item)
        return sorted(items, key=lambda i: Decimal(i["ts"]))

    def _page(self, items: list[dict[str, Any]], params: dict[str, Any],
              newest_first: bool) -> dict[str, Any]:
        """oldest/latest (exclusive unless `inclusive`), then `limit` items from the cursor, which
        names the last item returned, so messages posted meanwhile do not shift the pages."""
        inclusive = _truthy(params.get("inclusive"))
        try:
            oldest = Decimal(str(params.get("oldest") or "0"))
            latest = Decimal(str(params["latest"])) if params.get("latest") else None
            limit = int(params.get("limit") or 100)
        except (ValueError, ArithmeticError):
            raise SlackError("invalid_arguments") from None
        limit = max(1, min(limit, 999, self.history_page_size))

        def within(item: dict[str, Any]) -> bool:
            ts = Decimal(item["ts"])
            above = ts >= oldest if inclusive else ts > oldest
            below = latest is None or (ts <= latest if inclusive else ts < latest)
            return above and below

        items = [i for i in items if within(i)]
        if params.get("cursor"):  # the items beyond the last one returned
            try:
                after = Decimal(base64.b64decode(str(params["cursor"])).decode().removeprefix("next_ts:"))
            except (ValueError, ArithmeticError):
                raise SlackError("invalid_cursor") from None
            items = [i for i in items if (Decimal(i["ts"]) - after) * (-1 if newest_first else 1) > 0]
        page, more = items[:limit], len(items) > limit
        show = _truthy(params.get("include_all_metadata"))
        messages = []
        for item in page:
            shown = {k: v for k, v in item.items() if k != "_metadata"}
            if show and item["_metadata"] is not None:
                shown["metadata"] = item["_metadata"]
            messages.append(shown)
        cursor = base64.b64encode(f"next_ts:{page[-1]['ts']}".encode()).decode() if more else ""
        return {"ok": True, "messages": messages, "has_more": more,
                "response_metadata": {"next_cursor": cursor}}

    def _metadata(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """Message metadata as Slack checks it: an object with an event_type and an object
        event_payload (a JSON string in a form body)."""
        value = params.get("metadata")
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise SlackError("invalid_metadata_format") from None
        if not isinstance(value, dict) or not isinstance(value.get("event_type"), str) \
                or not value["event_type"] or not isinstance(value.get("event_payload"), dict):
            raise SlackError("invalid_metadata_schema")
        return {"event_type": value["event_type"], "event_payload": value["event_payload"]}

    def _message_content(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                raise SlackError("invalid_blocks_format") from None
        blocks = blocks or []
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        errors = block_errors(blocks)
        if errors:
            raise SlackError("invalid_blocks", errors=errors,
                             response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
        text = str(params.get("text") or "")
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        return text, blocks

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"))
        if not channel.is_member:
            raise SlackError("not_in_channel")
        if channel.is_archived:
            raise SlackError("is_archived")
        text, blocks = self._message_content(params)
        metadata = self._metadata(params)
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None and not self._is_parent(channel, thread_ts):
            raise SlackError("thread_not_found")
        message = Message(channel.id, self._next_ts(), text, blocks, thread_ts, metadata=metadata)
        self.messages.append(message)
        shown: dict[str, Any] = {"type": "message", "text": text, "blocks": blocks, "ts": message.ts}
        if metadata is not None:
            shown["metadata"] = metadata
        return {"ok": True, "channel": channel.id, "ts": message.ts, "message": shown}

    def _is_parent(self, channel: Channel, ts: str) -> bool:
        return any(m.channel == channel.id and m.ts == ts and m.thread_ts is None for m in self.messages)

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"))
        ts = str(params.get("ts") or "")
        target = next((m for m in self.messages if m.channel == channel.id and m.ts == ts), None)
        if target is None:
            raise SlackError("message_not_found")
        text, blocks = self._message_content(params)
        metadata = self._metadata(params)
        target.edits.append({"text": target.text, "blocks": target.blocks})
        target.text, target.blocks = text, blocks
        if metadata is not None:  # without the argument Slack keeps the message's metadata
            target.metadata = metadata
        self.updates.append(Update(channel.id, ts, text, blocks))
        return {"ok": True, "channel": channel.id, "ts": ts, "text": text}

    def _get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            raise SlackError("invalid_arguments") from None
        if not filename or length <= 0:
            raise SlackError("invalid_arguments")
        self._counter += 1
        file_id = f"F{self._counter:010d}"
        self.files[file_id] = UploadedFile(file_id, str(filename), length, alt_txt=params.get("alt_txt"))
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    def handle_upload(self, file_id: str, body: bytes) -> None:
        uploaded = self.files.get(file_id)
        if uploaded is None:
            raise SlackError("file_not_found")
        uploaded.content = body

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            files = json.loads(str(params.get("files") or ""))
        except ValueError:
            raise SlackError("invalid_arguments") from None
        channel_id = params.get("channel_id") or None
        thread_ts = params.get("thread_ts") or None
        channel = self._channel(channel_id) if channel_id else None
        if channel is not None and not channel.is_member:
            raise SlackError("not_in_channel")
        if thread_ts is not None and (channel is None or not self._is_parent(channel, thread_ts)):
            raise SlackError("thread_not_found")
        done = []
        for item in files if isinstance(files, list) else []:
            uploaded = self.files.get(str(item.get("id")))
            if uploaded is None or uploaded.content is None:
                raise SlackError("file_not_found")
            uploaded.title = item.get("title")
            uploaded.channel = channel.id if channel else None
            uploaded.thread_ts = thread_ts
            uploaded.share_ts = self._next_ts() if channel else None
            done.append({"id": uploaded.id, "title": uploaded.title, "name": uploaded.filename})
        if not done:
            raise SlackError("invalid_arguments")
        return {"ok": True, "files": done}

    def handle_webhook(self, body: dict[str, Any]) -> None:
        self._message_content(body)
        self.webhook_messages.append(body)


def block_errors(blocks: list[Any]) -> list[str]:
    """What Slack would say about these blocks, in its words; empty when they are valid."""
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCK_TYPES:
            errors.append(f"unsupported type: {kind} [json-pointer:{where}/type]")
            continue
        if kind == "header":
            errors += _text_errors(block.get("text"), f"{where}/text", MAX_HEADER, plain_only=True)
        elif kind == "section":
            if block.get("text") is None and not block.get("fields"):
                errors.append(f"must provide text or fields [json-pointer:{where}]")
            if block.get("text") is not None:
                errors += _text_errors(block["text"], f"{where}/text", MAX_TEXT)
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS:
                errors.append(f"no more than {MAX_FIELDS} items allowed [json-pointer:{where}/fields]")
            for j, item in enumerate(fields):
                errors += _text_errors(item, f"{where}/fields/{j}", MAX_FIELD)
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
                errors.append(f"must have 1 to {MAX_CONTEXT_ELEMENTS} items [json-pointer:{where}/elements]")
            for j, item in enumerate(elements):
                if isinstance(item, dict) and item.get("type") in ("plain_text", "mrkdwn"):
                    errors += _text_errors(item, f"{where}/elements/{j}", MAX_TEXT)
    return errors


def _text_errors(obj: Any, where: str, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"must be a text object [json-pointer:{where}]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"must be plain_text [json-pointer:{where}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake: FakeSlack = self.server.fake  # type: ignore[attr-defined]
        if fake.down:  # as if Slack were unreachable: the connection closes with no answer
            self.close_connection = True
            return
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/api/"):
            name = url.path.removeprefix("/api/")
        elif url.path.startswith("/upload/"):
            name = "upload"
        elif url.path.startswith("/services/"):
            name = "webhook"
        elif url.path.startswith("/response/"):
            name = "response"
        else:
            self._reply(404, b"not found", "text/plain")
            return
        params = _params(url.query, raw, self.headers.get("Content-Type", "")) if name != "upload" else {}
        received = Received(name, dict(params), self.headers.get("Authorization"), time.monotonic())
        latency = fake.latency
        time.sleep(latency / 2)
        hold = None
        with fake._lock:
            fake.requests.append(received)
            fault = fake._take_fault(name)
            if fault is not None:
                received.status = fault.status
            else:
                outcome = self._handle(fake, name, url.path, params, raw)
                received.status = outcome[0]
                hold = fake._take_hold(name, params) if outcome[3] else None
        time.sleep(latency / 2)
        if hold is not None:
            hold.released.wait(hold.seconds)
        try:
            if fault is not None:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                body = json.dumps({"ok": False, "error": "ratelimited"}).encode() if fault.status == 429 \
                    else b"<html><body>Internal Server Error</body></html>"
                kind = "application/json; charset=utf-8" if fault.status == 429 else "text/html"
                self._reply(fault.status, body, kind, headers)
            else:
                self._reply(*outcome[:3])
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timed out, or was killed)
            self.close_connection = True

    def _handle(self, fake: FakeSlack, name: str, path: str, params: dict[str, Any],
                raw: bytes) -> tuple[int, bytes, str, bool]:
        """Status, body, content type, and whether the request succeeded."""
        if name == "upload":
            try:
                fake.handle_upload(path.removeprefix("/upload/"), raw)
            except SlackError:
                return 404, b"file not found", "text/plain", False
            return 200, f"OK - {len(raw)}".encode(), "text/plain", True
        if name == "response":  # a response_url: Slack answers ok to a valid JSON message
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                return 400, b"invalid_payload", "text/plain", False
            fake.responses.append({"path": path, **body})
            return 200, b"ok", "text/plain", True
        if name == "webhook":
            if not path.endswith("/fakewebhooksecret"):
                return 404, b"no_service", "text/plain", False
            try:
                fake.handle_webhook(params)
            except SlackError as exc:
                return 400, exc.error.encode(), "text/plain", False
            return 200, b"ok", "text/plain", True
        try:
            data = fake.handle_api(name, params, self.headers.get("Authorization"))
        except SlackError as exc:
            data = {"ok": False, "error": exc.error, **exc.extra}
        return 200, json.dumps(data).encode(), "application/json; charset=utf-8", bool(data.get("ok"))

    def _reply(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


def _params(query: str, raw: bytes, content_type: str) -> dict[str, Any]:
    """Query string and body, form-encoded or JSON, as one flat mapping (Slack accepts both)."""
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if not raw:
        return params
    if content_type.startswith("application/json"):
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
    else:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    return params


def _truthy(value: Any) -> bool:
    """A boolean argument as slack_sdk sends it: 1/0 in a query string, true/false in JSON."""
    return value is True or str(value).lower() in ("1", "true")


def iter_blocks_text(blocks: list[dict[str, Any]]) -> Iterator[str]:
    """Every text string in a message's blocks, for assertions about what a reader sees."""
    for block in blocks:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                yield str(block[key].get("text", ""))
        for item in block.get("fields") or []:
            yield str(item.get("text", ""))
        for item in block.get("elements") or []:
            if isinstance(item, dict) and "text" in item:
                yield str(item["text"])
