"""Slack's side of interactivity, for the fake Slack server (tests/fakes/slack_server.py).

- `block_actions`: the payload Slack sends when someone clicks a button of a message, built
  from the message as the fake holds it (the button's action_id and value, the container,
  a fresh trigger_id and action_ts, a `response_url` on the fake).
- `SignedRequest`: that payload as Slack posts it to an app's request URL: form-encoded
  `payload=<JSON>`, `X-Slack-Request-Timestamp` and `X-Slack-Signature` (v0: HMAC-SHA256 of
  `v0:<timestamp>:<body>` with the app's signing secret); it can be sent again as it was
  (a replay) or altered (bad signature, stale timestamp, missing header).
- `WebSocketServer`: the end of a Socket Mode connection, RFC 6455 over loopback (ws://):
  apps.connections.open hands its URL to the client, `hello` on connect, envelopes pushed to
  the client, their acknowledgements recorded, pings answered.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

TEAM = "T0FAKE"
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_counter = itertools.count(1)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def block_actions(message: Any, action_id: str, user: str, user_name: str, response_url: str,
                  channel_name: str = "trade-alerts") -> dict[str, Any]:
    """The payload of a click on the button `action_id` of `message` (a fake Message)."""
    button = next((element for block in message.blocks if block.get("type") == "actions"
                   for element in block.get("elements") or [] if element.get("action_id") == action_id), None)
    if button is None:
        raise LookupError(f"message {message.ts} has no button {action_id!r}")
    n = next(_counter)
    return {
        "type": "block_actions", "api_app_id": "A0FAKE", "token": "legacy-verification-token",
        "user": {"id": user, "username": user_name, "name": user_name, "team_id": TEAM},
        "team": {"id": TEAM, "domain": "fake"}, "enterprise": None, "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                      "is_ephemeral": False},
        "trigger_id": f"{n}.{int(time.time())}.fake{n:08x}",
        "channel": {"id": message.channel, "name": channel_name},
        "message": {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
        "state": {"values": {}}, "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": button.get("block_id", ""),
                     "text": button["text"], "value": button.get("value", ""),
                     "action_ts": f"{time.time():.6f}"}],
    }


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, payload: dict[str, Any], secret: str, at: float | None = None) -> SignedRequest:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        timestamp = str(int(time.time() if at is None else at))
        return cls(body, {"Content-Type": "application/x-www-form-urlencoded",
                          "X-Slack-Request-Timestamp": timestamp,
                          "X-Slack-Signature": sign(secret, timestamp, body)})

    def without(self, header: str) -> SignedRequest:
        return replace(self, headers={k: v for k, v in self.headers.items() if k != header})

    def with_header(self, header: str, value: str) -> SignedRequest:
        return replace(self, headers={**self.headers, header: value})

    def send(self, url: str, timeout: float = 30.0) -> int:
        """POST it to `url`; the HTTP status."""
        request = urllib.request.Request(url, data=self.body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)


class WebSocketServer:
    """The server end of Socket Mode connections: one thread per client."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._clients: list[socket.socket] = []
        self.acks: list[str] = []  # envelope ids the client acknowledged
        self.connections = 0
        self._lock = threading.Lock()
        self._acked = threading.Condition(self._lock)
        self._stopping = False
        threading.Thread(target=self._accept, name="fake-slack-ws", daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake"

    def stop(self) -> None:
        self._stopping = True
        self._listener.close()
        with self._lock:
            for client in self._clients:
                with contextlib.suppress(OSError):
                    client.close()

    def push(self, envelope: dict[str, Any], wait: float = 60.0) -> bool:
        """Send an envelope to every connected client; True once it is acknowledged."""
        deadline = time.monotonic() + wait
        with self._lock:
            while not self._clients and time.monotonic() < deadline:
                self._acked.wait(0.05)
            for client in self._clients:
                _send_frame(client, 0x1, json.dumps(envelope).encode())
            while envelope["envelope_id"] not in self.acks and time.monotonic() < deadline:
                self._acked.wait(0.05)
            return envelope["envelope_id"] in self.acks

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = client.recv(4096)
                if not chunk:
                    return
                request += chunk
            headers = dict(line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line)
            key = headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
            client.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            with self._lock:
                self.connections += 1
                self._clients.append(client)
                _send_frame(client, 0x1, json.dumps({"type": "hello", "num_connections": 1}).encode())
                self._acked.notify_all()
            reader = client.makefile("rb")
            while True:
                opcode, data = _read_frame(reader)
                if opcode == 0x8:
                    return
                with self._lock:
                    if opcode == 0x9:
                        _send_frame(client, 0xA, data)
                    elif opcode == 0x1:
                        message = json.loads(data)
                        if "envelope_id" in message:
                            self.acks.append(str(message["envelope_id"]))
                            self._acked.notify_all()
        except (OSError, ValueError, struct.error):
            return
        finally:
            with self._lock:
                if client in self._clients:
                    self._clients.remove(client)
            client.close()


def _send_frame(client: socket.socket, opcode: int, data: bytes) -> None:
    """A server frame: final, unmasked."""
    head = bytes([0x80 | opcode])
    if len(data) < 126:
        head += bytes([len(data)])
    elif len(data) < 1 << 16:
        head += bytes([126]) + struct.pack(">H", len(data))
    else:
        head += bytes([127]) + struct.pack(">Q", len(data))
    client.sendall(head + data)


def _read_frame(reader: Any) -> tuple[int, bytes]:
    """A client frame (clients mask theirs); fragments are not expected from slack_sdk."""
    first, second = reader.read(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", reader.read(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", reader.read(8))[0]
    mask = reader.read(4) if second & 0x80 else b"\0\0\0\0"
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(reader.read(length)))
    return first & 0x0F, data
