"""The silences page: every silence with its state, a form to create one (matchers, duration,
author, comment) with a live preview of the alerts it would silence, and expiry.

Silences are the store's (`SilenceStore`, the same rows the API and `tradewatch silence`
use); the form's matchers are a comma list in the grammar of the alerts filter. With script,
the page posts with the token from its "API token" box and reads JSON; without, the forms
post themselves (`via=form`) with the token typed into their own field, checked as the API
checks its bearer token, and the answer is this page again (never showing the token)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from monitor.alerts.lifecycle import Alert, Status
from monitor.config import parse_duration
from monitor.matchers import MatcherError, matches_all, parse_matchers
from monitor.store.silences import Silence, SilenceError, SilenceStore
from monitor.ui.page import e, message, series_href, table

PREVIEW_LIMIT = 50


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


VIA_FORM = "form"  # the hidden `via` field of a form posted without script
TOKEN_FIELD_HELP = "Needed for changes (TRADEWATCH_API_TOKEN); checked on the server, never shown back."


def _token_field(name: str) -> str:
    """The token for a form posted without script (the script hides it: the "API token" box
    at the top serves then)."""
    return (f'<div class="form-token"><label for="{name}">API token for this form</label>'
            f'<input id="{name}" name="token" type="password" autocomplete="off" '
            f'aria-describedby="{name}-help">'
            f'<p id="{name}-help" class="hint">{e(TOKEN_FIELD_HELP)}</p></div>'
            f'<input type="hidden" name="via" value="{VIA_FORM}">')


def _silence_row(silence: Silence, now: datetime) -> tuple[str, ...]:
    state = silence.state(now)
    action = "" if state == "expired" else (
        f'<button type="submit" class="expire" data-id="{e(silence.id)}" form="expire-form" '
        f'formaction="/ui/silences/{e(quote(silence.id, safe=""))}/expire" '
        f'aria-label="Expire silence {e(" ".join(silence.matchers))}">Expire</button>')
    return (f'<span class="badge {state}">{state}</span>', e(", ".join(silence.matchers)),
            e(_when(silence.starts_at)), e(_when(silence.ends_at)), e(silence.created_by),
            e(silence.comment), f'<code class="small">{e(silence.id)}</code>', action)


def render_silences(silences: Sequence[Silence], alerts: Sequence[Alert], now: datetime,
                    query: Mapping[str, str], entered: Mapping[str, str] | None = None,
                    failed: str = "", failed_expiry: bool = False) -> str:
    """The page; `entered` refills the new-silence form after a refused post (never the
    token), `failed` says why, beside the form it came from."""
    entered = entered or {}
    prefill = entered.get("matchers", query.get("matchers", ""))
    done = ""
    if query.get("created"):
        done = message(f"Silence {query['created']} created.", "ok")
    elif query.get("expired"):
        done = message(f"Silence {query['expired']} expired.", "ok")
    create_error = message(failed) if failed and not failed_expiry else ""
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
        f'<input id="duration" name="duration" value="{e(entered.get("duration", "2h"))}" required '
        'aria-describedby="duration-help">'
        '<p id="duration-help" class="hint">e.g. 30m, 2h, 7d</p>'
        '<label for="author">Author</label>'
        '<input id="author" name="author" required autocomplete="name" '
        f'value="{e(entered.get("author", ""))}">'
        '<label for="comment">Comment</label>'
        f'<textarea id="comment" name="comment" rows="2" required>{e(entered.get("comment", ""))}</textarea>'
        + _token_field("silence-token") +
        '<button type="submit">Create silence</button>'
        f'<div id="silence-result" aria-live="polite">{create_error}</div></form>'
        '<h3 id="preview-h">Alerts it would silence</h3>'
        f'<div id="preview" role="region" aria-labelledby="preview-h" aria-live="polite">'
        f'{preview(alerts, prefill)}</div></section>')
    ordered = sorted(silences, key=lambda s: (s.state(now) == "expired", s.ends_at))
    rows = [_silence_row(s, now) for s in ordered]
    expirable = any(s.state(now) != "expired" for s in ordered)
    expire_error = message(failed) if failed and failed_expiry else ""
    # Each Expire button submits this form to its own silence's address; Enter in the token
    # field meets the disabled default button first and submits nothing.
    expiry = ('<form id="expire-form" class="stack" method="post" action="/ui/silences/-/expire">'
              '<button type="submit" disabled hidden aria-hidden="true" tabindex="-1"></button>'
              f'{_token_field("expire-token")}</form>') if expirable else ""
    listing = ('<section aria-labelledby="list-h"><h2 id="list-h">Silences</h2>' + expiry
               + (table("Silences", ("state", "matchers", "starts", "ends", "author", "comment", "id", ""),
                        rows, raw=True) if rows else "<p>No silences.</p>")
               + f'<div id="expire-result" aria-live="polite">{expire_error}</div></section>')
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
