"""The Tune page: pick a rule and a window, one input per parameter labelled with its `--set`
path, and the backtest's answer (the Summary table with the command's columns, the events,
charts and the rule's YAML). The result is a fragment the page's script swaps in on every
change, and the whole page without script."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from monitor.backtest.charts import firing_spans
from monitor.backtest.replay import sort_events
from monitor.backtest.report import (
    EVENT_HEADERS,
    GUARD_HEADERS,
    SCORE_HEADERS,
    SUMMARY_HEADERS,
    driver_lines,
    event_cells,
    summary_cells,
)
from monitor.config import LoadedConfig, Rule
from monitor.ui.page import e, message, table
from monitor.ui.svg import Panel, chart
from monitor.ui.tune import TuneRequest, TuneResult, parameters

EVENT_LIMIT = 300
CHART_LIMIT = 6


def request_of(form: Mapping[str, str], rules: Sequence[Rule]) -> TuneRequest:
    """The page's fields: rule, from, to, tolerance, events (text), and one per --set path."""
    name = form.get("rule") or (rules[0].name if rules else "")
    values = {k: v for k, v in form.items() if k.startswith(f"rules.{name}.")}
    tolerance_text = form.get("tolerance", "").strip()
    try:
        tolerance = int(tolerance_text) if tolerance_text else None
    except ValueError:
        tolerance = -1  # refused with a message by the run
    events = form.get("events") or None
    return TuneRequest(name, form.get("from", "").strip() or None, form.get("to", "").strip() or None, values,
                       events, form.get("events_name", "events.csv"), tolerance)


def render_form(loaded: LoadedConfig, request: TuneRequest) -> str:
    rules = loaded.config.rules
    if not rules:
        return "<p>The config has no rules.</p>"
    options = "".join(f'<option value="{e(r.name)}"{" selected" if r.name == request.rule else ""}>'
                      f"{e(r.name)}</option>" for r in rules)
    rule = next((r for r in rules if r.name == request.rule), rules[0])
    inputs = []
    for n, parameter in enumerate(parameters(rule)):
        value = request.values.get(parameter.path, parameter.text)
        inputs.append(f'<div class="param"><label for="p{n}">{e(parameter.path)}</label>'
                      f'<input id="p{n}" name="{e(parameter.path)}" value="{e(value)}" '
                      f'data-config="{e(parameter.text)}" aria-describedby="p{n}-was">'
                      f'<span id="p{n}-was" class="hint">config: {e(parameter.text)}</span></div>')
    return (
        '<form id="tune-form" class="stack" method="get" action="/ui/tune">'
        '<div class="row"><div><label for="rule">Rule</label>'
        f'<select id="rule" name="rule">{options}</select></div>'
        '<div><label for="from">From period</label>'
        f'<input id="from" name="from" value="{e(request.start or "")}" '
        'placeholder="2014-01" size="10"></div>'
        f'<div><label for="to">To period</label><input id="to" name="to" value="{e(request.end or "")}" '
        'placeholder="newest" size="10"></div></div>'
        f'<fieldset><legend>Parameters of {e(rule.name)}</legend>{"".join(inputs)}</fieldset>'
        '<fieldset><legend>Known events (optional)</legend>'
        '<label for="events-file">Events file (CSV with columns series, period)</label>'
        '<input id="events-file" type="file" accept=".csv,text/csv">'
        '<label for="tolerance">Tolerance (periods after an event)</label>'
        f'<input id="tolerance" name="tolerance" inputmode="numeric" value="{e(request.tolerance or "")}" '
        'placeholder="3" size="4"></fieldset>'
        '<button type="submit">Run backtest</button>'
        '<p class="hint">Each change reruns the backtest on the server. Nothing is written: copy the YAML '
        'below into the config to keep a setting.</p></form>')


