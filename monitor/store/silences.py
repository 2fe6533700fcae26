"""Silences: matchers and a time window during which matching alerts are not notified.

Like Alertmanager's: an author and a comment are required, a silence is expired rather than
deleted (so its history stays for `RETENTION`, Alertmanager's default `--data.retention`,
then it is removed), and a silenced alert still changes state (it resolves quietly).

An acknowledgement is a silence of one alert's exact labels tied to its episode: it ends when
that episode resolves (`end_acknowledgements`, called by the dispatcher before it decides on
the resolution, so the resolution itself is told), or at its `ends_at` bound, whichever
comes first."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from monitor.matchers import Matcher, matches_all, parse_matcher
from monitor.store.requests import record as record_request
from monitor.store.schema import acknowledgements, silences
from monitor.store.sql import utc as _utc

if TYPE_CHECKING:
    from monitor.store import Store


RETENTION = timedelta(days=5)


class SilenceError(ValueError):
    """A silence that cannot be created or changed, with the reason."""


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime

    def state(self, now: datetime) -> str:
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def silences(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.state(now) == "active" and matches_all(self.parsed(), labels)

    def parsed(self) -> list[Matcher]:
        return [parse_matcher(m) for m in self.matchers]

    def answers(self, query: Sequence[Matcher]) -> bool:
        """Whether `amtool silence query` would list this silence for `query`: the
        silence's matchers read as labels (name -> value), and every query matcher must
        match them, a label the silence does not name failing an `=` or `=~` matcher (as
        Alertmanager's API filters silences)."""
        values = {m.name: m.value for m in self.parsed()}
        for wanted in query:
            present = wanted.name in values
            if wanted.op in ("!=", "!~"):
                if not wanted.matches({wanted.name: values.get(wanted.name, "")}):
                    return False
            elif not present or not wanted.matches(values):
                return False
        return True

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {"id": self.id, "matchers": list(self.matchers), "startsAt": self.starts_at.isoformat(),
                "endsAt": self.ends_at.isoformat(), "createdBy": self.created_by,
                "comment": self.comment, "status": {"state": self.state(now)}}


class SilenceStore:
    def __init__(self, store: Store) -> None:
        self._engine = store.engine

    def add(self, matchers: Sequence[str], starts_at: datetime, ends_at: datetime, created_by: str,
            comment: str, now: datetime, acknowledges: tuple[str, int] | None = None,
            request_id: str | None = None) -> Silence:
        """A new silence; with `acknowledges` (fingerprint, episode), an acknowledgement of that
        episode, and with `request_id` the claim of the click that asked for it (Replayed when
        it was claimed before), each written in the same transaction."""
        if not matchers:
            raise SilenceError("a silence needs at least one matcher, e.g. series=rus-chn/import/total")
        try:
            parsed = [parse_matcher(m) for m in matchers]
        except ValueError as exc:
            raise SilenceError(str(exc)) from None
        if all(m.matches({}) for m in parsed):
            raise SilenceError("these matchers would silence every alert; add one that needs a label")
        if ends_at <= starts_at:
            raise SilenceError("the silence ends before it starts")
        if ends_at <= now:
            raise SilenceError("the silence would already be over")
        if not created_by.strip() or not comment.strip():
            raise SilenceError("a silence needs an author and a comment")
        silence = Silence(str(uuid.uuid4()), tuple(str(m) for m in parsed), starts_at, ends_at,
                          created_by.strip(), comment.strip(), now)
        with self._engine.begin() as conn:
            if request_id is not None:
                record_request(conn, request_id, now)
            conn.execute(silences.insert().values(
                id=silence.id, matchers=json.dumps(list(silence.matchers)), starts_at=starts_at,
                ends_at=ends_at, created_by=silence.created_by, comment=silence.comment,
                created_at=now, updated_at=now))
            if acknowledges is not None:
                conn.execute(acknowledgements.insert().values(
                    silence_id=silence.id, fingerprint=acknowledges[0], episode=acknowledges[1]))
        return silence

    def acknowledged(self, silence_id: str) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(acknowledgements.c.silence_id).where(
                acknowledgements.c.silence_id == silence_id)).first() is not None

    def end_acknowledgements(self, episodes: Sequence[tuple[str, int]], now: datetime) -> list[str]:
        """Expire the active acknowledgements of these (fingerprint, episode) pairs, which
        resolved; the ids expired."""
        if not episodes:
            return []
        wanted = set(episodes)
        fingerprints = sorted({f for f, _ in wanted})
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(acknowledgements).where(
                acknowledgements.c.fingerprint.in_(fingerprints))).mappings().all()
        ended = []
        for row in rows:
            if (row["fingerprint"], row["episode"]) not in wanted:
                continue
            silence = self.get(row["silence_id"])
            if silence is not None and silence.state(now) != "expired":
                self.expire(silence.id, now)
                ended.append(silence.id)
        return ended

    def get(self, silence_id: str) -> Silence | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(silences).where(silences.c.id == silence_id)).mappings().first()
        return _from_row(dict(row)) if row is not None else None

    def all(self) -> list[Silence]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(silences).order_by(silences.c.created_at)).mappings().all()
        return [_from_row(dict(r)) for r in rows]

    def active(self, now: datetime) -> list[Silence]:
        """The silences in force now; those expired past their retention are removed on the
        way (a write only when there is one, as Alertmanager's own collection does)."""
        every = self.all()
        if any(s.ends_at < now - RETENTION for s in every):
            self.collect(now)
        return [s for s in every if s.state(now) == "active"]

    def collect(self, now: datetime, retention: timedelta = RETENTION) -> int:
        """Remove silences that expired more than `retention` ago; how many."""
        with self._engine.begin() as conn:
            old = sa.select(silences.c.id).where(silences.c.ends_at < now - retention)
            conn.execute(acknowledgements.delete().where(acknowledgements.c.silence_id.in_(old)))
            gone = conn.execute(silences.delete().where(silences.c.ends_at < now - retention))
            return int(gone.rowcount or 0)

    def expire(self, silence_id: str, now: datetime, request_id: str | None = None) -> Silence:
        """End a silence now (a pending one never starts); with `request_id`, claimed in the
        same transaction as `add` does."""
        silence = self.get(silence_id)
        if silence is None:
            raise SilenceError(f"no silence with id {silence_id!r}")
        if silence.state(now) == "expired":
            raise SilenceError(f"silence {silence_id} has already expired")
        starts = min(silence.starts_at, now)  # a pending silence collapses to [now, now)
        with self._engine.begin() as conn:
            if request_id is not None:
                record_request(conn, request_id, now)
            conn.execute(silences.update().where(silences.c.id == silence_id).values(
                starts_at=starts, ends_at=now, updated_at=now))
        expired = self.get(silence_id)
        assert expired is not None
        return expired


def _from_row(row: Mapping[str, Any]) -> Silence:
    return Silence(row["id"], tuple(json.loads(row["matchers"])), _utc(row["starts_at"]) or row["starts_at"],
                   _utc(row["ends_at"]) or row["ends_at"], row["created_by"], row["comment"],
                   _utc(row["created_at"]) or row["created_at"])
