"""One daemon per SQLite file: a lock file beside the database (`<file>.lock`, `flock`), held
for the life of the process that writes, holding that process's id.

Two daemons on one file would both poll, alert and notify: each would send what the other
sent, and their write transactions would fail on SQLite's busy lock. The lock is the kernel's,
so it goes with the process however it ends (a crash or SIGKILL leaves no stale lock).
PostgreSQL stores are not locked here.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

import sqlalchemy as sa

from monitor.store.versions import StoreRefused


class StoreInUse(StoreRefused):
    """Another process holds the store's lock."""


class StoreLock:
    """The held lock of one SQLite store; `release` (or process exit) gives it up."""

    def __init__(self, path: Path, handle: int) -> None:
        self.path = path
        self._handle = handle

    def release(self) -> None:
        if self._handle >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self._handle, 0)
            os.close(self._handle)  # closing the descriptor releases the flock
            self._handle = -1

    def __del__(self) -> None:  # a caller that failed before it could release
        self.release()


def lock_store(url: str, command: str) -> StoreLock | None:
    """Lock a SQLite store for this process (`command`: what it runs, for the message the
    next one gets); None for stores that are not a local file. StoreInUse when another
    process holds it."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = Path(str(parsed.database))
    database.parent.mkdir(parents=True, exist_ok=True)
    path = database.with_name(database.name + ".lock")
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(handle, 200).decode("utf-8", "replace").strip()
        os.close(handle)
        raise StoreInUse(
            f"the store {database} is in use by another tradewatch ({holder or 'process unknown'}); "
            f"stop it first, or give this one another store.path") from None
    os.ftruncate(handle, 0)
    os.write(handle, f"pid {os.getpid()}, tradewatch {command}\n".encode())
    return StoreLock(path, handle)
