"""One database for observations with their vintages, alerts and the notification outbox.

SQLAlchemy Core over a SQLite file by default (PostgreSQL works by URL). Every fetch is a
vintage: the values it publishes or revises are written with the fetch time, and nothing is
overwritten, so revisions and late releases stay visible (`monitor.schema`).

The current value of every cell is also kept in memory (`monitor.current`), rebuilt from the
history at first use and caught up when another process added to it: panels, the metrics
snapshot and the comparison at ingest read arrays instead of millions of rows.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.alerts.lifecycle import Alert, Status
from monitor.current import Cells, Matrix, period_strings
from monitor.observations import (
    OBSERVATION_COLUMNS,
    Block,
    Incoming,
    bind,
    binder,
    delete_rows,
    expand,
    has_row_layout,
    insert_rows,
    migrate_row_layout,
    pack_runs,
    read_blocks,
    row_binder,
)
from monitor.observations import utc as _utc
from monitor.periods import pandas_freq, periods_per_year
from monitor.schema import (
    alerts,
    deliveries,
    metadata,
    observations,
    outbox,
    receiver_state,
    series_table,
    silences,
)

__all__ = [
    "IngestResult", "OutboxEntry", "ReceiverState", "Revision", "SeriesInfo", "Store", "_utc", "alerts",
    "deliveries", "metadata", "observations", "outbox", "receiver_state", "series_table", "silences",
]

REVISION_TOLERANCE = 1e-12  # relative: a re-published value this close is the same value
_REPLAY_BATCH = 10_000  # stored rows applied at once when rebuilding the current values


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
class SeriesInfo:
    id: str
    frequency: str
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ReceiverState:
    """Where a receiver put an alert episode's message (Slack: channel and parent ts), so that
    updates thread under it after a restart; `progress` lets a half-done send resume."""

    receiver: str
    fingerprint: str
    episode: int
    channel: str
    ts: str
    progress: str
    parent: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    fingerprint: str
    episode: int
    status: str
    payload: Mapping[str, Any]
    created_at: datetime
    delivered_to: frozenset[str]


@dataclass(slots=True)
class _State:
    """What the store keeps in memory: series, current values, fetch times, and the id of
    the last observations row they reflect."""

    infos: dict[str, SeriesInfo] = field(default_factory=dict)
    matrices: dict[str, Matrix] = field(default_factory=dict)
    vintages: list[datetime] = field(default_factory=list)
    vintage_ids: dict[datetime, int] = field(default_factory=dict)
    watermark: int = 0

    def vintage_id(self, vintage: datetime) -> int:
        key = _utc(vintage) or vintage
        if key not in self.vintage_ids:
            self.vintage_ids[key] = len(self.vintages)
            self.vintages.append(key)
        return self.vintage_ids[key]

    def matrix(self, frequency: str) -> Matrix:
        if frequency not in self.matrices:
            self.matrices[frequency] = Matrix(frequency)
        return self.matrices[frequency]


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one ingest writes, decided before the transaction commits."""

    new_series: list[SeriesInfo]
    chosen: np.ndarray  # indexes into the Incoming entries that are new or revised
    old: np.ndarray  # their previous values (NaN: new)
    conflicts: dict[str, str]


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        with self.engine.begin() as conn:
            if has_row_layout(conn):
                migrate_row_layout(conn)
        metadata.create_all(self.engine)
        self._lock = threading.RLock()  # guards _state
        self._writing = threading.Lock()  # one write transaction at a time (see _write)
        self._state: _State | None = None
        self._labels_text: dict[str, tuple[Mapping[str, str], str]] = {}  # fingerprint -> labels, JSON

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction, one at a time across the daemon's threads: SQLite has one
        writer, and a transaction that read before writing cannot wait for another to commit
        (it fails at once), so they queue here instead."""
        with self._writing, self.engine.begin() as conn:
            yield conn

    # -- observations -------------------------------------------------------------------
    @staticmethod
    def prepare(frame: pd.DataFrame, frequency: str) -> Incoming:
        """A long frame as the arrays `ingest` compares: reads no state, so a caller may do it
        on another thread (while the source before is being ingested)."""
        return Incoming.from_frame(frame, frequency)

    def ingest(self, frame: pd.DataFrame, vintage: datetime, frequency: str,
               prepared: Incoming | None = None) -> IngestResult:
        """Write the new and revised values of a long frame as one vintage; unchanged values
        are no-ops, so ingest is idempotent. Series whose unit (or frequency) differs from
        the stored one are refused, never mixed. `prepared`: `prepare(frame, frequency)`."""
        if frame.empty:
            return IngestResult(frozenset(), 0, 0)
        incoming = prepared if prepared is not None else Incoming.from_frame(frame, frequency)
        with self._writing:  # as _write, and the state is remembered before the next writer
            with self.engine.begin() as conn:
                state = self._synced(conn)
                plan = self._plan(state, incoming, frequency)
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
            self._remember(state, incoming, plan, vintage, frequency, before, after, len(rows))
        chosen = plan.chosen
        codes = incoming.codes[chosen]
        revised = ~np.isnan(plan.old)
        revisions = tuple(
            Revision(incoming.ids[c], p, float(b), float(a)) for c, p, b, a in zip(
                codes[revised].tolist(),
                period_strings(incoming.ordinals[chosen][revised], pandas_freq(frequency)).tolist(),
                plan.old[revised].tolist(), incoming.values[chosen][revised].tolist(), strict=True))
        changed = frozenset(incoming.ids[c] for c in _distinct(codes, len(incoming.ids)).tolist())
        return IngestResult(changed, len(chosen), len(revisions), revisions,
                            tuple(plan.conflicts.values()))

    def _plan(self, state: _State, incoming: Incoming, frequency: str) -> _Plan:
        """Compare with the current values: what is new, what is revised, what is refused."""
        with self._lock:
            conflicts = self._conflicts(state, incoming, frequency)
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

    _UNIT_LABELS = ("unit", "currency")

    def _conflicts(self, state: _State, incoming: Incoming, frequency: str) -> dict[str, str]:
        """Series whose unit, currency or frequency differs from what the store holds."""
        conflicts: dict[str, str] = {}
        infos = state.infos
        wanted = [c for c in self._UNIT_LABELS if c in incoming.labels.columns]
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

    def _remember(self, state: _State, incoming: Incoming, plan: _Plan, vintage: datetime,
                  frequency: str, before: int, after: int, written: int) -> None:
        """Bring the in-memory state up to the transaction just committed."""
        with self._lock:
            for info in plan.new_series:
                state.infos.setdefault(info.id, info)
            if state.watermark >= after:  # a reader already caught up with these rows
                return
            if state.watermark != before or after - before != written:
                with self.engine.connect() as conn:  # someone else wrote too: read it all back
                    self._catch_up(conn, state)
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

    def _synced(self, conn: Connection | None = None) -> _State:
        """The in-memory state, loaded at first use and caught up with rows added since."""
        with self._lock:
            if conn is None:
                with self.engine.connect() as own:
                    return self._catch_up(own, self._state)
            return self._catch_up(conn, self._state)

    def _catch_up(self, conn: Connection, state: _State | None) -> _State:
        if state is None:
            state = _State()
            rows = conn.execute(sa.select(series_table.c.id, series_table.c.frequency,
                                          series_table.c.labels)).all()
            for (sid, frequency, _), labels in zip(rows, _decode_all([r[2] for r in rows]), strict=True):
                state.infos[sid] = SeriesInfo(sid, frequency, labels)
            self._state = state
        newest = conn.scalar(sa.select(sa.func.max(observations.c.id))) or 0
        if newest <= state.watermark:
            return state
        batch: list[Block] = []
        seen: set[str] = set()
        for block in read_blocks(conn, after=state.watermark):
            if block.series in seen or len(batch) >= _REPLAY_BATCH:  # cells must not collide
                self._replay(conn, state, batch)
                batch, seen = [], set()
            batch.append(block)
            seen.add(block.series)
        self._replay(conn, state, batch)
        return state

    def _replay(self, conn: Connection, state: _State, blocks: Sequence[Block]) -> None:
        """Apply blocks of distinct series (so their cells never collide)."""
        if not blocks:
            return
        missing = sorted({b.series for b in blocks} - state.infos.keys())
        for chunk in _chunks(missing, 500):
            rows = conn.execute(sa.select(series_table.c.id, series_table.c.frequency, series_table.c.labels)
                                .where(series_table.c.id.in_(chunk))).all()
            for (sid, frequency, _), labels in zip(rows, _decode_all([r[2] for r in rows]), strict=True):
                state.infos[sid] = SeriesInfo(sid, frequency, labels)
        by_frequency: dict[str, list[Block]] = {}
        for block in blocks:
            info = state.infos.get(block.series)
            by_frequency.setdefault(info.frequency if info else "M", []).append(block)
        for frequency, group in by_frequency.items():
            matrix = state.matrix(frequency)
            matrix.add_series([b.series for b in group])
            sizes = [len(b.ordinals) for b in group]
            matrix.apply(Cells(
                np.repeat(np.array([matrix.row[b.series] for b in group], dtype=np.int64), sizes),
                np.concatenate([b.ordinals for b in group]),
                np.concatenate([b.values for b in group]),
                np.repeat(np.array([state.vintage_id(b.vintage) for b in group], dtype=np.int32), sizes)))
        state.watermark = max(state.watermark, blocks[-1].id)

    def series(self, ids: Iterable[str] | None = None) -> dict[str, SeriesInfo]:
        state = self._synced()
        with self._lock:
            if ids is None:
                return dict(state.infos)
            infos = state.infos
            return {sid: infos[sid] for sid in sorted(set(ids)) if sid in infos}

    def panel(self, ids: Sequence[str], frequency: str) -> pd.DataFrame:
        """Current values as a panel: full PeriodIndex, one float column per series."""
        state = self._synced()
        with self._lock:
            matrix = state.matrices.get(frequency)
            if matrix is None:
                return pd.DataFrame(index=pd.PeriodIndex([], freq=pandas_freq(frequency)), dtype=float)
            return matrix.panel(ids)

    def latest_values(self) -> list[tuple[str, str, float]]:
        """(series, period, value) of each series' newest period, for metrics."""
        snapshot = self.latest_snapshot()
        return list(zip(snapshot["series"], snapshot["period"], snapshot["value"], strict=True))

    def newest_period(self, source: str) -> str | None:
        """The newest reference period any series of `source` has (None before its first data)."""
        state = self._synced()
        with self._lock:
            ids = [sid for sid, info in state.infos.items() if info.labels.get("source") == source]
            newest = None
            for matrix in state.matrices.values():
                names, rows = matrix.rows_of(ids)
                if names:
                    ordinal = int(matrix.last[rows].max()) + matrix.start
                    found = str(period_strings(np.array([ordinal]), matrix.freq)[0])
                    newest = found if newest is None or found > newest else newest
        return newest

    def latest_snapshot(self, ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Each series' newest period (of `ids`, or all): series, frequency, period, value,
        vintage and the value of the same period a year earlier (NaN when missing)."""
        state = self._synced()
        wanted = None if ids is None else set(ids)
        parts = []
        with self._lock:
            for frequency, matrix in state.matrices.items():
                names, rows = matrix.rows_of(matrix.ids if wanted is None else wanted)
                ordinals, value, vintage, year_ago = matrix.newest(rows)
                back = ordinals - periods_per_year(frequency)
                parts.append(pd.DataFrame({
                    "series": pd.Series(names, dtype=object), "frequency": frequency,
                    "period": period_strings(ordinals, matrix.freq),
                    "value": value, "vintage": np.array([*state.vintages, None], dtype=object)[vintage],
                    "year_ago_period": period_strings(back, matrix.freq), "year_ago_value": year_ago}))
        columns = ["series", "frequency", "period", "value", "vintage", "year_ago_period", "year_ago_value"]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=float if c.endswith("value") else object)
                                 for c in columns})
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            frame = frame.sort_values("series", kind="stable").reset_index(drop=True)
        return frame[columns]

    def series_history(self, series_id: str) -> pd.Series:
        """Current values of one series on a PeriodIndex (empty when unknown); `attrs["vintage"]`
        is the newest fetch time among them, for "data as of" lines."""
        state = self._synced()
        with self._lock:
            info = state.infos.get(series_id)
            matrix = state.matrices.get(info.frequency) if info else None
            freq = pandas_freq(info.frequency if info else "M")
            if matrix is None:
                ordinals, values, vintages = np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
            else:
                ordinals, values, vintages = matrix.history(series_id)
            times = [state.vintages[v] for v in np.unique(vintages).tolist()]
        index = pd.PeriodIndex.from_ordinals(ordinals, freq=freq)
        history = pd.Series(values, index=index, dtype=float, name=series_id)
        history.attrs["vintage"] = max(times, default=None)
        return history

    def vintages(self, series: str) -> pd.DataFrame:
        """Every published value of one series: series, period, vintage, value, by period
        then fetch time."""
        state = self._synced()
        info = state.infos.get(series)
        with self.engine.connect() as conn:
            blocks = list(read_blocks(conn, series=series))
        frame = expand(blocks, {series: info.frequency if info else "M"})
        return frame.sort_values(["period", "vintage"], kind="stable").reset_index(drop=True)

    # -- alerts and outbox ----------------------------------------------------------------
    def load_alerts(self) -> dict[str, Alert]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alerts)).mappings().all()
        return {r["fingerprint"]: _alert_from_row(dict(r)) for r in rows}

    def commit_transitions(
        self,
        upserts: Sequence[Alert],
        deletes: Sequence[str],
        notifications: Sequence[tuple[Alert, Mapping[str, Any]]],
        now: datetime,
    ) -> None:
        """Alert states and the notifications they cause, in one transaction (the outbox).
        Rows go in batches: a first evaluation of a large watch list changes thousands."""
        latest = {alert.fingerprint: alert for alert in upserts}  # the last state wins
        with self._write() as conn:
            # An upsert is a delete and an insert: both in bulk, through the driver, in any dialect.
            delete_rows(conn, alerts.c.fingerprint, [*deletes, *latest])
            to_driver = row_binder(conn, alerts)
            insert_rows(conn, alerts, [c.name for c in alerts.columns],
                        [to_driver(self._alert_row(alert)) for alert in latest.values()])
            created = binder(conn, outbox.c.created_at)(now)
            insert_rows(conn, outbox, ("fingerprint", "episode", "status", "seq", "payload", "created_at"), [
                (alert.fingerprint, alert.episode, alert.status.value, 0, json.dumps(payload, sort_keys=True),
                 created) for alert, payload in notifications])
        for fp in deletes:
            self._labels_text.pop(fp, None)

    def _alert_row(self, alert: Alert) -> tuple[Any, ...]:
        """An alert as a row of `alerts`, in column order. Its labels' JSON is remembered per
        alert: labels rarely change, and a cycle rewrites tens of thousands of alerts."""
        known = self._labels_text.get(alert.fingerprint)
        if known is None or known[0] != alert.labels:
            known = self._labels_text[alert.fingerprint] = (
                alert.labels, json.dumps(dict(alert.labels), sort_keys=True))
        return (alert.fingerprint, alert.rule, alert.series, known[1], alert.severity, alert.status.value,
                alert.episode, alert.period, alert.since_period, _finite(alert.value),
                _finite(alert.reference), alert.summary, alert.active_at, alert.fired_at, alert.resolved_at,
                alert.updated_at, alert.event_period)

    def pending_outbox(self, limit: int = 1000) -> list[OutboxEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox).where(outbox.c.done_at.is_(None))
                                .order_by(outbox.c.id).limit(limit)).mappings().all()
            sent: dict[int, set[str]] = {}
            ids = [r["id"] for r in rows]
            for chunk in _chunks(ids, 500):
                for d in conn.execute(sa.select(deliveries.c.outbox_id, deliveries.c.receiver)
                                      .where(deliveries.c.outbox_id.in_(chunk))
                                      .where(deliveries.c.sent_at.is_not(None))):
                    sent.setdefault(d.outbox_id, set()).add(d.receiver)
        return [OutboxEntry(r["id"], r["fingerprint"], r["episode"], r["status"],
                            json.loads(r["payload"]), _utc(r["created_at"]) or r["created_at"],
                            frozenset(sent.get(r["id"], set()))) for r in rows]

    def record_delivery(self, outbox_id: int, receiver: str, sent_at: datetime | None,
                        error: str | None, outcome: str | None = None) -> None:
        """Record one attempt; sent_at None means it failed and will be retried. A silenced
        or inhibited notification is recorded as handled (sent_at set) with that outcome."""
        outcome = outcome or ("sent" if sent_at is not None else "failed")
        with self._write() as conn:
            updated = conn.execute(
                deliveries.update()
                .where(deliveries.c.outbox_id == outbox_id, deliveries.c.receiver == receiver)
                .values(sent_at=sent_at, attempts=deliveries.c.attempts + 1, last_error=error,
                        outcome=outcome))
            if updated.rowcount == 0:
                conn.execute(deliveries.insert().values(outbox_id=outbox_id, receiver=receiver,
                                                        sent_at=sent_at, attempts=1, last_error=error,
                                                        outcome=outcome))

    def record_deliveries(self, sent: Sequence[tuple[int, str, datetime, str | None]]) -> None:
        """Many successful deliveries (outbox id, receiver, sent at, outcome or None for
        "sent") in one transaction: a digest delivers hundreds of notifications at once."""
        if not sent:
            return
        with self._write() as conn:
            existing: set[tuple[int, str]] = set()
            for chunk in _chunks(sorted({outbox_id for outbox_id, *_ in sent}), 500):
                existing.update((r.outbox_id, r.receiver) for r in conn.execute(
                    sa.select(deliveries.c.outbox_id, deliveries.c.receiver)
                    .where(deliveries.c.outbox_id.in_(chunk))))
            rows = [{"b_id": i, "b_receiver": r, "b_sent": at, "b_outcome": outcome or "sent"}
                    for i, r, at, outcome in sent]
            known = [row for row in rows if (row["b_id"], row["b_receiver"]) in existing]
            if known:
                conn.execute(deliveries.update()
                             .where(deliveries.c.outbox_id == sa.bindparam("b_id"),
                                    deliveries.c.receiver == sa.bindparam("b_receiver"))
                             .values(sent_at=sa.bindparam("b_sent"), attempts=deliveries.c.attempts + 1,
                                     last_error=None, outcome=sa.bindparam("b_outcome")), known)
            fresh = [{"outbox_id": row["b_id"], "receiver": row["b_receiver"], "sent_at": row["b_sent"],
                      "attempts": 1, "last_error": None, "outcome": row["b_outcome"]}
                     for row in rows if (row["b_id"], row["b_receiver"]) not in existing]
            if fresh:
                conn.execute(deliveries.insert(), fresh)

    def enqueue_reminder(self, fingerprint: str, episode: int, payload: Mapping[str, Any],
                         now: datetime) -> None:
        """A reminder of a still-firing alert, numbered after the previous ones."""
        with self._write() as conn:
            last = conn.execute(sa.select(sa.func.max(outbox.c.seq)).where(
                outbox.c.fingerprint == fingerprint, outbox.c.episode == episode,
                outbox.c.status == "reminder")).scalar()
            conn.execute(outbox.insert().values(
                fingerprint=fingerprint, episode=episode, status="reminder", seq=(last or 0) + 1,
                payload=json.dumps(dict(payload), sort_keys=True), created_at=now))

    def last_sent(self, fingerprint: str, episode: int) -> dict[str, datetime]:
        """receiver -> when it last got any notification of this alert episode."""
        query = (sa.select(deliveries.c.receiver, sa.func.max(deliveries.c.sent_at))
                 .join(outbox, deliveries.c.outbox_id == outbox.c.id)
                 .where(outbox.c.fingerprint == fingerprint, outbox.c.episode == episode,
                        deliveries.c.outcome == "sent")
                 .group_by(deliveries.c.receiver))
        with self.engine.connect() as conn:
            return {receiver: _utc(at) or at for receiver, at in conn.execute(query)}

    def mark_done(self, outbox_id: int, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(outbox.update().where(outbox.c.id == outbox_id).values(done_at=now))

    def mark_done_many(self, outbox_ids: Sequence[int], now: datetime) -> None:
        with self._write() as conn:
            for chunk in _chunks(list(outbox_ids), 500):
                conn.execute(outbox.update().where(outbox.c.id.in_(chunk)).values(done_at=now))

    def outbox_depth(self) -> tuple[int, datetime | None]:
        """Undelivered notifications and the creation time of the oldest."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(outbox.c.created_at))
                                         .where(outbox.c.done_at.is_(None))).one()
        return int(count), _utc(oldest)

    def receiver_state(self, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(receiver_state).where(
                receiver_state.c.receiver == receiver, receiver_state.c.fingerprint == fingerprint,
                receiver_state.c.episode == episode)).mappings().first()
        if row is None:
            return None
        return ReceiverState(row["receiver"], row["fingerprint"], row["episode"], row["channel"],
                             row["ts"], row["progress"], json.loads(row["parent"]))

    def save_receiver_states(self, states: Sequence[ReceiverState]) -> None:
        """Upsert in one transaction (a digest records hundreds at once)."""
        with self._write() as conn:
            for state in states:
                key = (receiver_state.c.receiver == state.receiver,
                       receiver_state.c.fingerprint == state.fingerprint,
                       receiver_state.c.episode == state.episode)
                values = {"channel": state.channel, "ts": state.ts, "progress": state.progress,
                          "parent": json.dumps(dict(state.parent), sort_keys=True, default=str)}
                if conn.execute(receiver_state.update().where(*key).values(**values)).rowcount == 0:
                    conn.execute(receiver_state.insert().values(
                        receiver=state.receiver, fingerprint=state.fingerprint, episode=state.episode,
                        **values))

    def sent_notifications(self) -> list[tuple[str, int, str, str]]:
        """(fingerprint, episode, status, receiver) of every delivered notification."""
        query = (sa.select(outbox.c.fingerprint, outbox.c.episode, outbox.c.status, deliveries.c.receiver)
                 .join(deliveries, deliveries.c.outbox_id == outbox.c.id)
                 .where(deliveries.c.sent_at.is_not(None)).order_by(outbox.c.id))
        with self.engine.connect() as conn:
            return [(r.fingerprint, r.episode, r.status, r.receiver) for r in conn.execute(query)]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=16384")  # new files only: packed history rows fill pages
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _decode_all(texts: Sequence[str]) -> list[dict[str, str]]:
    """Many small JSON objects in one parse: half the time of one json.loads each."""
    return json.loads("[" + ",".join(texts) + "]") if texts else []


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


