"""The generic JSON webhook: retries like Slack, and never quotes its URL in errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitor.notify.webhook import DeliveryError, WebhookNotifier
from monitor.retry import RetryPolicy
from tests.fakes.payloads import payload

FAST = RetryPolicy(attempts=3, deadline=10.0, backoff=0.01, max_backoff=0.05)


class Hook:
    """A loopback endpoint answering a scripted list of statuses, then 200."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str]]] = []
        self.received: list[tuple[float, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.received.append((time.monotonic(), json.loads(body)))
                status, headers = hook.script.pop(0) if hook.script else (200, {})
                if status == 0:
                    time.sleep(1.0)  # slower than the client's timeout
                    status = 200
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"no")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out first, as the timeout test wants

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook/secret-path-token"


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_the_body_is_the_alert(hook: Hook) -> None:
    WebhookNotifier("ops", hook.url, 5.0, retry=FAST).send(payload())
    [(_, body)] = hook.received
    assert body["receiver"] == "ops" and body["status"] == "firing"
    assert body["alert"]["series"] == "rus-chn/import/total"


def test_429_waits_for_retry_after_and_5xx_backs_off(hook: Hook) -> None:
    hook.script = [(429, {"Retry-After": "0.3"}), (503, {})]
    WebhookNotifier("ops", hook.url, 5.0, retry=FAST).send(payload())
    times = [at for at, _ in hook.received]
    assert len(times) == 3 and times[1] - times[0] >= 0.3


def test_a_timeout_is_retried(hook: Hook) -> None:
    hook.script = [(0, {})]
    WebhookNotifier("ops", hook.url, 0.3, retry=FAST).send(payload())
    assert len(hook.received) == 2


def test_failures_raise_without_the_url(hook: Hook) -> None:
    hook.script = [(500, {})] * 5
    with pytest.raises(DeliveryError, match="webhook ops answered HTTP 500") as persistent:
        WebhookNotifier("ops", hook.url, 5.0, retry=FAST).send(payload())
    assert len(hook.received) == FAST.attempts
    hook.script = [(400, {})]
    with pytest.raises(DeliveryError, match="HTTP 400") as rejected:
        WebhookNotifier("ops", hook.url, 5.0, retry=FAST).send(payload())
    assert len(hook.received) == FAST.attempts + 1  # a 4xx is not retried
    for raised in (persistent, rejected):
        assert "secret-path-token" not in str(raised.value)
