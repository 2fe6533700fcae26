"""Detection over partitions of a panel: on this machine's cores, or on a Dask cluster.

A partition is a group of series (columns); every worker runs the same pure
`detectors.evaluate` on its partition, and the findings come back to the one process that
alerts. Detectors work column by column, so the findings of the partitions together are the
findings of the whole panel. The transforms that read other columns (`share`, of a parent
series; `mirror_gap`, of a mirror) get those added to every partition as context.

`local` uses worker processes for panels larger than one partition. Below that the panel is
evaluated in-process: the heavy detectors are compiled loops that release the GIL and use
the cores themselves, so shipping a panel to workers and findings back costs more than it
saves (measured over 25,000 to 100,000 series; see docs/scaling.md).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd

from detectors import Detector, Finding, apply_transform, evaluate
from detectors.base import last_valid_rows
from detectors.guards import Materiality
from monitor.config import DetectionConfig
from monitor.labels import subject

log = logging.getLogger(__name__)

LOCAL_PARTITION = 100_000  # series evaluated in-process before worker processes pay off
DASK_PARTITION = 10_000  # series per task on a cluster
PlainFinding = tuple[Any, ...]  # Finding's fields, details as a dict: Finding itself does not pickle
Labels = Mapping[str, Mapping[str, str]]  # series id -> its labels


@dataclass(frozen=True, slots=True)
class RulePlan:
    """One rule as a worker runs it; `watch` are series whose newest transformed value is
    wanted even without a finding (they have an active alert that may resolve)."""

    name: str
    transform: str
    transform_params: Mapping[str, Any]
    detector: Detector
    severity: str
    watch: frozenset[str] = frozenset()
    materiality: Materiality | None = None  # the rule's guards, if any


@dataclass(frozen=True, slots=True)
class RuleResult:
    """Findings at each series' newest period, and for watched series without one their
    newest period and transformed value there; `error` when the rule failed."""

    findings: list[Finding] = field(default_factory=list)
    newest: dict[str, tuple[pd.Period, float]] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0  # evaluating the rule, summed over partitions (with a transform it shared)


class Subjects(Mapping[str, str]):
    """Plain-language subjects ("Russia's imports from China"), worked out only for the
    series a sentence is written about."""

    def __init__(self, labels: Labels) -> None:
        self._labels = labels

    def __getitem__(self, series: str) -> str:
        return subject({**self._labels[series], "series": series})

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


class Executor(Protocol):
    def run(self, panel: pd.DataFrame, plans: Sequence[RulePlan],
            labels: Labels, now: datetime | None = None) -> list[RuleResult]:
        """One RuleResult per plan, over the whole panel."""
        ...

    def close(self) -> None: ...


def evaluate_partition(panel: pd.DataFrame, plans: Sequence[RulePlan], labels: Labels,
                       now: datetime | None = None) -> list[RuleResult]:
    """What a worker runs: every plan over one partition. A failing rule is reported, not
    raised, so the other rules of the partition still count. Rules with the same transform
    share one application of it (a YoY rule set transforms the panel once), kept until the
    last of them has run."""
    subjects = Subjects(labels)
    keys = [f"{plan.transform} {sorted(plan.transform_params.items())!r}" for plan in plans]
    last_use = {key: position for position, key in enumerate(keys)}
    transformed: dict[str, pd.DataFrame] = {}
    newest_rows = last_valid_rows(panel.to_numpy(dtype=float))
    results = []
    for position, (plan, key) in enumerate(zip(plans, keys, strict=True)):
        started = time.monotonic()
        try:
            values = transformed.get(key)
            if values is None:
                values = apply_transform(plan.transform, panel, **plan.transform_params)
            if last_use[key] > position:
                transformed[key] = values
            else:
                transformed.pop(key, None)  # a panel-sized array: freed as soon as no rule needs it
            findings = evaluate(panel, rule=plan.name, transform=plan.transform, detector=plan.detector,
                                severity=plan.severity, subjects=subjects, scope="latest", now=now,
                                transform_params=plan.transform_params, transformed=values,
                                materiality=plan.materiality)
            newest = _newest(panel, values, newest_rows, plan, {f.series for f in findings})
            results.append(RuleResult(findings, newest, seconds=time.monotonic() - started))
        except Exception as exc:
            failed = f"{type(exc).__name__}: {exc}"
            results.append(RuleResult(error=failed, seconds=time.monotonic() - started))
    return results


def _newest(panel: pd.DataFrame, values: pd.DataFrame, rows: np.ndarray, plan: RulePlan,
            found: set[str]) -> dict[str, tuple[pd.Period, float]]:
    """Newest period and transformed value of the watched series without a finding;
    `rows` holds each column's newest row."""
    names = panel.columns.tolist()
    columns = [j for j, c in enumerate(names) if c in plan.watch and c not in found]
    if not columns:
        return {}
    at = rows[columns]
    keep = at >= 0
    cols, at = np.asarray(columns)[keep], at[keep]
    picked = values.to_numpy(dtype=float)[at, cols].tolist()
    rows_at = at.tolist()
    period = {row: panel.index[row] for row in set(rows_at)}  # most series end on the same row
    return {names[j]: (period[row], value)
            for j, row, value in zip(cols.tolist(), rows_at, picked, strict=True)}


