"""Tune over plain HTTP: a sweep (`-10,-20` in one input) gives the command's sweep rows, and
the data kept between runs is read again as soon as the daemon stores a release."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.conftest import DEMO_CSV, REPO, truncate_csv
from tests.monitor.ui.conftest import Daemon

THRESHOLD = "rules.sharp_fall.detector.threshold"


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


def cli_sweep(daemon: Daemon, values: str) -> list[dict[str, Any]]:
    argv = [sys.executable, "-m", "monitor", "backtest", "--config", str(daemon.config), "--rule", "sharp_fall",
            f"--set={THRESHOLD}={values}", "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=True)
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def test_a_sweep_on_tune_equals_the_commands_sweep(daemon: Daemon) -> None:
    answer = httpx.post(f"{daemon.url}/ui/tune/run", data={"rule": "sharp_fall", THRESHOLD: "-10,-20"},
                        timeout=120)
    assert answer.status_code == 200
    header, *rows = tables(answer.text)["Summary"]
    shown = [dict(zip(header, row, strict=True)) for row in rows]
    expected = cli_sweep(daemon, "-10,-20")
    assert [row["set"] for row in expected] == [{THRESHOLD: -10}, {THRESHOLD: -20}]
    assert len(shown) == len(expected) == 2
    for page, cli in zip(shown, expected, strict=True):
        assert float(page[THRESHOLD]) == cli["set"][THRESHOLD]
        assert (page["rule"], int(page["series"]), int(page["alerts"]), int(page["open"])) == (
            cli["rule"], cli["series"], cli["alerts"], cli["open"])
        assert page["mean duration"] == f"{cli['mean_duration']:.1f}"
        assert page["alerts/series/yr"] == f"{cli['alerts_per_series_year']:.2f}"
    assert shown[0]["alerts"] != shown[1]["alerts"]  # the two thresholds differ on this data
    assert f"--set '{THRESHOLD}=-10,-20'" in html.unescape(answer.text)


def test_a_release_stored_by_the_daemon_reaches_the_next_run(daemon: Daemon) -> None:
    """Within the history's time to live: the store's fingerprint changed, so it is read again."""
    form = {"rule": "sharp_fall", THRESHOLD: "-15"}
    before = httpx.post(f"{daemon.url}/ui/tune/run", data=form, timeout=120)
    assert "newest period 2015-03" in before.text
    csv = daemon.config.parent / "russia_china.csv"
    csv.write_text(DEMO_CSV.read_text())
    truncate_csv(csv, "2016-12")
    daemon.app.run_once()
    after = httpx.post(f"{daemon.url}/ui/tune/run", data=form, timeout=120)
    assert "newest period 2016-12" in after.text
    [cli] = cli_sweep(daemon, "-15")
    summary = dict(zip(*tables(after.text)["Summary"][:2], strict=True))
    assert (int(summary["alerts"]), int(summary["open"])) == (cli["alerts"], cli["open"])
    assert tables(before.text)["Summary"][1] != tables(after.text)["Summary"][1]
