"""The HTTP endpoint: /metrics, /-/healthy, /-/ready, /-/leader, the JSON API under /api/v1/
and the web pages under /ui/."""

from __future__ import annotations

import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from monitor.api import Api

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would drown the log; stay silent."""


Probe = Callable[[], tuple[bool, str]]
# For /ui/: None when the request carries the API's credentials, else the refusal (code, body).
UI_DENIED = "tradewatch.denied"
# For /ui/ forms posted without script: the same verdict for a token typed into the form.
UI_CHECK = "tradewatch.check"


def build_app(metrics_app: Callable[..., Iterable[bytes]], healthy: Probe, ready: Probe,
              api: Api | None = None, reload: Probe | None = None,
              api_token: str | None = None, leader: Probe | None = None,
              slack_events: Callable[..., Iterable[bytes]] | None = None,
              ui: Callable[..., Iterable[bytes]] | None = None) -> Callable[..., Iterable[bytes]]:
    """Read-only routes are open; anything that changes state needs `Authorization: Bearer
    <token>` and is disabled when no token is configured. `metrics_app` serves /metrics; `ui`
    serves /ui/, told in `environ[UI_DENIED]` whether the request may change state."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics_app(environ, start_response)
        if path == "/slack/events" and slack_events is not None:  # signed by Slack: monitor/slack_events.py
            return slack_events(environ, start_response)
        if api is not None and path.startswith("/api/v1/"):
            query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            code, body = _api_route(api, path.removeprefix("/api/v1/"), environ, query, api_token)
            return _json(start_response, code, body)
        if ui is not None and (path == "/ui" or path.startswith("/ui/")):
            environ[UI_DENIED] = _authorize(environ, api_token)
            environ[UI_CHECK] = lambda typed: _verdict(f"Bearer {typed}", api_token)
            return ui(environ, start_response)
        if path == "/-/reload":
            if environ.get("REQUEST_METHOD") != "POST":
                return _json(start_response, 405, {"status": "error", "error": "use POST"})
            denied = _authorize(environ, api_token)
            if denied is not None:
                return _json(start_response, *denied)
            if reload is None:
                return _json(start_response, 404, {"status": "error", "error": "reload not available"})
            ok, message = reload()
            return _json(start_response, 200 if ok else 400,
                         {"status": "success" if ok else "error", "message": message})
        if path in ("/-/healthy", "/-/ready") or (path == "/-/leader" and leader is not None):
            probe = {"/-/healthy": healthy, "/-/ready": ready}.get(path, leader)
            assert probe is not None
            ok, message = probe()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [(message + "\n").encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found; try /metrics, /-/healthy, /-/ready or /api/v1/alerts\n"]

    return app


def _api_route(api: Api, route: str, environ: dict[str, Any], query: dict[str, str],
               token: str | None) -> tuple[int, Any]:
    method = environ.get("REQUEST_METHOD", "GET")
    try:
        changes = (route == "silences" and method == "POST") or (
            route.startswith("silences/") and method == "DELETE")
        if changes:
            denied = _authorize(environ, token)
            if denied is not None:
                return denied
            if method == "DELETE":
                return api.expire_silence(route.removeprefix("silences/"))
            return api.create_silence(_read_json(environ))
        if method not in ("GET", "HEAD"):
            return 405, {"status": "error", "error": "method not allowed"}
        if route == "alerts":
            return api.alerts(query)
        if route == "silences":
            return api.silences(query)
        if route == "outbox":
            return api.outbox(query)
        if route == "series":
            return api.series_list(query)
        if route.startswith("series/"):
            return api.series_detail(route.removeprefix("series/"), query)
    except ValueError as exc:
        return 400, {"status": "error", "error": str(exc)}
    except Exception:
        log.exception("api error route=%s", route)
        return 500, {"status": "error", "error": "internal error"}
    return 404, {"status": "error", "error": f"no such endpoint /api/v1/{route}"}


_MAX_BODY = 1 << 20


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request's body, refused (ValueError) past `limit` bytes; b"" without one."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise ValueError("request body too large")
    return environ["wsgi.input"].read(length) if length else b""


def _read_json(environ: dict[str, Any]) -> Any:
    raw = read_body(environ, _MAX_BODY)
    try:
        return json.loads(raw or b"null")
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _authorize(environ: dict[str, Any], token: str | None) -> tuple[int, Any] | None:
    """None when allowed, else the error response; constant-time comparison."""
    return _verdict(environ.get("HTTP_AUTHORIZATION", ""), token)


def _verdict(given: str, token: str | None) -> tuple[int, Any] | None:
    """An Authorization value against the API token: None when it is the bearer token."""
    if not token:
        return 403, {"status": "error",
                     "error": "state-changing endpoints are disabled: set TRADEWATCH_API_TOKEN"}
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return 401, {"status": "error", "error": "missing or wrong bearer token"}
    return None


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}


def _json(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    payload = json.dumps(body, ensure_ascii=False).encode()
    start_response(f"{status} {_REASONS.get(status, '')}".strip(),
                   [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


class HttpServer:
    """A threaded WSGI server on its own thread; port 0 picks a free port."""

    def __init__(self, host: str, port: int, app: Callable[..., Iterable[bytes]],
                 server_class: type[WSGIServer] | None = None) -> None:
        """`server_class` comes from monitor/websecurity.py (TLS, dual stack)."""
        server_class = server_class or (_ThreadingServer6 if ":" in host else _ThreadingServer)
        self._server = make_server(host, port, app, server_class=server_class,
                                   handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
