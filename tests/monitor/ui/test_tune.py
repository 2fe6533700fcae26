"""Tune over plain HTTP: a sweep (`-10,-20` in one input) gives the command's sweep rows, and
the data kept between runs is read again as soon as the daemon stores a release."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from typing import Any

import httpx

from tests.conftest import DEMO_CSV, REPO, truncate_csv
from tests.monitor.ui.conftest import Daemon, tables

THRESHOLD = "rules.sharp_fall.detector.threshold"


def cli_sweep(daemon: Daemon, values: str) -> list[dict[str, Any]]:
    argv = [sys.executable, "-m", "monitor", "backtest", "--config", str(daemon.config),
            "--rule", "sharp_fall", f"--set={THRESHOLD}={values}", "--format", "json"]
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
    truncate_csv(csv, "2016-12", source=DEMO_CSV)
    daemon.app.run_once()
    after = httpx.post(f"{daemon.url}/ui/tune/run", data=form, timeout=120)
    assert "newest period 2016-12" in after.text
    [cli] = cli_sweep(daemon, "-15")
    summary = dict(zip(*tables(after.text)["Summary"][:2], strict=True))
    assert (int(summary["alerts"]), int(summary["open"])) == (cli["alerts"], cli["open"])
    assert tables(before.text)["Summary"][1] != tables(after.text)["Summary"][1]
