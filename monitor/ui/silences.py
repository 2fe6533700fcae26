"""The silences page: every silence with its state, a form to create one (matchers, duration,
author, comment) with a live preview of the alerts it would silence, and expiry.

Silences are the store's (`SilenceStore`, the same rows the API and `tradewatch silence`
use); the form's matchers are a comma list in the grammar of the alerts filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.alerts.lifecycle import Alert, Status
from monitor.config import parse_duration
from monitor.matchers import MatcherError, matches_all, parse_matchers
from monitor.store.silences import Silence, SilenceError, SilenceStore
from monitor.ui.page import e, message, series_href, table

PREVIEW_LIMIT = 50


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _silence_row(silence: Silence, now: datetime) -> tuple[str, ...]:
    state = silence.state(now)
    action = "" if state == "expired" else (
        f'<button type="button" class="expire" data-id="{e(silence.id)}" '
        f'aria-label="Expire silence {e(" ".join(silence.matchers))}">Expire</button>')
    return (f'<span class="badge {state}">{state}</span>', e(", ".join(silence.matchers)),
            e(_when(silence.starts_at)), e(_when(silence.ends_at)), e(silence.created_by),
            e(silence.comment), f'<code class="small">{e(silence.id)}</code>', action)


def render_silences(silences: Sequence[Silence], alerts: Sequence[Alert], now: datetime,
                    query: Mapping[str, str]) -> str:
    prefill = query.get("matchers", "")
    done = ""
    if query.get("created"):
        done = message(f"Silence {query['created']} created.", "ok")
    elif query.get("expired"):
        done = message(f"Silence {query['expired']} expired.", "ok")
    form = done + (
        '<section aria-labelledby="new-h"><h2 id="new-h">New silence</h2>'
        '<form id="silence-form" class="stack" method="post" action="/ui/silences">'
        '<label for="matchers">Matchers</label>'
        f'<input id="matchers" name="matchers" required value="{e(prefill)}" '
        'placeholder=\'series="rus-chn/import/total", alertname="yoy_sharp_fall"\' '
        'aria-describedby="matchers-help">'
        '<p id="matchers-help" class="hint">Comma-separated: name=value, name!=value, name=~regex, '
        'name!~regex (values may be in double quotes).</p>'
        '<label for="duration">Duration</label>'
        '<input id="duration" name="duration" value="2h" required aria-describedby="duration-help">'
        '<p id="duration-help" class="hint">e.g. 30m, 2h, 7d</p>'
        '<label for="author">Author</label><input id="author" name="author" required autocomplete="name">'
        '<label for="comment">Comment</label>'
        '<textarea id="comment" name="comment" rows="2" required></textarea>'
        '<button type="submit">Create silence</button>'
        '<div id="silence-result" aria-live="polite"></div></form>'
        '<h3 id="preview-h">Alerts it would silence</h3>'
        f'<div id="preview" role="region" aria-labelledby="preview-h" aria-live="polite">'
        f'{preview(alerts, prefill)}</div></section>')
    rows = [_silence_row(s, now) for s in sorted(silences, key=lambda s: (s.state(now) == "expired",
                                                                          s.ends_at), )]
    listing = ('<section aria-labelledby="list-h"><h2 id="list-h">Silences</h2>'
               + (table("Silences", ("state", "matchers", "starts", "ends", "author", "comment", "id", ""),
                        rows, raw=True) if rows else "<p>No silences.</p>")
               + '<div id="expire-result" aria-live="polite"></div></section>')
    return form + listing


def preview(alerts: Sequence[Alert], text: str) -> str:
    """The active alerts the matchers select, or why they cannot be read."""
    if not text.strip():
        return '<p class="hint">Type matchers to see the alerts they match.</p>'
    try:
        matchers = parse_matchers(text)
    except MatcherError as exc:
        return message(f"Invalid matcher: {exc}")
    if not matchers:
        return '<p class="hint">Type matchers to see the alerts they match.</p>'
    active = (Status.PENDING, Status.FIRING)
    hit = [a for a in alerts if a.status in active and matches_all(matchers, a.labels)]
    rows = [(f'<span class="badge {a.status.value}">{a.status.value}</span>', e(a.rule),
             f'<a href="{e(series_href(a.series))}">{e(a.series)}</a>', e(a.summary))
            for a in hit[:PREVIEW_LIMIT]]
    head = f'<p class="summary" id="preview-count">{len(hit)} active alert{"s" * (len(hit) != 1)} match.</p>'
    more = f"<p>and {len(hit) - PREVIEW_LIMIT} more.</p>" if len(hit) > PREVIEW_LIMIT else ""
    return head + (table("Matching alerts", ("status", "rule", "series", "what happened"), rows, raw=True)
                   if rows else "") + more


def create(silences: SilenceStore, form: Mapping[str, str], now: datetime) -> tuple[int, dict[str, Any]]:
    """Create from the page's form; 400 with one sentence when the input is wrong."""
    try:
        matchers = [str(m) for m in parse_matchers(form.get("matchers", ""))]
        ends = now + parse_duration(form.get("duration", "").strip() or "2h")
        silence = silences.add(matchers, now, ends, form.get("author", ""), form.get("comment", ""), now)
    except MatcherError as exc:
        return 400, {"status": "error", "error": f"Invalid matcher: {exc}"}
    except (SilenceError, ValueError) as exc:
        return 400, {"status": "error", "error": str(exc)}
    return 200, {"status": "success", "data": {"silenceID": silence.id}}


def expire(silences: SilenceStore, silence_id: str, now: datetime) -> tuple[int, dict[str, Any]]:
    try:
        silence = silences.expire(silence_id, now)
    except SilenceError as exc:
        return (404 if "no silence" in str(exc) else 400), {"status": "error", "error": str(exc)}
    return 200, {"status": "success", "data": silence.to_json(now)}
