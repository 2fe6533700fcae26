"""Rates and scores on a hand-made series whose alerts are known in advance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.backtest.history import load_history
from monitor.backtest.replay import RuleRun, replay_rule
from monitor.backtest.summary import EventsFileError, read_known_events, summarise
from monitor.backtest.timeline import Window
from monitor.cli import main
from monitor.config import load_config
from monitor.runtime import Runtime

CONFIG = """
store: {path: none.db}
sources:
  - name: office
    kind: file
    path: office.csv
    labels: {reporter: RUS, partner: CHN, commodity: TOTAL}
    columns: {value: {flow: export}}
rules:
  - name: high
    detector: {kind: threshold, direction: above, threshold: 100}
"""
# Above 100 in 2020-02, 2020-06..07 and 2020-12: three alerts, lasting 1, 2 and 1+ periods.
VALUES = [0, 150, 0, 0, 0, 150, 150, 0, 0, 0, 0, 150]
KNOWN = """series,period,note
rus-chn/export/total,2020-01,alert 2020-02: delay 1
rus-chn/export/total,2020-04,alert 2020-06: delay 2
rus-chn/export/total,2020-08,next alert 2020-12 is 4 periods later
chn-rus/export/total,2020-03,a series the rule does not watch
rus-chn/export/total,2019-06,before the data: the rule could not see it
"""


@pytest.fixture
def hand_made(write_config: Callable[[str], Path], tmp_path: Path) -> Path:
    rows = "".join(f"2020-{month:02d},{value}\n" for month, value in enumerate(VALUES, start=1))
    (tmp_path / "office.csv").write_text("period,value\n" + rows)
    (tmp_path / "known.csv").write_text(KNOWN)
    return write_config(CONFIG)


def replay(config: Path) -> RuleRun:
    loaded = load_config(config)
    history = load_history(loaded, "auto", datetime(2026, 1, 1, tzinfo=UTC))
    return replay_rule(Runtime.build(loaded).rules[0], history, Window(), loaded.config.notify.route)


def test_precision_recall_and_delay_against_known_events(hand_made: Path, tmp_path: Path) -> None:
    run = replay(hand_made)
    assert [(str(e.period), e.status) for e in run.events] == [
        ("2020-02", "firing"), ("2020-03", "resolved"), ("2020-06", "firing"), ("2020-08", "resolved"),
        ("2020-12", "firing")]
    known = read_known_events(tmp_path / "known.csv")
    summary = summarise(run, known, tolerance=3)
    assert (summary.alerts, summary.open, summary.durations) == (3, 1, (1, 2, 1))
    assert summary.series == 1 and summary.series_years == 1.0 and summary.per_series_year == 3.0
    score = summary.score
    assert score is not None
    assert (score.events, score.detected, score.alerts, score.true_alerts) == (3, 2, 3, 2)
    assert score.precision == pytest.approx(2 / 3) and score.recall == pytest.approx(2 / 3)
    assert (score.delays, score.mean_delay, score.median_delay) == ((1, 2), 1.5, 1.5)
    wider = summarise(run, known, tolerance=4).score
    assert wider is not None
    assert (wider.precision, wider.recall, wider.delays, wider.median_delay) == (1.0, 1.0, (1, 2, 4), 2.0)
    assert wider.mean_delay == pytest.approx(7 / 3)
    assert summarise(run).score is None


def test_the_table_shows_the_score_columns(hand_made: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--config", str(hand_made), "--events", str(tmp_path / "known.csv")]) == 0
    out = capsys.readouterr().out
    assert "precision  recall  mean delay  median delay" in out
    row = next(line for line in out.splitlines() if line.startswith("high "))
    assert row.split() == ["high", "1", "3", "1", "1.3", "3.00", "0.67", "0.67", "1.5", "1.5"]
    assert "0 to 3 periods after an event" in out


def test_a_broken_events_file_exits_2_naming_the_line(hand_made: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("series,period\nrus-chn/export/total,2020-13\n")
    assert main(["backtest", "--config", str(hand_made), "--events", str(bad)]) == 2
    assert f"{bad}:2: need a series id and a period" in capsys.readouterr().err
    with pytest.raises(EventsFileError, match="missing column"):
        bad.write_text("when,what\n")
        read_known_events(bad)
