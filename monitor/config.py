"""The config file as validated, frozen pydantic models.

Everything a user can write is declared here, unknown keys are rejected, and every error
names the file, the line and the dotted path (see configfile.py).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import types
import typing
from collections.abc import Iterable, Mapping
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
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from detectors import TRANSFORMS, DetectorConfigError, build_detector, check_transform
from monitor.configfile import (
    ConfigError,
    ConfigProblem,
    LoadedYaml,
    dotted,
    load_yaml,
    problems_from_validation,
)
from monitor.matchers import Matcher, parse_matcher

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


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, for schemas and dumps: 90s -> '90s', 1h -> '1h'."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$",
                    "examples": ["30s", "5m", "1h", "1d"]}),
]


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


class Retry(Strict):
    """How hard a source tries before a poll fails: an attempt cap, exponential backoff with
    jitter, and a deadline over all attempts (Retry-After waits included), so one slow
    publisher never holds its job past the next poll."""

    attempts: int = Field(default=4, ge=1, le=20)
    backoff: Duration = timedelta(seconds=1)
    max_backoff: Duration = timedelta(minutes=1)
    deadline: Duration = timedelta(minutes=5)


class ReleaseCalendar(Strict):
    """When the publisher releases each period: day `day` of the month `lag` periods after
    the period ends (lag 1, day 20: July's data on 20 August). Around each due date the
    source is polled every `poll_every`, from `before` ahead of it until the period arrives
    or `after` has passed."""

    day: int = Field(default=20, ge=1, le=31)
    lag: int = Field(default=1, ge=0)
    timezone: str = "UTC"  # the publisher's, e.g. Asia/Shanghai for China customs
    poll_every: Duration = timedelta(hours=1)
    before: Duration = timedelta(days=2)
    after: Duration = timedelta(days=10)


    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value


class SourceBase(Strict):
    """What every source kind has: a name, a frequency, constant labels, a schedule, a
    timeout for each external call, a retry policy and optionally a release calendar."""

    name: str = Field(pattern=_NAME)
    frequency: Literal["M", "Q", "A"] = "M"
    labels: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = timedelta(seconds=30)
    retry: Retry = Retry()
    schedule: Schedule = Schedule(every=timedelta(hours=1))
    release: ReleaseCalendar | None = None

    @property
    def poll_schedule(self) -> Schedule:
        return self.schedule


class FileSource(SourceBase):
    """A CSV, Excel, JSON or Parquet file by path, http(s) URL or `demo://NAME` (embedded data).

    Long files name a `value_column` and the `label_columns`; wide files map each value
    column to the labels of its series in `columns`. A period that covers several months
    (China customs' January+February, "2024-01/02") is kept whole at its last month unless
    `combined: split` asks to divide it evenly."""

    kind: Literal["file"]
    path: str
    format: Literal["csv", "excel", "json", "parquet"] | None = None
    sheet: str | int | None = None
    skip_rows: int = Field(default=0, ge=0)
    decimal: str = Field(default=".", min_length=1, max_length=1)
    combined: Literal["keep", "split"] = "keep"
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
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"'thousands' and 'decimal' are both {self.decimal!r}")
        return self

    @property
    def poll_schedule(self) -> Schedule:
        """A replaying source advances one release per poll, so it polls at the replay pace."""
        return Schedule(every=self.replay.every) if self.replay else self.schedule


def _period_text(value: Any) -> str:
    """YAML reads an unquoted 2014 as a number and 2014-09-01 as a date: keep the text."""
    if isinstance(value, date):
        return value.strftime("%Y-%m")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"invalid period {value!r}: use YYYY-MM, YYYY-Qn or YYYY")
    return value.strip()


def _scalar_text(value: Any) -> str:
    """A query parameter as text, whatever YAML made of it (2015, 2015-01-01, true)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"invalid parameter value {value!r}: use a string or a number")


def _check_period(value: str | None, frequency: str, key: str) -> None:
    from monitor.periods import parse_period

    if value is not None and parse_period(value, frequency) is None:
        shape = {"M": "YYYY-MM", "Q": "YYYY-Qn", "A": "YYYY"}[frequency]
        raise ValueError(f"{key}: invalid period {value!r} for frequency {frequency}: use {shape}")


def _area_codes(value: Any) -> list[str]:
    from monitor.m49 import area_code

    return [area_code(v) for v in (value if isinstance(value, list) else [value])]


ComtradeFlow = Literal["X", "M", "RX", "RM"]


def _both_flows() -> list[ComtradeFlow]:
    return ["X", "M"]


class ComtradeSource(SourceBase):
    """UN Comtrade API v1: `data/v1/get` with a subscription key, else the public preview
    (500 records a call). Areas are Comtrade numbers (156) or ISO codes (CHN); `end`
    defaults to the latest period the API has."""

    kind: Literal["comtrade"]
    base_url: str = "https://comtradeapi.un.org"
    subscription_key: str | None = None
    type: Literal["C", "S"] = "C"
    classification: str = "HS"
    reporter: Annotated[list[str], BeforeValidator(_area_codes)]
    partner: Annotated[list[str], BeforeValidator(_area_codes)] = Field(default_factory=lambda: ["0"])
    flows: list[ComtradeFlow] = Field(default_factory=lambda: _both_flows(), min_length=1)
    commodities: list[Annotated[str, BeforeValidator(str)]] = Field(
        default_factory=lambda: ["TOTAL"], min_length=1)
    start: Annotated[str, BeforeValidator(_period_text)]
    end: Annotated[str | None, BeforeValidator(lambda v: None if v is None else _period_text(v))] = None
    revision_window: int = Field(default=24, ge=0)

    @field_validator("subscription_key")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None  # ${COMTRADE_KEY:-} expands to "" when the key is not set

    @model_validator(mode="after")
    def _periods(self) -> ComtradeSource:
        if self.frequency not in ("M", "A"):
            raise ValueError("Comtrade publishes monthly (M) and annual (A) data only")
        _check_period(self.start, self.frequency, "start")
        _check_period(self.end, self.frequency, "end")
        return self


class NotReady(Strict):
    """Eurostat answers a large query with "come back later" and a file URL: poll it every
    `every` until `deadline`, then fail this poll with reason not_ready (the next poll asks
    for the same file instead of starting a new query)."""

    every: Duration = timedelta(seconds=30)
    deadline: Duration = timedelta(minutes=3)


class SdmxSource(SourceBase):
    """An SDMX 2.1 (or 3.0) REST data query through sdmx1: IMF_DATA, ESTAT, ESTAT_COMEXT, ECB,
    OECD and the other providers sdmx1 knows. `dimensions` maps tradewatch labels to SDMX
    dimension ids; `codes` maps a dimension's codes to label values (XG_FOB_USD -> export)."""

    kind: Literal["sdmx"]
    provider: str
    dataflow: str
    key: str | dict[str, str | list[str]] | None = None
    params: dict[str, Annotated[str, BeforeValidator(_scalar_text)]] = Field(default_factory=dict)
    agency: str | None = None
    version: str | None = None
    base_url: str | None = None
    accept: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    not_ready: NotReady = NotReady()

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        from monitor.sources.sdmx import known_providers

        known = known_providers()
        if known and value.upper() not in {p.upper() for p in known}:
            raise ValueError(f"unknown SDMX provider {value!r}; known: {', '.join(sorted(known))}")
        return value


class HttpJsonSource(SourceBase):
    """A JSON endpoint (an in-house feed): `records` is the dotted path to the list of
    records; `period`, `value` and each of `labels` name a record field ("partner") or a
    path in it ("$.partner.iso3"). Constant labels go in `constant_labels`. With `next`,
    pages are followed through that field, at most `max_pages`."""

    kind: Literal["http_json"]
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Annotated[str, BeforeValidator(_scalar_text)]] = Field(default_factory=dict)
    records: str = ""
    period: str = "period"
    value: str = "value"
    labels: dict[str, str] = Field(default_factory=dict)
    constant_labels: dict[str, str] = Field(default_factory=dict)
    next: str | None = None
    max_pages: int = Field(default=20, ge=1, le=10_000)


