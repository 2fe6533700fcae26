"""The Slack messages shown in docs/ are what the daemon sends for the demo data today:
docs/render_slack_examples.py renders them again through a real App, and they must equal the
committed files (run the script to update them after a wording change)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.conftest import REPO

EXAMPLES = ("slack-firing.json", "slack-resolved.json", "slack-resolved-reply.json", "slack-drivers.json")


@pytest.mark.slow
def test_the_documented_slack_messages_are_what_the_daemon_sends(tmp_path: Path) -> None:
    path = REPO / "docs" / "render_slack_examples.py"
    spec = importlib.util.spec_from_file_location("render_slack_examples", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(tmp_path)
    for name in EXAMPLES:
        rendered = json.loads((tmp_path / name).read_text("utf-8"))
        committed = json.loads((REPO / "docs" / name).read_text("utf-8"))
        assert rendered == committed, f"docs/{name} is out of date: run .venv/bin/python {path}"
    assert (tmp_path / "slack-chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
