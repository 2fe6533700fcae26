"""`tradewatch alerts`: the alerts in the store as a table with a header, JSON or CSV, each
marked silenced, inhibited or folded as the notification pipeline would decide it now, so the
listing answers "why was I not told?" without reading the logs."""

from __future__ import annotations

import csv
import json
import math
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.failures import existing_store_url

if TYPE_CHECKING:
    from monitor.config import LoadedConfig

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
    notified now: "silenced", "inhibited", "folded" (said in its parent's message along the
    rule's hierarchy) or "". Contributors are those stored with the alert when it was
    evaluated (what its messages said), never recomputed from today's figures."""
    from monitor.alerts.lifecycle import Status
    from monitor.alerts.notification import drivers_json
    from monitor.alerts.persist import load_alerts
    from monitor.notify.marks import Marks, muted
    from monitor.store import Store
    from monitor.store.silences import SilenceStore

    store = Store(existing_store_url(loaded.store_url))
    try:
        alerts = sorted(load_alerts(store).values(), key=lambda a: (a.rule, a.series))
        silences = SilenceStore(store).active(now)
    finally:
        store.close()
    firing = [a for a in alerts if a.status is Status.FIRING]
    marks = Marks.of(loaded.config.notify, silences, firing, now)
    rows = []
    for a in alerts:
        if a.status is Status.RESOLVED and not include_resolved:
            continue
        rows.append({
            "status": a.status.value,
            "muted": muted(marks.mark(a)),
            "rule": a.rule, "series": a.series, "severity": a.severity, "period": a.period,
            "since": a.since_period, "since_time": (a.fired_at or a.active_at).isoformat(),
            "value": a.value if math.isfinite(a.value) else None,
            "labels": dict(sorted(a.labels.items())), "summary": a.summary,
            **({} if a.drivers is None else drivers_json(a.drivers)),
            **({} if a.parent is None else {"parent": a.parent}),
        })
    return rows


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
