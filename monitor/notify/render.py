"""Notification text. Payloads carry everything; rendering never looks anything up.

Slack messages are Block Kit. Every piece of text that comes from data (summaries, series
ids, labels, periods) is escaped for mrkdwn and marked `verbatim`, so a source can never
ping a channel or forge a link; only the configured mention is Slack syntax. Slack rejects a
message past its Block Kit limits, so everything is cut to fit with a visible marker.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from monitor.alerts.notification import Notification
from monitor.notify.buttons import Controls, control_blocks
from monitor.notify.contributors import drivers_blocks, drivers_sentence
from monitor.notify.message import Message, compose, headline
from monitor.notify.ruleinfo import RuleInfo
from monitor.notify.wording import period_name, span_name

# Slack's documented Block Kit limits.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS = 25  # elements of an actions block
MAX_BUTTON_TEXT = 75
MAX_FALLBACK_TEXT = 3000  # the notification text shown where blocks are not
TRUNCATED = "… [truncated]"
DIGEST_LINE = 400  # one digest entry, so that ten fit in a couple of sections

Block = dict[str, Any]
_ICON = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
_RESOLVED_ICON = ":white_check_mark:"


def console_line(payload: Notification, info: RuleInfo | None = None) -> str:
    """The Slack header's words on one line, then the severity and the finding's sentence:
    "China's exports to Russia: 5th monthly fall in a row · warning · China's exports to
    Russia fell ...". Resolved ones start "Resolved · ", reminders end their headline
    "(still firing)"; an alert on a parent of a hierarchy ends with who drove it."""
    head = headline(payload, info)
    if payload.resolved:
        head = f"Resolved · {head}"
    drivers = drivers_sentence(payload)
    line = f"{head} · {payload.severity} · {payload.summary}" + (f" {drivers}" if drivers else "")
    return " ".join(line.split())


def webhook_body(payload: Notification, receiver: str, info: RuleInfo | None = None) -> dict[str, Any]:
    """The generic webhook's JSON: the alert's fields, and `text` worded as in Slack."""
    drivers = drivers_sentence(payload)
    text = " ".join(f"{headline(payload, info)}. {payload.summary} {drivers or ''}".split())
    return {"version": "1", "receiver": receiver, "status": payload.status.value, "text": text,
            "alert": payload.to_json()}


# -- text helpers --------------------------------------------------------------------------
def escape_mrkdwn(text: object) -> str:
    """The three characters Slack reserves for links and mentions, as entities."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack's reference for files.getUploadURLExternal and files.completeUploadExternal gives no
# length for a file's name or title; these are the usual file-system limit (255) and a title
# a little under it, so that a series id of any length still uploads.
MAX_FILENAME = 255
MAX_TITLE = 250


def truncate(text: str, limit: int, marker: str = TRUNCATED) -> str:
    """At most `limit` characters, ending with `marker` when cut; never splits an entity."""
    if len(text) <= limit:
        return text
    head = text[:max(0, limit - len(marker))]
    amp = head.rfind("&", max(0, len(head) - 5))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + marker


def upload_filename(name: str) -> str:
    """`name` cut to MAX_FILENAME characters, its extension kept (Slack previews by it)."""
    if len(name) <= MAX_FILENAME:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if stem and len(extension) < 16 else ""
    return name[:MAX_FILENAME - len(suffix)] + suffix


def format_number(value: Any) -> str:
    """Thousands separators, at most two decimals (one past 100); `n/a` when missing."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(x):
        return "n/a"
    text = f"{x:,.1f}" if abs(x) >= 100 else f"{x:,.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def move(payload: Notification) -> float:
    """Size of a move, for ordering a digest: |value - reference|, else |value|, else 0."""
    value, reference = payload.value, payload.reference  # finite or None (Notification)
    if value is None:
        return 0.0
    return abs(value - reference) if reference is not None else abs(value)


def period_span(payload: Notification) -> str:
    since, period = payload.since_period, payload.period
    return f"{since} – {period}" if since and since != period else str(period)


def _mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER_TEXT),
                                       "emoji": True}}


def _context(parts: Sequence[str]) -> Block:
    elements = [_mrkdwn(p) for p in parts if p][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elements or [_mrkdwn(" ")]}


def fit_blocks(blocks: list[Block]) -> list[Block]:
    """At most MAX_BLOCKS, the last one saying how many were left out."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    dropped = len(blocks) - (MAX_BLOCKS - 1)
    return [*blocks[:MAX_BLOCKS - 1], _context([f"… {dropped} more blocks not shown [truncated]"])]


