"""The real daemon as a subprocess: serve, alert, stop on SIGTERM, restart without resending."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import truncate_csv

pytestmark = pytest.mark.slow

SOURCE = """
store: {{path: state/tradewatch.db}}
sources:
  - name: rosstat
    kind: file
    path: russia_china.csv
    labels: {{reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}}
    columns:
      ru_exports_to_cn_musd: {{flow: export}}
      ru_imports_from_cn_musd: {{flow: import}}
    {extra}
rules:
  - name: yoy_sharp_fall
    transform: {{kind: yoy_pct}}
    detector: {{kind: threshold, direction: below, threshold: -20}}
    severity: critical
"""

# A console notification: "<headline> · <severity> · <sentence>" (every rule here is critical).
FIRED = " · critical · "
IMPORTS_DECEMBER = ("Russia's imports from China: down 20.3% YoY in December 2014 · critical · Russia's "
                    "imports from China fell 20.3% YoY in December 2014, below the -20% threshold.")


class Daemon:
    """`tradewatch run` in a subprocess, its stdout read line by line on a thread."""

    def __init__(self, config: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config),
             "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        url_line = self.wait_for(lambda line: "serving metrics at" in line, timeout=30)
        self.metrics_url = url_line.rsplit(" ", 1)[-1]
        self.base = self.metrics_url.removesuffix("/metrics")

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise AssertionError(f"daemon exited: {self.process.stderr.read()}") from None  # type: ignore[union-attr]
                continue
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"timed out; stdout so far: {self.seen}")

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(f"{self.base}/-/ready", timeout=5).status_code == 200:
                return
            time.sleep(0.2)
        raise AssertionError("daemon never became ready")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        time.sleep(0.2)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def test_run_serves_metrics_fires_and_stops_cleanly_on_sigterm(
    write_config: Callable[[str], Path], russia_china_csv: Path, daemons: list[Daemon]
) -> None:
    config = write_config(SOURCE.format(extra="replay: {start: 2014-11, every: 1s}"))
    daemon = Daemon(config)
    daemons.append(daemon)
    assert daemon.metrics_url.startswith("http://127.0.0.1:")
    # 2014-11 is revealed first (imports -7.8% YoY), then 2014-12 (imports -20.3%).
    line = daemon.wait_for(lambda text: FIRED in text, timeout=30)
    assert line == IMPORTS_DECEMBER
    metrics = httpx.get(daemon.metrics_url, timeout=5)
    assert metrics.status_code == 200
    assert "tradewatch_build_info{" in metrics.text
    assert ('tradewatch_alerts{alertname="yoy_sharp_fall",alertstate="firing",'
            'series="rus-chn/import/total",severity="critical"} 1.0') in metrics.text
    assert httpx.get(f"{daemon.base}/-/healthy", timeout=5).status_code == 200
    assert httpx.get(f"{daemon.base}/-/ready", timeout=5).status_code == 200
    assert httpx.get(f"{daemon.base}/nothing-here", timeout=5).status_code == 404
    code, stderr = daemon.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert 'msg="stopped"' in stderr
    assert "Traceback" not in stderr


BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]) + "\nsources: *a9\n"


def test_an_alias_bomb_on_reload_neither_hangs_nor_holds_up_sigterm(
    write_config: Callable[[str], Path], russia_china_csv: Path, daemons: list[Daemon]
) -> None:
    config = write_config(SOURCE.format(extra="schedule: {every: 1h}"))
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_ready()
    config.write_text(BILLION_LAUGHS)
    daemon.process.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert httpx.get(f"{daemon.base}/-/healthy", timeout=5).status_code == 200
    started = time.monotonic()
    code, stderr = daemon.stop(signal.SIGTERM, timeout=10)
    assert code == 0, stderr
    assert time.monotonic() - started < 15  # it ignored SIGTERM for over 30 s while expanding the bomb
    assert "config reload failed, keeping the running config" in stderr
    assert "more than 100000 values once aliases are expanded" in stderr
    assert "Traceback" not in stderr


def test_a_reload_with_an_overflowing_duration_keeps_the_daemon_on_its_old_config(
    write_config: Callable[[str], Path], russia_china_csv: Path, daemons: list[Daemon]
) -> None:
    config = write_config(SOURCE.format(extra="schedule: {every: 1h}"))
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_ready()
    config.write_text(SOURCE.format(extra="schedule: {every: 99999999999d}"))
    daemon.process.send_signal(signal.SIGHUP)
    failed = "tradewatch_config_last_reload_successful 0.0"
    deadline = time.monotonic() + 10
    while failed not in httpx.get(daemon.metrics_url, timeout=5).text:
        assert time.monotonic() < deadline, "the reload was not refused"
        assert daemon.process.poll() is None, "the daemon stopped"
        time.sleep(0.1)
    time.sleep(0.5)
    assert daemon.process.poll() is None
    assert httpx.get(f"{daemon.base}/-/healthy", timeout=5).status_code == 200
    assert httpx.get(f"{daemon.base}/-/ready", timeout=5).status_code == 200
    code, stderr = daemon.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert "config reload failed, keeping the running config" in stderr
    assert "sources[0].schedule.every: invalid duration '99999999999d': must be at most 365d" in stderr
    assert "Traceback" not in stderr


def test_restart_after_sigkill_sends_nothing_twice_and_alerts_survive(
    write_config: Callable[[str], Path], russia_china_csv: Path, daemons: list[Daemon]
) -> None:
    truncate_csv(russia_china_csv, "2015-03")  # imports -21.6%, exports -35.5% YoY
    config = write_config(SOURCE.format(extra="schedule: {every: 1h}"))
    first = Daemon(config)
    daemons.append(first)
    fired = [first.wait_for(lambda text: FIRED in text, 30) for _ in range(2)]
    assert sorted(fired) == [
        "Russia's exports to China: down 35.5% YoY in March 2015 · critical · Russia's exports to China "
        "fell 35.5% YoY in March 2015, below the -20% threshold.",
        "Russia's imports from China: down 21.6% YoY in March 2015 · critical · Russia's imports from "
        "China fell 21.6% YoY in March 2015, below the -20% threshold."]
    first.wait_ready()
    first.stop(signal.SIGKILL)

    second = Daemon(config)
    daemons.append(second)
    second.wait_ready()
    code, stderr = second.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert [line for line in second.seen if FIRED in line] == []

    listing = subprocess.run(
        [sys.executable, "-m", "monitor", "alerts", "--config", str(config), "--format", "json"],
        capture_output=True, text=True, check=True)
    alerts = json.loads(listing.stdout)
    assert [(a["rule"], a["series"], a["status"], a["period"], a["since"]) for a in alerts] == [
        ("yoy_sharp_fall", "rus-chn/export/total", "firing", "2015-03", "2015-01"),
        ("yoy_sharp_fall", "rus-chn/import/total", "firing", "2015-03", "2014-12"),
    ]
    assert alerts[1]["labels"]["reporter"] == "RUS" and alerts[1]["labels"]["partner"] == "CHN"


def test_once_exits_1_when_a_source_fails_and_2_on_bad_config(
    write_config: Callable[[str], Path], russia_china_csv: Path
) -> None:
    good = write_config(SOURCE.format(extra=""))
    ok = subprocess.run([sys.executable, "-m", "monitor", "once", "--config", str(good)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    russia_china_csv.unlink()
    failed = subprocess.run([sys.executable, "-m", "monitor", "once", "--config", str(good)],
                            capture_output=True, text=True)
    assert failed.returncode == 1
    assert "source failed source=rosstat reason=not_found" in failed.stderr
    bad = write_config("sources: 5\n", name="bad.yaml")
    invalid = subprocess.run([sys.executable, "-m", "monitor", "once", "--config", str(bad)],
                             capture_output=True, text=True)
    assert invalid.returncode == 2
    assert f"{bad}:1: sources: Input should be a valid list" in invalid.stderr


def test_the_shipped_demo_prints_its_url_and_an_alert_within_60_seconds(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    from tests.conftest import REPO

    text = (REPO / "config" / "tradewatch.yaml").read_text()
    assert "path: ../var/demo.db" in text
    config = tmp_path / "tradewatch.yaml"
    config.write_text(text.replace("path: ../var/demo.db", "path: demo.db"))
    started = time.monotonic()
    daemon = Daemon(config)
    daemons.append(daemon)
    # the EU's member states alert from the first poll of their stream; Russia-China's first in its third
    line = daemon.wait_for(lambda text: text.startswith("Russia's") and FIRED in text, timeout=60)
    assert time.monotonic() - started < 60
    assert line == IMPORTS_DECEMBER
    code, stderr = daemon.stop(signal.SIGINT)
    assert code == 0, stderr


def test_silence_and_routes_commands(write_config: Callable[[str], Path], russia_china_csv: Path) -> None:
    truncate_csv(russia_china_csv, "2015-03")  # both flows below -20% YoY
    config = write_config(SOURCE.format(extra="") + """
