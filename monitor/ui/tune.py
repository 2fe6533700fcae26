"""Tune: one rule's backtest rerun on the server as parameters change, with the code of
`tradewatch backtest --set PATH=V` (the override parser, the variants validated like the
config, the same history loader, `Runtime.build`, `replay_rule` and `summarise`), so the
page and the command agree on every count. The config file is only read, never written.

The history, and the timelines built from it for each group of series and window, are kept
while the config's sources and the store's data (its fingerprint, `store_mark`) stay the same,
at most `HISTORY_TTL` (what was fetched from sources is fetched again then); the config
file's YAML is kept while the file is unchanged. A change then reruns only the replay. One
run at a time: a backtest uses a core."""

from __future__ import annotations

import copy
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from monitor.backtest.history import History, HistoryError, load_history, store_mark
from monitor.backtest.replay import RuleRun, replay_rule, sort_events
from monitor.backtest.report import SweepRow
from monitor.backtest.summary import (
    DEFAULT_TOLERANCE,
    EventsFileError,
    KnownEvent,
    read_known_events,
    summarise,
)
from monitor.backtest.sweep import Assignment, Override, OverrideError, apply, parse_override, variants
from monitor.backtest.timeline import Timelines, Window, WindowError
from monitor.config import ConfigError, LoadedConfig, LoadedYaml, Rule, load_yaml
from monitor.runtime import Runtime
from monitor.secrets import Masker

HISTORY_TTL = 30.0  # seconds a loaded history serves further runs (while the store's data is unchanged)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One input of the page: its `--set` path and the value the config has."""

    path: str
    text: str


def parameters(rule: Rule) -> list[Parameter]:
    """Every tunable value of a rule: the detector's and the transform's parameters, `for`,
    `keep_firing_for` and the materiality guards (`null` when off), each with its `--set` path."""
    base = f"rules.{rule.name}"
    out = [Parameter(f"{base}.detector.{k}", _text(v)) for k, v in rule.detector.items() if k != "kind"]
    out += [Parameter(f"{base}.transform.{k}", _text(v)) for k, v in rule.transform.params().items()
            if not isinstance(v, dict)]
    out += [Parameter(f"{base}.for", str(rule.for_)),
            Parameter(f"{base}.keep_firing_for", str(rule.keep_firing_for)),
            Parameter(f"{base}.min_level", _text(rule.min_level)),  # null: no guard
            Parameter(f"{base}.min_change", _text(rule.min_change))]
    return out


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


@dataclass(frozen=True, slots=True)
class TuneRequest:
    rule: str
    start: str | None = None
    end: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)  # --set path -> text typed
    events: str | None = None  # the known-events CSV's text
    events_name: str = "events.csv"
    tolerance: int | None = None


@dataclass(frozen=True, slots=True)
class TuneResult:
    rule: str
    rows: tuple[SweepRow, ...]
    runs: tuple[RuleRun, ...]  # of the last combination, for events and charts
    overrides: tuple[str, ...]  # the --set arguments the same run takes on the command line
    yaml: str
    scored: bool
    data: str
    seconds: float

    def command(self, config: Path, start: str | None, end: str | None) -> str:
        parts = ["tradewatch backtest", f"--config {config}", f"--rule {self.rule}"]
        parts += [f"--from {start}"] if start else []
        parts += [f"--to {end}"] if end else []
        parts += [f"--set '{o}'" for o in self.overrides]
        return " ".join(parts) + " --format json"


class TuneError(ValueError):
    """Input the backtest refuses (an override, a window, an events file): one message."""