# -- Slack alert messages ------------------------------------------------------------------
def title(payload: Notification, info: RuleInfo | None = None) -> str:
    """The header's text: the severity icon (a check mark once resolved) and the headline."""
    return title_of(payload, headline(payload, info))


def title_of(payload: Notification, text: str) -> str:
    if payload.resolved:
        return f"{_RESOLVED_ICON} Resolved · {text}"
    return f"{_icon(payload)} {text}"


def chart_title(payload: Notification, info: RuleInfo | None = None) -> str:
    """The uploaded chart's title: the headline, the flagged span and the series id."""
    return f"{headline(payload, info)} ({span_name(payload.since_period, payload.period)}) · {payload.series}"


def _icon(payload: Notification) -> str:
    if payload.resolved:
        return _RESOLVED_ICON
    return _ICON.get(str(payload.severity), ":red_circle:")


def _fields(message: Message) -> Block:
    return {"type": "section", "fields": [
        _mrkdwn(f"*{name}*\n{escape_mrkdwn(value)}", MAX_FIELD_TEXT) for name, value in message.fields
    ][:MAX_FIELDS]}


def _run(message: Message) -> list[Block]:
    return [_section(f"*Run:* {escape_mrkdwn(message.run)}")] if message.run else []


def _notes(message: Message) -> list[Block]:
    """The rule's description, its other annotations, and the links as buttons."""
    notes = message.notes
    blocks: list[Block] = []
    if notes.description:
        blocks.append(_section(escape_mrkdwn(notes.description)))
    if notes.other:
        blocks.append(_context([escape_mrkdwn(" · ".join(f"{k}: {v}" for k, v in notes.other))]))
    if notes.links:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"link-{index}", "url": url,
             "text": {"type": "plain_text", "text": truncate(text, MAX_BUTTON_TEXT), "emoji": False}}
            for index, (text, url) in enumerate(notes.links[:MAX_ACTIONS])]})
    return blocks


def _lead(message: Message) -> str:
    """The rule's own summary (an annotation) in bold over the finding's sentence."""
    note = message.notes.summary
    return (f"*{escape_mrkdwn(note)}*\n" if note else "") + escape_mrkdwn(message.summary)


def context_line(message: Message) -> Block:
    """Where the numbers come from (source, vintage, rule), then the raw labels, small."""
    return _context([escape_mrkdwn(message.source),
                     escape_mrkdwn(message.labels) if message.labels else ""])


def fallback_text(payload: Notification, info: RuleInfo | None = None,
                  history: pd.Series | None = None) -> str:
    """The plain notification line (phones, screen readers): escaped like the blocks."""
    text = f"{compose(payload, info, history).headline}. {payload.summary}"
    drivers = drivers_sentence(payload)
    return truncate(escape_mrkdwn(f"{text} {drivers}" if drivers else text), MAX_FALLBACK_TEXT)


def alert_blocks(payload: Notification, vintage: datetime | None = None, mention: str | None = None, *,
                 info: RuleInfo | None = None, history: pd.Series | None = None,
                 links: Sequence[tuple[str, str]] = (), controls: Controls | None = None) -> list[Block]:
    """A parent message: what happened, the sentence, the figures, the run, the rule's notes
    and links, the buttons that act on the alert (with who acted, once someone did), the
    source."""
    message = compose(payload, info, history, vintage, links)
    lead = f"{mention} " if mention and payload.status == "firing" else ""
    return fit_blocks([
        _header(title_of(payload, message.headline)),
        _section(lead + _lead(message)),
        _fields(message),
        *drivers_blocks(payload, escape_mrkdwn),
        *_run(message),
        *_notes(message),
        *(control_blocks(controls) if controls is not None else []),
        context_line(message),
    ])


def resolved_parent_blocks(firing: Notification, resolved: Notification, vintage: datetime | None = None,
                           *, info: RuleInfo | None = None, history: pd.Series | None = None,
                           links: Sequence[tuple[str, str]] = ()) -> list[Block]:
    """The parent edited once resolved: the original facts struck through under a resolved
    header, with the resolving sentence on top."""
    was = compose(firing, info, history, vintage, links)
    now = compose(resolved, info, history, vintage)
    return fit_blocks([
        _header(f"{_RESOLVED_ICON} Resolved · {now.headline}"),
        _section(f"*Resolved in {escape_mrkdwn(period_name(resolved.period))}:* "
                 f"{escape_mrkdwn(resolved.summary)}"),
        _section(f"~{escape_mrkdwn(firing.summary)}~"),
        _fields(was),
        *_notes(was),
        context_line(now),
    ])


