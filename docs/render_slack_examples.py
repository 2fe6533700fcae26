"""Regenerate docs/slack-firing.json, docs/slack-resolved.json, docs/slack-resolved-reply.json,
docs/slack-drivers.json and docs/slack-chart.png from the embedded demo data, through the real
daemon.

The demo file is revealed month by month to a real App (store, detectors, alert book) with
a fixed clock, so the examples show exactly what the Slack receiver would send: the firing
of 2015-03 and its resolution; and the EU's exports to Russia in March 2022 with the member
states that drove the fall (the demo config's hierarchy and guards).
Run: .venv/bin/python docs/render_slack_examples.py [OUT_DIR]   (tests/docs checks the JSON)
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


def write_json(out: Path, name: str, data: dict[str, Any]) -> None:
    (out / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


EU_DEMO = REPO / "monitor" / "demo" / "eurostat_comext_eu_exports_to_russia_monthly_2019_2024.csv"
EU_SERIES = "eu27-rus/export/total"
EU_PERIOD = "2022-03"


def eu_drivers(out: Path) -> None:
    """The demo config's EU rule on data up to March 2022: the EU27 alert and its drivers."""
    import yaml

    demo = yaml.safe_load((REPO / "config" / "tradewatch.yaml").read_text("utf-8"))
    [source] = [s for s in demo["sources"] if s["name"] == "eurostat_eu_exports_to_russia"]
    source.pop("replay")
    source["path"] = "eu.csv"
    config = {"store": {"path": "tradewatch.db"}, "sources": [source], "hierarchies": demo["hierarchies"],
              "rules": [r for r in demo["rules"] if r["name"] == "eu_exports_sharp_fall"]}
    frame = pd.read_csv(EU_DEMO)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        frame[frame["period"] <= EU_PERIOD].to_csv(work / "eu.csv", index=False)
        (work / "tradewatch.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        loaded = load_config(work / "tradewatch.yaml")
        info = rule_infos(loaded.config.rules)["eu_exports_sharp_fall"]
        app = App(loaded, clock=lambda: released(EU_PERIOD))
        try:
            app.run_once()
            alert = next(a for a in app.book.alerts() if a.series == EU_SERIES)
            history = app.store.series_history(EU_SERIES)
        finally:
            app.store.close()
    parent = Notification.of(alert)
    if alert.status is not Status.FIRING or parent.drivers is None:
        raise SystemExit("the EU's March 2022 fall no longer fires with its drivers; check the rule")
    write_json(out, "slack-drivers.json", message(
        render.alert_blocks(parent, history.attrs["vintage"], info=info, history=history),
        render.fallback_text(parent, info)))
    print(f"drivers:  {parent.summary}")


def main(out: Path = DOCS) -> None:
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
    write_json(out, "slack-firing.json", message(
        render.alert_blocks(firing, vintage, info=info, history=history), render.fallback_text(firing, info)))
    write_json(out, "slack-resolved.json", message(
        render.resolved_parent_blocks(firing, resolved, resolved_at, info=info, history=resolved_history),
        render.fallback_text(resolved, info)))
    write_json(out, "slack-resolved-reply.json", message(
        render.thread_blocks(resolved, resolved_at, info=info, history=resolved_history),
        render.fallback_text(resolved, info)))
    (out / "slack-chart.png").write_bytes(chart_png(history, firing, info))
    print(f"firing:   {firing.summary}")
    print(f"resolved: {resolved.summary}")
    eu_drivers(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS)