def changed_entries(matrix: Matrix | None, row_of: np.ndarray, refused: np.ndarray,
                    incoming: Incoming) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the incoming entries that are new or revised (beyond REVISION_TOLERANCE,
    relative), skipping refused series, and the current value of each (NaN: new)."""
    from monitor.current_kernel import compare

    n = len(incoming.codes)
    chosen, old = np.empty(n, dtype=np.int64), np.empty(n)
    current = matrix.values if matrix is not None else np.full((0, 0), np.nan)
    start, width, size = (matrix.start, matrix.width, matrix.size) if matrix is not None else (0, 0, 0)
    count = compare(current, start, width, size, row_of, refused, incoming.codes, incoming.ordinals,
                    incoming.values, REVISION_TOLERANCE, chosen, old)
    return chosen[:count].copy(), old[:count].copy()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _alert_from_row(row: Mapping[str, Any]) -> Alert:
    from types import MappingProxyType

    return Alert(
        fingerprint=row["fingerprint"], rule=row["rule"], series=row["series"],
        labels=MappingProxyType(json.loads(row["labels"])), severity=row["severity"],
        status=Status(row["status"]), episode=row["episode"], period=row["period"],
        since_period=row["since_period"],
        value=float("nan") if row["value"] is None else row["value"],
        reference=float("nan") if row["reference"] is None else row["reference"],
        summary=row["summary"], active_at=_utc(row["active_at"]) or row["active_at"],
        fired_at=_utc(row["fired_at"]), resolved_at=_utc(row["resolved_at"]),
        updated_at=_utc(row["updated_at"]) or row["updated_at"],
        event_period=row["event_period"],
    )
