"""Notification payloads made the way the alert book makes them, and a store holding the real
Russia-China series, for receiver tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from monitor.alerts.lifecycle import Alert, Status, fingerprint
from monitor.alerts.notification import Notification
from monitor.notify.ruleinfo import RuleInfo
from monitor.store import Store

REPO = Path(__file__).resolve().parents[2]
DEMO_CSV = REPO / "monitor" / "demo" / "russia_china_monthly_2006_2021_russian_fcs.csv"
VINTAGE = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
SERIES = "rus-chn/import/total"
LABELS = {"reporter": "RUS", "partner": "CHN", "flow": "import", "commodity": "TOTAL",
          "unit": "USD_M", "source": "rosstat"}
FIRING_SUMMARY = ("Russia's imports from China fell 21.6% YoY in March 2015, the 5th consecutive monthly "
                  "decline below -5%.")
# The rule the payloads above come from, as notifiers learn it from the config.
RULE = RuleInfo("yoy_consecutive_decline", "yoy_pct", MappingProxyType({}), "consecutive",
                MappingProxyType({"direction": "below", "threshold": -5.0, "count": 5}))
RULES = MappingProxyType({RULE.name: RULE})
FIRING_HEADLINE = "Russia's imports from China: 5th monthly fall in a row"


def alert(rule: str = "yoy_consecutive_decline", series: str = SERIES, *, status: Status = Status.FIRING,
          episode: int = 1, period: str = "2015-03", since: str = "2014-11", value: float = -21.6,
          reference: float = -5.0, summary: str = FIRING_SUMMARY, severity: str = "warning",
          labels: dict[str, str] | None = None, event_period: str | None = None) -> Alert:
    all_labels = {**(LABELS if labels is None else labels), "team": "policy", "alertname": rule,
                  "series": series, "severity": severity}
    return Alert(
        fingerprint=fingerprint(rule, series), rule=rule, series=series,
        labels=MappingProxyType(all_labels), severity=severity, status=status, episode=episode,
        period=period, since_period=since, value=value, reference=reference, summary=summary,
        active_at=VINTAGE, fired_at=VINTAGE, resolved_at=VINTAGE if status is Status.RESOLVED else None,
        updated_at=VINTAGE, event_period=event_period)


def payload(**kwargs: Any) -> Notification:
    return Notification.of(alert(**kwargs))


def resolved(firing: Alert, period: str = "2015-09", summary: str | None = None) -> Notification:
    text = summary or ("Russia's imports from China fell 2.1% YoY in September 2015; "
                       "yoy_consecutive_decline no longer holds.")
    return Notification.of(replace(firing, status=Status.RESOLVED, period=period, summary=text))


def demo_store(path: Path | str, last_period: str = "2015-03") -> Store:
    """A store holding Russia's imports from and exports to China up to `last_period`
    (`path`: a SQLite file, or a store URL)."""
    store = Store(path if isinstance(path, str) else f"sqlite:///{path}")
    wide = pd.read_csv(DEMO_CSV)
    wide = wide[wide["period"] <= last_period]
    frames = []
    for column, flow in (("ru_imports_from_cn_musd", "import"), ("ru_exports_to_cn_musd", "export")):
        frames.append(pd.DataFrame({
            "series": f"rus-chn/{flow}/total",
            "period": pd.PeriodIndex(wide["period"], freq="M"),
            "value": wide[column].astype(float),
            **{k: v for k, v in LABELS.items() if k != "flow"}, "flow": flow,
        }))
    store.ingest(pd.concat(frames, ignore_index=True), VINTAGE, "M")
    return store