class Tuner:
    def __init__(self, loaded: Callable[[], LoadedConfig]) -> None:
        self._loaded = loaded
        self._lock = threading.Lock()
        self._history: tuple[str, float, History, Timelines] | None = None
        self._yaml: tuple[tuple[str, int, int], LoadedYaml] | None = None

    def loaded(self) -> LoadedConfig:
        return self._loaded()

    def history(self, loaded: LoadedConfig) -> History:
        """Read as `tradewatch backtest --data auto` reads it (see the module's docstring)."""
        return self._data(loaded)[0]

    def _data(self, loaded: LoadedConfig) -> tuple[History, Timelines]:
        import json

        key = json.dumps([loaded.store_url, loaded.config.model_dump(mode="json")["sources"],
                          store_mark(loaded.store_url)], sort_keys=True)
        cached = self._history
        if cached is not None and cached[0] == key and time.monotonic() - cached[1] < HISTORY_TTL:
            return cached[2], cached[3]
        history = load_history(loaded, "auto", datetime.now(UTC))
        built = Timelines(history)
        self._history = (key, time.monotonic(), history, built)
        return history, built

    def document(self, loaded: LoadedConfig) -> LoadedYaml:
        """The config file's YAML, read again only when the file changed."""
        stat = loaded.path.stat()
        key = (str(loaded.path), stat.st_mtime_ns, stat.st_size)
        if self._yaml is None or self._yaml[0] != key:
            self._yaml = (key, load_yaml(loaded.path))
        return self._yaml[1]

    def run(self, request: TuneRequest) -> TuneResult:
        """TuneError for bad input; HistoryError when the data cannot be read."""
        started = time.perf_counter()
        loaded = self._loaded()
        rule = next((r for r in loaded.config.rules if r.name == request.rule), None)
        if rule is None:
            known = ", ".join(r.name for r in loaded.config.rules) or "none"
            raise TuneError(f"unknown rule {request.rule!r}; rules in the config: {known}")
        try:
            window = Window(request.start or None, request.end or None)
            overrides = _overrides(rule, request.values)
            document = self.document(loaded)
            combos = variants(loaded, overrides, document) if overrides else []
            known_events = _events(request) if request.events is not None else None
        except (OverrideError, WindowError, EventsFileError) as exc:
            raise TuneError(str(exc)) from None
        except ConfigError as exc:
            raise TuneError(f"the config cannot be read: {exc}") from None
        tolerance = DEFAULT_TOLERANCE if request.tolerance is None else request.tolerance
        if tolerance < 0:
            raise TuneError("the tolerance must be 0 or more periods")
        with self._lock:
            history, built = self._data(loaded)
            rows: list[SweepRow] = []
            runs: list[RuleRun] = []
            for assignments, variant in [(c.assignments, c.loaded) for c in combos] or [((), loaded)]:
                compiled = [r for r in Runtime.build(variant).rules if r.name == rule.name]
                tree = variant.config.notify.route
                runs = [replay_rule(r, history, window, tree, "auto", built=built) for r in compiled]
                rows += [SweepRow(assignments, summarise(run, known_events, tolerance)) for run in runs]
        texts = tuple(f"{o.path}={','.join(o.texts)}" for o in overrides)
        first = combos[0].assignments if combos else ()
        text = rule_yaml(loaded, rule.name, first, document)
        return TuneResult(rule.name, tuple(rows), tuple(runs), texts, text, known_events is not None,
                          history.describe(), time.perf_counter() - started)


def _overrides(rule: Rule, values: Mapping[str, str]) -> list[Override]:
    """An override for each value that differs from the config's (as the CLI would be given)."""
    current = {p.path: p.text for p in parameters(rule)}
    out = []
    for path, text in values.items():
        if path not in current:
            raise OverrideError(f"{path} is not a parameter of rule {rule.name}")
        if not text.strip():
            raise OverrideError(f"{path}: enter a value (the config has {current[path]})")
        parsed = parse_override(f"{path}={text}")
        if len(parsed.values) == 1 and parsed.values[0] == yaml.safe_load(current[path]):
            continue
        out.append(parsed)
    return out


def _events(request: TuneRequest) -> list[KnownEvent]:
    """The uploaded CSV read by the command's reader; messages name the uploaded file."""
    name = Path(request.events_name or "events.csv").name or "events.csv"
    with tempfile.TemporaryDirectory(prefix="tradewatch-tune-") as folder:
        path = Path(folder) / name
        path.write_text(request.events or "", encoding="utf-8")
        try:
            return read_known_events(path)
        except EventsFileError as exc:
            raise EventsFileError(str(exc).replace(str(path), name)) from None


def rule_yaml(loaded: LoadedConfig, name: str, assignments: Sequence[Assignment],
              document: LoadedYaml | None = None) -> str:
    """The rule as it would be written in the config with these values, secrets masked."""
    data = copy.deepcopy((document or load_yaml(loaded.path)).data)
    for a in assignments:
        data = apply(data, a.path, a.value, f"{a.path}={a.text}")
    rules = data.get("rules") or [] if isinstance(data, dict) else []
    entry = next((r for r in rules if isinstance(r, dict) and r.get("name") == name), {})
    text = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, default_flow_style=None)
    return Masker(loaded.secrets)(text)


__all__ = ["HistoryError", "Parameter", "TuneError", "TuneRequest", "TuneResult", "Tuner", "parameters",
           "sort_events"]
