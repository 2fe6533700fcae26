"""Replaying real data: exact periods against a hand computation, vintages honoured, and the
one-pass path equal to evaluating every step."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detectors import DetectorKind, Threshold
from monitor.backtest.history import load_history
from monitor.backtest.replay import _fast_steps, _per_step, replay_rule, run_rules, sort_events
from monitor.backtest.timeline import Window, build_timeline
from monitor.cli import main
from monitor.config import load_config
from monitor.runtime import CompiledRule, Runtime
from monitor.sources import build_source
from monitor.store import Store
from tests.conftest import REPO
from tests.monitor.backtest.conftest import expected_transitions, run_of, single, yoy_by_column

FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
EXPORTS, IMPORTS = "rus-chn/export/total", "rus-chn/import/total"


def backtest_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["backtest", *argv, "--format", "json"]) == 0
    events: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return events


def test_russia_china_2014_2016_fires_and_resolves_exactly_when_the_data_says(
        rc_config: Path, russia_china_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = backtest_json(["--config", str(rc_config), "--from", "2014-01", "--to", "2016-12"], capsys)
    yoy = yoy_by_column(russia_china_csv)
    columns = {EXPORTS: "ru_exports_to_cn_musd", IMPORTS: "ru_imports_from_cn_musd"}
    for rule, flagged, below in (("decline", run_of(5), -5.0), ("sharp", single, -20.0)):
        for series, column in columns.items():
            got = [(e["period"], e["status"]) for e in events if e["rule"] == rule and e["series"] == series]
            expected = expected_transitions(yoy[column], flagged, below, "2014-01", "2016-12")
            assert got == expected, (rule, series)
    # Hand-checked anchors from the demo README: imports fall 20.3% YoY in 2014-12, and the
    # fifth consecutive decline of both flows is 2015-03.
    assert ("sharp", IMPORTS, "2014-12", "firing") in {
        (e["rule"], e["series"], e["period"], e["status"]) for e in events}
    decline = [(e["series"], e["period"], e["status"]) for e in events if e["rule"] == "decline"]
    assert decline == [(EXPORTS, "2015-03", "firing"), (IMPORTS, "2015-03", "firing"),
                       (EXPORTS, "2015-06", "resolved"), (EXPORTS, "2015-11", "firing"),
                       (EXPORTS, "2016-03", "resolved"), (IMPORTS, "2016-05", "resolved")]
    # Routing: critical alerts go to the pager route, warnings stay with the root receiver.
    assert {tuple(e["receivers"]) for e in events if e["rule"] == "sharp"} == {("pager",)}  # type: ignore[arg-type]
    assert {tuple(e["receivers"]) for e in events if e["rule"] == "decline"} == {("console",)}  # type: ignore[arg-type]
    assert not (rc_config.parent / "state").exists()  # the configured store was never created


def test_the_one_pass_path_equals_evaluating_every_step_on_the_demo_data() -> None:
    """Every step's Evaluations (findings, held_for, sentences, labels) are identical."""
    loaded = load_config(REPO / "config" / "tradewatch.yaml")
    history = load_history(loaded, "fetch", FETCHED_AT)
    window = Window("2012-01", None)  # the 2014-2016 and 2022 falls, and the years between
    ids = sorted(history.infos)  # every demo series is monthly
    timeline = build_timeline(history.of(ids), ids, "M", window)
    assert timeline is not None and timeline.simple
    flagged = 0
    for rule in Runtime.build(loaded).rules:
        per_step = [(k, evaluations) for k, evaluations, _ in _per_step(rule, timeline, history.infos)]
        fast = [(k, evaluations) for k, evaluations, _ in _fast_steps(rule, timeline, history.infos)]
        assert len(per_step) == timeline.steps
        assert fast == per_step, rule.name
        flagged += sum(e.finding is not None for _, evaluations in fast for e in evaluations)
    assert flagged > 50
    runs = run_rules(Runtime.build(loaded).rules, history, window, loaded.config.notify.route, "fast")
    assert [run.paths for run in runs] == [("fast",)] * len(runs)
    alerted = {e.series for e in sort_events(runs)}
    assert alerted <= set(ids) and {"rus-chn/import/total", "rus-chn/export/total", "eu27-rus/export/total",
                                    "deu-rus/export/total"} <= alerted


def test_causal_detectors_take_the_one_pass_path_others_replay_step_by_step(rc_config: Path) -> None:
    loaded = load_config(rc_config)
    history = load_history(loaded, "auto", FETCHED_AT)
    rules = Runtime.build(loaded).rules  # consecutive and threshold: both declare causal
    window = Window("2014-01", "2016-12")
    tree = loaded.config.notify.route
    fast = [replay_rule(rule, history, window, tree) for rule in rules]
    slow = [replay_rule(rule, history, window, tree, path="slow") for rule in rules]
    # A threshold registered as not causal, as a change-point detector is.
    looking_ahead = DetectorKind(Threshold, causal=False)
    ahead_rule = CompiledRule(rules[1].config, Threshold("below", -20.0), looking_ahead)
    ahead = replay_rule(ahead_rule, history, window, tree)
    assert [r.paths for r in fast] == [("fast",), ("fast",)]
    assert [r.paths for r in slow] == [("per-step",), ("per-step",)]
    assert ahead.paths == ("per-step",)
    assert [r.events for r in fast] == [r.events for r in slow]
    assert ahead.events == slow[1].events


LEVELS_CONFIG = """
store: {path: store.db}
sources:
  - name: office
    kind: file
    path: office.csv
    labels: {reporter: RUS, partner: CHN, commodity: TOTAL}
    columns: {value: {flow: export}}
rules:
  - name: low
    detector: {kind: threshold, direction: below, threshold: 100}
"""


def write_release(path: Path, rows: list[tuple[str, float]]) -> None:
    path.write_text("period,value\n" + "".join(f"{p},{v}\n" for p, v in rows))


def test_stored_vintages_are_honoured_a_revision_is_unseen_before_its_vintage(
        write_config: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(LEVELS_CONFIG)
    loaded = load_config(config)
    csv_path = tmp_path / "office.csv"
    store = Store(loaded.store_url)
    v1 = datetime(2015, 4, 10, tzinfo=UTC)
    base = [("2015-01", 150.0), ("2015-02", 150.0)]
    releases = [
        (v1, [*base, ("2015-03", 50.0)]),                                        # 2015-03 first: 50
        (v1 + timedelta(days=30), [*base, ("2015-03", 50.0), ("2015-04", 150.0)]),
        (v1 + timedelta(days=61), [*base, ("2015-03", 150.0), ("2015-04", 150.0),  # revised
                                   ("2015-05", 150.0)]),
    ]
    for vintage, rows in releases:
        write_release(csv_path, rows)
        store.ingest(build_source(loaded.config.sources[0], loaded).fetch().frame, vintage, "M")
    store.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    events = backtest_json(["--config", str(config)], capsys)
    assert [(e["period"], e["status"], e["value"]) for e in events] == [
        ("2015-03", "firing", 50.0), ("2015-04", "resolved", 150.0)]
    # The file now holds only the revised values: fetched instead, nothing ever fired.
    assert backtest_json(["--config", str(config), "--data", "fetch"], capsys) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal/-shm left beside the store
    history = load_history(loaded, "store", FETCHED_AT)
    run = replay_rule(Runtime.build(loaded).rules[0], history, Window(), loaded.config.notify.route, "fast")
    assert run.paths == ("per-step",)  # a revision rules the one-pass path out, even when asked
