"""A rule's annotations and a receiver's link templates, rendered for one alert.

The templates were checked when the config was loaded; one that still fails here (a label
the series does not carry, under StrictUndefined) is left out of the message and logged,
since an alert must not be lost to its decoration."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.alerts.notification import Notification
from monitor.config.templates import render_template
from monitor.notify.ruleinfo import RuleInfo

log = logging.getLogger(__name__)

_URL = re.compile(r"^https?://\S+$")
MAX_URL = 3000  # Slack's limit for a button's url
LINK_LABELS = {"runbook_url": "Runbook", "dashboard_url": "Dashboard", "source_url": "Source data"}


@dataclass(frozen=True, slots=True)
class Annotations:
    summary: str = ""
    description: str = ""
    links: tuple[tuple[str, str], ...] = ()  # (button text, url)
    other: tuple[tuple[str, str], ...] = ()  # the rule's other annotations, by key


def template_context(payload: Notification) -> dict[str, Any]:
    return {"labels": dict(payload.labels), "value": payload.value, "threshold": payload.reference,
            "period": payload.period, "series": payload.series, "rule": payload.rule,
            "severity": payload.severity, "summary": payload.summary}


def _render(key: str, text: str, context: Mapping[str, Any], payload: Notification) -> str:
    try:
        return render_template(text, context)
    except Exception as exc:  # an undefined label, a failing filter: the alert goes out without it
        log.warning("template %s not rendered rule=%s series=%s: %s", key, payload.rule, payload.series,
                    exc)
        return ""


def _link(key: str, url: str) -> tuple[str, str] | None:
    return (LINK_LABELS[key], url) if url and _URL.match(url) and len(url) <= MAX_URL else None


def annotate(payload: Notification, info: RuleInfo | None,
             link_templates: Sequence[tuple[str, str]] = ()) -> Annotations:
    """The rule's annotations and the receiver's links (`(key, template)`) for `payload`."""
    templates = dict(info.annotations) if info else {}
    if not templates and not link_templates:
        return Annotations()
    context = template_context(payload)
    done = {key: _render(key, text, context, payload) for key, text in templates.items()}
    links = [_link("runbook_url", done.pop("runbook_url", ""))]
    links += [_link(key, _render(key, text, context, payload)) for key, text in link_templates
              if key in LINK_LABELS]
    summary, description = done.pop("summary", ""), done.pop("description", "")
    return Annotations(summary, description, tuple(link for link in links if link),
                       tuple((k, v) for k, v in sorted(done.items()) if v))