notify:
  receivers: [{name: desk, console: {}}, {name: ops, console: {}}]
  route:
    receiver: desk
    group_by: [alertname]
    routes:
      - {matchers: [severity=critical], receiver: ops, continue: true}
      - {match_re: {series: "rus-.*"}, receiver: desk}
""")

    def tw(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "monitor", *args, "--config", str(config)],
                              capture_output=True, text=True)

    routed = tw("routes", "test", "severity=critical", "series=rus-chn/import/total")
    assert (routed.returncode, routed.stdout) == (0, "ops,desk\n")
    assert tw("routes", "test", "--details", "severity=critical", "series=rus-chn/import/total").stdout == \
        "ops@0  group_by=alertname\ndesk@1  group_by=alertname\n"
    assert tw("routes", "test", "series=usa-chn/import/total").stdout == "desk\n"
    added = tw("silence", "add", "-m", "series=rus-chn/import/total", "--duration", "2h",
               "--author", "ana", "--comment", "known")
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    listed = json.loads(tw("silence", "list", "--format", "json").stdout)
    assert [(s["id"], s["matchers"], s["status"]["state"]) for s in listed] == [
        (silence_id, ["series=rus-chn/import/total"], "active")]
    # The silenced series' alert is recorded, not printed; the other one reaches both
    # console receivers (critical: ops, and desk through `continue`).
    once = tw("once")
    assert once.returncode == 0, once.stderr
    assert once.stdout.splitlines() == [
        "Russia's exports to China: down 35.5% YoY in March 2015 · critical · Russia's exports to China "
        "fell 35.5% YoY in March 2015, below the -20% threshold."] * 2
    assert tw("silence", "expire", silence_id).stdout == f"expired {silence_id}\n"
    assert tw("silence", "list").stdout == "no silences\n"
    bad = tw("silence", "add", "-m", "series", "--author", "a", "--comment", "c")
    assert bad.returncode == 2 and "invalid matcher 'series'" in bad.stderr
