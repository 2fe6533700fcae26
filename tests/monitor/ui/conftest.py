"""A started daemon serving /ui/ on loopback (real store, real alerts), and a headless
Debian chromium driven by Playwright (skipped on a laptop without them, a failure in CI)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.app import App
from monitor.config import load_config
from tests.conftest import ROSSTAT_BOTH_FLOWS, require_binary, truncate_csv

TOKEN = "ui-test-token-0123456789"
CONFIG = """
store: {path: state.db}
http: {listen: "127.0.0.1:0"}
sources:
""" + ROSSTAT_BOTH_FLOWS + """    schedule: {every: 1h}
rules:
  - name: sharp_fall
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -20}
    severity: critical
    labels: {team: policy}
notify:
  receivers: [{name: desk, console: {}}]
  route: {receiver: desk, group_by: [alertname]}
"""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class Daemon:
    url: str
    config: Path
    app: App


@pytest.fixture
def daemon(write_config: Callable[[str], Path], russia_china_csv: Path) -> Iterator[Daemon]:
    """Russia-China data to 2015-03: sharp_fall fires on both flows."""
    truncate_csv(russia_china_csv, "2015-03")
    path = write_config(CONFIG)
    app = App(load_config(path), api_token=TOKEN)
    url = app.start().removesuffix("/metrics")
    deadline = time.monotonic() + 60  # a hang bound, not a speed claim
    while httpx.get(f"{url}/-/ready").status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.1)
    yield Daemon(url, path, app)
    app.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = require_binary("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("playwright is required in CI (pip install -e '.[dev]')")
        pytest.skip("playwright not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Tables(HTMLParser):
    """Each table's caption and its rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._caption is not None:
            self.tables[self._caption] = self._rows
            self._caption = None

    def handle_data(self, data: str) -> None:
        if self._in_caption and self._caption is not None:
            self._caption += data
        elif self._cell is not None:
            self._cell.append(data)


def tables(text: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(text)
    return parser.tables
