"""A real HTTP server on 127.0.0.1 (port 0) whose answers a test scripts per path: sources are
tested against sockets, status codes and headers, not mocks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    wait: float = 0.0  # seconds before answering: a slow publisher

    @classmethod
    def fixture(cls, name: str, content_type: str = "", **kwargs: Any) -> Reply:
        if not content_type:
            content_type = "application/json" if name.endswith(".json") else "application/xml"
        return cls(body=fixture_bytes(name), headers={"Content-Type": content_type}, **kwargs)


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    target: str  # path and query as sent
    method: str = "GET"
    body: bytes = b""


Responder = Callable[[Request], Reply]


class LocalServer:
    """Routes map a path to replies given in order (the last one repeats) or to a function
    of the request. Unrouted paths answer 404. Every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: dict[str, list[Reply] | Responder] = {}
        self._served: dict[str, int] = {}
        self._closing = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(b"")

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _answer(self, body: bytes) -> None:
                split = urlsplit(self.path)
                request = Request(split.path, dict(parse_qsl(split.query)),
                                  {k.lower(): v for k, v in self.headers.items()}, self.path,
                                  self.command, body)
                reply = server._reply(request)
                if reply.wait:
                    server._closing.wait(reply.wait)
                self.log_request(reply.status)
                self.send_response_only(reply.status)
                if "Date" not in reply.headers:
                    self.send_header("Date", self.date_time_string())
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client may have given up waiting
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, path: str, *replies: Reply | Responder) -> None:
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            self._routes[path] = replies[0]
        else:
            self._routes[path] = [r for r in replies if isinstance(r, Reply)]

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            route = self._routes.get(request.path)
            if route is None:
                return Reply(404, b"not here")
            if callable(route):
                return route(request)
            count = self._served.get(request.path, 0)
            self._served[request.path] = count + 1
            return route[min(count, len(route) - 1)]

    def close(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


# --- a server answering in UN Comtrade v1's format ---------------------------------------------

ComtradeValue = Callable[[str, str, str, str, str], float | None]


def comtrade_responder(value: ComtradeValue) -> Responder:
    """Answers /data/v1/get and /public/v1/preview like Comtrade: one record per requested
    (reporter, partner, flow, commodity, period) that `value` gives a number for, shaped
    like the real record in comtrade_v1_data_get_C_A_HS_china_2010.json."""
    import json

    template = json.loads(fixture_bytes("comtrade_v1_data_get_C_A_HS_china_2010.json"))["data"][0]

    def respond(request: Request) -> Reply:
        q = request.query
        freq = request.path.rstrip("/").split("/")[-2]
        records = []
        for reporter in q["reporterCode"].split(","):
            for partner in q["partnerCode"].split(","):
                for flow in q["flowCode"].split(","):
                    for cmd in q["cmdCode"].split(","):
                        for period in q["period"].split(","):
                            number = value(reporter, partner, flow, cmd, period)
                            if number is None:
                                continue
                            records.append({
                                **template, "freqCode": freq, "period": period,
                                "refYear": int(period[:4]),
                                "refMonth": int(period[4:]) if len(period) == 6 else 52,
                                "reporterCode": int(reporter), "reporterISO": None,
                                "partnerCode": int(partner), "partnerISO": None,
                                "flowCode": flow, "cmdCode": cmd, "primaryValue": number,
                                "cifvalue": number if flow == "M" else None,
                                "fobvalue": number if flow == "X" else None,
                            })
        body = {"elapsedTime": "0.01 secs", "count": len(records), "data": records, "error": ""}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    return respond


# --- a server answering like Slack's Web API ---------------------------------------------------


def slack_responder(server_url: str) -> Responder:
    """Enough of Slack's Web API for a notifier to post, thread, edit and upload a chart; the
    test reads what was sent from the recorded requests."""
    import json

    answers: dict[str, dict[str, object]] = {
        "conversations.list": {"channels": [{"id": "C0TRADE01", "name": "trade-alerts"}],
                               "response_metadata": {"next_cursor": ""}},
        "chat.postMessage": {"channel": "C0TRADE01", "ts": "1700000000.000100"},
        "chat.update": {"channel": "C0TRADE01", "ts": "1700000000.000100"},
        "files.getUploadURLExternal": {"upload_url": f"{server_url}/upload/F0CHART", "file_id": "F0CHART"},
        "files.completeUploadExternal": {"files": [{"id": "F0CHART", "title": "chart"}]},
    }

    def respond(request: Request) -> Reply:
        method = request.path.rsplit("/", 1)[-1]
        body = {"ok": True, **answers.get(method, {})}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    return respond
