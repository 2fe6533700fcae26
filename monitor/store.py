"""One database for observations with their vintages, alerts and the notification outbox.

SQLAlchemy Core over a SQLite file by default (PostgreSQL works by URL). Every fetch is a
vintage: a value that changes is written again with the new fetch time, and the old row is
kept, so revisions and late releases stay visible.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.alerts.lifecycle import Alert, Status
from monitor.periods import pandas_freq, periods_per_year

metadata = sa.MetaData()

series_table = sa.Table(
    "series", metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("frequency", sa.String(1), nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
)
observations = sa.Table(
    "observations", metadata,
    sa.Column("series", sa.String, primary_key=True),
    sa.Column("period", sa.String, primary_key=True),
    sa.Column("vintage", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
)
current = sa.Table(
    "current", metadata,
    sa.Column("series", sa.String, primary_key=True),
    sa.Column("period", sa.String, primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
)
alerts = sa.Table(
    "alerts", metadata,
    sa.Column("fingerprint", sa.String, primary_key=True),
    sa.Column("rule", sa.String, nullable=False),
    sa.Column("series", sa.String, nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("severity", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("episode", sa.Integer, nullable=False),
    sa.Column("period", sa.String, nullable=False),
    sa.Column("since_period", sa.String, nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("reference", sa.Float),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("active_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event_period", sa.String),
)
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String, nullable=False),
    sa.Column("episode", sa.Integer, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False, default=0),  # reminders: 1, 2, ...
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("fingerprint", "episode", "status", "seq", name="one_notification_per_change"),
)
deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), primary_key=True),
    sa.Column("receiver", sa.String, primary_key=True),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("outcome", sa.String),  # sent, failed, silenced, inhibited
)
sa.Index("outbox_pending", outbox.c.done_at)
silences = sa.Table(
    "silences", metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("matchers", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
receiver_state = sa.Table(
    "receiver_state", metadata,
    sa.Column("receiver", sa.String, primary_key=True),
    sa.Column("fingerprint", sa.String, primary_key=True),
    sa.Column("episode", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String, nullable=False),
    sa.Column("ts", sa.String, nullable=False),
    sa.Column("progress", sa.String, nullable=False),
    sa.Column("parent", sa.Text, nullable=False),
)


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


def _utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything in tradewatch is UTC-aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- observations -------------------------------------------------------------------
    def ingest(self, frame: pd.DataFrame, vintage: datetime, frequency: str) -> IngestResult:
        """Upsert a long frame; unchanged values are no-ops, so ingest is idempotent."""
        if frame.empty:
            return IngestResult(frozenset(), 0, 0)
        incoming = pd.DataFrame({
            "series": frame["series"].astype(str),
            "period": frame["period"].astype(str),
            "value": frame["value"].astype(float),
        })
        ids = sorted(incoming["series"].unique())
        label_columns = [c for c in frame.columns if c not in ("series", "period", "value")]
        labels_by_series = frame.drop_duplicates("series").set_index("series")[label_columns]
        with self.engine.begin() as conn:
            known = self._known_series(conn, ids)
            conflicts = self._unit_conflicts(conn, sorted(known), labels_by_series)
            if conflicts:
                incoming = incoming[~incoming["series"].isin(set(conflicts))]
                ids = [sid for sid in ids if sid not in conflicts]
            new_series = [
                {"id": sid, "frequency": frequency, "first_seen": vintage,
                 "labels": json.dumps(labels_by_series.loc[sid].dropna().to_dict(), sort_keys=True)}
                for sid in ids if sid not in known
            ]
            if new_series:
                conn.execute(series_table.insert(), new_series)
            existing = self._current_frame(conn, ids)
            merged = incoming.merge(existing, on=["series", "period"], how="left",
                                    suffixes=("", "_old"))
            changed_mask = merged["value_old"].isna() | ~np.isclose(
                merged["value"], merged["value_old"].fillna(0.0), rtol=1e-12, atol=0.0)
            changed = merged[changed_mask]
            if changed.empty:
                return IngestResult(frozenset(), 0, 0, conflicts=tuple(conflicts.values()))
            rows = [{"series": s, "period": p, "value": v, "vintage": vintage}
                    for s, p, v in zip(changed["series"], changed["period"], changed["value"],
                                       strict=True)]
            conn.execute(observations.insert(), rows)
            revised = changed["value_old"].notna()
            if revised.any():
                conn.execute(
                    current.update()
                    .where(current.c.series == sa.bindparam("b_series"))
                    .where(current.c.period == sa.bindparam("b_period"))
                    .values(value=sa.bindparam("b_value"), vintage=sa.bindparam("b_vintage")),
                    [{"b_series": r["series"], "b_period": r["period"], "b_value": r["value"],
                      "b_vintage": vintage} for r, is_rev in zip(rows, revised, strict=True) if is_rev],
                )
            fresh = [r for r, is_rev in zip(rows, revised, strict=True) if not is_rev]
            if fresh:
                conn.execute(current.insert(), fresh)
        revisions = tuple(
            Revision(str(r.series), str(r.period), float(r.value_old), float(r.value))
            for r in changed[revised].itertuples(index=False))
        return IngestResult(frozenset(changed["series"]), len(rows), len(revisions), revisions,
                            tuple(conflicts.values()))

    _UNIT_LABELS = ("unit", "currency")

    def _unit_conflicts(self, conn: Connection, known: Sequence[str],
                        incoming: pd.DataFrame) -> dict[str, str]:
        """Series whose unit or currency differs from what the store holds: never mixed."""
        conflicts: dict[str, str] = {}
        wanted = [c for c in self._UNIT_LABELS if c in incoming.columns]
        if not wanted:
            return conflicts
        for chunk in _chunks(known, 500):
            for sid, text in conn.execute(sa.select(series_table.c.id, series_table.c.labels)
                                          .where(series_table.c.id.in_(chunk))):
                stored = json.loads(text)
                for key in wanted:
                    new = incoming.at[sid, key]
                    if key in stored and isinstance(new, str) and new != stored[key]:
                        conflicts[sid] = (f"series {sid} is stored in {key} {stored[key]!r}; refusing "
                                          f"values in {new!r} (give them a series of their own)")
        return conflicts

    def _known_series(self, conn: Connection, ids: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for chunk in _chunks(ids, 500):
            out.update(conn.scalars(sa.select(series_table.c.id).where(series_table.c.id.in_(chunk))))
        return out

    def _current_frame(self, conn: Connection, ids: Sequence[str]) -> pd.DataFrame:
        parts = []
        for chunk in _chunks(ids, 500):
            result = conn.execute(sa.select(current.c.series, current.c.period, current.c.value)
                                  .where(current.c.series.in_(chunk)))
            parts.append(pd.DataFrame(result.all(), columns=["series", "period", "value"]))
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["series", "period", "value"])
        return frame.astype({"series": str, "period": str, "value": float})

    def series(self, ids: Iterable[str] | None = None) -> dict[str, SeriesInfo]:
        query = sa.select(series_table.c.id, series_table.c.frequency, series_table.c.labels)
        with self.engine.connect() as conn:
            if ids is None:
                rows = conn.execute(query).all()
            else:
                rows = []
                for chunk in _chunks(sorted(set(ids)), 500):
                    rows += conn.execute(query.where(series_table.c.id.in_(chunk))).all()
        return {r.id: SeriesInfo(r.id, r.frequency, json.loads(r.labels)) for r in rows}

    def panel(self, ids: Sequence[str], frequency: str) -> pd.DataFrame:
        """Current values as a panel: full PeriodIndex, one float column per series."""
        with self.engine.connect() as conn:
            long = self._current_frame(conn, sorted(set(ids)))
        freq = pandas_freq(frequency)
        if long.empty:
            return pd.DataFrame(index=pd.PeriodIndex([], freq=freq), dtype=float)
        long["period"] = pd.PeriodIndex(long["period"], freq=freq)
        wide = long.pivot(index="period", columns="series", values="value")
        full = pd.period_range(wide.index.min(), wide.index.max(), freq=freq)
        wide = wide.reindex(full).astype(float)
        wide.columns = wide.columns.astype(str)
        wide.columns.name = None
        return wide[sorted(wide.columns)]

    def latest_values(self) -> list[tuple[str, str, float]]:
        """(series, period, value) of each series' newest period, for metrics."""
        snapshot = self.latest_snapshot()
        return list(zip(snapshot["series"], snapshot["period"], snapshot["value"], strict=True))

    def newest_period(self, source: str) -> str | None:
        """The newest reference period any series of `source` has (None before its first data)."""
        ids = [sid for sid, info in self.series().items() if info.labels.get("source") == source]
        if not ids:
            return None
        with self.engine.connect() as conn:
            newest = None
            for chunk in _chunks(ids, 500):
                found = conn.execute(sa.select(sa.func.max(current.c.period))
                                     .where(current.c.series.in_(chunk))).scalar()
                newest = found if newest is None or (found is not None and found > newest) else newest
        return newest

    def latest_snapshot(self) -> pd.DataFrame:
        """Each series' newest period: series, frequency, period, value, vintage and the value
        of the same period a year earlier (NaN when missing), read at scrape time."""
        newest = (sa.select(current.c.series, sa.func.max(current.c.period).label("period"))
                  .group_by(current.c.series).subquery())
        query = (sa.select(current.c.series, series_table.c.frequency, current.c.period,
                           current.c.value, current.c.vintage)
                 .join(newest, sa.and_(current.c.series == newest.c.series,
                                       current.c.period == newest.c.period))
                 .join(series_table, series_table.c.id == current.c.series)
                 .order_by(current.c.series))
        columns = ["series", "frequency", "period", "value", "vintage"]
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
            frame["year_ago_period"] = [
                str(pd.Period(p, freq=pandas_freq(f)) - periods_per_year(f))
                for p, f in zip(frame["period"], frame["frequency"], strict=True)]
            wanted = sorted(set(frame["year_ago_period"]))
            rows = conn.execute(sa.select(current.c.series, current.c.period, current.c.value)
                                .where(current.c.period.in_(wanted))).all() if wanted else []
        past = pd.DataFrame(rows, columns=["series", "period", "value"]).rename(
            columns={"period": "year_ago_period", "value": "year_ago_value"})
        frame = frame.merge(past, on=["series", "year_ago_period"], how="left")
        frame["vintage"] = [_utc(pd.Timestamp(v).to_pydatetime()) for v in frame["vintage"]]
        return frame.astype({"value": float, "year_ago_value": float})

    def series_history(self, series_id: str) -> pd.Series:
        """Current values of one series on a PeriodIndex (empty when unknown); `attrs["vintage"]`
        is the newest fetch time among them, for "data as of" lines."""
        with self.engine.connect() as conn:
            frequency = conn.scalar(sa.select(series_table.c.frequency)
                                    .where(series_table.c.id == series_id))
            rows = conn.execute(sa.select(current.c.period, current.c.value, current.c.vintage)
                                .where(current.c.series == series_id)
                                .order_by(current.c.period)).all()
        freq = pandas_freq(frequency or "M")
        index = pd.PeriodIndex([r.period for r in rows], freq=freq)
        history = pd.Series([float(r.value) for r in rows], index=index, dtype=float, name=series_id)
        history.attrs["vintage"] = _utc(max((r.vintage for r in rows), default=None))
        return history

    def vintages(self, series: str) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(observations).where(observations.c.series == series)
                                .order_by(observations.c.period, observations.c.vintage)).all()
        return pd.DataFrame(rows, columns=["series", "period", "vintage", "value"])

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
        """Alert states and the notifications they cause, in one transaction (the outbox)."""
        with self.engine.begin() as conn:
            for fp in deletes:
                conn.execute(alerts.delete().where(alerts.c.fingerprint == fp))
            for alert in upserts:
                row = _alert_to_row(alert)
                updated = conn.execute(alerts.update().where(alerts.c.fingerprint == alert.fingerprint)
                                       .values(**row))
                if updated.rowcount == 0:
                    conn.execute(alerts.insert().values(**row))
            for alert, payload in notifications:
                conn.execute(outbox.insert().values(
                    fingerprint=alert.fingerprint, episode=alert.episode, status=alert.status.value,
                    payload=json.dumps(payload, sort_keys=True), created_at=now))

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
        with self.engine.begin() as conn:
            updated = conn.execute(
                deliveries.update()
                .where(deliveries.c.outbox_id == outbox_id, deliveries.c.receiver == receiver)
                .values(sent_at=sent_at, attempts=deliveries.c.attempts + 1, last_error=error,
                        outcome=outcome))
            if updated.rowcount == 0:
                conn.execute(deliveries.insert().values(outbox_id=outbox_id, receiver=receiver,
                                                        sent_at=sent_at, attempts=1, last_error=error,
                                                        outcome=outcome))

    def enqueue_reminder(self, fingerprint: str, episode: int, payload: Mapping[str, Any],
                         now: datetime) -> None:
        """A reminder of a still-firing alert, numbered after the previous ones."""
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == outbox_id).values(done_at=now))

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
        with self.engine.begin() as conn:
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
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _alert_to_row(alert: Alert) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint, "rule": alert.rule, "series": alert.series,
        "labels": json.dumps(dict(alert.labels), sort_keys=True), "severity": alert.severity,
        "status": alert.status.value, "episode": alert.episode, "period": alert.period,
        "since_period": alert.since_period, "value": _finite(alert.value),
        "reference": _finite(alert.reference), "summary": alert.summary,
        "active_at": alert.active_at, "fired_at": alert.fired_at,
        "resolved_at": alert.resolved_at, "updated_at": alert.updated_at,
        "event_period": alert.event_period,
    }


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


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
