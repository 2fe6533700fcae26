"""Regenerate docs/slack-firing.json, docs/slack-resolved.json, docs/slack-resolved-reply.json
and docs/slack-chart.png from the embedded Russia-China data, through the real daemon.

The demo file is revealed month by month to a real App (store, detectors, alert book) with
a fixed clock, so the examples show exactly what the Slack receiver would send: the firing
of 2015-03 and its resolution. Run: .venv/bin/python docs/render_slack_examples.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))

from monitor.alerts.lifecycle import Status  # noqa: E402
from monitor.alerts.notification import Notification  # noqa: E402
from monitor.app import App  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.notify import render  # noqa: E402
from monitor.notify.chart import chart_png  # noqa: E402
from monitor.notify.ruleinfo import rule_infos  # noqa: E402

DEMO = REPO / "monitor" / "demo" / "russia_china_monthly_2006_2021_russian_fcs.csv"
SERIES = "rus-chn/import/total"
FIRST = "2015-03"
CONFIG = """
store: {path: tradewatch.db}
sources:
  - name: rosstat_russia_china
    kind: file
    path: russia_china.csv
    labels: {reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}
    columns:
      ru_imports_from_cn_musd: {flow: import}
rules:
  - name: yoy_consecutive_decline
    select: {partner: CHN}
    transform: {kind: yoy_pct}
    detector: {kind: consecutive, direction: below, threshold: -5.0, count: 5}
    severity: warning
    labels: {team: policy}
    annotations:
      runbook_url: "https://wiki.example.org/trade/{{ rule }}"
      owner: "Russia desk"
"""


def released(period: str) -> datetime:
    """Customs data for a month is out about six weeks after it ends."""
    return (pd.Period(period, freq="M").end_time + timedelta(days=45)).to_pydatetime().replace(
        hour=6, minute=0, second=0, microsecond=0, tzinfo=UTC)


def message(blocks: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return {"text": text, "blocks": blocks}


def write_json(name: str, data: dict[str, Any]) -> None:
    (DOCS / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    frame = pd.read_csv(DEMO)
    periods = [str(p) for p in frame["period"] if str(p) >= FIRST]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "tradewatch.yaml").write_text(textwrap.dedent(CONFIG))
        now = {"at": released(FIRST)}
        loaded = load_config(work / "tradewatch.yaml")
        info = rule_infos(loaded.config.rules)["yoy_consecutive_decline"]
        app = App(loaded, clock=lambda: now["at"])
        try:
            firing = resolved = None
            for period in periods:
                frame[frame["period"] <= period].to_csv(work / "russia_china.csv", index=False)
                now["at"] = released(period)
                app.run_once()
                alert = next((a for a in app.book.alerts() if a.series == SERIES), None)
                if alert is None:
                    continue
                if firing is None and alert.status is Status.FIRING:
                    firing = Notification.of(alert)
                    history = app.store.series_history(SERIES)
                elif firing is not None and alert.status is Status.RESOLVED:
                    resolved = Notification.of(alert)
                    resolved_history = app.store.series_history(SERIES)
                    resolved_at = resolved_history.attrs["vintage"]
                    break
        finally:
            app.store.close()
    if firing is None or resolved is None:
        raise SystemExit("the demo data no longer fires and resolves; check the rule")
    vintage = history.attrs["vintage"]
    write_json("slack-firing.json", message(render.alert_blocks(firing, vintage, info=info, history=history),
                                            render.fallback_text(firing, info)))
    write_json("slack-resolved.json", message(
        render.resolved_parent_blocks(firing, resolved, resolved_at, info=info, history=resolved_history),
        render.fallback_text(resolved, info)))
    write_json("slack-resolved-reply.json", message(
        render.thread_blocks(resolved, resolved_at, info=info, history=resolved_history),
        render.fallback_text(resolved, info)))
    (DOCS / "slack-chart.png").write_bytes(chart_png(history, firing, info))
    print(f"firing:   {firing.summary}")
    print(f"resolved: {resolved.summary}")


if __name__ == "__main__":
    main()
