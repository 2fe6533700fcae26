"""`tradewatch alerts`: the alerts in the store as a table with a header, JSON or CSV, each
marked silenced or inhibited as the notification pipeline would decide it now, so the
listing answers "why was I not told?" without reading the logs."""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.failures import existing_store_url

if TYPE_CHECKING:
    from detectors.contributions import Drivers
    from monitor.alerts.lifecycle import Alert
    from monitor.config import LoadedConfig
    from monitor.store import Store

COLUMNS = ("status", "muted", "rule", "series", "severity", "period", "since", "value", "labels")


def list_alerts(loaded: LoadedConfig, fmt: str, include_resolved: bool, now: datetime) -> int:
    """Print the alerts; 0. The store is opened read-only and must exist."""
    rows = alert_rows(loaded, include_resolved, now)
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_cell(row, column) for column in COLUMNS])
    elif not rows:
        print("no alerts" if include_resolved else "no pending or firing alerts (--all shows resolved ones)")
    else:
        print(_table(rows))
    return 0


def alert_rows(loaded: LoadedConfig, include_resolved: bool, now: datetime) -> list[dict[str, Any]]:
    """One plain mapping per alert, sorted by rule and series, `muted` saying why it is not
    notified now: "silenced", "inhibited" or ""."""
    from monitor.alerts.lifecycle import Status
    from monitor.alerts.notification import drivers_json
    from monitor.alerts.persist import load_alerts
    from monitor.notify.inhibit import Decision, decide
    from monitor.store import Store
    from monitor.store.silences import SilenceStore

    store = Store(existing_store_url(loaded.store_url))
    try:
        alerts = sorted(load_alerts(store).values(), key=lambda a: (a.rule, a.series))
        silences = SilenceStore(store).active(now)
        drivers = alert_drivers(loaded, store, [a for a in alerts if a.status is not Status.RESOLVED
                                                or include_resolved])
    finally:
        store.close()
    firing = [a for a in alerts if a.status is Status.FIRING]
    rules = loaded.config.notify.inhibit_rules
    rows = []
    for a in alerts:
        if a.status is Status.RESOLVED and not include_resolved:
            continue
        decision = decide(a.labels, a.fingerprint, silences, rules, firing, now)
        rows.append({
            "status": a.status.value,
            "muted": "" if decision is Decision.SEND else decision.value,
            "rule": a.rule, "series": a.series, "severity": a.severity, "period": a.period,
            "since": a.since_period, "since_time": (a.fired_at or a.active_at).isoformat(),
            "value": a.value if math.isfinite(a.value) else None,
            "labels": dict(sorted(a.labels.items())), "summary": a.summary,
            **({} if a.fingerprint not in drivers else drivers_json(drivers[a.fingerprint])),
        })
    return rows


def alert_drivers(loaded: LoadedConfig, store: Store, alerts: Sequence[Alert]) -> dict[str, Drivers]:
    """fingerprint -> the contributors of each alert whose rule drills into a hierarchy,
    read from the store at the alert's period."""
    import pandas as pd

    from monitor.drill import Drilled
    from monitor.hierarchy import trees
    from monitor.periods import pandas_freq

    rules = {r.name: r for r in loaded.config.rules if r.drill is not None}
    wanted = [a for a in alerts if a.rule in rules]
    if not wanted:
        return {}
    nested = trees(loaded.config.hierarchies)
    infos = store.series()
    out: dict[str, Drivers] = {}
    for name, rule in rules.items():
        mine = [a for a in wanted if a.rule == name and a.series in infos]
        if not mine or rule.drill is None or rule.drill.along not in nested:
            continue
        drilled = Drilled.of(rule, nested[rule.drill.along], infos.values())
        periods = {a.series: pd.Period(a.period, freq=pandas_freq(infos[a.series].frequency)) for a in mine}
        found = drilled.drivers(periods, infos, store.panel, rule.drill.top)
        out |= {a.fingerprint: found[a.series] for a in mine if a.series in found}
    return out


def _cell(row: dict[str, Any], column: str) -> str:
    value = row[column]
    if column == "labels":
        return ",".join(f"{k}={v}" for k, v in value.items())
    if column == "value":
        return "" if value is None else f"{value:g}"
    return str(value)


def _table(rows: list[dict[str, Any]]) -> str:
    header = [c.upper() for c in COLUMNS]
    body = [[_cell(r, c) or "-" for c in COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
             for line in [header, *body]]
    return "\n".join(lines)
