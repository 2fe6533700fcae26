"""The models of where tradewatch runs: the store, the HTTP listener, the metrics guard and
the executor of detection."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.base import Interval, Strict

DEFAULT_LISTEN = "127.0.0.1:9470"


class StoreConfig(Strict):
    """SQLite file by default; a SQLAlchemy URL for anything else."""

    path: str = "tradewatch.db"
    url: str | None = None


class HttpConfig(Strict):
    """Where the listener is, and the exporter-toolkit web config file (TLS, basic auth) it
    wraps itself in; a relative `web_config_file` resolves against the config's directory,
    and `--web.config.file` overrides it."""

    listen: str = DEFAULT_LISTEN
    web_config_file: str | None = None

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_listen(value)
        return value


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` (every interface, IPv6 and IPv4, as Prometheus reads it: host
    "") or `[IPv6]:PORT` -> (host, port); the IPv6 host without brackets. A port is always
    required: a daemon that picked one silently would be scraped nowhere."""
    bad = f"invalid listen address {value!r}"
    example = f"use HOST:PORT, :PORT or [IPv6]:PORT, e.g. {DEFAULT_LISTEN}"
    if value.startswith("["):
        host, closed, rest = value[1:].partition("]")
        if not closed or not host or ":" not in host:
            raise ValueError(f"{bad}: brackets hold an IPv6 address, e.g. [::1]:9470")
        if not rest.startswith(":"):
            raise ValueError(f"{bad}: no port; {example}")
        port = rest[1:]
    elif value.count(":") > 1:
        raise ValueError(f"{bad}: put an IPv6 address in brackets, e.g. [::1]:9470")
    else:
        host, sep, port = value.partition(":")
        if not sep:
            raise ValueError(f"{bad}: no port; {example}")
        if host and not host.strip():
            raise ValueError(f"{bad}: {example}")
    if host and host != host.strip():
        raise ValueError(f"{bad}: {example}")
    if not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"{bad}: the port must be a number from 0 to 65535; {example}")
    return host, int(port)


class MetricsConfig(Strict):
    """Cardinality guard: per-series metrics only for series of rules with
    `export_metrics: true`, and at most `series_limit` of them."""

    series_limit: int = Field(default=1000, ge=0, le=10_000_000)


class HaConfig(Strict):
    """Replicas on one PostgreSQL store: one is active (it holds the store's lease), the
    others stand by and take over within `takeover_within` of the active one dying or losing
    the database. The lease lasts two thirds of it and is renewed (by a standby: tried) every
    sixth, so a takeover takes at most the lease plus one try. `replica` names this one in
    the lease and in logs (default: host name and process id)."""

    takeover_within: Interval = timedelta(seconds=30)
    replica: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("takeover_within")
    @classmethod
    def _at_least_three_seconds(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=3):
            raise ValueError("takeover_within must be at least 3s (the lease is renewed every sixth of it)")
        return value

    @property
    def lease_seconds(self) -> float:
        return self.takeover_within.total_seconds() * 2 / 3

    @property
    def renew_seconds(self) -> float:
        return self.takeover_within.total_seconds() / 6


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
    partition_size: int | None = Field(default=None, ge=1, le=10_000_000)
    workers: int | None = Field(default=None, ge=1, le=1024)
    timeout: Interval = timedelta(minutes=10)

    @model_validator(mode="after")
    def _dask_needs_an_address(self) -> DetectionConfig:
        if self.executor == "dask" and not self.address:
            raise ValueError("executor dask needs an address, e.g. tcp://scheduler:8786")
        return self