def thread_blocks(payload: Notification, vintage: datetime | None = None, *, info: RuleInfo | None = None,
                  history: pd.Series | None = None) -> list[Block]:
    """A reply in the episode's thread: a resolution, a reminder or a revision."""
    message = compose(payload, info, history, vintage)
    if payload.resolved:
        lead = f"{_RESOLVED_ICON} *Resolved · {escape_mrkdwn(message.headline)}*\n"
    else:
        lead = f"{_icon(payload)} *Update for {escape_mrkdwn(period_name(payload.period))}:* "
    blocks = [_section(lead + escape_mrkdwn(payload.summary))]
    if not payload.resolved:
        blocks.append(_fields(message))
        blocks.extend(drivers_blocks(payload, escape_mrkdwn))
        blocks.extend(_run(message))
    blocks.append(context_line(message))
    return fit_blocks(blocks)


def note_blocks(text: str) -> list[Block]:
    """A short thread reply written by tradewatch (who silenced what): mrkdwn, not verbatim,
    so that its user mention shows; the caller escapes any data in it."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}}]


# -- digests ---------------------------------------------------------------------------------
def order_by_move(payloads: Sequence[Notification]) -> list[Notification]:
    return sorted(payloads, key=lambda p: (-move(p), str(p.series)))


def digest_blocks(payloads: Sequence[Notification], group_labels: Mapping[str, str],
                  size: int, vintage: datetime | None = None, *,
                  rules: Mapping[str, RuleInfo] | None = None) -> list[Block]:
    """One message for a release that moved many series: the largest moves first, each as
    its headline and figure, the rest counted; the full list goes into the thread as CSV."""
    rules = rules or {}
    ordered = order_by_move(payloads)
    counts: dict[str, int] = {}
    for p in payloads:
        counts[str(p.status)] = counts.get(str(p.status), 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    noun = "alert" if len(payloads) == 1 else "alerts"
    blocks: list[Block] = [_header(f":package: {len(payloads)} trade {noun}: {tally}")]
    if group_labels:
        blocks.append(_context([escape_mrkdwn(
            "Grouped by " + ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items())))]))
    lines = [truncate(digest_line(p, rules.get(p.rule)), DIGEST_LINE) for p in ordered[:size]]
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > MAX_SECTION_TEXT:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    rest = len(ordered) - min(size, len(ordered))
    if rest:
        blocks.append(_section(f"_… and {rest} more; the full list is in the thread (CSV)._"))
    if ordered:
        first = compose(ordered[0], rules.get(ordered[0].rule), None, vintage)
        blocks.append(_context([escape_mrkdwn(first.source)]))
    return fit_blocks(blocks)


def digest_line(payload: Notification, info: RuleInfo | None) -> str:
    """"🟠 *China's exports to Russia: 5th monthly fall in a row* · -16.4% YoY · August 2025"."""
    message = compose(payload, info)
    figure = next((text for name, text in message.fields if name in ("Change", "Value")), "")
    span = next((text for name, text in message.fields if name == "Period"), "")
    parts = [f"{_icon(payload)} *{escape_mrkdwn(message.headline)}*", escape_mrkdwn(figure),
             escape_mrkdwn(span),
             f"`{escape_mrkdwn(payload.series)}`"]
    return " · ".join(p for p in parts if p)


def digest_text(payloads: Sequence[Notification], group_labels: Mapping[str, str]) -> str:
    group = ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items()))
    noun = "trade alert" if len(payloads) == 1 else "trade alerts"
    return truncate(escape_mrkdwn(f"{len(payloads)} {noun} {group}".strip()), MAX_FALLBACK_TEXT)


_CSV_COLUMNS = ("status", "rule", "series", "severity", "since_period", "period", "value",
                "reference", "move", "summary", "labels")


def digest_csv(payloads: Sequence[Notification]) -> str:
    """Every alert of a digest, largest move first. Text cells that a spreadsheet would read
    as a formula are prefixed with a quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    for p in order_by_move(payloads):
        writer.writerow([
            _cell(p.status), _cell(p.rule), _cell(p.series),
            _cell(p.severity), _cell(p.since_period), _cell(p.period),
            _number_cell(p.value), _number_cell(p.reference), f"{move(p):g}",
            _cell(p.summary), _cell(json.dumps(dict(p.labels), sort_keys=True)),
        ])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _number_cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
