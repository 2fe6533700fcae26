"""Ingest: the new and revised values of a long frame written as one vintage, compared with
the current values in memory, and the memory brought up to the transaction just committed.

Unchanged values are no-ops, so ingest is idempotent; a series whose unit, currency or
frequency differs from the stored one is refused, never mixed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from monitor.periods import pandas_freq
from monitor.store.codec import OBSERVATION_COLUMNS, pack_runs
from monitor.store.current import Cells, Matrix, period_strings
from monitor.store.database import Database
from monitor.store.frames import Incoming
from monitor.store.schema import observations, series_table
from monitor.store.sql import bind, insert_rows
from monitor.store.state import Memory, SeriesInfo, State

REVISION_TOLERANCE = 1e-12  # relative: a re-published value this close is the same value
_UNIT_LABELS = ("unit", "currency")


@dataclass(frozen=True, slots=True)
class Revision:
    """A published value that changed: what it was and what it is now."""

    series: str
    period: str
    before: float
    after: float


@dataclass(frozen=True, slots=True)
class IngestResult:
    changed: frozenset[str]
    new_observations: int
    revisions: int
    revised: tuple[Revision, ...] = ()
    conflicts: tuple[str, ...] = ()  # rows refused: they would mix units in one series


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one ingest writes, decided before the transaction commits."""

    new_series: list[SeriesInfo]
    chosen: np.ndarray  # indexes into the Incoming entries that are new or revised
    old: np.ndarray  # their previous values (NaN: new)
    conflicts: dict[str, str]


def ingest(database: Database, memory: Memory, incoming: Incoming, vintage: datetime,
           frequency: str) -> IngestResult:
    """Write the new and revised values of `incoming` as one vintage."""
    with database.exclusive():  # one writer, and the memory is updated before the next one
        with database.transaction() as conn:
            state = memory.synced(conn)
            plan = _plan(memory, state, incoming, frequency)
            if plan.new_series:
                first_seen = bind(conn, series_table.c.first_seen, vintage)
                insert_rows(conn, series_table, ("id", "frequency", "labels", "first_seen"), [
                    (info.id, frequency, json.dumps(info.labels, sort_keys=True), first_seen)
                    for info in plan.new_series])
            before = conn.scalar(sa.select(sa.func.max(observations.c.id))) or 0
            rows = pack_runs(incoming.ids, incoming, plan.chosen,
                             bind(conn, observations.c.vintage, vintage))
            insert_rows(conn, observations, OBSERVATION_COLUMNS, rows)
            after = conn.scalar(sa.select(sa.func.max(observations.c.id))) or 0
        _remember(database, memory, state, incoming, plan, vintage, frequency, before, after, len(rows))
    chosen = plan.chosen
    codes = incoming.codes[chosen]
    revised = ~np.isnan(plan.old)
    revisions = tuple(
        Revision(incoming.ids[c], p, float(b), float(a)) for c, p, b, a in zip(
            codes[revised].tolist(),
            period_strings(incoming.ordinals[chosen][revised], pandas_freq(frequency)).tolist(),
            plan.old[revised].tolist(), incoming.values[chosen][revised].tolist(), strict=True))
    changed = frozenset(incoming.ids[c] for c in _distinct(codes, len(incoming.ids)).tolist())
    return IngestResult(changed, len(chosen), len(revisions), revisions, tuple(plan.conflicts.values()))


def _plan(memory: Memory, state: State, incoming: Incoming, frequency: str) -> _Plan:
    """Compare with the current values: what is new, what is revised, what is refused."""
    with memory.lock:
        conflicts = _conflicts(state, incoming, frequency)
        ids = incoming.ids
        matrix = state.matrices.get(frequency)
        row_of = np.array([-1 if matrix is None else matrix.row.get(sid, -1) for sid in ids] or [-1],
                          dtype=np.int64)
        refused = np.array([sid in conflicts for sid in ids] or [False])
        chosen, old = changed_entries(matrix, row_of, refused, incoming)
        fresh = [sid for sid in ids if sid not in state.infos and sid not in conflicts]
        new_series = [SeriesInfo(sid, frequency, labels)
                      for sid, labels in zip(fresh, _label_dicts(incoming.labels, fresh), strict=True)]
    return _Plan(new_series, chosen, old, conflicts)


