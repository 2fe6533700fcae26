"""The notification outbox and its deliveries: rows written in the transaction of the change
that caused them, read back by the dispatcher, each receiver's delivery recorded, reminders
numbered, done rows marked.

A unique key (fingerprint, episode, status, seq) makes a second row of one notification
impossible; a delivery recorded as sent is never sent again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor.store.database import Database
from monitor.store.schema import deliveries, outbox
from monitor.store.sql import binder, chunks, insert_rows, utc

_NEW_COLUMNS = ("fingerprint", "episode", "status", "seq", "payload", "created_at")
PARKED = "parked"  # a delivery's outcome when the receiver refused it for good


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    fingerprint: str
    episode: int
    status: str
    payload: Mapping[str, Any]
    created_at: datetime
    delivered_to: frozenset[str]
    attempts: Mapping[str, int] = field(default_factory=dict)  # receiver -> attempts that failed so far
    parked: Mapping[str, str] = field(default_factory=dict)  # receiver -> why it refused for good


@dataclass(frozen=True, slots=True)
class Parked:
    """A delivery a receiver refused for good, kept until a config reload retries it."""

    outbox_id: int
    fingerprint: str
    episode: int
    status: str
    receiver: str
    reason: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Notified:
    """A firing or resolved notification once queued for an alert episode: what the store
    remembers of past episodes (the alerts table keeps only each alert's latest)."""

    fingerprint: str
    episode: int
    status: str
    payload: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A notification to queue: the alert episode and status it is about, and what receivers
    are given."""

    fingerprint: str
    episode: int
    status: str
    payload: Mapping[str, Any]


def enqueue(conn: Connection, rows: Sequence[OutboxRow], now: datetime) -> None:
    """Queue notifications inside the caller's write transaction (`Database.write`), so they
    commit with the change that caused them; in one batch, through the driver."""
    created = binder(conn, outbox.c.created_at)(now)
    insert_rows(conn, outbox, _NEW_COLUMNS, [
        (row.fingerprint, row.episode, row.status, 0, json.dumps(row.payload, sort_keys=True), created)
        for row in rows])


def pending(database: Database, limit: int = 1000) -> list[OutboxEntry]:
    """Undelivered notifications, oldest first, with the receivers that already have each."""
    with database.read() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.done_at.is_(None))
                            .order_by(outbox.c.id).limit(limit)).mappings().all()
        sent: dict[int, set[str]] = {}
        failed: dict[int, dict[str, int]] = {}
        parked: dict[int, dict[str, str]] = {}
        ids = [r["id"] for r in rows]
        for chunk in chunks(ids, 500):
            d_ = deliveries.c
            for d in conn.execute(sa.select(d_.outbox_id, d_.receiver, d_.sent_at, d_.attempts, d_.outcome,
                                            d_.last_error).where(d_.outbox_id.in_(chunk))):
                if d.sent_at is not None:
                    sent.setdefault(d.outbox_id, set()).add(d.receiver)
                    continue
                failed.setdefault(d.outbox_id, {})[d.receiver] = int(d.attempts or 0)
                if d.outcome == PARKED:
                    parked.setdefault(d.outbox_id, {})[d.receiver] = str(d.last_error or "")
    return [OutboxEntry(r["id"], r["fingerprint"], r["episode"], r["status"],
                        json.loads(r["payload"]), utc(r["created_at"]) or r["created_at"],
                        frozenset(sent.get(r["id"], set())), failed.get(r["id"], {}), parked.get(r["id"], {}))
            for r in rows]


def parked_deliveries(database: Database) -> list[Parked]:
    """Deliveries parked by a receiver's refusal, oldest notification first."""
    o, d = outbox.c, deliveries.c
    query = (sa.select(o.id, o.fingerprint, o.episode, o.status, d.receiver, d.last_error, d.attempts,
                       o.created_at)
             .join(outbox, deliveries.c.outbox_id == outbox.c.id)
             .where(deliveries.c.outcome == PARKED, outbox.c.done_at.is_(None))
             .order_by(outbox.c.id, deliveries.c.receiver))
    with database.read() as conn:
        return [Parked(r.id, r.fingerprint, r.episode, r.status, r.receiver, str(r.last_error or ""),
                       int(r.attempts or 0), utc(r.created_at) or r.created_at) for r in conn.execute(query)]


def unpark(database: Database) -> int:
    """Parked deliveries become ordinary failed ones, retried on the next drain (a reload may
    have fixed the credentials, scope or channel). Returns how many."""
    with database.write() as conn:
        return int(conn.execute(deliveries.update().where(deliveries.c.outcome == PARKED)
                                .values(outcome="failed")).rowcount or 0)


def record_delivery(database: Database, outbox_id: int, receiver: str, sent_at: datetime | None,
                    error: str | None, outcome: str | None = None) -> None:
    """Record one attempt; sent_at None means it failed and will be retried. A silenced
    or inhibited notification is recorded as handled (sent_at set) with that outcome."""
    outcome = outcome or ("sent" if sent_at is not None else "failed")
    with database.write() as conn:
        updated = conn.execute(
            deliveries.update()
            .where(deliveries.c.outbox_id == outbox_id, deliveries.c.receiver == receiver)
            .values(sent_at=sent_at, attempts=deliveries.c.attempts + 1, last_error=error,
                    outcome=outcome))
        if updated.rowcount == 0:
            conn.execute(deliveries.insert().values(outbox_id=outbox_id, receiver=receiver,
                                                    sent_at=sent_at, attempts=1, last_error=error,
                                                    outcome=outcome))


def record_deliveries(database: Database, sent: Sequence[tuple[int, str, datetime, str | None]]) -> None:
    """Many successful deliveries (outbox id, receiver, sent at, outcome or None for
    "sent") in one transaction: a digest delivers hundreds of notifications at once."""
    if not sent:
        return
    with database.write() as conn:
        existing: set[tuple[int, str]] = set()
        for chunk in chunks(sorted({outbox_id for outbox_id, *_ in sent}), 500):
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


def enqueue_reminder(database: Database, fingerprint: str, episode: int, payload: Mapping[str, Any],
                     now: datetime) -> None:
    """A reminder of a still-firing alert, numbered after the previous ones."""
    with database.write() as conn:
        last = conn.execute(sa.select(sa.func.max(outbox.c.seq)).where(
            outbox.c.fingerprint == fingerprint, outbox.c.episode == episode,
            outbox.c.status == "reminder")).scalar()
        conn.execute(outbox.insert().values(
            fingerprint=fingerprint, episode=episode, status="reminder", seq=(last or 0) + 1,
            payload=json.dumps(dict(payload), sort_keys=True), created_at=now))


def last_sent(database: Database, fingerprint: str, episode: int) -> dict[str, datetime]:
    """receiver -> when it last got any notification of this alert episode."""
    query = (sa.select(deliveries.c.receiver, sa.func.max(deliveries.c.sent_at))
             .join(outbox, deliveries.c.outbox_id == outbox.c.id)
             .where(outbox.c.fingerprint == fingerprint, outbox.c.episode == episode,
                    deliveries.c.outcome == "sent")
             .group_by(deliveries.c.receiver))
    with database.read() as conn:
        return {receiver: utc(at) or at for receiver, at in conn.execute(query)}


def firing_outcomes(database: Database,
                    episodes: Sequence[tuple[str, int]]) -> dict[tuple[str, int], dict[str, str]]:
    """(fingerprint, episode) -> receiver -> how its firing notification was handled (sent,
    silenced, inhibited, folded...), for the episodes asked about."""
    wanted = set(episodes)
    out: dict[tuple[str, int], dict[str, str]] = {}
    o, d = outbox.c, deliveries.c
    with database.read() as conn:
        for chunk in chunks(sorted({fp for fp, _ in wanted}), 500):
            query = (sa.select(o.fingerprint, o.episode, d.receiver, d.outcome)
                     .join(outbox, deliveries.c.outbox_id == outbox.c.id)
                     .where(o.fingerprint.in_(chunk), o.status == "firing", d.sent_at.is_not(None)))
            for r in conn.execute(query):
                if (r.fingerprint, r.episode) in wanted:
                    out.setdefault((r.fingerprint, r.episode), {})[r.receiver] = str(r.outcome or "sent")
    return out


def mark_done_many(database: Database, outbox_ids: Sequence[int], now: datetime) -> None:
    with database.write() as conn:
        for chunk in chunks(list(outbox_ids), 500):
            conn.execute(outbox.update().where(outbox.c.id.in_(chunk)).values(done_at=now))


def depth(database: Database) -> tuple[int, datetime | None]:
    """Undelivered notifications and the creation time of the oldest."""
    with database.read() as conn:
        count, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(outbox.c.created_at))
                                     .where(outbox.c.done_at.is_(None))).one()
    return int(count), utc(oldest)


def notified(database: Database, fingerprints: Sequence[str]) -> list[Notified]:
    """Every firing and resolved notification of these alerts, every episode, oldest first.
    Outbox rows are kept once delivered (`done_at` set, never deleted), so they are the
    record of each episode's start and end."""
    o = outbox.c
    out: list[Notified] = []
    with database.read() as conn:
        for chunk in chunks(sorted(set(fingerprints)), 500):
            query = (sa.select(o.fingerprint, o.episode, o.status, o.payload, o.created_at)
                     .where(o.fingerprint.in_(chunk), o.seq == 0, o.status.in_(("firing", "resolved")))
                     .order_by(o.id))
            out += [Notified(r.fingerprint, int(r.episode), r.status, json.loads(r.payload),
                             utc(r.created_at) or r.created_at) for r in conn.execute(query)]
    return out
