"""SDMX data (IMF, Eurostat and Comext, ECB, OECD, ...) through the sdmx1 package.

sdmx1 knows each provider's URL layout and quirks and reads SDMX-ML and SDMX-JSON 1.0; the
HTTP calls go through monitor.sources.http like every other source, so timeouts, retries,
deadlines and redaction are the same. Two provider behaviours matter to a daemon:
- the IMF's SDMX 3.0 API answers SDMX-JSON 2.0 by default, which sdmx1 cannot read, so the
  source asks for SDMX-ML in the Accept header (override with `accept`);
- Eurostat answers a large query with a footer "413: come back later" and a file URL; the
  source polls that URL within `not_ready.deadline`, then fails the poll with reason
  `not_ready` and asks for the same file on the next poll.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import httpx
import pandas as pd

from monitor.config import SdmxSource as SdmxConfig
from monitor.periods import parse_period
from monitor.sources.base import FetchResult, Observation, SourceError, long_frame
from monitor.sources.http import HttpClient, RetryPolicy

if TYPE_CHECKING:
    import sdmx.message

ACCEPT_21 = "application/vnd.sdmx.genericdata+xml;version=2.1, application/xml;q=0.9"
ACCEPT_30 = "application/vnd.sdmx.data+xml;version=3.0.0, application/xml;q=0.9"
ACCEPT_STRUCTURE = "application/vnd.sdmx.structure+xml;version=2.1, application/xml;q=0.9"
_FREQ_DIMENSIONS = ("FREQ", "freq", "FREQUENCY", "frequency")
_TIME = "TIME_PERIOD"
_MAX_REPORTED = 20
_NOT_READY_STATUS = frozenset({202, 204, 404})
# SDMX REST answers a query that matches nothing with 404 and error 100 "No Results Found".
_NO_RESULTS = re.compile(rb'code="100"|"code"\s*:\s*100\b|No\s*Results?\s*Found|NoRecordsFound', re.I)


class SdmxSource:
    """One data query per poll; the DSD (needed only for a `key` given as a mapping) is
    fetched once and kept."""

    def __init__(self, config: SdmxConfig, *, secrets: Iterable[str] = (),
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = config.name
        self.config = config
        self._http = HttpClient(config.name, timeout=config.timeout.total_seconds(),
                                retry=RetryPolicy.of(config.retry), secrets=secrets,
                                max_response_bytes=config.max_response_bytes,
                                sleep=sleep, monotonic=monotonic)
        self._sleep = sleep
        self._monotonic = monotonic
        self._client: Any = None
        self._key: str | None = None
        self._pending: str | None = None  # a large-query file URL to collect

    def fetch(self, now: datetime | None = None) -> FetchResult:
        """The query's data (`now` is unused: startPeriod/endPeriod are in `params`)."""
        if self._pending is None:
            url = self._data_url()
            shown = self._http.redact(url)
            response = self._http.get(url, headers={"Accept": self._accept()}, accept_status={404})
            if response.status_code == 404:
                if _NO_RESULTS.search(response.content):  # SDMX's way of saying "empty"
                    return FetchResult(long_frame([], self.config.frequency, self.name))
                raise SourceError(self.name, "http_4xx", f"{shown} answered HTTP 404")
            message = self._read(response.content, shown)
            self._pending = _footer_file_url(message)
        if self._pending is not None:
            try:
                message = self._collect(self._pending)
            except SourceError as exc:
                if exc.reason != "not_ready":  # a file that is gone: start a new query next time
                    self._pending = None
                raise
            self._pending = None
        return self._frame(message)

    # -- requests ---------------------------------------------------------------------------
    def _sdmx_client(self) -> Any:
        if self._client is None:
            import sdmx
            from sdmx.source import get_source

            try:
                source = get_source(self.config.provider)
            except KeyError:
                raise SourceError(self.name, "config", f"unknown SDMX provider {self.config.provider!r}") \
                    from None
            if self.config.base_url:
                source = dataclasses.replace(source, url=self.config.base_url.rstrip("/"))
            client = sdmx.Client()
            client.source = source
            self._client = client
        return self._client

    def _is_sdmx3(self) -> bool:
        from sdmx.format import Version

        return bool(self._sdmx_client().source.versions == {Version["3.0.0"]})

    def _accept(self) -> str:
        return self.config.accept or (ACCEPT_30 if self._is_sdmx3() else ACCEPT_21)

    def _data_url(self) -> str:
        c = self.config
        client = self._sdmx_client()
        kwargs: dict[str, Any] = {}
        resource = c.dataflow
        if self._is_sdmx3():
            kwargs.update({k: v for k, v in (("agency_id", c.agency), ("version", c.version)) if v})
        elif c.agency or c.version:  # SDMX 2.1 flowRef: AGENCY,FLOW,VERSION
            resource = ",".join([c.agency or "all", c.dataflow, c.version or "latest"])
        key = self._key_text()
        if key:
            kwargs["key"] = key
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            request = client.get("data", resource, dry_run=True, **kwargs)
        # `params` go to the provider as written: sdmx1 rejects names outside the SDMX REST
        # standard, and providers have their own (Eurostat's compressed, IMF's c[...] filters).
        return str(httpx.URL(str(request.url)).copy_merge_params(c.params))

    def _key_text(self) -> str | None:
        """A string key is used as written; a mapping is ordered by the dataflow's DSD."""
        key = self.config.key
        if key is None or isinstance(key, str):
            return key
        if self._key is None:
            dsd = self._structure()
            try:
                self._key = str(dsd.make_constraint(key).to_query_string(dsd))
            except (KeyError, ValueError) as exc:
                raise SourceError(self.name, "config", f"key {key}: {exc}") from None
        return self._key

    def _structure(self) -> Any:
        c = self.config
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            request = self._sdmx_client().get("dataflow", c.dataflow, params={"references": "all"},
                                              dry_run=True)
        url = str(request.url)
        shown = self._http.redact(url)
        message: Any = self._read(self._http.get(url, headers={"Accept": ACCEPT_STRUCTURE}).content, shown)
        try:
            dsd = message.dataflow[c.dataflow].structure
            if dsd.is_external_reference or not len(dsd.dimensions):
                dsd = message.structure[dsd.id]
        except (KeyError, AttributeError):
            raise SourceError(self.name, "parse",
                              f"{shown}: no structure for dataflow {c.dataflow!r}") from None
        return dsd

    # -- Eurostat's large queries -----------------------------------------------------------
    def _collect(self, file_url: str) -> sdmx.message.Message:
        """Poll the file a 413 answer named until it is there or the deadline passes."""
        shown = self._http.redact(file_url)
        every = self.config.not_ready.every.total_seconds()
        deadline_at = self._monotonic() + self.config.not_ready.deadline.total_seconds()
        while True:
            response = self._http.get(file_url, accept_status=_NOT_READY_STATUS,
                                      deadline_at=max(deadline_at, self._monotonic() + 1))
            body = response.content
            if response.status_code == 200 and body.strip():
                message = self._read(_unzip(body, shown, self.name), shown)
                if _footer_file_url(message) is None:
                    return message
            if self._monotonic() + every > deadline_at:
                raise SourceError(self.name, "not_ready",
                                  f"the large-query file {shown} is not ready yet; "
                                  "asking for it again on the next poll")
            self._sleep(every)

    # -- parsing ----------------------------------------------------------------------------
    def _read(self, body: bytes, shown: str) -> sdmx.message.Message:
        import sdmx

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "no structure" for structure-specific data
                return sdmx.read_sdmx(io.BytesIO(body))
        except Exception as exc:  # sdmx1 raises many kinds (ValueError, KeyError, XMLSyntaxError)
            hint = ""
            if _is_sdmx_json_2(body):
                hint = ("; it is SDMX-JSON 2.0, which sdmx1 cannot read: ask for SDMX-ML "
                        "(the default `accept`) or the provider's own format parameter")
            detail = f"{type(exc).__name__}: {exc}"[:200]
            raise SourceError(self.name, "parse", f"cannot parse {shown} as SDMX ({detail}){hint}") \
                from None

    def _frame(self, message: Any) -> FetchResult:
        import sdmx

        c = self.config
        observations: list[Observation] = []
        problems: list[str] = []
        other_frequency = 0
        for dataset in getattr(message, "data", []) or []:
            if not len(dataset.obs):
                continue
            table = sdmx.to_pandas(dataset).reset_index()
            dimensions = [col for col in table.columns if col not in (_TIME, "value")]
            missing = [dim for dim in c.dimensions.values() if dim not in dimensions]
            if missing:
                raise SourceError(self.name, "parse", f"dimension(s) {', '.join(missing)} not in the "
                                  f"data; it has {', '.join(map(str, dimensions))}")
            mapping = dict(c.dimensions) or {str(dim).lower(): str(dim) for dim in dimensions}
            freq_column = next((f for f in _FREQ_DIMENSIONS if f in dimensions), None)
            for record in table.to_dict("records"):
                if freq_column is not None and str(record[freq_column]) != c.frequency:
                    other_frequency += 1
                    continue
                value = record["value"]
                if value is None or pd.isna(value):
                    continue
                period = parse_period(record[_TIME], c.frequency)
                if period is None:
                    problems.append(f"cannot read period {record[_TIME]!r}")
                    continue
                labels = {**c.labels}
                for label, dim in mapping.items():
                    code = str(record[dim])
                    labels[label] = c.codes.get(label, {}).get(code, code)
                observations.append(Observation(labels, period, float(value)))
        if len(problems) > _MAX_REPORTED:
            problems = [*problems[:_MAX_REPORTED], f"... and {len(problems) - _MAX_REPORTED} more"]
        if other_frequency:
            problems.append(f"skipped {other_frequency} observation(s) not of frequency {c.frequency}")
        return FetchResult(long_frame(observations, c.frequency, c.name), tuple(problems))


def _footer_file_url(message: Any) -> str | None:
    """The file URL of a 413 footer (Eurostat's "the response will be written to a file")."""
    footer = getattr(message, "footer", None)
    if footer is None or str(getattr(footer, "code", "")) != "413":
        return None
    for text in getattr(footer, "text", []) or []:
        candidate = str(text).strip()
        if urlparse(candidate).scheme in ("http", "https") and " " not in candidate:
            return candidate
    return None


def _unzip(body: bytes, shown: str, source: str) -> bytes:
    """Eurostat delivers a large query as a ZIP holding one XML file."""
    if not body.startswith(b"PK\x03\x04"):
        return body
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise SourceError(source, "parse", f"{shown}: expected one file in the ZIP, got {len(names)}")
            return archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise SourceError(source, "parse", f"{shown}: broken ZIP ({exc})") from None


def _is_sdmx_json_2(body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(payload, dict):
        return False
    schema = str(payload.get("meta", {}).get("schema", "")) if isinstance(payload.get("meta"), dict) else ""
    data = payload.get("data")
    return "2.0" in schema or (isinstance(data, dict) and "structures" in data)