def _conflicts(state: State, incoming: Incoming, frequency: str) -> dict[str, str]:
    """Series whose unit, currency or frequency differs from what the store holds."""
    conflicts: dict[str, str] = {}
    infos = state.infos
    wanted = [c for c in _UNIT_LABELS if c in incoming.labels.columns]
    columns = {key: incoming.labels[key].tolist() for key in wanted}
    for position, sid in enumerate(incoming.ids):
        info = infos.get(sid)
        if info is None:
            continue
        if info.frequency != frequency:
            conflicts[sid] = (f"series {sid} is stored with frequency {info.frequency!r}; refusing "
                              f"values of frequency {frequency!r}")
        for key in wanted:
            new = columns[key][position]
            if key in info.labels and isinstance(new, str) and new != info.labels[key]:
                conflicts[sid] = (f"series {sid} is stored in {key} {info.labels[key]!r}; refusing "
                                  f"values in {new!r} (give them a series of their own)")
    return conflicts


def _remember(database: Database, memory: Memory, state: State, incoming: Incoming, plan: _Plan,
              vintage: datetime, frequency: str, before: int, after: int, written: int) -> None:
    """Bring the in-memory state up to the transaction just committed."""
    with memory.lock:
        for info in plan.new_series:
            state.infos.setdefault(info.id, info)
        if state.watermark >= after:  # a reader already caught up with these rows
            return
        if state.watermark != before or after - before != written:
            with database.read() as conn:  # someone else wrote too: read it all back
                memory.catch_up(conn)
            return
        matrix = state.matrix(frequency)
        chosen = plan.chosen
        codes = incoming.codes[chosen]
        present = _distinct(codes, len(incoming.ids))
        matrix.add_series([incoming.ids[c] for c in present.tolist()])
        row_of = np.full(len(incoming.ids), -1, dtype=np.int64)
        row_of[present] = [matrix.row[incoming.ids[c]] for c in present.tolist()]
        matrix.apply(Cells(row_of[codes], incoming.ordinals[chosen], incoming.values[chosen],
                           state.vintage_id(vintage)))
        state.watermark = after


def changed_entries(matrix: Matrix | None, row_of: np.ndarray, refused: np.ndarray,
                    incoming: Incoming) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the incoming entries that are new or revised (beyond REVISION_TOLERANCE,
    relative), skipping refused series, and the current value of each (NaN: new)."""
    from monitor.store.current_kernel import compare

    n = len(incoming.codes)
    chosen, old = np.empty(n, dtype=np.int64), np.empty(n)
    current = matrix.values if matrix is not None else np.full((0, 0), np.nan)
    start, width, size = (matrix.start, matrix.width, matrix.size) if matrix is not None else (0, 0, 0)
    count = compare(current, start, width, size, row_of, refused, incoming.codes, incoming.ordinals,
                    incoming.values, REVISION_TOLERANCE, chosen, old)
    return chosen[:count].copy(), old[:count].copy()


def _distinct(codes: np.ndarray, size: int) -> np.ndarray:
    """The distinct codes in [0, size), ascending: counted, not sorted."""
    return np.flatnonzero(np.bincount(codes, minlength=size)) if len(codes) else codes


def _label_dicts(labels: pd.DataFrame, ids: Sequence[str]) -> list[dict[str, Any]]:
    """The labels of each series as a dict, without the ones its row does not have."""
    if not ids:
        return []
    table = labels if len(ids) == len(labels) else labels.loc[list(ids)]
    columns = [(name, table[name].tolist(), bool(table[name].isna().any())) for name in table.columns]
    return [{name: values[i] for name, values, gaps in columns if not (gaps and _missing(values[i]))}
            for i in range(len(ids))]


def _missing(value: Any) -> bool:
    """None, NaN or pd.NA: a label the row does not have."""
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA
