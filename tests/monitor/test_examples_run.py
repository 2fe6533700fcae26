"""Examples that run on a fresh clone: every example reading files (or the embedded demo)
runs `once` against the data shipped beside it. The ones reading the network (comtrade,
sdmx-imf, sdmx-eurostat, http-json) are covered by `check` in test_examples.py, and
china-russia-machine-tools end to end against local servers there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import REPO

EXAMPLES = REPO / "config" / "examples"
LOCAL = ["file-csv.yaml", "file-excel.yaml"]


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """The examples in a fresh directory: stores land there, not in the repository."""
    target = tmp_path / "config" / "examples"
    shutil.copytree(EXAMPLES, target)
    return target


@pytest.mark.parametrize("name", LOCAL)
def test_local_example_runs_once(copy: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["once", "--config", str(copy / name), "--log-level", "error"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert (copy.parent.parent / "var").is_dir()  # the store, beside the copy


def test_every_example_is_either_run_here_or_reads_the_network() -> None:
    network = {"comtrade.yaml", "sdmx-imf.yaml", "sdmx-eurostat.yaml", "http-json.yaml",
               "china-russia-machine-tools.yaml"}
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == set(LOCAL) | network


def test_check_warns_about_a_missing_slack_token(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("COMTRADE_KEY", "0123456789abcdef")
    config = str(EXAMPLES / "china-russia-machine-tools.yaml")
    assert main(["check", "--config", config, "--log-level", "error"]) == 0
    assert "warning: receiver 'policy-desk' posts to Slack but SLACK_BOT_TOKEN is not set" \
        in capsys.readouterr().err
    assert main(["check", "--strict", "--config", config, "--log-level", "error"]) == 2
    assert "error: receiver 'policy-desk'" in capsys.readouterr().err
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    assert main(["check", "--strict", "--config", config, "--log-level", "error"]) == 0


def test_check_warns_about_a_missing_data_file(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (copy / "data" / "usa-china-trade-data.csv").unlink()
    assert main(["check", "--strict", "--config", str(copy / "file-csv.yaml"), "--log-level", "error"]) == 2
    assert "usa-china-trade-data.csv, which does not exist" in capsys.readouterr().err
