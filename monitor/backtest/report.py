"""Backtest output: a terminal table, JSON, Markdown or HTML, and a report directory.

Every format renders the same small document (headings, paragraphs, tables, images), so
the numbers cannot differ between them. A report directory holds report.md or report.html,
events.json and charts/*.png, linked relatively: it reads the same anywhere it is copied.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from monitor.alerts.notification import drivers_json
from monitor.backtest.charts import chart_name, draw
from monitor.backtest.replay import Event, RuleRun, finite
from monitor.backtest.summary import Summary
from monitor.backtest.sweep import Assignment
from monitor.backtest.timeline import format_period
from monitor.notify.contributors import drivers_text

Format = Literal["table", "json", "md", "html"]
FORMATS: tuple[Format, ...] = ("table", "json", "md", "html")
SUMMARY_HEADERS = ("rule", "series", "alerts", "open", "mean duration", "alerts/series/yr")
GUARD_HEADERS = ("removed by guards",)  # shown when a rule has materiality guards
SCORE_HEADERS = ("precision", "recall", "mean delay", "median delay")
EVENT_HEADERS = ("period", "status", "series", "value", "threshold", "receivers")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a chart needs to know about a rule besides its run."""

    transform: str
    threshold: float | None


@dataclass(frozen=True, slots=True)
class Backtest:
    config: str
    window: str
    data: str
    runs: tuple[RuleRun, ...]
    summaries: tuple[Summary, ...]
    events: tuple[Event, ...]
    rules: Mapping[str, RuleInfo]
    tolerance: int | None  # None: no known events given


@dataclass(frozen=True, slots=True)
class SweepRow:
    assignments: tuple[Assignment, ...]
    summary: Summary


@dataclass(frozen=True, slots=True)
class Sweep:
    config: str
    window: str
    data: str
    paths: tuple[str, ...]
    rows: tuple[SweepRow, ...]
    tolerance: int | None


# -- the document ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True, slots=True)
class Para:
    text: str


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Image:
    path: str
    alt: str


Block = Heading | Para | Table | Image


def event_json(event: Event) -> dict[str, Any]:
    """One event as JSON: what the routing tree would have been given, and when."""
    return {
        "rule": event.rule,
        "series": event.series,
        "labels": dict(event.labels),
        "period": format_period(event.period),
        "status": event.status,
        "value": finite(event.value),
        "threshold": finite(event.threshold),
        "receivers": list(event.receivers),
        "severity": event.severity,
        "since": format_period(event.since),
        "episode": event.episode,
        "notify": event.notify,
        "summary": event.summary,
        **({} if event.drivers is None else drivers_json(event.drivers)),
        **({} if event.folded_into is None else {"folded_into": event.folded_into}),
    }


def driver_lines(events: Sequence[Event]) -> list[str]:
    """"March 2022, eu27-rus/export/total: Driven by Germany ..." for each firing event on a
    parent along its rule's `drill`, in the daemon's wording."""
    return [f"{format_period(e.period)}, {e.series}: {drivers_text(e.drivers, e.labels.get('unit'))}"
            for e in events if e.drivers is not None]


def summary_json(summary: Summary) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": summary.rule, "series": summary.series, "alerts": summary.alerts,
        "open": summary.open, "mean_duration": summary.mean_duration,
        "alerts_per_series_year": summary.per_series_year,
    }
    if summary.removed:
        out["removed_by_guards"] = dict(summary.removed)
    if summary.score is not None:
        score = summary.score
        out |= {"precision": score.precision, "recall": score.recall, "mean_delay": score.mean_delay,
                "median_delay": score.median_delay, "known_events": score.events,
                "detected": score.detected}
    return out


def sweep_json(sweep: Sweep) -> list[dict[str, Any]]:
    return [{"set": {a.path: a.value for a in row.assignments}, **summary_json(row.summary)}
            for row in sweep.rows]


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _value(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}"


def summary_cells(summary: Summary, scored: bool, guarded: bool = False) -> tuple[str, ...]:
    """A summary row as every format shows it (the web page's Tune table too)."""
    cells: tuple[str, ...] = (summary.rule, str(summary.series), str(summary.alerts), str(summary.open),
                              _number(summary.mean_duration, 1), _number(summary.per_series_year))
    if guarded:
        cells += (", ".join(f"{name} {count}" for name, count in summary.removed.items()) or "-",)
    if not scored:
        return cells
    score = summary.score
    if score is None:
        return cells + ("-",) * len(SCORE_HEADERS)
    return (*cells, _number(score.precision), _number(score.recall), _number(score.mean_delay, 1),
            _number(score.median_delay, 1))


def event_cells(event: Event) -> tuple[str, ...]:
    """An event row as every format shows it."""
    return (format_period(event.period), event.status, event.series, _value(event.value),
            f"{event.threshold:g}" if math.isfinite(event.threshold) else "-",
            _receivers(event))


def _receivers(event: Event) -> str:
    """Who would have heard: "(folded)" when it was said in the parent's message."""
    if event.folded_into is not None:
        return "(folded)"
    return ", ".join(event.receivers) or ("-" if event.notify else "(quiet)")


