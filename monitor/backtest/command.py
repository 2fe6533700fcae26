"""`tradewatch backtest`: argv in, exit code out (0 ok, 1 data or rule failure, 2 bad config,
override, window or events file). Heavy imports wait until the command runs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.backtest.history import History
    from monitor.backtest.replay import RuleRun
    from monitor.backtest.timeline import Timelines
    from monitor.config import LoadedConfig

DEFAULT_CONFIG = "config/tradewatch.yaml"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

EPILOG = """\
examples:
  tradewatch backtest --from 2014-01 --to 2016-12
  tradewatch backtest --rule yoy_sharp_fall --set rules.yoy_sharp_fall.detector.threshold=-10,-20,-30
  tradewatch backtest --events known.csv --out report/ --format html
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `backtest` on the CLI's subparsers."""
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "backtest", help="replay history through the rules and report what would have fired",
        description="Replay the data release by release through the real rules, alert lifecycle "
                    "and routing, in memory: nothing is stored, nothing is sent.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_argument("--config", default=os.environ.get("TRADEWATCH_CONFIG", DEFAULT_CONFIG),
                     help=f"config file (default: $TRADEWATCH_CONFIG or {DEFAULT_CONFIG})")
    sub.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    sub.add_argument("--log-format", default="logfmt", choices=["logfmt", "json"])
    sub.add_argument("--from", dest="start", metavar="PERIOD", help="first period (YYYY-MM, YYYY-Qn, YYYY)")
    sub.add_argument("--to", dest="end", metavar="PERIOD", help="last period (default: the newest data)")
    sub.add_argument("--rule", action="append", default=[], metavar="NAME",
                     help="only this rule (repeatable; default: every rule, or the rules --set changes)")
    sub.add_argument("--format", choices=["table", "json", "md", "html"], default="table",
                     help="stdout format; json is the list of events (or of sweep rows)")
    sub.add_argument("--out", type=Path, metavar="DIR",
                     help="write report.md (report.html with --format html), events.json and charts")
    sub.add_argument("--events", type=Path, metavar="FILE",
                     help="CSV of known events (columns series, period): adds precision, recall, delay")
    sub.add_argument("--tolerance", type=int, default=None, metavar="N",
                     help="an alert 0..N periods after a known event detects it (default: 3)")
    sub.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=V1,V2",
                     help="sweep a config value, e.g. rules.NAME.detector.threshold=-3,-5,-10 "
                          "(repeatable: every combination)")
    sub.add_argument("--data", choices=["auto", "store", "fetch"], default="auto",
                     help="auto: the store's vintages where it has a series, else fetch the sources "
                          "once; store: only the store; fetch: only the sources")
    sub.add_argument("--per-step", action="store_true",
                     help="evaluate every step with the full pipeline, even for causal detectors")
    return sub


def run(args: argparse.Namespace) -> int:
    from monitor.backtest.history import HistoryError
    from monitor.backtest.summary import DEFAULT_TOLERANCE, EventsFileError, read_known_events
    from monitor.backtest.sweep import OverrideError, parse_override, touched_rules, variants
    from monitor.backtest.timeline import Window, WindowError
    from monitor.config import ConfigError, load_config

    try:
        window = Window(args.start, args.end)
        loaded = load_config(args.config)
        overrides = [parse_override(text) for text in args.overrides]
        combos = variants(loaded, overrides) if overrides else []
        names = list(args.rule) or touched_rules(loaded, overrides) or [r.name for r in loaded.config.rules]
        _check_rules(loaded, names)
        known = read_known_events(args.events) if args.events else None
        if args.tolerance is not None and args.tolerance < 0:
            raise WindowError("--tolerance must be 0 or more periods")
    except ConfigError as exc:
        return _fail(f"invalid config\n{exc}", EXIT_BAD_INPUT)
    except (OverrideError, WindowError, EventsFileError, _UnknownRule) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    context = _Context(args, window, names, known, tolerance if known is not None else None)
    try:
        if combos:
            return context.sweep(loaded, combos)
        return context.single(loaded)
    except (HistoryError, _RuleFailed) as exc:
        return _fail(str(exc), EXIT_FAILED)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


class _UnknownRule(ValueError):
    pass


class _RuleFailed(RuntimeError):
    pass


def _check_rules(loaded: LoadedConfig, names: list[str]) -> None:
    known = [r.name for r in loaded.config.rules]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise _UnknownRule(f"unknown rule(s) {', '.join(unknown)}; rules in the config: "
                           f"{', '.join(known) or 'none'}")


def _fail(message: str, code: int) -> int:
    print(f"tradewatch backtest: {message}", file=sys.stderr)
    return code