# Every source kind's model, chosen by its `kind`.
SourceConfig = Annotated[
    FileSource | ComtradeSource | SdmxSource | HttpJsonSource, Field(discriminator="kind")
]


class TransformSpec(Strict):
    """What a rule looks at: `level`, `yoy_pct`, `mom_pct`, `diff`, `log`, `ytd_sum`,
    `from_ytd`, `rolling_sum`/`rolling_mean` (with `window`), `share` (with `parent`)."""

    kind: str = "level"
    window: int | None = None
    parent: str | dict[str, str] | None = None

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in TRANSFORMS:
            raise ValueError(f"unknown transform {value!r}; known: {', '.join(sorted(TRANSFORMS))}")
        return value

    @model_validator(mode="after")
    def _params_fit(self) -> TransformSpec:
        try:
            check_transform(self.kind, self.params())
        except DetectorConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def params(self) -> dict[str, Any]:
        """The parameters given, as the transform takes them."""
        return {k: v for k, v in (("window", self.window), ("parent", self.parent)) if v is not None}


Severity = Literal["info", "warning", "critical"]


class Rule(Strict):
    """A selector, a transform, a detector and what the alert carries."""

    name: str = Field(pattern=_NAME)
    select: dict[str, str | list[str]] = Field(default_factory=dict)
    transform: TransformSpec = TransformSpec()
    detector: dict[str, Any]
    severity: Severity = "warning"
    for_: int = Field(default=1, alias="for", ge=1)
    keep_firing_for: int = Field(default=0, ge=0)
    export_metrics: bool = False
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


