"""The series page shades every alert episode the store recorded, not only the latest: a
daemon lives through 2014-2016 a month at a time (on SQLite and on PostgreSQL), and the
page's episodes are those the backtest of the same stored vintages finds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from monitor.app import App
from monitor.backtest.history import load_history
from monitor.backtest.replay import replay_rule
from monitor.backtest.timeline import Window
from monitor.config import load_config
from monitor.runtime import Runtime
from tests.conftest import DEMO_CSV, truncate_csv
from tests.monitor.ui.conftest import CONFIG, TOKEN, tables

FIRST, MONTHS = "2014-06", [f"{y}-{m:02d}" for y in (2014, 2015, 2016) for m in range(1, 13)]


def test_every_recorded_episode_is_shaded_and_equals_the_backtest(
        write_config: Callable[[str], Path], russia_china_csv: Path, store_url: Callable[..., str]) -> None:
    path = write_config(CONFIG.replace("store: {path: state.db}", f"store: {{url: '{store_url()}'}}"))
    truncate_csv(russia_china_csv, FIRST)
    app = App(load_config(path), api_token=TOKEN)
    url = app.start().removesuffix("/metrics")
    try:
        for month in [m for m in MONTHS if m > FIRST]:
            truncate_csv(russia_china_csv, month, source=DEMO_CSV)
            app.run_once()
        pages = {sid: httpx.get(f"{url}/ui/series/{sid}", timeout=60).text
                 for sid in ("rus-chn/import/total", "rus-chn/export/total")}
    finally:
        app.stop()
    loaded = load_config(path)
    rule = Runtime.build(loaded).rules[0]
    history = load_history(loaded, "store", datetime.now(UTC))
    run = replay_rule(rule, history, Window(FIRST), loaded.config.notify.route)
    total = 0
    for sid, page in pages.items():
        events = [e for e in run.events if e.series == sid]
        resolved = {e.episode: str(e.period) for e in events if e.status == "resolved"}
        expected = [["sharp_fall", str(e.episode), str(e.since), str(e.period), resolved.get(e.episode, "-")]
                    for e in events if e.status == "firing"]
        header, *rows = tables(page)["Alert episodes"]
        assert header[:5] == ["rule", "episode", "since", "fired at", "resolved at"]
        assert [row[:5] for row in rows] == expected, sid
        assert f"{len(expected)} alert episode(s) shaded" in page
        assert page.count("<title>firing</title>") == 2 * len(expected)  # on the level and the YoY panels
        total += len(expected)
    assert total >= 3  # more than the latest episode of each series
