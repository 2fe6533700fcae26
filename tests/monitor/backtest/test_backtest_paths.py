"""When the one-pass path may replace evaluating every step: a history stored late (the
demo's second source, ingested after the first source's releases) qualifies and gives the
same events; a gap filled by a later release does not; a transform's parameters reach both
paths alike."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.backtest.history import load_history
from monitor.backtest.replay import replay_rule
from monitor.backtest.timeline import Window, build_timeline
from monitor.config import load_config
from monitor.runtime import Runtime
from monitor.sources import build_source
from monitor.store import Store
from tests.conftest import REPO

FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def demo_stored(tmp_path: Path) -> Path:
    """The demo config over a store holding each source's whole history, ingested one source
    after the other (so the second source's back years carry a later vintage)."""
    text = (REPO / "config" / "tradewatch.yaml").read_text()
    text = re.sub(r"path: \.\./var/demo\.db", f"path: {tmp_path / 'demo.db'}", text)
    text = re.sub(r"\n\s*replay: .*", "", text)
    config = tmp_path / "demo.yaml"
    config.write_text(text)
    loaded = load_config(config)
    store = Store(loaded.store_url)
    try:
        for n, source in enumerate(loaded.config.sources):
            fetched = build_source(source, loaded).fetch()
            vintage = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=n)
            store.ingest(fetched.frame, vintage, source.frequency)
    finally:
        store.close()
    return config


def test_a_history_stored_late_takes_the_one_pass_path_with_the_same_events(demo_stored: Path) -> None:
    loaded = load_config(demo_stored)
    history = load_history(loaded, "store", FETCHED_AT)
    tree = loaded.config.notify.route
    rules = {r.name: r for r in Runtime.build(loaded).rules}
    both = rules["yoy_consecutive_decline"]  # selects both sources' series: one group
    ids = sorted(sid for sid, info in history.infos.items() if both.config.matches(info.labels))
    timeline = build_timeline(history.of(ids), ids, "M", Window())
    assert timeline is not None
    assert not timeline.simple and timeline.in_order  # late, but in order and never revised
    compared = 0
    for rule in rules.values():
        fast = replay_rule(rule, history, Window(), tree)
        slow = replay_rule(rule, history, Window(), tree, path="slow")
        assert fast.paths == ("fast",) and slow.paths == ("per-step",)
        assert fast.events == slow.events, rule.name
        assert fast.removed == slow.removed, rule.name
        compared += len(fast.events)
    assert compared > 100


GAP_CONFIG = """
store: {path: store.db}
sources:
  - name: office
    kind: file
    path: office.csv
    labels: {reporter: RUS, partner: CHN, commodity: TOTAL}
    columns: {exports: {flow: export}, imports: {flow: import}}
rules:
  - name: low_twice
    detector: {kind: consecutive, direction: below, threshold: 100, count: 2}
"""


def test_a_gap_filled_later_rules_the_one_pass_path_out(write_config: Callable[[str], Path],
                                                       tmp_path: Path) -> None:
    """Exports for 2015-02 arrive with 2015-04, after 2015-03 was seen: on 2015-03's release
    the run of two low months did not exist yet (the final panel has it)."""
    loaded = load_config(write_config(GAP_CONFIG))
    csv_path = tmp_path / "office.csv"
    store = Store(loaded.store_url)
    releases = [
        (datetime(2015, 3, 10, tzinfo=UTC), "2015-01,150,150\n2015-02,,150\n"),
        (datetime(2015, 4, 10, tzinfo=UTC), "2015-01,150,150\n2015-02,,150\n2015-03,50,150\n"),
        (datetime(2015, 5, 10, tzinfo=UTC), "2015-01,150,150\n2015-02,50,150\n2015-03,50,150\n"
                                            "2015-04,150,150\n"),
    ]
    for vintage, rows in releases:
        csv_path.write_text("period,exports,imports\n" + rows)
        store.ingest(build_source(loaded.config.sources[0], loaded).fetch().frame, vintage, "M")
    store.close()
    history = load_history(loaded, "store", FETCHED_AT)
    rule = Runtime.build(loaded).rules[0]
    ids = sorted(history.infos)
    timeline = build_timeline(history.of(ids), ids, "M", Window())
    assert timeline is not None and timeline.single_versions and not timeline.in_order
    tree = loaded.config.notify.route
    run = replay_rule(rule, history, Window(), tree, "fast")
    assert run.paths == ("per-step",)
    assert run.events == replay_rule(rule, history, Window(), tree, "slow").events == ()


ROLLING = """
  - name: low_mean
    transform: {kind: rolling_mean, window: 2}
    detector: {kind: threshold, direction: below, threshold: 3000}
"""


def test_a_transforms_parameters_reach_the_one_pass_path(rc_config: Path) -> None:
    """A two-month mean, not the default twelve: both paths see the rule as configured."""
    text = rc_config.read_text().replace("rules:\n", "rules:\n" + ROLLING.lstrip("\n"), 1)
    rc_config.write_text(text)
    loaded = load_config(rc_config)
    history = load_history(loaded, "auto", FETCHED_AT)
    rule = Runtime.build(loaded).rules[0]
    assert rule.name == "low_mean"
    tree = loaded.config.notify.route
    fast = replay_rule(rule, history, Window(), tree)
    slow = replay_rule(rule, history, Window(), tree, path="slow")
    assert fast.paths == ("fast",)
    assert len(slow.events) > 5
    assert fast.events == slow.events
    series = fast.events[0].series
    level = fast.levels[series]
    expected = level.rolling(2).mean()
    assert fast.values[series].dropna().round(9).equals(expected.dropna().round(9))
