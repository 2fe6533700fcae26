"""A generic JSON endpoint (in-house feeds): a list of records and a field mapping.

Feeds differ in where the list sits and what fields are called, not in what they carry, so
the config names them: `records` (dotted path to the list), `period`, `value` and `labels`
(a field name, or a path such as "$.partner.iso3"). Pagination follows a `next` link field,
at most `max_pages` pages, so a feed that links to itself cannot hold a poll forever.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from monitor.config import HttpJsonSource as HttpJsonConfig
from monitor.periods import parse_period
from monitor.sources.base import FetchResult, Observation, SourceError, long_frame
from monitor.sources.http import HttpClient, RetryPolicy

_MAX_REPORTED = 20
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class HttpJsonSource:
    """Reads every page each poll (the store works out what changed)."""

    def __init__(self, config: HttpJsonConfig, *, secrets: Iterable[str] = (),
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = config.name
        self.config = config
        self._http = HttpClient(config.name, timeout=config.timeout.total_seconds(),
                                retry=RetryPolicy.of(config.retry), headers=config.headers,
                                secrets=secrets, max_response_bytes=config.max_response_bytes,
                                sleep=sleep, monotonic=monotonic)

    def fetch(self, now: datetime | None = None) -> FetchResult:
        """All pages' records (`now` is unused: the feed decides what it holds)."""
        c = self.config
        observations: list[Observation] = []
        problems: list[str] = []
        url: str | None = c.url
        params: dict[str, str] | None = dict(c.params) or None
        pages = 0
        while url is not None and pages < c.max_pages:
            response = self._http.get(url, params)
            shown = self._http.redact(str(response.request.url))
            payload = self._json(response.content, shown)
            records = lookup(payload, c.records) if c.records not in ("", "$") else payload
            if not isinstance(records, list):
                raise SourceError(self.name, "parse", f"{shown}: {c.records or 'the body'!s} is not a "
                                  f"list of records (found {type(records).__name__})")
            for index, record in enumerate(records):
                self._record(record, f"{shown} record {index}", observations, problems)
            pages += 1
            url = self._next(payload, str(response.request.url))
            params = None  # the next link carries its own query
        if url is not None:
            problems.append(f"stopped after {c.max_pages} pages (max_pages); more pages follow")
        if len(problems) > _MAX_REPORTED + 1:
            problems = [*problems[:_MAX_REPORTED], f"... and {len(problems) - _MAX_REPORTED} more"]
        return FetchResult(long_frame(observations, c.frequency, c.name), tuple(problems))

    def _json(self, body: bytes, shown: str) -> Any:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(self.name, "parse", f"cannot parse {shown} as JSON: {exc}") from None

    def _next(self, payload: Any, current: str) -> str | None:
        if self.config.next is None:
            return None
        link = field(payload, self.config.next)
        if not isinstance(link, str) or not link.strip():
            return None
        return urljoin(current, link.strip())

    def _record(self, record: Any, where: str, observations: list[Observation],
                problems: list[str]) -> None:
        c = self.config
        if not isinstance(record, dict):
            problems.append(f"{where}: not an object")
            return
        raw_value = field(record, c.value)
        if raw_value is None or raw_value == "":
            return  # not published (yet)
        try:
            value = float(raw_value)
        except (TypeError, ValueError):
            problems.append(f"{where}: value {raw_value!r} is not a number")
            return
        raw_period = field(record, c.period)
        period = parse_period(raw_period, c.frequency) if raw_period is not None else None
        if period is None:
            problems.append(f"{where}: cannot read period {raw_period!r}")
            return
        labels = dict(c.constant_labels)
        for label, path in c.labels.items():
            found = field(record, path)
            if found is None or isinstance(found, dict | list):
                problems.append(f"{where}: no label {label!r} at {path!r}")
                return
            labels[label] = str(found)
        observations.append(Observation(labels, period, value))


def field(record: Any, spec: str) -> Any:
    """`name` is a field of the record; `$.a.b[0].c` is a path into it."""
    if spec.startswith("$"):
        return lookup(record, spec.removeprefix("$").lstrip("."))
    return record.get(spec) if isinstance(record, dict) else None


def lookup(node: Any, path: str) -> Any:
    """Follow a dotted path with optional [index] steps; None where it leads nowhere."""
    for name, index in _STEP.findall(path.removeprefix("$").lstrip(".")):
        if name:
            node = node.get(name) if isinstance(node, dict) else None
        else:
            position = int(index)
            node = node[position] if isinstance(node, list) and position < len(node) else None
        if node is None:
            return None
    return node
