"""The config file as validated, frozen pydantic models.

Everything a user can write is declared here, unknown keys are rejected, and every error
names the file, the line and the dotted path (see configfile.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from detectors import TRANSFORMS, DetectorConfigError, build_detector
from monitor.configfile import (
    ConfigError,
    ConfigProblem,
    LoadedYaml,
    load_yaml,
    problems_from_validation,
)

DEFAULT_LISTEN = "127.0.0.1:9470"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def parse_duration(value: Any) -> timedelta:
    """'5s', '5m', '1h', '1d' (or a number of seconds) -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"invalid duration {value!r}: use a number and a unit, e.g. 30s, 5m, 1h, 1d")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    """Base of every config model: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Schedule(Strict):
    """When a source is polled: a fixed interval or a cron expression (UTC)."""

    every: Duration | None = None
    cron: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of 'every' or 'cron'")
        if self.every is not None and self.every.total_seconds() < 1:
            raise ValueError("'every' must be at least 1s")
        if self.cron is not None:
            from monitor.scheduler import validate_cron

            validate_cron(self.cron)
        return self


class Replay(Strict):
    """Reveal a file release by release: first everything up to `start`, then one more
    period per poll, polled `every`. Shows alerts firing and resolving on history."""

    start: str
    every: Duration = timedelta(seconds=5)

    @field_validator("start", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str:
        if isinstance(value, int | date) and not isinstance(value, bool):
            value = str(value)  # YAML reads an unquoted 2014 as a number, 2014-09-01 as a date
        try:
            valid = isinstance(value, str) and not pd.isna(pd.Period(value))
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise ValueError(f"invalid period {value!r}: use YYYY-MM, YYYY-Qn or YYYY")
        return str(value)


class SourceBase(Strict):
    """What every source kind has: a name, a frequency, constant labels, a schedule and a
    timeout for each external call."""

    name: str = Field(pattern=_NAME)
    frequency: Literal["M", "Q", "A"] = "M"
    labels: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=30)
    schedule: Schedule = Schedule(every=timedelta(hours=1))

    @property
    def poll_schedule(self) -> Schedule:
        return self.schedule


class FileSource(SourceBase):
    """A CSV, JSON or Parquet file by path, http(s) URL or `demo://NAME` (embedded data).

    Long files name a `value_column` and the `label_columns`; wide files map each value
    column to the labels of its series in `columns`."""

    kind: Literal["file"]
    path: str
    format: Literal["csv", "json", "parquet"] | None = None
    period_column: str = "period"
    value_column: str | None = None
    label_columns: dict[str, str] = Field(default_factory=dict)
    columns: dict[str, dict[str, str]] | None = None
    include: dict[str, list[str]] = Field(default_factory=dict)
    separator: str = ","
    thousands: str | None = None
    replay: Replay | None = None

    @model_validator(mode="after")
    def _shape(self) -> FileSource:
        if (self.value_column is None) == (self.columns is None):
            raise ValueError("give exactly one of 'value_column' (long file) or 'columns' (wide file)")
        return self

    @property
    def poll_schedule(self) -> Schedule:
        """A replaying source advances one release per poll, so it polls at the replay pace."""
        return Schedule(every=self.replay.every) if self.replay else self.schedule


# Every source kind's model; with more than one kind this becomes
# Annotated[FileSource | OtherSource, Field(discriminator="kind")].
SourceConfig = FileSource


class TransformSpec(Strict):
    kind: str = "level"

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in TRANSFORMS:
            raise ValueError(f"unknown transform {value!r}; known: {', '.join(sorted(TRANSFORMS))}")
        return value


Severity = Literal["info", "warning", "critical"]


class Rule(Strict):
    """A selector, a transform, a detector and what the alert carries."""

    name: str = Field(pattern=_NAME)
    select: dict[str, str | list[str]] = Field(default_factory=dict)
    transform: TransformSpec = TransformSpec()
    detector: dict[str, Any]
    severity: Severity = "warning"
    for_: int = Field(default=1, alias="for", ge=1)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    @field_validator("detector")
    @classmethod
    def _buildable(cls, value: dict[str, Any]) -> dict[str, Any]:
        params = dict(value)
        kind = params.pop("kind", None)
        if kind is None:
            raise ValueError("missing 'kind' (e.g. threshold, consecutive)")
        try:
            build_detector(str(kind), params)
        except DetectorConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Equality matchers; a list matches any of its values; `{}` selects all."""
        for key, wanted in self.select.items():
            have = labels.get(key)
            if isinstance(wanted, list):
                if have not in wanted:
                    return False
            elif have != wanted:
                return False
        return True


