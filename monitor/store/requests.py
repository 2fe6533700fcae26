"""Interactive requests already acted on (a Slack button click), by id: a replayed request
finds its id taken and changes nothing. Kept in the store, so the protection survives a
restart and holds between processes sharing a PostgreSQL store; ids are kept `KEEP`, well
past the five minutes a signed request's timestamp stays acceptable."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from monitor.store.database import Database
from monitor.store.schema import seen_requests

KEEP = timedelta(days=1)


class Replayed(Exception):
    """The request's id was claimed already: it was acted on, and nothing changes again."""


def record(conn: sa.Connection, request_id: str, now: datetime) -> None:
    """Claim `request_id` within the caller's transaction, so that the claim and what the
    request changes (a silence) commit together or not at all. Raises Replayed, after which
    the whole transaction must be rolled back (raising it out of `with` does that)."""
    conn.execute(seen_requests.delete().where(seen_requests.c.seen_at < now - KEEP))
    try:
        conn.execute(seen_requests.insert().values(id=request_id, seen_at=now))
    except sa.exc.IntegrityError:
        raise Replayed(request_id) from None


def claim(database: Database, request_id: str, now: datetime) -> bool:
    """True the first time `request_id` is claimed, False ever after (within `KEEP`): for a
    request that changes nothing in the store (a refusal). Not fenced: a click may reach a
    standby replica, which acts on it as the active one would (a silence and a Slack edit, no
    alert state), and the claim is what keeps it from acting twice."""
    try:
        with database.write(fenced=False) as conn:
            record(conn, request_id, now)
    except Replayed:
        return False
    return True


def seen(database: Database, request_id: str) -> bool:
    """Whether `request_id` was claimed: a replay is told apart before any work is done."""
    with database.read() as conn:
        return conn.execute(sa.select(seen_requests.c.id).where(seen_requests.c.id == request_id)).first() \
            is not None
