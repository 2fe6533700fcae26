"""The real daemon delivering to a fake Slack and SIGKILLed while it does: at a random moment,
and exactly when Slack has stored a message whose answer has not reached the daemon yet.
After restarts on the same store, every alert episode has exactly one parent message and one
chart, and every resolution exactly one reply, with the parent edited.

The data is Russian customs' exports to its 29 main partners (a trimmed copy of the shared
panel); the expected alerts are computed here from the CSV, not by the daemon's code.
"""

from __future__ import annotations

import itertools
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import httpx
import pandas as pd
import pytest

from monitor.alerts.lifecycle import fingerprint
from monitor.labels import country_code
from tests.conftest import REPO
from tests.fakes.slack_server import FakeSlack, Message

pytestmark = pytest.mark.slow

PANEL = REPO / "tests" / "fixtures" / "russia_fcs_trade_by_partner_monthly_2014_2015.csv"
CHANNEL = "C0TRADE0001"
RULE = "yoy_sharp_fall"


def daemon_config(store: str, source: str, every: str, head: str = "") -> str:
    """Russia's exports by partner from `source` (a file or a URL) polled `every`, one rule,
    Slack as the only receiver: the config of the kill tests here, in tests/test_chaos.py and
    in the replicas' scenario (tests/ha_scenario.py), which puts its `ha:` in `head`."""
    return f"""
store: {store}
{head}sources:
  - name: fcs
    kind: file
    path: {source}
    value_column: value_musd
    label_columns: {{reporter: reporter, partner: partner_iso2, flow: flow}}
    labels: {{commodity: TOTAL, unit: USD_M}}
    schedule: {{every: {every}}}   # a new month is seen at once
rules:
  - name: {RULE}
    transform: {{kind: yoy_pct}}
    detector: {{kind: threshold, direction: below, threshold: -20}}
    severity: critical
notify:
  receivers:
    - name: desk
      slack: {{channel: "#trade-alerts"}}
  route:
    receiver: desk
    digest_over: 1000   # one parent message per alert: many separate posts
"""


CONFIG = daemon_config("{path: state/tradewatch.db}", "partners.csv", "2s")


def write_exports(path: Path, last: str) -> None:
    """Russia's exports to every partner, up to `last`, in the panel's own lines; replaced
    whole, so a poll never reads half a file."""
    lines = PANEL.read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines[1:] if line.split(",")[4] == "X" and line.split(",")[0] <= last]
    path.with_suffix(".tmp").write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    path.with_suffix(".tmp").replace(path)


def falling(last: str) -> dict[str, str]:
    """fingerprint -> series of the exports whose YoY change in `last` is below -20%."""
    panel = pd.read_csv(PANEL)
    wide = panel[panel["flow"] == "X"].pivot(index="period", columns="partner_iso2", values="value_musd")
    year_ago = str(pd.Period(last, freq="M") - 12)
    yoy = wide.loc[last] / wide.loc[year_ago] * 100 - 100
    series = [f"rus-{country_code(iso2).lower()}/export/total" for iso2 in yoy.index[yoy < -20]]
    return {fingerprint(RULE, s): s for s in series}


class Daemon:
    """`tradewatch run` in a subprocess; its log goes to a file kept for failure messages."""

    def __init__(self, config: Path, env: Mapping[str, str], log: TextIO) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=log, text=True, env={**env, "PYTHONUNBUFFERED": "1"})
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in self.process.stdout or []:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if "serving metrics at" in line:
                self.metrics_url = line.split()[-1]
                return
        raise AssertionError("the daemon did not start")

    def pending(self) -> float | None:
        try:
            text = httpx.get(self.metrics_url, timeout=5).text
        except httpx.HTTPError:
            return None
        found = re.search(r"^tradewatch_outbox_pending (\S+)$", text, re.M)
        return float(found.group(1)) if found else None

    def end(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=30)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def event(message: Message) -> tuple[str, str] | None:
    """(event type, fingerprint) of a message's metadata."""
    if message.metadata is None:
        return None
    return message.metadata["event_type"], str(message.metadata["event_payload"]["fingerprint"])


