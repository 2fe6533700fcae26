"""Two replicas of the real daemon on one PostgreSQL store, a source over loopback HTTP that
publishes a month at a time, the fake Slack, and the active replica SIGKILLed at random
moments (restarted as a standby each time). Shared by tests/test_ha.py (short lease) and
bench/takeover.py (the default one); the expected alert episodes come from the data alone
(tests/test_chaos.py's `Expected`), not from the daemon's code.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

import httpx

from tests.fakes.slack_server import FakeSlack
from tests.test_chaos import MONTHS, PANEL, Expected, parents, resolutions
from tests.test_exactly_once import Daemon, daemon_config, wait_until


class Publisher:
    """The source: a CSV over loopback HTTP, a month more at each `publish`."""

    def __init__(self) -> None:
        self.body = b""
        publisher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = publisher.body
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: a poll a second."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/partners.csv"

    def publish(self, last: str) -> float:
        """Russia's exports up to `last`; when (time.monotonic())."""
        lines = PANEL.read_text(encoding="utf-8").splitlines()
        rows = [line for line in lines[1:] if line.split(",")[0] <= last]
        self.body = ("\n".join([lines[0], *rows]) + "\n").encode()
        return time.monotonic()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def is_leader(daemon: Daemon) -> bool:
    try:
        return httpx.get(daemon.metrics_url.replace("/metrics", "/-/leader"), timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def check_probes(active: Daemon, standby: Daemon) -> None:
    """The standby is live and ready, says who is active, and exports itself as not leading."""
    base = standby.metrics_url.removesuffix("/metrics")
    ready = httpx.get(f"{base}/-/ready", timeout=5)
    assert ready.status_code == 200 and ready.text.startswith("standby:"), ready.text
    assert httpx.get(f"{base}/-/healthy", timeout=5).status_code == 200
    assert httpx.get(f"{base}/-/leader", timeout=5).status_code == 503
    for daemon, leading in ((active, "1.0"), (standby, "0.0")):
        text = httpx.get(daemon.metrics_url, timeout=5).text
        assert f"\ntradewatch_leader {leading}\n" in text and "\ntradewatch_lease_epoch 1.0\n" in text


@dataclass
class Outcome:
    """What a run measured: takeover seconds (SIGKILL to the other replica reporting itself
    active), publication-to-Slack seconds of each new episode's parent message, and the kills."""

    takeovers: list[float] = field(default_factory=list)
    latencies: list[tuple[float, bool]] = field(default_factory=list)  # seconds, in a month with a kill
    kills: int = 0
    while_delivering: int = 0
    expected: Expected = field(default_factory=Expected)


def settled(slack: FakeSlack, active: Daemon, expected: Expected) -> bool:
    return (expected.started <= set(parents(slack)) and expected.resolved <= set(resolutions(slack))
            and active.pending() == 0)


def run(store_url: str, workdir: Path, slack: FakeSlack, log: TextIO, kills: int, takeover: str,
        rng: random.Random, env: Mapping[str, str],
        progress: Callable[[str], None] = lambda _: None) -> Outcome:
    """The scenario: a month published, a random moment later the active replica killed, the
    takeover timed, the dead one restarted; the month delivered before the next. Months past
    the kills are published without kills, so the last takeover's deliveries are checked too."""
    publisher = Publisher()
    config = workdir / "tradewatch.yaml"
    config.write_text(daemon_config(f'{{url: "{store_url}"}}', publisher.url, "1s",
                                    head=f"ha: {{takeover_within: {takeover}}}\n"))
    env = {**env, "SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url}
    outcome = Outcome()
    started: list[Daemon] = []
    starting = ThreadPoolExecutor(max_workers=1, thread_name_prefix="restart")
    restarted: Future[Daemon] | None = None
    posted_at: dict[tuple[str, int], float] = {}
    months = MONTHS[: max(kills + 2, 3)]
    assert len(months) >= kills + 2, f"{len(MONTHS)} months hold at most {len(MONTHS) - 2} kills"
    try:
        published = publisher.publish(months[0])
        outcome.expected.month(months[0])
        replicas = [Daemon(config, env, log)]
        started.append(replicas[0])
        wait_until(lambda: is_leader(replicas[0]), 60, "the first replica active")
        replicas.append(Daemon(config, env, log))
        started.append(replicas[1])
        check_probes(*replicas)
        for index, month in enumerate(months):
            if index:
                published = publisher.publish(month)
                outcome.expected.month(month)
            new = set(outcome.expected.started) - set(posted_at)
            if restarted is not None:  # the replica killed last time is up again, standing by
                replicas[1] = restarted.result()
                restarted = None
            if index < kills:
                active = next(r for r in replicas if is_leader(r))
                standby = next(r for r in replicas if r is not active)
                calls = len(slack.requests)
                if rng.random() < 0.5:  # while it delivers (if this month has anything to deliver)
                    deadline = time.monotonic() + 5
                    while len(slack.requests) == calls and time.monotonic() < deadline:
                        time.sleep(0.02)
                    time.sleep(rng.uniform(0.0, 0.6))
                else:  # anywhere: polling, evaluating, delivering or idle
                    time.sleep(rng.uniform(0.0, 3.0))
                busy = len(slack.requests) > calls and not settled(slack, active, outcome.expected)
                killed_at = time.monotonic()
                active.end(signal.SIGKILL)
                while not is_leader(standby):
                    if time.monotonic() - killed_at > 120:
                        raise AssertionError(f"no takeover within 120 s after kill {index + 1}")
                    time.sleep(0.02)
                outcome.takeovers.append(time.monotonic() - killed_at)
                outcome.kills += 1
                outcome.while_delivering += busy
                progress(f"kill {index + 1}: {month}, takeover {outcome.takeovers[-1]:.2f}s"
                         f"{' (while delivering)' if busy else ''}")
                restarted = starting.submit(lambda: _started(started, Daemon(config, env, log)))
                replicas = [standby, standby]  # the second until the restart is up
                active = standby
            else:
                active = next(r for r in replicas if is_leader(r))
            wait_until(lambda a=active: settled(slack, a, outcome.expected), 120, f"{month} delivered")
            for request in slack.calls("chat.postMessage"):
                metadata = request.params.get("metadata")
                if isinstance(metadata, dict) and metadata.get("event_type") == "tradewatch_alert":
                    payload = metadata["event_payload"]
                    key = (str(payload["fingerprint"]), int(payload["episode"]))
                    if key in new and key not in posted_at:
                        posted_at[key] = request.at
                        outcome.latencies.append((request.at - published, index < kills))
        if restarted is not None:
            replicas[1] = restarted.result()
        for replica in {id(r): r for r in replicas}.values():
            replica.end(signal.SIGTERM)
    finally:
        starting.shutdown(wait=True)
        for daemon in started:
            if daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait()
        publisher.close()
    return outcome


def _started(started: list[Daemon], daemon: Daemon) -> Daemon:
    started.append(daemon)
    return daemon
