"""The runtime compiles each rule once, with its detector's registration, and builds
notifiers only when the daemon provides their services."""

from __future__ import annotations

from pathlib import Path

from detectors import KINDS, Needs, Staleness
from monitor.config import load_config
from monitor.runtime import Runtime

CONFIG = """
store: {path: state.db}
sources:
  - name: office
    kind: file
    path: data.csv
    value_column: value
    frequency: Q
rules:
  - name: late
    detector: {kind: staleness, lag: 2}
  - name: fall
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -5}
notify:
  receivers: [{name: desk, console: {}}]
  route: {receiver: desk}
"""


def test_rules_are_compiled_with_their_registration(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("series,period,value\na,2020Q1,1\n")
    (tmp_path / "tw.yaml").write_text(CONFIG)
    runtime = Runtime.build(load_config(tmp_path / "tw.yaml"))
    late, fall = runtime.rules
    assert isinstance(late.detector, Staleness) and late.detector.lag == 2
    assert late.registered is KINDS["staleness"] and late.needs(Needs.CLOCK)
    assert fall.registered is KINDS["threshold"] and not fall.needs(Needs.CLOCK)
    assert runtime.notifiers == {}  # no services, no notifiers (a backtest)
    assert runtime.frequency_of("office") == "Q"
