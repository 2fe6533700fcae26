"""Values taken from the environment through `${VAR}` are secrets wherever they could be
printed: source URLs and errors, every log line (httpx's included), `check` and `once`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor import cli
from monitor.config import ConfigError, load_config
from monitor.sources import build_source
from monitor.sources.base import SourceError
from tests.monitor.httpserver import LocalServer, Reply

SECRET = "feed-secret-5b1d9c"  # a neutral parameter name: nothing says "key" or "token"
FEED = {"data": [{"period": "2025-06", "value": 12.5, "partner": "DEU"}]}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    yield local
    local.close()


def feed_config(write_config: Callable[..., Path], server: LocalServer, tmp_path: Path,
                extra: str = "") -> Path:
    return write_config(f"""
        store: {{path: {tmp_path / 'tw.db'}}}
        sources:
          - name: feed
            kind: http_json
            url: {server.url}/feed
            params: {{k: "${{FEED_KEY}}", year: 2025}}
            timeout: 2s
            retry: {{attempts: 1}}
            records: data
            labels: {{partner: partner}}
            constant_labels: {{reporter: CHN, flow: export, commodity: TOTAL}}
          - name: file_feed
            kind: file
            path: "{server.url}/feed.csv?k=${{FEED_KEY}}"
            value_column: value
            label_columns: {{partner: partner}}
            labels: {{reporter: CHN, flow: export, commodity: TOTAL}}
            retry: {{attempts: 1}}
        {extra}
    """)


def test_the_loaded_config_knows_the_values_it_took_from_the_environment(
        write_config: Callable[..., Path], server: LocalServer, tmp_path: Path) -> None:
    from monitor.secrets import Masker, env_secrets

    loaded = load_config(feed_config(write_config, server, tmp_path), env={"FEED_KEY": SECRET})
    assert SECRET in loaded.secrets
    assert Masker(loaded.secrets)(f"GET /feed?k={SECRET}") == "GET /feed?k=***"
    assert env_secrets({"SLACK_BOT_TOKEN": "xoxb-1-2", "HOME": "/root"}) == {"xoxb-1-2"}


@pytest.mark.parametrize("status", [500, 404])
def test_a_secret_in_a_neutral_parameter_appears_in_no_error_and_no_log_line(
        write_config: Callable[..., Path], server: LocalServer, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, status: int) -> None:
    for name in (None, "httpx", "httpcore"):  # httpx logs every URL it requests
        caplog.set_level(logging.DEBUG, logger=name)
    loaded = load_config(feed_config(write_config, server, tmp_path), env={"FEED_KEY": SECRET})
    sources = {c.name: build_source(c, loaded) for c in loaded.config.sources}
    server.route("/feed", Reply(status, f"bad request for k={SECRET}".encode()),
                 Reply(200, json.dumps(FEED).encode(), {"Content-Type": "application/json"}))
    server.route("/feed.csv", Reply(status, b"gone"),
                 Reply(200, b"period,value,partner\n2025-06,1.5,DEU\n", {"Content-Type": "text/csv"}))
    errors = []
    for name in ("feed", "file_feed"):
        with pytest.raises(SourceError) as caught:
            sources[name].fetch()
        errors.append(str(caught.value))
        logging.getLogger("test").error("source failed error=%s", caught.value)
    fetched = [sources[name].fetch() for name in ("feed", "file_feed")]
    assert all(len(f.frame) == 1 for f in fetched)
    assert all(f"k={SECRET}" in r.target for r in server.requests)  # it was sent, never shown
    assert "k=***" in errors[0] and "k=***" in errors[1]
    assert SECRET not in "\n".join(errors)
    assert "HTTP Request" in caplog.text and SECRET not in caplog.text
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_once_and_its_log_lines_never_show_the_secret(
        write_config: Callable[..., Path], server: LocalServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FEED_KEY", SECRET)
    path = feed_config(write_config, server, tmp_path)
    server.route("/feed", Reply(500, b"down"))
    server.route("/feed.csv", Reply(200, f"period,value,partner\n2025-06,1,{SECRET}\n".encode()))
    try:
        code = cli.main(["once", "--config", str(path), "--log-level", "debug"])
    finally:
        logging.getLogger().handlers.clear()
    out, err = capsys.readouterr()
    assert code == cli.EXIT_SOURCE_FAILED
    assert "source failed source=feed reason=http_5xx" in err
    assert SECRET not in out + err and "k=***" in err


def test_check_output_never_shows_the_secret(
        write_config: Callable[..., Path], server: LocalServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FEED_KEY", SECRET)
    good = feed_config(write_config, server, tmp_path)
    assert cli.main(["check", "--config", str(good)]) == cli.EXIT_OK
    bad = write_config("""
        sources:
          - name: feed
            kind: http_json
            url: http://127.0.0.1:9/feed
            schedule: {cron: "${FEED_KEY}"}
    """, name="bad.yaml")
    try:
        assert cli.main(["check", "--config", str(bad)]) == cli.EXIT_BAD_CONFIG
    finally:
        logging.getLogger().handlers.clear()
    out, err = capsys.readouterr()
    assert "invalid cron expression '***'" in err
    assert SECRET not in out + err
    with pytest.raises(ConfigError) as caught:
        load_config(bad, env={"FEED_KEY": SECRET})
    assert SECRET not in str(caught.value)
