"""Who drove an alert on a parent, worded for every receiver: one line for the console, the
webhook text and Slack's fallback; a Block Kit section for the Slack message and its thread.

"Driven by Germany -€ 1.5 bn (-60%, 40% of the change), the Netherlands -€ 450 m (-67%,
12%), ...; 22 others -€ 0.6 bn; no figures for Malta." Children are named as readers name
them (country names, HS headings), amounts in the series' unit.
"""

from __future__ import annotations

from typing import Any

from detectors.contributions import Contributor, Drivers
from monitor.alerts.notification import Notification
from monitor.labels import country_name
from monitor.notify.wording import amount, percent, period_name

MAX_LINE = 1500  # the sentence, cut before a Slack section's 3,000 characters with room to spare
COUNTRY_LABELS = ("reporter", "partner")


def child_name(label: str, value: str) -> str:
    """Germany, the Netherlands, HS 8458."""
    if label in COUNTRY_LABELS:
        return country_name(value)
    if label == "commodity":
        return "all goods" if value.upper() == "TOTAL" else f"HS {value}"
    return value


def signed_amount(x: float, unit: str | None) -> str:
    """"-€ 1.5 bn", "+US$ 12 m"."""
    sign = "-" if x < 0 else "+" if x > 0 else ""
    return sign + amount(abs(x), unit)


def _one(c: Contributor, label: str, unit: str | None, first: bool) -> str:
    name = child_name(label, c.labels.get(label, c.series))
    parts = [percent(c.pct)] if c.pct is not None else []
    if c.share is not None:
        share = f"{c.share:.0f}".replace("-0", "0") if abs(c.share) < 0.5 else f"{c.share:.0f}"
        parts.append(f"{share}% of the change" if first else f"{share}%")
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"{name} {signed_amount(c.change, unit)}{detail}"


def drivers_sentence(payload: Notification) -> str | None:
    """The contributors of a firing alert on a parent as one sentence; None otherwise."""
    drivers = payload.drivers
    if drivers is None or payload.resolved:
        return None
    return drivers_text(drivers, payload.labels.get("unit"))


def drivers_text(drivers: Drivers, unit: str | None) -> str:
    """"Driven by ..." for a parent's contributors, amounts in `unit` (the backtest's too)."""
    text = "Driven by " + _listing(drivers, unit)
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def _listing(drivers: Drivers, unit: str | None) -> str:
    label = drivers.label
    named = [_one(c, label, unit, k == 0) for k, c in enumerate(drivers.top)]
    text = ", ".join(named) if named else "no child with figures"
    if drivers.rest_count:
        others = "other" if drivers.rest_count == 1 else "others"
        text += f"; {drivers.rest_count} {others} {signed_amount(drivers.rest_change, unit)}"
    if drivers.missing:
        names = ", ".join(child_name(label, m.value) for m in drivers.missing)
        text += f"; no figures for {names}"
    return text + f" (change from {period_name(drivers.compared_with)} to {period_name(drivers.period)})."


def drivers_blocks(payload: Notification, escape: Any) -> list[dict[str, Any]]:
    """A section under the alert's facts: the contributors, escaped by `escape` (the
    renderer's mrkdwn escaping); nothing for alerts that are not on a parent."""
    sentence = drivers_sentence(payload)
    if sentence is None:
        return []
    text = f"*Who drove it:* {escape(sentence.removeprefix('Driven by '))}"
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}]
