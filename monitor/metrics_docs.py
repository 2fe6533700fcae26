"""The metric reference in docs/metrics.md, written from the registry the daemon builds.

Hand-kept tables drift from the code: a family added, a label renamed, a help text changed.
Here the tables are generated from what /metrics exports: the instruments' names, types, help
texts and label names (read from a registry the instruments are registered in, after one
specimen event of each kind gives every labelled family a sample) and the scrape-time gauge
families. Only the part between the two markers is written; the prose around it is kept.

    python -m monitor.metrics_docs            # rewrite docs/metrics.md
    python -m monitor.metrics_docs --check    # exit 1 when it is not what this would write
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.engine import CycleResult
from monitor.metrics import STATE_FAMILIES, Metrics, build_registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
BEGIN = "<!-- BEGIN GENERATED METRICS -->"  # help texts live in monitor/metrics.py
END = "<!-- END GENERATED METRICS -->"
_NOT_LABELS = frozenset({"le", "quantile"})  # a histogram's buckets, a summary's quantiles
_SECTIONS = (  # (title, name prefixes), the first match wins; the rest is "The daemon"
    ("Series", ("tradewatch_series_",)),
    ("Alerts and notifications", ("tradewatch_alerts", "tradewatch_findings", "tradewatch_notification",
                                  "tradewatch_outbox_")),
    ("Sources, schedules and polls", ("tradewatch_source_", "tradewatch_cycle", "tradewatch_rule_")),
)
_DAEMON = "The daemon"


@dataclass(frozen=True, slots=True)
class FamilyDoc:
    """One exported family as the reference shows it."""

    name: str  # as scraped: counters with `_total`, info with `_info`
    type: str
    labels: tuple[str, ...]
    help: str


class UndocumentableFamily(Exception):
    """A labelled instrument without a sample: its label names cannot be read."""


def _specimen(metrics: Metrics) -> None:
    """One event of each kind the instruments record, so each labelled family has a child."""
    now = datetime(2024, 1, 1, tzinfo=UTC)
    metrics.set_clock(lambda: now)
    metrics.config_loaded("0" * 64, now)
    metrics.poll_finished(CycleResult("source", ok=True, error_reason="rows", problems=("row",),
                                      duration_seconds=1.0, stages={"fetch": 0.5}))
    metrics.rule_evaluated("rule", 1, 0.1)
    metrics.delivery("receiver", "rule", "sent")
    metrics.delivery("receiver", "rule", "retried")
    metrics.watch_lease(lambda: True, lambda: 1)


def families() -> list[FamilyDoc]:
    """Every tradewatch family /metrics exports, sorted by name."""
    registry = build_registry()
    _specimen(Metrics(registry))
    found: list[FamilyDoc] = []
    for metric in registry.collect():
        if not metric.name.startswith("tradewatch_"):
            continue  # process_* and python_*: prometheus_client's own
        if not metric.samples:
            raise UndocumentableFamily(
                f"{metric.name} has no sample: give it one in monitor/metrics_docs.py _specimen()")
        labels: list[str] = []
        for sample in metric.samples:
            labels.extend(k for k in sample.labels if k not in _NOT_LABELS and k not in labels)
        suffix = {"counter": "_total", "info": "_info"}.get(metric.type, "")
        kind = "gauge" if metric.type == "info" else metric.type
        found.append(FamilyDoc(metric.name + suffix, kind, tuple(labels), metric.documentation))
    found.extend(FamilyDoc(f.name, "gauge", f.labelnames, f.documentation) for f in STATE_FAMILIES)
    return sorted(found, key=lambda f: f.name)


def section_of(name: str) -> str:
    return next((title for title, prefixes in _SECTIONS if name.startswith(prefixes)), _DAEMON)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(found: list[FamilyDoc]) -> str:
    """The generated part, markers included."""
    out = [BEGIN, ""]
    for title in [*(t for t, _ in _SECTIONS), _DAEMON]:
        rows = [f for f in found if section_of(f.name) == title]
        if not rows:
            continue
        out += [f"### {title}", "", "| metric | type | labels | meaning |", "|---|---|---|---|"]
        out += [f"| `{f.name}` | {f.type} | {', '.join(f'`{k}`' for k in f.labels)} | {_cell(f.help)} |"
                for f in rows]
        if title == _DAEMON:
            out.append("| `process_*`, `python_*` | | | the standard process and runtime metrics |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def rewrite(text: str, generated: str) -> str:
    """`text` with the part between the markers replaced by `generated`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN} and {END} are missing")
    return text[:start] + generated + text[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.metrics_docs",
                                     description="Write the metric reference in docs/metrics.md.")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    parser.add_argument("--file", type=Path, default=DOC, help="the Markdown file (default: %(default)s)")
    args = parser.parse_args(argv)
    current = args.file.read_text(encoding="utf-8")
    try:
        wanted = rewrite(current, render(families()))
    except (ValueError, UndocumentableFamily) as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if wanted != current:
            print(f"{args.file} is out of date: run python -m monitor.metrics_docs", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        args.file.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