Newest = dict[str, tuple[pd.Period, float]]
PlainResult = tuple[list[PlainFinding], Newest, str | None, float]


def _plain(results: list[RuleResult]) -> list[PlainResult]:
    """Results in a form pickle can carry back from another process."""
    return [([(f.rule, f.series, f.period, f.kind, f.severity, f.value, f.reference, dict(f.details),
               f.summary) for f in r.findings], r.newest, r.error, r.seconds) for r in results]


def _evaluate_plain(panel: pd.DataFrame, plans: Sequence[RulePlan], labels: Labels,
                    now: datetime | None) -> list[PlainResult]:
    return _plain(evaluate_partition(panel, plans, labels, now))


def _rebuild(plain: list[PlainResult]) -> list[RuleResult]:
    return [RuleResult([Finding(*f) for f in findings], newest, error, seconds)
            for findings, newest, error, seconds in plain]


@dataclass(frozen=True, slots=True)
class Partition:
    panel: pd.DataFrame
    own: frozenset[str]  # the series this partition reports on (the rest is context)
    labels: dict[str, Mapping[str, str]]


def partitions(panel: pd.DataFrame, plans: Sequence[RulePlan], labels: Labels,
               size: int) -> list[Partition]:
    """Consecutive groups of `size` columns, each with the parent series of a `share`
    transform added as context."""
    columns = panel.columns.tolist()
    context: list[str] = []
    for plan in plans:
        for key in ("parent", "mirror"):
            other = plan.transform_params.get(key)
            names = [other] if isinstance(other, str) else list(other.values()) \
                if isinstance(other, Mapping) else []
            context += [str(n) for n in names if n in panel.columns and str(n) not in context]
    out = []
    for start in range(0, len(columns), size):
        own = columns[start:start + size]
        extra = [c for c in context if c not in set(own)]
        part = panel.iloc[:, start:start + size] if not extra else panel[sorted([*own, *extra])]
        out.append(Partition(part, frozenset(own), {sid: dict(labels[sid]) for sid in part.columns}))
    return out


def merge(plans: Sequence[RulePlan], parts: Sequence[Partition],
          results: Sequence[list[RuleResult]]) -> list[RuleResult]:
    """Per plan: the findings of every partition's own series, sorted by (series, period)
    as `evaluate` sorts them; the first error if any partition failed."""
    merged = []
    for k in range(len(plans)):
        findings: list[Finding] = []
        newest: dict[str, tuple[pd.Period, float]] = {}
        error = None
        seconds = 0.0
        for part, result in zip(parts, results, strict=True):
            one = result[k]
            error = error or one.error
            seconds += one.seconds
            findings += [f for f in one.findings if f.series in part.own]
            newest.update({sid: v for sid, v in one.newest.items() if sid in part.own})
        findings.sort(key=lambda f: (f.series, f.period.ordinal))
        merged.append(RuleResult(findings, newest, error, seconds))
    return merged


