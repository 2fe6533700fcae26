"""The lease of the active replica, and the fence that keeps a replica without it from
writing what only the active one may write.

Replicas on one store elect one to poll, alert and deliver: it holds the lease (one row of
`lease`: holder, epoch, expiry by the database's clock) and renews it; when the lease runs
out, another takes it with the next epoch. Every write transaction of alert transitions,
outbox rows, deliveries and receiver state checks, inside that transaction, that the epoch
is still this replica's (`Lease.check`, installed by `Store.elect` as the database's fence):
a replica that lost the lease, however late it learns it, commits none of them.

On PostgreSQL the check holds a KEY SHARE lock on the lease row until its transaction ends,
and a takeover takes the row FOR UPDATE: a takeover waits for the old holder's transactions
in flight, and everything the new holder reads after it includes them. Renewals are plain
updates, which neither wait for those transactions nor block them. Times come from the
database, so the replicas' clocks need not agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from monitor.store.database import Database
from monitor.store.schema import lease

ACTIVE = "active"  # the name of the one lease row


class Fenced(RuntimeError):
    """A write needed the lease and this replica no longer holds it."""


@dataclass(frozen=True, slots=True)
class LeaseView:
    """The lease as one try saw it: who holds it, at which epoch, for how much longer, and
    whether that is this replica."""

    holder: str
    epoch: int
    expires_in: float  # seconds, by the database's clock (negative: run out)
    mine: bool


def _now(conn: Connection) -> float:
    """The database's clock, in unix seconds."""
    if conn.dialect.name == "postgresql":
        return float(conn.scalar(sa.text("SELECT extract(epoch FROM clock_timestamp())")))
    return float(conn.scalar(sa.text("SELECT (julianday('now') - 2440587.5) * 86400.0")))


class Lease:
    """This replica's side of the lease: take it, renew it, give it up, and check it inside a
    write transaction. `epoch` is the epoch held (None: not held)."""

    def __init__(self, database: Database, holder: str, seconds: float) -> None:
        self._database = database
        self.holder = holder
        self.seconds = seconds
        self.epoch: int | None = None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """The lease's own short transactions. On PostgreSQL they skip the write lock, so a
        renewal never queues behind a long ingest; SQLite has one writer, so they take it."""
        if self._database.engine.dialect.name == "postgresql":
            with self._database.engine.begin() as conn:
                yield conn
        else:
            with self._database.write(fenced=False) as conn:
                yield conn

    def acquire(self, force: bool = False) -> LeaseView:
        """Take the lease if it is free or has run out (`force`: whatever its state, for a
        process that knows no other one runs, as SQLite's lock file proves), renew it if it
        is ours. The epoch grows by one with each new holder."""
        try:
            with self._transaction() as conn:
                now = _now(conn)
                row = conn.execute(sa.select(lease.c.holder, lease.c.epoch, lease.c.expires_at)
                                   .where(lease.c.name == ACTIVE).with_for_update()).first()
                if row is None:
                    conn.execute(lease.insert().values(name=ACTIVE, holder=self.holder, epoch=1,
                                                       expires_at=now + self.seconds, renewed_at=now))
                    self.epoch = 1
                    return LeaseView(self.holder, 1, self.seconds, True)
                ours = row.holder == self.holder and row.epoch == self.epoch
                if not (ours or force or row.expires_at <= now):
                    self.epoch = None
                    return LeaseView(row.holder, int(row.epoch), row.expires_at - now, False)
                epoch = int(row.epoch) if ours else int(row.epoch) + 1
                conn.execute(lease.update().where(lease.c.name == ACTIVE).values(
                    holder=self.holder, epoch=epoch, expires_at=now + self.seconds, renewed_at=now))
                self.epoch = epoch
                return LeaseView(self.holder, epoch, self.seconds, True)
        except IntegrityError:  # another replica inserted the first row at the same moment
            self.epoch = None
            return self.view()

    def renew(self) -> bool:
        """Extend the lease we hold; False when another replica has taken it since. A lease
        that ran out but was not taken is still ours: nobody else acted meanwhile."""
        if self.epoch is None:
            return False
        with self._transaction() as conn:
            now = _now(conn)
            renewed = conn.execute(lease.update().where(
                lease.c.name == ACTIVE, lease.c.epoch == self.epoch, lease.c.holder == self.holder)
                .values(expires_at=now + self.seconds, renewed_at=now)).rowcount
        if not renewed:
            self.epoch = None
        return bool(renewed)

    def release(self) -> None:
        """Give the lease up now (a clean stop), so a standby takes over on its next try."""
        if self.epoch is None:
            return
        with self._transaction() as conn:
            conn.execute(lease.update().where(
                lease.c.name == ACTIVE, lease.c.epoch == self.epoch, lease.c.holder == self.holder)
                .values(expires_at=0.0))
        self.epoch = None

    def view(self) -> LeaseView:
        """The lease as it stands (holder "" and epoch 0 before anyone took it)."""
        with self._database.read() as conn:
            now = _now(conn)
            row = conn.execute(sa.select(lease.c.holder, lease.c.epoch, lease.c.expires_at)
                               .where(lease.c.name == ACTIVE)).first()
        if row is None:
            return LeaseView("", 0, 0.0, False)
        mine = row.holder == self.holder and row.epoch == self.epoch
        return LeaseView(row.holder, int(row.epoch), row.expires_at - now, mine)

    def check(self, conn: Connection) -> None:
        """The fence, inside the caller's write transaction: Fenced unless the lease is still
        ours at the epoch we took it with. The row stays locked (KEY SHARE) until the caller
        commits, so no takeover slips in between this check and that commit."""
        epoch = self.epoch
        row = conn.execute(sa.select(lease.c.holder, lease.c.epoch).where(lease.c.name == ACTIVE)
                           .with_for_update(read=True, key_share=True)).first()
        if epoch is None or row is None or row.epoch != epoch or row.holder != self.holder:
            held = f"{row.holder} holds epoch {row.epoch}" if row is not None else "nobody holds it"
            raise Fenced(f"this replica ({self.holder}) no longer holds the store's lease ({held}); "
                         f"its write was not committed")
