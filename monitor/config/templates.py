"""Annotation and link templates: Jinja2, sandboxed, with a fixed set of variables, so a rule's
`annotations` (summary, description, runbook_url, ...) and a receiver's `dashboard_url` can
speak of the alert. A template that does not parse or names an unknown variable is a config
error at load time, not a broken message months later."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

LINK_TEMPLATES = ("dashboard_url", "source_url")  # receivers' link templates, shown as buttons
VARIABLES = frozenset({"labels", "value", "threshold", "period", "series", "rule", "severity", "summary"})


@functools.cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def template_problem(text: str) -> str | None:
    """Why `text` is not a usable template, or None."""
    environment = _environment()
    try:
        parsed = environment.parse(text)
    except TemplateSyntaxError as exc:
        return f"template does not parse (line {exc.lineno} of the template): {exc.message}"
    unknown = sorted(meta.find_undeclared_variables(parsed) - VARIABLES)
    if unknown:
        return (f"template names unknown variable(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(VARIABLES))}")
    return None


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    return _environment().from_string(text)


def render_template(text: str, context: Mapping[str, Any]) -> str:
    """The template over `context`; raises jinja2's errors (an undefined label, say)."""
    return str(_compiled(text).render(**context)).strip()
