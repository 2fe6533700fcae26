"""Schema revisions (Alembic, `monitor/store/migrations/`): the version table read, a store
from before revisions stamped, an older one upgraded, and a newer one refused.

A store opened by a tradewatch older than its schema could misread or damage rows written by
the newer one, so it refuses with the revision it found instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


class StoreRefused(RuntimeError):
    """The store cannot be used by this process; the message says why and what to do."""


class SchemaTooNew(StoreRefused):
    """The store's schema is a revision this tradewatch does not know."""


def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def head() -> str:
    """The newest revision this tradewatch knows."""
    return str(_script().get_current_head())


def current(conn: Connection) -> str | None:
    """The store's revision (None: no version table, a store from before revisions or empty)."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.scalar(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))


def check(conn: Connection, where: str) -> str | None:
    """The store's revision; SchemaTooNew when this tradewatch does not know it."""
    revision = current(conn)
    if revision is not None:
        check_known(revision, where)
    return revision


def check_known(revision: str, where: str) -> None:
    """SchemaTooNew unless `revision` is one of this tradewatch's."""
    from alembic.util import CommandError

    try:
        known = _script().get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise SchemaTooNew(
            f"the store {where} has schema revision {revision}, newer than this tradewatch knows "
            f"(its newest is {head()}); run a newer tradewatch, or another store")


def upgrade(conn: Connection, where: str) -> tuple[str | None, str]:
    """Bring the schema to the newest revision in the caller's transaction: an empty store is
    created, a store with tables but no version table (written before revisions) is stamped
    with the first revision and then upgraded. Returns (revision before, revision after)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    before = check(conn, where)
    script = _script()
    context = MigrationContext.configure(conn, opts={
        "script": script, "fn": lambda rev, _ctx: script._upgrade_revs("head", rev)})
    if before is None and sa.inspect(conn).has_table("series"):
        context.stamp(script, script.get_base())
    with Operations.context(context):
        context.run_migrations()
    return before, str(context.get_current_revision())
