"""Every alert episode of some alerts, past and present: the store's alerts table holds only
each alert's latest state, so past episodes are read back from the firing and resolved
notifications queued for them (`Store.notified`), and the alert book's current state
completes the latest one. What the series page shades."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.alerts.lifecycle import Alert, Status, fingerprint
from monitor.store import Notified, Store


@dataclass(frozen=True, slots=True)
class Episode:
    """One episode of one alert: firing from `since` (where its condition began) until
    `until`, the period it resolved at when `resolved`, else the last period it fired at."""

    rule: str
    series: str
    episode: int
    since: str
    fired: str | None  # the period it started firing at (after `for`)
    until: str
    resolved: bool
    current: bool  # the alert book's latest episode of this alert


def episode_history(store: Store, rules: Sequence[str], series: str,
                    alerts: Iterable[Alert]) -> list[Episode]:
    """The episodes of each rule's alert on one series, oldest first per rule. `alerts` is
    the alert book's current state (fresher than the store's notifications)."""
    names = {fingerprint(rule, series): rule for rule in rules}
    current = {a.fingerprint: a for a in alerts if a.fingerprint in names}
    rows: dict[tuple[str, int], dict[str, Notified]] = {}
    for row in store.notified(list(names)):
        rows.setdefault((row.fingerprint, row.episode), {})[row.status] = row
    for fp, alert in current.items():
        if alert.status is not Status.PENDING:
            rows.setdefault((fp, alert.episode), {})
    out = []
    for (fp, number), by_status in sorted(rows.items(), key=lambda item: (names[item[0][0]], item[0][1])):
        book = current.get(fp)
        latest = book if book is not None and book.episode == number else None
        out.append(_episode(names[fp], series, number, by_status, latest))
    return out


def _episode(rule: str, series: str, number: int, rows: dict[str, Notified], alert: Alert | None) -> Episode:
    firing, resolved = rows.get("firing"), rows.get("resolved")
    fired = str(firing.payload.get("period")) if firing is not None else None
    since = next((str(r.payload["since_period"]) for r in (firing, resolved)
                  if r is not None and r.payload.get("since_period")), fired or "")
    if alert is not None:  # the book knows the newest period of its latest episode
        since = alert.since_period or since
        done = alert.status is Status.RESOLVED
        return Episode(rule, series, number, since, fired, alert.period, done, True)
    if resolved is not None:
        return Episode(rule, series, number, since, fired, str(resolved.payload.get("period")), True, False)
    # Fired and never resolved by a notification: an event's alert (it resolves quietly), or
    # one whose later state is gone; shaded at the period it fired at.
    return Episode(rule, series, number, since, fired, fired or since, False, False)