class ConsoleReceiver(Strict):
    """One line per notification on stdout."""


class WebhookReceiver(Strict):
    url: str
    timeout: Duration = timedelta(seconds=10)


class Receiver(Strict):
    name: str = Field(pattern=_NAME)
    console: ConsoleReceiver | None = None
    webhook: WebhookReceiver | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        kinds = [k for k in ("console", "webhook") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one receiver kind: console or webhook")
        return self


class Route(Strict):
    """Alertmanager-style routing tree: first matching child wins unless `continue`."""

    receiver: str | None = None
    match: dict[str, str] = Field(default_factory=dict)
    group_by: list[str] = Field(default_factory=list)
    continue_: bool = Field(default=False, alias="continue")
    routes: list[Route] = Field(default_factory=list)


class Notify(Strict):
    receivers: list[Receiver] = Field(
        default_factory=lambda: [Receiver(name="console", console=ConsoleReceiver())]
    )
    route: Route = Route(receiver="console")


class StoreConfig(Strict):
    """SQLite file by default; a SQLAlchemy URL for anything else."""

    path: str = "tradewatch.db"
    url: str | None = None


class HttpConfig(Strict):
    listen: str = DEFAULT_LISTEN

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_listen(value)
        return value


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"invalid listen address {value!r}: use HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


class Config(Strict):
    sources: list[SourceConfig] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    notify: Notify = Notify()
    store: StoreConfig = StoreConfig()
    http: HttpConfig = HttpConfig()


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """A validated config and where it came from (relative paths resolve against `base_dir`)."""

    config: Config
    path: Path
    base_dir: Path
    sha256: str

    def resolve(self, path: str) -> str:
        if "://" in path or Path(path).is_absolute():
            return path
        return str((self.base_dir / path).resolve())

    @property
    def store_url(self) -> str:
        store = self.config.store
        return store.url or f"sqlite:///{self.resolve(store.path)}"


def load_config(path: Path | str, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Load, interpolate, validate and cross-check; raise ConfigError listing every problem."""
    path = Path(path)
    loaded = load_yaml(path, env)
    if not isinstance(loaded.data, dict):
        problem = ConfigProblem(loaded.file, loaded.line_of(()), "", "the config must be a mapping")
        raise ConfigError([problem])
    try:
        config = Config.model_validate(loaded.data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, loaded)) from None
    problems = _cross_check(config, loaded)
    if problems:
        raise ConfigError(problems)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedConfig(config, path, path.resolve().parent, digest)


def _cross_check(config: Config, loaded: LoadedYaml) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        from monitor.configfile import dotted

        problems.append(ConfigProblem(loaded.file, loaded.line_of(loc), dotted(loc), message))

    named: tuple[tuple[tuple[str, ...], list[str]], ...] = (
        (("sources",), [s.name for s in config.sources]),
        (("rules",), [r.name for r in config.rules]),
        (("notify", "receivers"), [r.name for r in config.notify.receivers]),
    )
    for section, names in named:
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                problem((*section, index, "name"), f"duplicate name {name!r}")
            seen.add(name)
    receivers = {r.name for r in config.notify.receivers}

    def walk(route: Route, loc: tuple[str | int, ...]) -> None:
        if route.receiver is not None and route.receiver not in receivers:
            known = ", ".join(sorted(receivers)) or "none"
            problem((*loc, "receiver"), f"unknown receiver {route.receiver!r}; known: {known}")
        for index, child in enumerate(route.routes):
            walk(child, (*loc, "routes", index))

    if config.notify.route.receiver is None:
        problem(("notify", "route"), "the root route needs a receiver")
    walk(config.notify.route, ("notify", "route"))
    return problems
