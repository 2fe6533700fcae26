"""Slack's interactive requests (button clicks) reaching the daemon, two ways into one handler
(monitor/notify/slack_actions.py):

- `POST /slack/events` on the daemon's listener, when SLACK_SIGNING_SECRET is set: the v0
  signature is checked with slack_sdk's SignatureVerifier; a missing or wrong signature, or
  a timestamp more than 5 minutes from now, is answered 401 and changes nothing.
- Socket Mode, when SLACK_APP_TOKEN is set (deployments without a public URL): slack_sdk's
  builtin client holds a websocket to Slack; each `interactive` envelope is acknowledged and
  handed to the same handler.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient

from monitor.notify.slack import APP_TOKEN_ENV, SIGNING_SECRET_ENV, api_base_url
from monitor.notify.slack_actions import SlackActions

log = logging.getLogger(__name__)

PATH = "/slack/events"
RETRY_SECONDS = 30
MAX_BODY = 1 << 20  # Slack's interaction payloads are a few kB
StartResponse = Callable[..., Any]


class SlackEvents:
    """The WSGI app behind `POST /slack/events`."""

    def __init__(self, signing_secret: str, actions: SlackActions) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._actions = actions

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(start_response, "405 Method Not Allowed", b"use POST\n")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return _reply(start_response, "413 Content Too Large", b"request body too large\n")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {"x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE"),
                   "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")}
        if not self._valid(body, headers):
            log.warning("slack request refused: missing or wrong signature, or stale timestamp")
            return _reply(start_response, "401 Unauthorized", b"invalid signature\n")
        payload = _payload(body, str(environ.get("CONTENT_TYPE") or ""))
        if payload is None:
            return _reply(start_response, "400 Bad Request", b"no payload\n")
        if payload.get("type") == "url_verification":  # the Events API's handshake
            answer = json.dumps({"challenge": str(payload.get("challenge", ""))}).encode()
            return _reply(start_response, "200 OK", answer, "application/json")
        try:
            self._actions.handle(payload)
        except Exception:  # the request was Slack's; a bug must not kill the listener
            log.exception("slack interaction failed")
        return _reply(start_response, "200 OK", b"")

    def _valid(self, body: bytes, headers: Mapping[str, str | None]) -> bool:
        if not headers["x-slack-signature"] or not headers["x-slack-request-timestamp"]:
            return False
        try:
            return self._verifier.is_valid_request(body, {k: v for k, v in headers.items() if v})
        except (ValueError, TypeError):  # a timestamp that is not a number
            return False


def _payload(body: bytes, content_type: str) -> dict[str, Any] | None:
    """Interactions come form-encoded (`payload=<JSON>`); the Events API sends JSON."""
    try:
        if content_type.startswith("application/json"):
            data = json.loads(body)
        else:
            values = parse_qs(body.decode("utf-8")).get("payload")
            data = json.loads(values[-1]) if values else None
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _reply(start_response: StartResponse, status: str, body: bytes,
           kind: str = "text/plain; charset=utf-8") -> list[bytes]:
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]


class SocketMode:
    """Slack's Socket Mode: interactive envelopes over a websocket, each acknowledged and
    handed to the same handler as /slack/events."""

    def __init__(self, app_token: str, actions: SlackActions, api_url: str) -> None:
        self._actions = actions
        self._client = SocketModeClient(app_token=app_token, web_client=WebClient(base_url=api_url),
                                        logger=log)
        self._client.socket_mode_request_listeners.append(self._on_request)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._connect, name="slack-socket-mode", daemon=True)

    def start(self) -> None:
        """Connect on a thread of its own (apps.connections.open, then the websocket), trying
        again every `RETRY_SECONDS` until it connects: Slack being unreachable at start-up
        must not stop the daemon. Once connected, the client reconnects on its own."""
        self._thread.start()

    def _connect(self) -> None:
        while not self._stopping.is_set():
            try:
                self._client.connect()
                log.info("slack socket mode connected")
                return
            except Exception as exc:  # slack_sdk raises plain Exceptions for a failed handshake
                log.warning("slack socket mode cannot connect (%s); trying again in %ds",
                            type(exc).__name__, RETRY_SECONDS)
            self._stopping.wait(RETRY_SECONDS)

    def stop(self) -> None:
        self._stopping.set()
        self._client.close()

    def _on_request(self, client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        if request.type != "interactive":
            return
        try:
            self._actions.handle(request.payload)
        except Exception:
            log.exception("slack interaction failed")


def from_env(env: Mapping[str, str], actions: SlackActions) -> tuple[SlackEvents | None, SocketMode | None]:
    """The ways clicks can arrive, as the environment allows: /slack/events with a signing
    secret, Socket Mode with an app token, both, or neither (then messages have no buttons)."""
    secret = env.get(SIGNING_SECRET_ENV, "").strip()
    app_token = env.get(APP_TOKEN_ENV, "").strip()
    events = SlackEvents(secret, actions) if secret else None
    socket = SocketMode(app_token, actions, api_base_url(None, env)) if app_token else None
    return events, socket
