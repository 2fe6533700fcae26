"""`tradewatch routes show|test` (amtool's output) and `tradewatch inhibit test`, in process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from monitor.alerts.lifecycle import Alert, Status
from monitor.alerts.notification import Notification
from monitor.alerts.persist import AlertRows
from monitor.cli import main
from monitor.store import Store

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CONFIG = """
store: {path: tw.db}
sources: [{name: a, kind: file, path: a.csv, value_column: v}]
notify:
  receivers: [{name: r1, console: {}}, {name: r2, console: {}}]
  route:
    receiver: r1
    routes:
      - {continue: true}
      - matchers: ['team=~"a|b"', severity=critical]
        match_re: {partner: "R.*"}
        receiver: r2
        continue: true
        routes: [{match: {x: y}}]
      - {}
  inhibit_rules:
    - source_matchers: [commodity=TOTAL]
      target_matchers: [severity=~"warning|critical"]
      equal: [partner]
"""


@pytest.fixture
def run(write_config: Callable[[str], Path],
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    config = write_config(CONFIG)

    def tw(*args: str) -> tuple[int, str]:
        code = main([*args, "--config", str(config)])
        return code, capsys.readouterr().out
    return tw


def test_routes_test_prints_every_matching_route_as_amtool_does(run: Callable[..., tuple[int, str]]) -> None:
    assert run("routes", "test") == (0, "r1,r1\n")
    assert run("routes", "test", "--details") == (0, "r1@0\nr1@2\n")


def test_verify_receivers_fails_with_amtools_warning(run: Callable[..., tuple[int, str]]) -> None:
    assert run("routes", "test", "--verify.receivers=r1,r1") == (0, "r1,r1\n")
    assert run("routes", "test", "--verify-receivers", "r1") == (
        1, "r1,r1\nWARNING: Expected receivers did not match resolved receivers.\n")


def test_labels_must_be_name_equals_value(run: Callable[..., tuple[int, str]],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run("routes", "test", "team=~a")[0] == 2


def test_routes_show_prints_the_tree_as_amtool_does(run: Callable[..., tuple[int, str]]) -> None:
    assert run("routes", "show") == (0, (
        "Routing tree:\n"
        ".\n"
        "└── default-route  receiver: r1\n"
        "    ├── default-route  continue: true  receiver: r1\n"
        '    ├── {partner=~"^(?:R.*)$",severity="critical",team=~"a|b"}  continue: true  receiver: r2\n'
        "    │\u00a0\u00a0 └── {x=\"y\"}  receiver: r2\n"
        "    └── default-route  receiver: r1\n"
        "\n"))


def test_inhibit_test_names_the_firing_alerts_that_inhibit_the_labels(
        run: Callable[..., tuple[int, str]], write_config: Callable[[str], Path]) -> None:
    labels = {"commodity": "TOTAL", "partner": "RUS", "severity": "info"}
    total = Alert(fingerprint="f1", rule="decline", series="s", labels=MappingProxyType(labels),
                  severity="info", status=Status.FIRING, episode=1, period="2015-03",
                  since_period="2015-03", value=1.0, reference=0.0, summary="", active_at=NOW,
                  fired_at=NOW, resolved_at=None, updated_at=NOW)
    store = Store(f"sqlite:///{write_config(CONFIG).parent / 'tw.db'}")
    AlertRows(store).commit([total], [], [Notification.of(total)], NOW)
    store.close()
    assert run("inhibit", "test", "partner=RUS", "severity=warning") == (
        0, 'f1  decline  {commodity="TOTAL",partner="RUS",severity="info"}\n')
    assert run("inhibit", "test", "partner=CHN", "severity=warning") == (0, "not inhibited\n")