_MENTION = re.compile(r"^<?@?(here|channel|everyone|[UW][A-Z0-9]{2,}|!(?:here|channel|everyone)"
                      r"|!subteam\^[A-Z0-9]{2,})>?$")


def slack_mention(value: str) -> str:
    """`@here`, `<!here>`, a user id `U123ABC` or `<!subteam^S123>` -> Slack's `<...>` syntax."""
    match = _MENTION.match(value.strip())
    if match is None:
        raise ValueError(f"invalid mention {value!r}: use @here, @channel, a user id (U0123ABC) "
                         "or <!subteam^ID>")
    target = match.group(1)
    if target in ("here", "channel", "everyone"):
        return f"<!{target}>"
    return f"<{target}>" if target.startswith("!") else f"<@{target}>"


class SlackReceiver(Strict):
    """A channel through the Web API; the bot token comes from SLACK_BOT_TOKEN, the API URL
    from `api_url`, else SLACK_API_URL, else Slack's own."""

    channel: str = Field(min_length=2)
    api_url: str | None = None
    digest_size: int = Field(default=10, ge=1, le=100)
    chart: bool = True
    mention: str | None = None
    timeout: Duration = timedelta(seconds=10)

    @field_validator("mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        return None if value is None else slack_mention(value)


class SlackWebhookReceiver(Strict):
    """An incoming webhook: one message per notification, no threads, no charts."""

    url: str
    timeout: Duration = timedelta(seconds=10)


class AlertmanagerReceiver(Strict):
    """An Alertmanager (v2 API). A firing alert carries an endsAt `resolve_timeout` ahead, so
    Alertmanager keeps it firing between monthly releases until tradewatch resolves it."""

    url: str
    timeout: Duration = timedelta(seconds=10)
    generator_url: str | None = None
    resolve_timeout: Duration = timedelta(days=365)


RECEIVER_KINDS = ("console", "webhook", "slack", "slack_webhook", "alertmanager")


class Receiver(Strict):
    name: str = Field(pattern=_NAME)
    console: ConsoleReceiver | None = None
    webhook: WebhookReceiver | None = None
    slack: SlackReceiver | None = None
    slack_webhook: SlackWebhookReceiver | None = None
    alertmanager: AlertmanagerReceiver | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Receiver:
        kinds = [k for k in RECEIVER_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            known = ", ".join(RECEIVER_KINDS[:-1]) + f" or {RECEIVER_KINDS[-1]}"
            raise ValueError(f"give exactly one receiver kind: {known}"
                             + (f" (got {' and '.join(kinds)})" if kinds else ""))
        return self


def _matcher_list(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list):
        raise ValueError("give a list of matchers such as [\"severity=critical\", \"commodity=~84.*\"]")
    for text in values:
        parse_matcher(str(text))
    return [str(text) for text in values]


Matchers = Annotated[list[str], BeforeValidator(_matcher_list)]


class Route(Strict):
    """Alertmanager-style routing tree: a matching child takes the alert (later siblings are
    tried too with `continue`); children inherit what they do not set."""

    receiver: str | None = None
    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    matchers: Matchers = Field(default_factory=list)
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    repeat_interval: Duration | None = None
    digest_over: int | None = Field(default=None, ge=1)
    continue_: bool = Field(default=False, alias="continue")
    routes: list[Route] = Field(default_factory=list)

    @field_validator("match_re")
    @classmethod
    def _regexes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            parse_matcher(f"{name}=~{pattern}")
        return value

    def all_matchers(self) -> list[Matcher]:
        return ([Matcher(k, "=", v) for k, v in self.match.items()]
                + [Matcher(k, "=~", v) for k, v in self.match_re.items()]
                + [parse_matcher(m) for m in self.matchers])


class InhibitRule(Strict):
    """While an alert matching `source_matchers` fires, alerts matching `target_matchers`
    with the same values of the `equal` labels are not notified (e.g. the all-goods alert
    suppresses the same rule's alerts on HS chapters of the same country pair)."""

    source_matchers: Matchers
    target_matchers: Matchers
    equal: list[str] = Field(default_factory=list)


class Notify(Strict):
    receivers: list[Receiver] = Field(
        default_factory=lambda: [Receiver(name="console", console=ConsoleReceiver())]
    )
    route: Route = Route(receiver="console")
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)


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


class MetricsConfig(Strict):
    """Cardinality guard: per-series metrics only for series of rules with
    `export_metrics: true`, and at most `series_limit` of them."""

    series_limit: int = Field(default=1000, ge=0)


class DetectionConfig(Strict):
    """Where detectors run, one partition of `partition_size` series at a time: `local` on
    this machine's cores (`workers` processes, default one per core; a panel of one
    partition stays in-process, where the compiled detectors use every core themselves),
    `dask` on a dask.distributed scheduler at `address` (`pip install 'tradewatch[dask]'`).
    Findings always come back to this process, the only one that alerts. A pass that fails
    or outlasts `timeout` is redone in-process. `partition_size` defaults to 100,000 for
    `local` (measured: up to that size one process beats shipping partitions to workers)
    and 10,000 for `dask` (tasks small enough to spread over a cluster)."""

    executor: Literal["local", "dask"] = "local"
    address: str | None = None
    partition_size: int | None = Field(default=None, ge=1)
    workers: int | None = Field(default=None, ge=1)
    timeout: Duration = timedelta(minutes=10)

    @model_validator(mode="after")
    def _dask_needs_an_address(self) -> DetectionConfig:
        if self.executor == "dask" and not self.address:
            raise ValueError("executor dask needs an address, e.g. tcp://scheduler:8786")
        return self


class Config(Strict):
    sources: list[SourceConfig] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    notify: Notify = Notify()
    store: StoreConfig = StoreConfig()
    http: HttpConfig = HttpConfig()
    metrics: MetricsConfig = MetricsConfig()
    detection: DetectionConfig = DetectionConfig()


def config_json_schema() -> dict[str, Any]:
    """JSON Schema of the config file for editors; durations shown as written ("30s")."""
    schema = Config.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tradewatch config"
    return _durations_as_written(schema)


def _durations_as_written(node: Any) -> Any:
    # pydantic renders timedelta defaults as ISO 8601 ("PT30S"); the file format is "30s".
    if isinstance(node, dict):
        return {key: _iso_to_duration(value) if key == "default" else _durations_as_written(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_durations_as_written(item) for item in node]
    return node


def _iso_to_duration(value: Any) -> Any:
    if isinstance(value, str) and (match := re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?"
                                                          r"(?:(\d+(?:\.\d+)?)S)?)?", value)):
        days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        return format_duration(timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds))
    return _durations_as_written(value)


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
    """Load, interpolate, validate and cross-check; raise ConfigError listing every problem
    (schema errors and cross-reference errors together, in file order)."""
    path = Path(path)
    loaded = load_yaml(path, env)
    if not isinstance(loaded.data, dict):
        problem = ConfigProblem(loaded.file, loaded.line_of(()), "", "the config must be a mapping")
        raise ConfigError([problem])
    config = validate_data(loaded)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedConfig(config, path, path.resolve().parent, digest)