def _intro(config: str, window: str, data: str, tolerance: int | None) -> list[Block]:
    lines = [f"config: {config}", f"window: {window}", f"data: {data}"]
    if tolerance is not None:
        lines.append(f"known events: an alert counts when it fires 0 to {tolerance} periods after "
                     "an event on the same series")
    return [Heading("tradewatch backtest", 1), *(Para(line) for line in lines)]


def backtest_blocks(result: Backtest, charts: Mapping[tuple[str, str], str] | None = None) -> list[Block]:
    scored = result.tolerance is not None
    guarded = any(s.removed for s in result.summaries)
    headers = SUMMARY_HEADERS + (GUARD_HEADERS if guarded else ()) + (SCORE_HEADERS if scored else ())
    blocks = _intro(result.config, result.window, result.data, result.tolerance)
    paths = ", ".join(f"{run.rule} ({'/'.join(run.paths) or 'no data'})" for run in result.runs)
    blocks += [Para(f"evaluation: {paths}"), Heading("Summary"),
               Table(headers, tuple(summary_cells(s, scored, guarded) for s in result.summaries))]
    for run in result.runs:
        events = [e for e in result.events if e.rule == run.rule]
        blocks.append(Heading(f"Rule {run.rule}"))
        if not events:
            blocks.append(Para("No alerts in the window."))
            continue
        blocks.append(Table(EVENT_HEADERS, tuple(event_cells(e) for e in events)))
        blocks += [Para(line) for line in driver_lines(events)]
        for series in dict.fromkeys(e.series for e in events):
            if charts and (run.rule, series) in charts:
                blocks.append(Image(charts[(run.rule, series)], f"{run.rule} on {series}"))
    return blocks


def sweep_blocks(sweep: Sweep) -> list[Block]:
    scored = sweep.tolerance is not None
    guarded = any(row.summary.removed for row in sweep.rows)
    headers = (sweep.paths + SUMMARY_HEADERS + (GUARD_HEADERS if guarded else ())
               + (SCORE_HEADERS if scored else ()))
    rows = tuple(tuple(a.text for a in row.assignments) + summary_cells(row.summary, scored, guarded)
                 for row in sweep.rows)
    return [*_intro(sweep.config, sweep.window, sweep.data, sweep.tolerance), Heading("Sweep"),
            Table(headers, rows)]


# -- renderers -----------------------------------------------------------------------------
def render(blocks: Sequence[Block], fmt: Format) -> str:
    if fmt == "html":
        return _html(blocks)
    if fmt == "md":
        return _markdown(blocks)
    return _text(blocks)


def _text(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["", block.text] if block.level > 1 else [block.text]
        elif isinstance(block, Para):
            out.append(block.text)
        elif isinstance(block, Table):
            widths = [max(len(r[i]) for r in (block.headers, *block.rows)) for i in range(len(block.headers))]
            for row in (block.headers, *block.rows):
                out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            if out and out[-1] != "":
                out.append("")
            out += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Para):
            out += [block.text + "  "]
        elif isinstance(block, Table):
            if out and out[-1] != "":
                out.append("")
            out.append("| " + " | ".join(map(_md_cell, block.headers)) + " |")
            out.append("|" + "|".join("---" for _ in block.headers) + "|")
            out += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in block.rows]
            out.append("")
        else:
            out += [f"![{block.alt}]({block.path})", ""]
    return "\n".join(out).rstrip() + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0 1rem}"
        "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
        "th{background:#f3f3f3}img{max-width:100%;display:block;margin:.5rem 0 1.5rem}"
        "p{margin:.2rem 0}")


def _html(blocks: Sequence[Block]) -> str:
    body: list[str] = []
    title = "tradewatch backtest"
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers)
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                           for row in block.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            body.append(f'<img src="{html.escape(block.path)}" alt="{html.escape(block.alt)}">')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# -- report directories --------------------------------------------------------------------
def write_backtest(result: Backtest, out: Path, fmt: Format) -> Path:
    """report.md (report.html with --format html), events.json and a chart per alerted series."""
    out.mkdir(parents=True, exist_ok=True)
    charts: dict[tuple[str, str], str] = {}
    for run in result.runs:
        info = result.rules[run.rule]
        for series in dict.fromkeys(e.series for e in run.events):
            name = f"charts/{chart_name(run.rule, series)}"
            draw(run, series, info.threshold, info.transform, out / name)
            charts[(run.rule, series)] = name
    (out / "events.json").write_text(
        json.dumps([event_json(e) for e in result.events], indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8")
    return _write(out, backtest_blocks(result, charts), fmt)


def write_sweep(sweep: Sweep, out: Path, fmt: Format) -> Path:
    """report.md or report.html with the sweep table, and sweep.json."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(sweep_json(sweep), indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    return _write(out, sweep_blocks(sweep), fmt)


def _write(out: Path, blocks: Sequence[Block], fmt: Format) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / ("report.html" if fmt == "html" else "report.md")
    target.write_text(render(blocks, "html" if fmt == "html" else "md"), encoding="utf-8")
    return target