class _Context:
    """One invocation's options, and the data loaded once for all its combinations."""

    def __init__(self, args: argparse.Namespace, window: Any, names: list[str], known: Any,
                 tolerance: int | None) -> None:
        from monitor.backtest.progress import ProgressBar

        self.args = args
        self.window = window
        self.names = names
        self.known = known
        self.tolerance = tolerance
        self.fetched_at = datetime.now(UTC)
        self.histories: dict[str, History] = {}
        self.timelines: dict[int, Timelines] = {}  # per history: a sweep builds each group once
        self.detail = ""  # what the bar says it is on: the sweep combination
        self.bar = ProgressBar("backtest", ProgressBar.wanted(sys.stderr, args.format))

    def history(self, loaded: LoadedConfig) -> History:
        """Load the data once per distinct store and sources (a sweep rarely changes them)."""
        from monitor.backtest.history import load_history

        key = json.dumps([loaded.store_url, loaded.config.model_dump(mode="json")["sources"]],
                         sort_keys=True)
        if key not in self.histories:
            self.histories[key] = load_history(loaded, self.args.data, self.fetched_at)
        return self.histories[key]

    def replay(self, loaded: LoadedConfig, offset: float = 0.0, share: float = 1.0) -> list[RuleRun]:
        from monitor.backtest.replay import PathChoice, replay_rule
        from monitor.backtest.timeline import Timelines
        from monitor.runtime import Runtime

        history = self.history(loaded)
        built = self.timelines.setdefault(id(history), Timelines(history))
        rules = [r for r in Runtime.build(loaded).rules if r.name in self.names]
        path: PathChoice = "slow" if self.args.per_step else "auto"
        runs = []
        for n, rule in enumerate(rules):
            def progress(fraction: float, n: int = n) -> None:
                self.bar.update(offset + share * (n + fraction) / len(rules), self.detail)

            try:
                runs.append(replay_rule(rule, history, self.window, loaded.config.notify.route, path,
                                        progress, built=built))
            except Exception as exc:  # a detector bug: say which rule, keep the exit code honest
                raise _RuleFailed(f"rule {rule.name} failed: {type(exc).__name__}: {exc}") from exc
        return runs

    def window_label(self, runs: list[RuleRun]) -> str:
        from monitor.backtest.timeline import format_period

        spans = [span for run in runs for span in run.spans]
        if not spans:
            return "no data in the window"
        first = min(spans, key=lambda s: s.first.start_time).first
        last = max(spans, key=lambda s: s.last.end_time).last
        return f"{format_period(first)} to {format_period(last)}"

    def single(self, loaded: LoadedConfig) -> int:
        from monitor.backtest.charts import ChartsUnavailable
        from monitor.backtest.replay import sort_events
        from monitor.backtest.report import (
            Backtest,
            RuleInfo,
            backtest_blocks,
            event_json,
            render,
            write_backtest,
        )
        from monitor.backtest.summary import summarise

        runs = self.replay(loaded)
        self.bar.close()
        rules = {r.name: RuleInfo(r.transform.kind, _threshold(r.detector)) for r in loaded.config.rules}
        result = Backtest(
            config=str(self.args.config), window=self.window_label(runs),
            data=self.history(loaded).describe(), runs=tuple(runs),
            summaries=tuple(summarise(run, self.known, self.tolerance or 0) for run in runs),
            events=tuple(sort_events(runs)), rules=rules, tolerance=self.tolerance)
        if self.args.format == "json":
            print(json.dumps([event_json(e) for e in result.events], indent=2, ensure_ascii=False))
        else:
            print(render(backtest_blocks(result), self.args.format), end="")
        if self.args.out is not None:
            try:
                target = write_backtest(result, self.args.out, self.args.format)
            except ChartsUnavailable as exc:
                return _fail(str(exc), EXIT_FAILED)
            print(f"report: {target}", file=sys.stderr)
        return EXIT_OK

    def sweep(self, loaded: LoadedConfig, combos: list[Any]) -> int:
        from monitor.backtest.report import Sweep, SweepRow, render, sweep_blocks, sweep_json, write_sweep
        from monitor.backtest.summary import summarise

        rows: list[SweepRow] = []
        last_runs: list[RuleRun] = []
        for n, variant in enumerate(combos):
            self.detail = variant.label()
            last_runs = self.replay(variant.loaded, n / len(combos), 1 / len(combos))
            rows += [SweepRow(variant.assignments, summarise(run, self.known, self.tolerance or 0))
                     for run in last_runs]
        self.bar.close()
        paths = tuple(dict.fromkeys(a.path for a in combos[0].assignments))
        sweep = Sweep(str(self.args.config), self.window_label(last_runs),
                      self.history(combos[-1].loaded).describe(), paths, tuple(rows), self.tolerance)
        if self.args.format == "json":
            print(json.dumps(sweep_json(sweep), indent=2, ensure_ascii=False))
        else:
            print(render(sweep_blocks(sweep), self.args.format), end="")
        if self.args.out is not None:
            print(f"report: {write_sweep(sweep, self.args.out, self.args.format)}", file=sys.stderr)
        return EXIT_OK


def _threshold(detector: dict[str, Any]) -> float | None:
    value = detector.get("threshold")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