class LocalExecutor:
    """Partitions on this machine: worker processes, started at first need and kept."""

    def __init__(self, partition_size: int = LOCAL_PARTITION, workers: int | None = None,
                 timeout: float | None = None) -> None:
        self.partition_size = partition_size
        self.workers = workers or os.cpu_count() or 1
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None

    def run(self, panel: pd.DataFrame, plans: Sequence[RulePlan],
            labels: Labels, now: datetime | None = None) -> list[RuleResult]:
        if not plans:
            return []
        if panel.shape[1] <= self.partition_size or self.workers == 1:
            return evaluate_partition(panel, plans, labels, now)
        parts = partitions(panel, plans, labels, self._balanced(panel.shape[1]))
        try:
            pool = self._pool or self._start()
            futures = [pool.submit(_evaluate_plain, p.panel, plans, p.labels, now) for p in parts]
            _, waiting = wait(futures, timeout=self.timeout)
            if waiting:
                self.close()  # a stuck worker: start afresh next time
                raise TimeoutError(f"detection workers took longer than {self.timeout} s")
            results = [_rebuild(f.result()) for f in futures]
        except BrokenProcessPool:  # a worker died (out of memory?): carry on in-process
            log.exception("detection workers died; evaluating in-process")
            self.close()
            results = [evaluate_partition(p.panel, plans, p.labels, now) for p in parts]
        return merge(plans, parts, results)

    def _balanced(self, columns: int) -> int:
        """At most `partition_size` series per partition, in a multiple of `workers`
        partitions of equal size, so no worker idles through the last round."""
        count = -(-columns // self.partition_size)
        count = -(-count // self.workers) * self.workers
        return -(-columns // count)

    def start(self) -> None:
        """Start the worker processes now rather than at the first large panel."""
        if self._pool is None and self.workers > 1:
            list(self._start().map(int, range(self.workers)))

    def _start(self) -> ProcessPoolExecutor:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["monitor.executor"])
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """Partitions on a dask.distributed cluster; the client connects at first need."""

    def __init__(self, address: str | Any, partition_size: int = DASK_PARTITION,
                 timeout: float | None = None) -> None:
        self.address = address  # a scheduler address, or a cluster object (tests)
        self.partition_size = partition_size
        self.timeout = timeout
        self._client: Any = None

    def run(self, panel: pd.DataFrame, plans: Sequence[RulePlan],
            labels: Labels, now: datetime | None = None) -> list[RuleResult]:
        if not plans:
            return []
        client = self._connect()
        parts = partitions(panel, plans, labels, self.partition_size)
        scattered = client.scatter([p.panel for p in parts])
        futures = [client.submit(_evaluate_plain, data, list(plans), p.labels, now, pure=False)
                   for data, p in zip(scattered, parts, strict=True)]
        deadline = None if self.timeout is None else time.monotonic() + self.timeout

        def left() -> float | None:  # a result past the deadline raises TimeoutError
            return None if deadline is None else max(deadline - time.monotonic(), 0.0)

        try:
            results = [_rebuild(f.result(timeout=left())) for f in futures]
        except Exception:
            client.cancel(futures)  # the caller redoes the pass in-process
            raise
        return merge(plans, parts, results)

    def _connect(self) -> Any:
        if self._client is None:
            try:
                from distributed import Client
            except ImportError as exc:
                raise RuntimeError("detection.executor dask needs dask.distributed: "
                                   "pip install 'tradewatch[dask]'") from exc
            self._client = Client(self.address, set_as_default=False, timeout=min(self.timeout or 30.0, 30.0))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def build_executor(config: DetectionConfig) -> Executor:
    timeout = config.timeout.total_seconds()
    if config.executor == "dask":
        return DaskExecutor(config.address, config.partition_size or DASK_PARTITION, timeout)
    return LocalExecutor(config.partition_size or LOCAL_PARTITION, config.workers, timeout)

