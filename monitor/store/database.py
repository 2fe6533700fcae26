"""The database itself: the engine, SQLite's settings, the one write lock, and bringing the
schema up to date when the store opens.

SQLAlchemy Core over a SQLite file by default (PostgreSQL works by URL). SQLite has one
writer, and a transaction that read before writing cannot wait for another to commit (it
fails at once), so every write transaction of the daemon's threads queues on one lock here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor.store.migrate import has_row_layout, migrate_row_layout
from monitor.store.schema import metadata


class Database:
    """One engine and its write lock; the tables exist (and are converted) once it is built."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = sa.create_engine(url)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        with self.engine.begin() as conn:
            if has_row_layout(conn):
                migrate_row_layout(conn)
        metadata.create_all(self.engine)
        self._writing = threading.Lock()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the write lock without a transaction (a writer that must act after its commit
        before the next writer starts)."""
        with self._writing:
            yield

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, one at a time across the daemon's threads."""
        with self._writing, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; it never waits for the write lock."""
        with self.engine.connect() as conn:
            yield conn


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=16384")  # new files only: packed history rows fill pages
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
