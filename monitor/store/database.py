"""The database itself: the engine, SQLite's settings, the one write lock, and bringing the
schema up to date when the store opens.

SQLAlchemy Core over a SQLite file by default (PostgreSQL works by URL). SQLite has one
writer, and a transaction that read before writing cannot wait for another to commit (it
fails at once), so every write transaction of the daemon's threads queues on one lock here;
on PostgreSQL an advisory lock gives write transactions the same one-at-a-time order across
processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.store import versions
from monitor.store.migrate import has_row_layout, migrate_row_layout

WRITE_LOCK_KEY = 0x7472_6164_6577_6174  # "tradewat": the advisory lock of write transactions


class Database:
    """One engine and its write lock; the tables exist (and are converted) once it is built."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = sa.create_engine(url, **_engine_options(url))
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        with self.transaction() as conn:
            if has_row_layout(conn):
                migrate_row_layout(conn)
            self.schema_revisions = versions.upgrade(conn, self.where)  # (before, after)
        self._writing = threading.Lock()
        self.fence: Callable[[Connection], None] | None = None  # the lease's check (monitor/store/lease.py)

    @property
    def where(self) -> str:
        """The store as messages name it: the SQLite file, or the URL without its password."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite":
            return str(url.database or ":memory:")
        return url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the write lock without a transaction (a writer that must act after its commit
        before the next writer starts)."""
        with self._writing:
            yield

    @contextmanager
    def write(self, fenced: bool = True) -> Iterator[Connection]:
        """A write transaction, one at a time across the daemon's threads. Once a lease is
        held (`Store.elect`), it first checks, in the transaction, that the lease is still
        this process's (`fenced`: the writes only the active replica may make)."""
        with self._writing, self.transaction() as conn:
            if fenced and self.fence is not None:
                self.fence(conn)
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction that writes, one at a time across processes too. SQLite's database
        lock does that by itself; on PostgreSQL a transaction-level advisory lock does, so
        observations rows commit in the order of their ids (readers catch up by id) and the
        outbox and alert rows of two processes never interleave."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; it never waits for the write lock."""
        with self.engine.connect() as conn:
            yield conn


def _engine_options(url: str) -> dict[str, Any]:
    """PostgreSQL sessions in UTC, so timestamps read back in the zone they were written in."""
    if sa.engine.make_url(url).get_backend_name() == "postgresql":
        return {"connect_args": {"options": "-c timezone=UTC"}, "pool_pre_ping": True}
    return {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=16384")  # new files only: packed history rows fill pages
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
