"""/metrics for large labelled gauge families, without prometheus_client's per-sample cost.

prometheus_client formats every sample on its own: it sorts and escapes the labels each time,
so 10,000 series with five gauges of seven labels take over a second. The per-series and
per-alert gauges are plain gauges with fixed label names, so they are rendered here: each
series' label text is built once per scrape and shared by its samples. Everything else goes
through prometheus_client as usual, and the output is byte for byte what prometheus_client
would write (same label order, escaping and number format; tests compare the two).

No `_created` series: prometheus_client adds one to every counter and histogram (the time
the label set was first seen), which doubles their series and no dashboard or rule uses.
`ExportRegistry` leaves them out of its own collection only, so other registries in the
process (and prometheus_client's global switch) are untouched.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.exposition import generate_latest as text_latest
from prometheus_client.openmetrics.exposition import UNDERSCORES
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

StartResponse = Callable[..., Any]
_EOF = "# EOF\n"
_WITH_CREATED = frozenset({"counter", "histogram", "summary"})


class ExportRegistry(CollectorRegistry):
    """A registry whose collection has no `_created` samples."""

    def collect(self) -> Iterable[Metric]:
        for metric in super().collect():
            if metric.type in _WITH_CREATED and any(s.name.endswith("_created") for s in metric.samples):
                kept = Metric(metric.name, metric.documentation, metric.type, metric.unit)
                kept.samples = [s for s in metric.samples if not s.name.endswith("_created")]
                metric = kept
            yield metric


@dataclass(slots=True)
class GaugeTable:
    """One gauge family as rows of (label values, in `labelnames` order; value). Rows of one
    series share one tuple, so its label text is built once."""

    name: str
    documentation: str
    labelnames: tuple[str, ...]
    rows: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    def family(self) -> Metric:
        """The same gauges for prometheus_client (OpenMetrics, other consumers)."""
        family = GaugeMetricFamily(self.name, self.documentation, labels=list(self.labelnames))
        for values, value in self.rows:
            family.samples.append(Sample(self.name, dict(zip(self.labelnames, values, strict=True)), value))
        return family


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def render(tables: Iterable[GaugeTable], *, openmetrics: bool) -> str:
    """The tables in the text format (0.0.4) or OpenMetrics, without the final `# EOF`."""
    out: list[str] = []
    labels_text: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}
    for table in tables:
        doc = table.documentation.replace("\\", r"\\").replace("\n", r"\n")
        if openmetrics:
            doc = doc.replace('"', r"\"")
        out.append(f"# HELP {table.name} {doc}\n# TYPE {table.name} gauge\n")
        order = sorted(range(len(table.labelnames)), key=lambda k: table.labelnames[k])
        names = tuple(table.labelnames[k] for k in order)
        for values, value in table.rows:
            key = (names, values)
            text = labels_text.get(key)
            if text is None:
                text = ",".join(f'{names[i]}="{_escape(values[k])}"' for i, k in enumerate(order))
                labels_text[key] = text = "{" + text + "}" if text else ""
            out.append(f"{table.name}{text} {floatToGoString(value)}\n")
    return "".join(out)


def metrics_app(base: CollectorRegistry, tables: Callable[[], Sequence[GaugeTable]]
                ) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app for /metrics: `base` through prometheus_client, then the gauge tables.

    The format follows the Accept header as prometheus_client chooses it (OpenMetrics when
    the scraper offers it, as Prometheus does); a `name[]` filter or a format this renderer
    does not write falls back to prometheus_client for everything."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        kind = _kind(encoder)
        if kind is None or "name[]" in environ.get("QUERY_STRING", ""):
            combined = CollectorRegistry(auto_describe=True)  # names known, so name[] filters work
            combined.register(base)
            combined.register(_Tables(tables))
            return make_wsgi_app(combined)(environ, start_response)
        openmetrics = kind == "openmetrics"
        head = encoder(base).decode()
        if openmetrics:
            head = head.removesuffix(_EOF)
        body = (head + render(tables(), openmetrics=openmetrics) + (_EOF if openmetrics else "")).encode()
        headers = [("Content-Type", content_type)]
        if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            body = gzip.compress(body, compresslevel=6)
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [body]

    return app


class _Tables:
    """The gauge tables as a prometheus_client collector."""

    def __init__(self, tables: Callable[[], Sequence[GaugeTable]]) -> None:
        self._tables = tables

    def collect(self) -> Iterable[Metric]:
        return [table.family() for table in self._tables()]


def _kind(encoder: Any) -> str | None:
    """"text" or "openmetrics" for the two formats `render` writes exactly, else None."""
    if encoder is text_latest:
        return "text"
    if (isinstance(encoder, partial) and encoder.func is openmetrics_latest
            and encoder.keywords == {"escaping": UNDERSCORES, "version": "1.0.0"}):
        return "openmetrics"
    return None
