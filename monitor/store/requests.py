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


def claim(database: Database, request_id: str, now: datetime) -> bool:
    """True the first time `request_id` is claimed, False ever after (within `KEEP`). Not
    fenced: a click may reach a standby replica, which acts on it as the active one would (a
    silence and a Slack edit, no alert state), and the claim is what keeps it from acting twice."""
    try:
        with database.write(fenced=False) as conn:
            conn.execute(seen_requests.delete().where(seen_requests.c.seen_at < now - KEEP))
            conn.execute(seen_requests.insert().values(id=request_id, seen_at=now))
    except sa.exc.IntegrityError:
        return False
    return True
