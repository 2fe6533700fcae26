"""Which modules one Comtrade observation passes on its way to a Slack post.

    .venv/bin/python bench/observation_path.py

Serves a real UN Comtrade v1 answer (China's 2010 trade with Argentina and Germany, from
tests/fixtures) over loopback, runs one cycle of the real daemon (`App.run_once`) with a rule
that fires on every series and a Slack receiver pointed at the fake Slack Web API server of
the tests, and records, with a profiler hook on every thread, each project module whose code
runs from the fetch to the last Slack call, and how many times the store is entered from
outside it (a call from a project module outside the store into one inside it; calls made
by libraries, such as a compiled kernel's dispatcher, do not count), through which doors. Prints the
modules in the order first entered; the last line is machine-readable:
    modules=<int> store_entries=<int> store_doors=<int> slack_posts=<int>
Run by hand: a measure of the code's shape, not of its speed.
"""

from __future__ import annotations

import http.server
import os
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.app import App  # noqa: E402
from monitor.config import load_config  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "comtrade_v1_data_get_C_A_HS_china_2010.json"
ROOTS = (str(REPO / "monitor") + os.sep, str(REPO / "detectors") + os.sep)
# The store's modules, in this layout and in the one before it (a single module and its helpers).
STORE = ("monitor.store", "monitor.schema", "monitor.observations", "monitor.current", "monitor.silences")

CONFIG = """
store: {{path: {store}}}
sources:
  - name: comtrade-cn
    kind: comtrade
    base_url: {url}
    reporter: 156
    partner: [32, 276]
    frequency: A
    start: 2010
    end: 2010
    subscription_key: 0123456789abcdef0123456789abcdef
rules:
  - name: large_flow
    detector: {{kind: threshold, direction: above, threshold: 1000}}
    severity: warning
notify:
  receivers:
    - name: desk
      slack: {{channel: "#trade-alerts", chart: true}}
  route: {{receiver: desk}}
"""


class Comtrade(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = FIXTURE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def module_of(filename: str) -> str | None:
    if not filename.startswith(ROOTS):
        return None
    parts = Path(filename).relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def in_store(module: str | None) -> bool:
    return module is not None and any(module == p or module.startswith(p + ".") for p in STORE)


class Trace:
    def __init__(self) -> None:
        self.order: dict[str, int] = {}
        self.store_entries = 0
        self.store_doors: set[str] = set()  # the store functions called from outside it
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        module = module_of(frame.f_code.co_filename)
        if module is None:
            return
        caller = frame.f_back
        caller_module = module_of(caller.f_code.co_filename) if caller is not None else None
        with self._lock:
            self.order.setdefault(module, len(self.order))
            self.calls[module] += 1
            if in_store(module) and caller_module is not None and not in_store(caller_module):
                self.store_entries += 1
                self.store_doors.add(f"{module}.{frame.f_code.co_name}")


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Comtrade)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as tmp:
        env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url}
        path = Path(tmp) / "tradewatch.yaml"
        path.write_text(CONFIG.format(store=Path(tmp) / "store.db", url=f"http://127.0.0.1:{server.server_port}"))
        app = App(load_config(path), env=env)
        trace = Trace()
        threading.setprofile(trace)
        sys.setprofile(trace)
        try:
            app.run_once()
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
            app.stop()
        posts = len(slack.calls("chat.postMessage"))
    server.shutdown()
    for module, _ in sorted(trace.order.items(), key=lambda item: item[1]):
        print(f"{module:45s} {trace.calls[module]:8d} calls")
    print("store entered through:", ", ".join(sorted(trace.store_doors)))
    print(f"modules={len(trace.order)} store_entries={trace.store_entries} "
          f"store_doors={len(trace.store_doors)} slack_posts={posts}")


if __name__ == "__main__":
    main()
