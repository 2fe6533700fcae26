"""The book hears only about series where something can change: a finding, or an active
alert that may resolve. A quiet series costs no Evaluation, no step and no row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.app import App
from monitor.config import load_config
from tests.conftest import DEMO_CSV, ROSSTAT_BOTH_FLOWS, truncate_csv

CONFIG = """
store: {path: state.db}
sources:
""" + ROSSTAT_BOTH_FLOWS + """rules:
  - name: decline
    transform: {kind: yoy_pct}
    detector: {kind: consecutive, direction: below, threshold: -5, count: 5}
  - name: never
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -1000}
"""


@pytest.fixture
def app(write_config: Callable[[str], Path], russia_china_csv: Path) -> App:
    truncate_csv(russia_china_csv, "2015-03")
    return App(load_config(write_config(CONFIG)))


def test_only_findings_and_active_alerts_are_evaluated(
    app: App, russia_china_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [first] = app.run_once()
    assert (first.changed_series, first.evaluations, first.transitions) == (2, 2, 2)  # `never`: none
    assert app.book.active_series() == {"decline": {"rus-chn/export/total", "rus-chn/import/total"}}
    truncate_csv(russia_china_csv, "2015-06", source=DEMO_CSV)  # exports recover (-1.3% YoY), imports do not
    capsys.readouterr()
    [second] = app.run_once()
    assert (second.changed_series, second.evaluations, second.transitions) == (2, 2, 2)
    assert capsys.readouterr().out.splitlines() == [
        "Resolved · Russia's exports to China: back above -5% YoY · warning · Russia's exports to "
        "China fell 1.3% YoY in June 2015; decline no longer holds."]
    assert app.book.active_series() == {"decline": {"rus-chn/import/total"}}
    truncate_csv(russia_china_csv, "2015-07", source=DEMO_CSV)
    [third] = app.run_once()
    assert third.evaluations == 1  # the resolved export alert is not evaluated again
    app.stop()