def is_post(event_type: str, skip: int) -> Callable[[dict[str, Any]], bool]:
    """Matches the chat.postMessage carrying `event_type` metadata after `skip` such posts."""
    seen = itertools.count()

    def match(params: dict[str, Any]) -> bool:
        metadata = params.get("metadata")
        return isinstance(metadata, dict) and metadata.get("event_type") == event_type and next(seen) >= skip

    return match


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def test_sigkill_while_delivering_leaves_exactly_one_message_per_episode(
        tmp_path: Path, daemons: list[Daemon]) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    csv = tmp_path / "partners.csv"
    config = tmp_path / "tradewatch.yaml"
    config.write_text(CONFIG)
    log_path = tmp_path / "daemon.log"
    write_exports(csv, "2015-03")
    fired = falling("2015-03")
    assert len(fired) >= 15

    with FakeSlack(latency=0.1) as slack, log_path.open("a") as log:
        env = {**os.environ, "SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url}

        def start() -> Daemon:
            daemons.append(Daemon(config, env, log))
            return daemons[-1]

        def parents() -> dict[str, list[Message]]:
            found: dict[str, list[Message]] = {}
            for m in slack.parents(CHANNEL):
                kind = event(m)
                found.setdefault(kind[1] if kind and kind[0] == "tradewatch_alert" else "?", []).append(m)
            return found

        def settled(daemon: Daemon, wanted: set[str],
                    resolved: frozenset[str] = frozenset()) -> Callable[[], bool]:
            """Every wanted parent and resolution in Slack, and the daemon's outbox empty."""

            def done() -> bool:
                replied = {str(m.metadata["event_payload"]["fingerprint"])
                           for m in slack.with_metadata(CHANNEL, "tradewatch_resolution") if m.metadata}
                return wanted <= set(parents()) and resolved <= replied and daemon.pending() == 0
            return done

        try:
            # (a) killed at a random moment of the delivery
            first = start()
            posted = rng.randint(2, len(fired) - 6)
            wait_until(lambda: len(slack.parents(CHANNEL)) >= posted, 90, f"{posted} parents")
            time.sleep(rng.uniform(0.0, 0.4))  # anywhere in the next post, chart or save
            first.end(signal.SIGKILL)
            # (b) killed inside the crash window: Slack has a parent, the daemon not its ts
            holding = slack.hold_responses(60, match=is_post("tradewatch_alert", rng.randint(0, 2)))
            second = start()
            assert holding.wait(90), "no parent post was held"
            second.end(signal.SIGKILL)
            slack.release()
            third = start()
            wait_until(settled(third, set(fired)), 90, "every alert delivered after the restarts")
            check_parents(slack, parents(), fired)

            # (c) the next month resolves some alerts; killed while replying in their threads
            now = falling("2015-04")
            resolving = set(fired) - set(now)
            assert len(resolving) >= 3
            holding = slack.hold_responses(60, match=is_post("tradewatch_resolution",
                                                             rng.randint(0, len(resolving) - 2)))
            write_exports(csv, "2015-04")
            assert holding.wait(90), "no resolution reply was held"
            third.end(signal.SIGKILL)
            slack.release()
            fourth = start()
            wait_until(settled(fourth, set(now), frozenset(resolving)), 90, "every resolution delivered")
            fourth.end(signal.SIGTERM)
        except AssertionError as exc:
            log.flush()
            tail = log_path.read_text()[-3000:]
            raise AssertionError(f"{exc} (seed {seed}); daemon log:\n{tail}") from None

        # the held parent and reply were found again by their metadata, not posted twice
        assert slack.calls("conversations.history") and slack.calls("conversations.replies")
        everyone = {**fired, **now}
        check_parents(slack, parents(), everyone)
        for fp, [parent] in parents().items():
            replies = slack.replies(CHANNEL, parent.ts)
            header = parent.blocks[0]["text"]["text"]
            if fp in resolving:
                assert [event(r) for r in replies] == [("tradewatch_resolution", fp)], everyone[fp]
                assert "Resolved" in header and parent.edits, everyone[fp]
            else:
                assert replies == [] and "Resolved" not in header, everyone[fp]


def check_parents(slack: FakeSlack, parents: Mapping[str, list[Message]], wanted: Mapping[str, str]) -> None:
    """Exactly one parent per expected alert episode, nothing else, one chart in each thread."""
    assert sorted(parents) == sorted(wanted)
    for fp, messages in parents.items():
        assert len(messages) == 1, f"{len(messages)} parents for {wanted[fp]}"
        assert wanted[fp] in messages[0].text or wanted[fp] in str(messages[0].blocks)
        charts = slack.files_in_thread(CHANNEL, messages[0].ts)
        assert [f.filename[-4:] for f in charts] == [".png"], f"{len(charts)} charts for {wanted[fp]}"
    shared = [f for f in slack.files.values() if f.channel is not None]
    assert len(shared) == len(wanted)
