"""The models of the sources: what to fetch, when (schedule, release calendar) and how hard
to try (timeout, retries), one model per source kind chosen by `kind`.

The checks that need a library's knowledge live here too, without importing the source code:
a cron expression is checked by APScheduler's parser, an SDMX provider against the list sdmx1
ships (read from its sources.json, not by importing sdmx).
"""

from __future__ import annotations

import importlib.util
import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from monitor.config.base import MAX_COUNT, NAME_PATTERN, Duration, Interval, Strict
from monitor.m49 import area_code
from monitor.periods import PERIOD_HINT, label_frequency, period_parts


def validate_cron(expression: str) -> None:
    """Raise ValueError with the reason when a crontab expression is not valid."""
    from monitor.crontab import cron_trigger

    try:
        cron_trigger(expression)
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None


@cache
def known_providers() -> frozenset[str]:
    """Provider ids sdmx1 ships, read from its sources.json without importing sdmx (slow)."""
    spec = importlib.util.find_spec("sdmx")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "sources.json"
        if path.exists():
            return frozenset(str(item["id"]) for item in json.loads(path.read_text("utf-8")))
    return frozenset()


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
            validate_cron(self.cron)
        return self


class Replay(Strict):
    """Reveal a file release by release: first everything up to `start`, then one more
    period per poll, polled `every`. Shows alerts firing and resolving on history."""

    start: str
    every: Interval = timedelta(seconds=5)

    @field_validator("start", mode="before", json_schema_input_type=str | int)
    @classmethod
    def _period(cls, value: Any) -> str:
        if isinstance(value, int | date) and not isinstance(value, bool):
            value = str(value)  # YAML reads an unquoted 2014 as a number, 2014-09-01 as a date
        if not isinstance(value, str) or label_frequency(value) is None:
            raise ValueError(f"invalid period {value!r}: {PERIOD_HINT}")
        return value


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
    lag: int = Field(default=1, ge=0, le=120)  # as the staleness detector: due dates stay dates
    timezone: str = "UTC"  # the publisher's, e.g. Asia/Shanghai for China customs
    poll_every: Interval = timedelta(hours=1)
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


# 256 MiB: far above any real release (a full Comtrade or Eurostat answer is tens of MiB),
# far below what would exhaust a small host's memory.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class SourceBase(Strict):
    """What every source kind has: a name, a frequency, constant labels, a schedule, a
    timeout for each external call, a retry policy, a cap on the size of an HTTP answer
    (`max_response_bytes`, bytes after decompression) and optionally a release calendar."""

    name: str = Field(pattern=NAME_PATTERN)
    frequency: Literal["M", "Q", "A"] = "M"
    labels: dict[str, str] = Field(default_factory=dict)
    timeout: Interval = timedelta(seconds=30)
    retry: Retry = Retry()
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, ge=1)
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
    skip_rows: int = Field(default=0, ge=0, le=1_000_000)
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
    if value is not None and (period_parts(value, frequency) or (0, 0, 0))[2] != 1:
        shape = {"M": "YYYY-MM", "Q": "YYYY-Qn", "A": "YYYY"}[frequency]
        raise ValueError(f"{key}: invalid period {value!r} for frequency {frequency}: use {shape}")


# What YAML may hold where the models keep text: editors see the input, not the result.
AreaInput = str | int | list[str | int]
ParamValue = Annotated[str, BeforeValidator(_scalar_text, json_schema_input_type=str | int | float | bool)]


def _area_codes(value: Any) -> list[str]:
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
    reporter: Annotated[list[str], BeforeValidator(_area_codes, json_schema_input_type=AreaInput)]
    partner: Annotated[list[str], BeforeValidator(_area_codes, json_schema_input_type=AreaInput)] = Field(
        default_factory=lambda: ["0"])
    flows: list[ComtradeFlow] = Field(default_factory=lambda: _both_flows(), min_length=1)
    commodities: list[Annotated[str, BeforeValidator(str, json_schema_input_type=str | int)]] = Field(
        default_factory=lambda: ["TOTAL"], min_length=1)
    start: Annotated[str, BeforeValidator(_period_text, json_schema_input_type=str | int)]
    end: Annotated[str | None, BeforeValidator(lambda v: None if v is None else _period_text(v),
                                               json_schema_input_type=str | int | None)] = None
    revision_window: int = Field(default=24, ge=0, le=MAX_COUNT)

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

    every: Interval = timedelta(seconds=30)
    deadline: Duration = timedelta(minutes=3)


class SdmxSource(SourceBase):
    """An SDMX 2.1 (or 3.0) REST data query through sdmx1: IMF_DATA, ESTAT, ESTAT_COMEXT, ECB,
    OECD and the other providers sdmx1 knows. `dimensions` maps tradewatch labels to SDMX
    dimension ids; `codes` maps a dimension's codes to label values (XG_FOB_USD -> export)."""

    kind: Literal["sdmx"]
    provider: str
    dataflow: str
    key: str | dict[str, str | list[str]] | None = None
    params: dict[str, ParamValue] = Field(default_factory=dict)
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
    params: dict[str, ParamValue] = Field(default_factory=dict)
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
