"""Reload: validate everything, swap atomically, keep the old config on any error."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest

from monitor.app import App
from monitor.config import load_config
from tests.conftest import truncate_csv

CONFIG = """
store: {{path: state.db}}
http: {{listen: "127.0.0.1:0"}}
sources:
  - name: rosstat
    kind: file
    path: russia_china.csv
    labels: {{reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}}
    columns: {{ru_imports_from_cn_musd: {{flow: import}}}}
    schedule: {{every: 1h}}
rules:
  - name: sharp_fall
    transform: {{kind: yoy_pct}}
    detector: {{kind: threshold, direction: below, threshold: {threshold}}}
{extra_rules}
"""
DECLINE_RULE = """
  - name: decline
    transform: {kind: yoy_pct}
    detector: {kind: consecutive, direction: below, threshold: -5, count: 3}
"""


def render(threshold: float = -20, extra_rules: str = "") -> str:
    return CONFIG.format(threshold=threshold, extra_rules=extra_rules)


@pytest.fixture
def setup(write_config: Callable[[str], Path], russia_china_csv: Path) -> tuple[Path, Callable[[str], Path]]:
    truncate_csv(russia_china_csv, "2015-03")
    return write_config(render(extra_rules=DECLINE_RULE)), write_config


@pytest.fixture
def app(setup: tuple[Path, Callable[[str], Path]]) -> Iterator[App]:
    config, _ = setup
    app = App(load_config(config), api_token="s3cret")
    app.start()
    deadline = time.monotonic() + 20
    while not app.ready()[0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield app
    app.stop()


def metric(app: App, line_start: str) -> str:
    return next(line for line in generate_latest(app.registry).decode().splitlines()
                if line.startswith(line_start))


def test_a_good_reload_swaps_rules_and_keeps_alert_state(
    app: App, setup: tuple[Path, Callable[[str], Path]]
) -> None:
    _, write = setup
    before = {a.fingerprint: a for a in app.book.alerts()}
    write(render(threshold=-10, extra_rules=DECLINE_RULE))
    ok, message = app.reload()
    assert (ok, message) == (True, "reloaded")
    assert dict(app.runtime.rules[0].config.detector)["threshold"] == -10
    assert {a.fingerprint: a for a in app.book.alerts()} == before
    assert metric(app, "tradewatch_config_last_reload_successful") == (
        "tradewatch_config_last_reload_successful 1.0")
    assert app.runtime.loaded.sha256[:12] in metric(app, "tradewatch_config_info")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("rules: [\n", "invalid YAML"),
        (render() + "notify:\n  route: {receiver: nobody}\n", "unknown receiver 'nobody'"),
        (render().replace("threshold: -20", "threshold: low"), "rules[0].detector"),
    ],
    ids=["bad-yaml", "bad-reference", "bad-value"],
)
def test_a_bad_reload_keeps_the_running_config(
    app: App, setup: tuple[Path, Callable[[str], Path]], content: str, expected: str
) -> None:
    config, _ = setup
    running = app.runtime
    config.write_text(content)
    ok, message = app.reload()
    assert not ok and expected in message and str(config) in message
    assert app.runtime is running
    assert metric(app, "tradewatch_config_last_reload_successful") == (
        "tradewatch_config_last_reload_successful 0.0")


def test_an_unexpected_error_while_reloading_keeps_the_running_config(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    running = app.runtime

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("monitor.app.Runtime.build", explode)
    ok, message = app.reload()
    assert not ok and "RecursionError: maximum recursion depth exceeded" in message
    assert app.runtime is running
    assert metric(app, "tradewatch_config_last_reload_successful") == (
        "tradewatch_config_last_reload_successful 0.0")
    failures = [r.getMessage() for r in caplog.records if "config reload failed" in r.getMessage()]
    assert len(failures) == 1 and "\n" not in failures[0]


def test_a_removed_config_file_keeps_the_running_config(
    app: App, setup: tuple[Path, Callable[[str], Path]]
) -> None:
    config, _ = setup
    running = app.runtime
    config.unlink()
    ok, message = app.reload()
    assert not ok and "cannot read config" in message and app.runtime is running


def test_removing_a_rule_resolves_its_alerts_saying_why(
    app: App, setup: tuple[Path, Callable[[str], Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, write = setup
    assert {(a.rule, a.status.value) for a in app.book.alerts()} == {
        ("decline", "firing"), ("sharp_fall", "firing")}
    capsys.readouterr()
    write(render())
    assert app.reload()[0]
    assert capsys.readouterr().out.splitlines() == [
        "Resolved · Russia's imports from China: decline resolved · warning · Rule decline was removed "
        "from the config; this alert no longer applies (last: Russia's imports from China fell 21.6% "
        "YoY in March 2015, the 5th consecutive monthly decline below -5%.)"]
    assert {(a.rule, a.status.value) for a in app.book.alerts()} == {
        ("decline", "resolved"), ("sharp_fall", "firing")}


def test_post_reload_needs_the_bearer_token(app: App, setup: tuple[Path, Callable[[str], Path]]) -> None:
    assert app.listener is not None
    host, port = app.listener.http.address
    url = f"http://{host}:{port}/-/reload"
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url).status_code == 405
    response = httpx.post(url, headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200 and response.json()["status"] == "success"
    setup[0].write_text("rules: [\n")
    failed = httpx.post(url, headers={"Authorization": "Bearer s3cret"})
    assert failed.status_code == 400 and "invalid YAML" in failed.json()["message"]


def test_the_config_file_is_watched(app: App, setup: tuple[Path, Callable[[str], Path]]) -> None:
    _, write = setup
    old = app.runtime.loaded.sha256
    write(render(threshold=-30, extra_rules=DECLINE_RULE))
    deadline = time.monotonic() + 15
    while app.runtime.loaded.sha256 == old:
        assert time.monotonic() < deadline, "the changed file was not reloaded"
        time.sleep(0.1)
    assert dict(app.runtime.rules[0].config.detector)["threshold"] == -30


@pytest.mark.slow
def test_sighup_reloads_and_reload_without_token_is_refused(
    setup: tuple[Path, Callable[[str], Path]]
) -> None:
    config, write = setup
    env = {k: v for k, v in os.environ.items() if k != "TRADEWATCH_API_TOKEN"}
    process = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1].removesuffix("/metrics")
        refused = httpx.post(f"{url}/-/reload")
        assert refused.status_code == 403 and "TRADEWATCH_API_TOKEN" in refused.json()["error"]
        new = write(render(threshold=-25, extra_rules=DECLINE_RULE))
        wanted = f'tradewatch_config_info{{sha256="{hashlib.sha256(new.read_bytes()).hexdigest()}"}} 1.0'
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 4  # well inside the 5 s file watch: the signal did it
        while wanted not in httpx.get(f"{url}/metrics").text:
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "config reloaded" in stderr
    finally:
        if process.poll() is None:
            process.kill()
