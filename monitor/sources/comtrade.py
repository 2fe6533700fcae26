"""UN Comtrade API v1: monthly or annual trade by reporter, partner, flow and HS code.

With a subscription key the source calls `data/v1/get`; without one, the public preview
(`public/v1/preview`, at most 500 records a call). Either way a query is split into calls
that respect the API's limits: at most 12 periods a call, and few enough commodities that
a call stays under its record cap. Totals only: customs procedure C00, every mode of
transport, no second partner, so each (reporter, partner, flow, code, period) is one value.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from monitor.config import ComtradeSource as ComtradeConfig
from monitor.m49 import iso3
from monitor.periods import pandas_freq, parse_period
from monitor.sources.base import FetchResult, Observation, SourceError, long_frame
from monitor.sources.http import HttpClient, RetryPolicy

KEY_HEADER = "Ocp-Apim-Subscription-Key"
PREVIEW_RECORDS = 500
GET_RECORDS = 100_000
MAX_PERIODS = 12  # per call, monthly or annual
MAX_WALK = 100  # calls when reading forward without an end (a century of annual data)
_FLOWS = {"X": "export", "M": "import", "RX": "re-export", "RM": "re-import"}
_TOTALS = {"customsCode": "C00", "motCode": "0", "partner2Code": "0"}


@dataclass(frozen=True, slots=True)
class Call:
    """One request: a run of periods and a group of commodity codes."""

    periods: tuple[pd.Period, ...]
    commodities: tuple[str, ...]


class ComtradeSource:
    """Reads the configured history on the first poll, then only the last
    `revision_window` periods and anything newer (Comtrade revises recent data)."""

    def __init__(self, config: ComtradeConfig, *, secrets: Iterable[str] = (),
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = config.name
        self.config = config
        key = config.subscription_key
        self._http = HttpClient(config.name, timeout=config.timeout.total_seconds(),
                                retry=RetryPolicy.of(config.retry),
                                headers={KEY_HEADER: key} if key else {}, secrets=[key, *secrets],
                                max_response_bytes=config.max_response_bytes,
                                sleep=sleep, monotonic=monotonic)
        self._latest: pd.Period | None = None  # newest period with data seen so far

    @property
    def endpoint(self) -> str:
        c = self.config
        path = "data/v1/get" if c.subscription_key else "public/v1/preview"
        return f"{c.base_url.rstrip('/')}/{path}/{c.type}/{c.frequency}/{c.classification}"

    @property
    def record_cap(self) -> int:
        return GET_RECORDS if self.config.subscription_key else PREVIEW_RECORDS

    def fetch(self, now: datetime | None = None) -> FetchResult:
        """Everything from `start` (or the revision window) to `end`, else to the period of
        `now`, else forward until a chunk of periods comes back empty (the API says what
        exists; so `start` should be a period with data)."""
        c = self.config
        freq = pandas_freq(c.frequency)
        first = parse_period(c.start, c.frequency)
        assert first is not None  # validated with the config
        if self._latest is not None and c.revision_window:
            first = max(first, self._latest - (c.revision_window - 1))
        end = parse_period(c.end, c.frequency) if c.end else (
            pd.Period(now.replace(tzinfo=None), freq=freq) if now is not None else None)
        observations: list[Observation] = []
        problems: list[str] = []
        for chunk in self.plan(first, end):
            found = [self._call(call, observations, problems) for call in chunk]
            if end is None and not any(found):
                break  # read forward past the newest published period
        if observations:
            newest = max(obs.period for obs in observations)
            self._latest = newest if self._latest is None else max(self._latest, newest)
        return FetchResult(long_frame(observations, c.frequency, c.name), tuple(problems))

    def plan(self, first: pd.Period, end: pd.Period | None) -> Iterator[list[Call]]:
        """Calls in chunks of periods, in period order; without `end`, chunks go on (up to
        MAX_WALK calls) until the caller stops asking."""
        c = self.config
        per_combination = len(c.reporter) * len(c.partner) * len(c.flows)
        periods_per_call = max(1, min(MAX_PERIODS, self.record_cap // per_combination))
        codes_per_call = max(1, self.record_cap // (per_combination * periods_per_call))
        groups = [tuple(c.commodities[i:i + codes_per_call])
                  for i in range(0, len(c.commodities), codes_per_call)]
        start, calls = first, 0
        while (end is None or start <= end) and calls < MAX_WALK:
            stop = start + (periods_per_call - 1)
            if end is not None:
                stop = min(stop, end)
            periods = tuple(start + i for i in range((stop - start).n + 1))
            calls += len(groups)
            yield [Call(periods, group) for group in groups]
            start = stop + 1

    def _call(self, call: Call, observations: list[Observation], problems: list[str]) -> bool:
        c = self.config
        params = {
            "reporterCode": ",".join(c.reporter),
            "partnerCode": ",".join(c.partner),
            "flowCode": ",".join(c.flows),
            "cmdCode": ",".join(call.commodities),
            "period": ",".join(_api_period(p) for p in call.periods),
            **_TOTALS,
            "includeDesc": "true",
        }
        if c.subscription_key:
            params["maxRecords"] = str(GET_RECORDS)
        response = self._http.get(self.endpoint, params)
        shown = self._http.redact(str(response.request.url))
        records = self._records(response.content, shown)
        if len(records) >= self.record_cap:
            problems.append(f"{shown}: {len(records)} records, the API's cap: some may be missing; "
                            "list fewer commodities or areas per source")
        before = len(observations)
        for record in records:
            obs = self._observation(record)
            if obs is not None:
                observations.append(obs)
        return len(observations) > before

    def _records(self, body: bytes, shown: str) -> Sequence[dict[str, Any]]:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceError(self.name, "parse", f"cannot parse {shown} as JSON: {exc}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("data", []), list):
            raise SourceError(self.name, "parse",
                              f"{shown}: not a Comtrade answer (no 'data' list)")
        error = payload.get("error")
        if error:
            raise SourceError(self.name, "api_error",
                              f"{shown}: Comtrade says: {self._http.redact(str(error))}")
        return [r for r in payload.get("data") or [] if isinstance(r, dict)]

    def _observation(self, record: dict[str, Any]) -> Observation | None:
        for field, total in _TOTALS.items():
            if field in record and record[field] is not None and str(record[field]) != total:
                return None  # a breakdown row (by customs procedure, transport, 2nd partner)
        value = record.get("primaryValue")
        period = parse_period(str(record.get("period", "")), self.config.frequency)
        if value is None or period is None:
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        flow = str(record.get("flowCode", ""))
        labels = {
            **self.config.labels,
            "reporter": _area(record, "reporter"),
            "partner": _area(record, "partner"),
            "flow": _FLOWS.get(flow, flow.lower()),
            "commodity": str(record.get("cmdCode", "")),
            "unit": "USD",
        }
        return Observation(labels, period, number)


def _area(record: dict[str, Any], role: str) -> str:
    """ISO3 from the answer when it has one, else from the numeric code."""
    code = record.get(f"{role}ISO")
    if isinstance(code, str) and len(code.strip()) == 3 and code.strip().isalnum():
        return code.strip().upper()
    return iso3(record.get(f"{role}Code", ""))


def _api_period(period: pd.Period) -> str:
    return f"{period.year}{period.month:02d}" if period.freqstr.startswith("M") else str(period.year)
