"""`tradewatch alerts`: a header, labels, and why an alert is not notified (silenced or
inhibited), as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.alerts.persist import AlertRows
from monitor.cli import main
from monitor.store import Store
from monitor.store.silences import SilenceStore

NOW = datetime.now(UTC)
CONFIG = """
store: {path: tw.db}
sources: [{name: a, kind: file, path: a.csv, value_column: v}]
notify:
  receivers: [{name: r1, console: {}}]
  route: {receiver: r1}
  inhibit_rules:
    - source_matchers: [commodity=TOTAL]
      target_matchers: [severity=warning]
      equal: [partner]
"""


def _alert(fingerprint: str, rule: str, labels: dict[str, str], severity: str,
           status: Status = Status.FIRING) -> Alert:
    return Alert(fingerprint=fingerprint, rule=rule, series=f"s-{fingerprint}",
                 labels=MappingProxyType(labels), severity=severity, status=status, episode=1,
                 period="2015-03", since_period="2015-02", value=-21.5, reference=-20.0, summary="",
                 active_at=NOW, fired_at=NOW, resolved_at=None, updated_at=NOW)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tradewatch.yaml"
    path.write_text(CONFIG)
    store = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    alerts = [
        _alert("f1", "total_fall", {"commodity": "TOTAL", "partner": "RUS", "severity": "critical"},
               "critical"),
        _alert("f2", "tools_fall", {"commodity": "8456", "partner": "RUS", "severity": "warning"},
               "warning"),
        _alert("f3", "tools_fall", {"commodity": "8457", "partner": "CHN", "severity": "info"}, "info"),
        _alert("f4", "old", {"partner": "CHN"}, "info", Status.RESOLVED),
    ]
    AlertRows(store).commit(alerts, [], [Notification.of(a) for a in alerts], NOW)
    SilenceStore(store).add(["commodity=8457"], NOW - timedelta(hours=1), NOW + timedelta(hours=1),
                            "me", "known", NOW)
    store.close()
    return path


def _run(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> str:
    assert main(["alerts", "--config", str(config), *args]) == 0
    return capsys.readouterr().out


def test_table_has_a_header_labels_and_marks(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    lines = _run(capsys, config).splitlines()
    assert lines[0].split() == ["STATUS", "MUTED", "RULE", "SERIES", "SEVERITY", "PERIOD", "SINCE",
                                "VALUE", "LABELS"]
    assert len(lines) == 4  # resolved left out
    rows = {line.split()[3]: line.split() for line in lines[1:]}
    assert rows["s-f1"][1] == "-" and rows["s-f1"][-1] == "commodity=TOTAL,partner=RUS,severity=critical"
    assert rows["s-f2"][1] == "inhibited"
    assert rows["s-f3"][1] == "silenced"


def test_json_and_csv_carry_the_same_rows(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    rows = json.loads(_run(capsys, config, "--format", "json", "--all"))
    assert [(r["series"], r["muted"]) for r in rows] == [
        ("s-f4", ""), ("s-f2", "inhibited"), ("s-f3", "silenced"), ("s-f1", "")]
    assert rows[1]["labels"] == {"commodity": "8456", "partner": "RUS", "severity": "warning"}
    table = list(csv.DictReader(io.StringIO(_run(capsys, config, "--format", "csv"))))
    assert [(r["series"], r["muted"], r["value"]) for r in table] == [
        ("s-f2", "inhibited", "-21.5"), ("s-f3", "silenced", "-21.5"), ("s-f1", "", "-21.5")]
