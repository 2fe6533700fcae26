"""What the daemon serves on its listener: /metrics, the probes, the JSON API, the pages and
Slack's button clicks (over HTTP or Socket Mode). Built together when the daemon starts, and
stopped together: the clicks' queued Slack work is sent before the store closes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.alerts.book import AlertBook
from monitor.api import Api
from monitor.config import parse_listen
from monitor.config.web import WebConfig
from monitor.http import HttpServer, build_app
from monitor.notify.slack_actions import SlackActions
from monitor.runtime import Runtime
from monitor.slack_events import from_env
from monitor.store import Store
from monitor.ui import Ui
from monitor.websecurity import scheme, serve

Probe = Callable[[], tuple[bool, str]]


@dataclass(frozen=True, slots=True)
class Probes:
    """The daemon's answers behind /-/healthy, /-/ready, /-/leader and /-/reload."""

    healthy: Probe
    ready: Probe
    leader: Probe
    reload: Probe


class Listener:
    def __init__(self, listen: str, store: Store, book: AlertBook, runtime: Callable[[], Runtime],
                 clock: Callable[[], datetime], metrics: Callable[..., Any], probes: Probes,
                 env: Mapping[str, str], api_token: str | None = None, web: WebConfig | None = None) -> None:
        host, port = parse_listen(listen)
        api = Api(store, book, clock, lambda: runtime().loaded.config.notify)
        self.clicks = SlackActions(store, lambda: runtime().notifiers,
                                   lambda: runtime().loaded.config.sources, clock)
        slack_events, self._socket_mode = from_env(env, self.clicks)
        ui = Ui(store, book, lambda: runtime().loaded, clock)
        app = build_app(metrics, probes.healthy, probes.ready, api, reload=probes.reload,
                        api_token=api_token, leader=probes.leader, slack_events=slack_events, ui=ui)
        self.http: HttpServer = serve(host, port, app, web, api_token)
        self._scheme = scheme(web)

    def start(self) -> str:
        """Serve; returns the metrics URL."""
        self.http.start()
        if self._socket_mode is not None:
            self._socket_mode.start()
        host, port = self.http.address
        shown = f"[{host}]" if ":" in host else host
        return f"{self._scheme}://{shown}:{port}/metrics"

    def stop(self) -> None:
        self.http.stop()
        if self._socket_mode is not None:
            self._socket_mode.stop()
        self.clicks.close()