def render_result(result: TuneResult, loaded: LoadedConfig, request: TuneRequest) -> str:
    scored = result.scored
    paths = (tuple(dict.fromkeys(a.path for row in result.rows for a in row.assignments))
             if len(result.rows) > 1 else ())
    guarded = any(row.summary.removed for row in result.rows)  # as the command shows it
    headers = paths + SUMMARY_HEADERS + (GUARD_HEADERS if guarded else ()) + (SCORE_HEADERS if scored else ())
    rows = [tuple(a.text for a in row.assignments) * bool(paths) + summary_cells(row.summary, scored, guarded)
            for row in result.rows]
    parts = [f'<p class="summary" role="status">Backtest of {e(result.rule)} in {result.seconds:.2f} s; '
             f"data: {e(result.data)}.</p>",
             table("Summary", headers, rows),
             '<p class="small">The same as <code>'
             f"{e(result.command(loaded.path, request.start, request.end))}</code></p>"]
    if scored:
        score_rows = [(row.summary.rule, str(row.summary.score.events), str(row.summary.score.detected),
                       str(row.summary.score.alerts), str(row.summary.score.true_alerts))
                      for row in result.rows if row.summary.score is not None]
        score_headers = ("rule", "known events", "detected", "alerts", "alerts on an event")
        parts.append(table("Known events", score_headers, score_rows))
    events = sort_events(result.runs)
    parts.append(f"<h2>Events ({len(events)})</h2>")
    if events:
        parts.append(table("Events", EVENT_HEADERS, [event_cells(ev) for ev in events[:EVENT_LIMIT]]))
        drivers = driver_lines(events[:EVENT_LIMIT])
        if drivers:
            parts.append('<h3>Who drove them</h3><ul class="drivers">'
                         + "".join(f"<li>{e(line)}</li>" for line in drivers) + "</ul>")
        if len(events) > EVENT_LIMIT:
            rest = len(events) - EVENT_LIMIT
            parts.append(f"<p>and {rest} more (the command's --out writes them all).</p>")
    else:
        parts.append("<p>No alerts in the window.</p>")
    parts.append(_charts(result, loaded))
    parts.append('<section aria-labelledby="yaml-h"><h2 id="yaml-h">YAML</h2>'
                 '<p class="hint">The rule as it would be written in the config with these values.</p>'
                 '<pre id="rule-yaml" tabindex="0" aria-label="The rule in YAML">'
                 f"<code>{e(result.yaml)}</code></pre>"
                 '<button type="button" data-copy="rule-yaml">Copy YAML</button>'
                 '<span class="copied" aria-live="polite"></span></section>')
    return "".join(parts)


def _charts(result: TuneResult, loaded: LoadedConfig) -> str:
    parts = []
    for run in result.runs:
        detector = _detector(result, loaded, run.rule)
        thresholds = [(k, float(v)) for k, v in detector.items()
                      if k in ("threshold", "lower", "upper") and isinstance(v, int | float)
                      and math.isfinite(v)]
        alerted = list(dict.fromkeys(ev.series for ev in run.events))
        for series in alerted[:CHART_LIMIT]:
            levels, values = run.levels[series], run.values[series]
            index = levels.index
            last = levels.dropna().index[-1]
            spans = [(index.get_loc(first), index.get_loc(until))
                     for first, until in firing_spans([ev for ev in run.events if ev.series == series], last)]
            panels = [Panel("level", levels.to_numpy(dtype=float).tolist()),
                      Panel("compared", values.to_numpy(dtype=float).tolist(), thresholds)]
            parts.append(chart(f"{run.rule} on {series}", [str(p) for p in index], panels,
                               [(int(a), int(b)) for a, b in spans], (),
                               f"{len(spans)} firing episode(s) shaded"))
        if len(alerted) > CHART_LIMIT:
            parts.append(f"<p>Charts for the first {CHART_LIMIT} of {len(alerted)} alerted series.</p>")
    return ("<h2>Charts</h2>" + "".join(parts)) if parts else ""


def _detector(result: TuneResult, loaded: LoadedConfig, name: str) -> dict[str, object]:
    rule = next(r for r in loaded.config.rules if r.name == name)
    detector: dict[str, object] = dict(rule.detector)
    for row in result.rows[-1:]:
        for a in row.assignments:
            prefix = f"rules.{name}.detector."
            if a.path.startswith(prefix):
                detector[a.path.removeprefix(prefix)] = a.value
    return detector


def render_error(text: str) -> str:
    return message(text)