def validate_data(located: LoadedYaml) -> Config:
    """Schema and cross-reference checks of parsed (possibly modified) config data; raise
    ConfigError with every problem, located by the file's lines, in file order."""
    problems = _cross_check(located.data, located)
    config = None
    try:
        config = Config.model_validate(located.data)
    except ValidationError as exc:
        problems += problems_from_validation(exc, located, suggest=_suggest_key)
    if problems or config is None:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.path)))
    return config


def _cross_check(data: dict[str, Any], loaded: LoadedYaml) -> list[ConfigProblem]:
    """References between parts of the file, checked on the raw data so they are reported
    together with schema errors: duplicate names, unknown receivers, unknown sources."""
    problems: list[ConfigProblem] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(ConfigProblem(loaded.file, loaded.line_of(loc), dotted(loc), message))

    def items(*loc: str) -> list[tuple[int, dict[str, Any]]]:
        node: Any = data
        for part in loc:
            node = node.get(part) if isinstance(node, dict) else None
        return [(i, item) for i, item in enumerate(node) if isinstance(item, dict)] \
            if isinstance(node, list) else []

    names: dict[tuple[str, ...], set[str]] = {}
    for section in (("sources",), ("rules",), ("notify", "receivers")):
        seen: set[str] = set()
        for index, item in items(*section):
            name = item.get("name")
            if isinstance(name, str) and name in seen:
                problem((*section, index, "name"), f"duplicate name {name!r}")
            if isinstance(name, str):
                seen.add(name)
        names[section] = seen
    notify = data.get("notify")
    receivers = names[("notify", "receivers")] if isinstance(notify, dict) and "receivers" in notify \
        else {"console"}  # the default receiver list

    def walk(route: Any, loc: tuple[str | int, ...]) -> None:
        if not isinstance(route, dict):
            return
        receiver = route.get("receiver")
        if isinstance(receiver, str) and receiver not in receivers:
            problem((*loc, "receiver"), f"unknown receiver {receiver!r}{_did_you_mean(receiver, receivers)}"
                    f"; known: {', '.join(sorted(receivers)) or 'none'}")
        children = route.get("routes")
        for index, child in enumerate(children if isinstance(children, list) else []):
            walk(child, (*loc, "routes", index))

    if isinstance(notify, dict) and isinstance(notify.get("route"), dict):
        if notify["route"].get("receiver") is None:
            problem(("notify", "route"), "the root route needs a receiver")
        walk(notify["route"], ("notify", "route"))
    elif isinstance(notify, dict):
        walk({"receiver": "console"}, ("notify", "route"))  # the default route
    sources = names[("sources",)]
    for index, rule in items("rules"):
        select = rule.get("select")
        wanted = select.get("source") if isinstance(select, dict) else None
        for name in [wanted] if isinstance(wanted, str) else wanted if isinstance(wanted, list) else []:
            if isinstance(name, str) and name not in sources:
                problem(("rules", index, "select", "source"),
                        f"unknown source {name!r}{_did_you_mean(name, sources)}; "
                        f"known: {', '.join(sorted(sources)) or 'none'}")
    return problems


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _suggest_key(parent: tuple[str | int, ...], key: str, data: Any) -> str:
    """" (did you mean 'detector'?)" for a misspelt key, from the model at `parent`."""
    model = _model_at(parent, data)
    if model is None:
        return ""
    keys = {field.alias or name for name, field in model.model_fields.items()}
    return _did_you_mean(key, keys)


def _model_at(loc: tuple[str | int, ...], data: Any) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `loc` (unions resolved by `kind`)."""
    annotation: Any = Config
    node = data
    for part in loc:
        annotation = _narrow(annotation, node)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if args else None
            node = node[part] if isinstance(node, list) and part < len(node) else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items() if (f.alias or n) == part), None)
            annotation = field.annotation if field is not None else None
            node = node.get(part) if isinstance(node, dict) else None
        else:
            args = typing.get_args(annotation)
            annotation = args[-1] if args else None
            node = node.get(part) if isinstance(node, dict) else None
        if annotation is None:
            return None
    annotation = _narrow(annotation, node)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _narrow(annotation: Any, node: Any) -> Any:
    """Unwrap Annotated and Optional; pick the union member whose `kind` matches the data."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(annotation) if m is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        kind = node.get("kind") if isinstance(node, dict) else None
        for model in models:
            field = model.model_fields.get("kind")
            if field is not None and kind in typing.get_args(field.annotation):
                return model
        return models[0] if models else (members[0] if members else annotation)
    return annotation
