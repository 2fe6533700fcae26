"""The store: observations with their vintages, the notification outbox and deliveries,
receiver state and silences, in one database (SQLAlchemy Core; SQLite by default,
PostgreSQL by URL).

Every fetch is a vintage: the values it publishes or revises are written with the fetch time,
and nothing is overwritten, so revisions and late releases stay visible. The current value of
every cell is also kept in memory, so panels, the metrics snapshot and the comparison at
ingest read arrays instead of millions of rows.

`Store` is the facade the rest of the daemon calls; each job lives in a module of its own
(database, ingest, series, state, outbox, receivers, silences). The store imports nothing
above it: the alerts package writes its rows through `Store.write`, together with the outbox
rows they cause (`monitor.store.outbox.enqueue`), in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from monitor.store import ingest as _ingest
from monitor.store import outbox as _outbox
from monitor.store import receivers as _receivers
from monitor.store import requests as _requests
from monitor.store import series as _series
from monitor.store.database import Database
from monitor.store.frames import Incoming, prepare
from monitor.store.ingest import IngestResult, Revision
from monitor.store.lease import Fenced, Lease, LeaseView
from monitor.store.outbox import Notified, OutboxEntry, OutboxRow, Parked
from monitor.store.receivers import ReceiverState
from monitor.store.state import Memory, SeriesInfo

__all__ = [
    "Fenced", "Incoming", "IngestResult", "Lease", "LeaseView", "Notified", "OutboxEntry", "OutboxRow",
    "Parked", "ReceiverState", "Revision", "SeriesInfo", "Store",
]


class Store:
    """One database and what is kept in memory beside it; every method delegates to the
    module of its job."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._database = Database(url)
        self.engine: Engine = self._database.engine
        self._memory = Memory(self._database)

    def close(self) -> None:
        self._database.close()

    @property
    def url_shown(self) -> str:
        """The store as messages name it: the SQLite file, or the URL without its password."""
        return self._database.where

    def elect(self, holder: str, seconds: float) -> Lease:
        """This process's side of the store's lease (`seconds` long). From now on the writes
        only the active replica may make (alerts, outbox, deliveries, receiver state) check in
        their transaction that the lease is still held, and raise Fenced when it is not."""
        lease = Lease(self._database, holder, seconds)
        self._database.fence = lease.check
        return lease

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, queued behind any other writer of this store."""
        with self._database.write() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading."""
        with self._database.read() as conn:
            yield conn

    # -- observations -------------------------------------------------------------------
    @staticmethod
    def prepare(frame: pd.DataFrame, frequency: str) -> Incoming:
        """A long frame as the arrays `ingest` compares: reads no state, so a caller may do it
        on another thread (while the source before is being ingested)."""
        return prepare(frame, frequency)

    def ingest(self, frame: pd.DataFrame, vintage: datetime, frequency: str,
               prepared: Incoming | None = None) -> IngestResult:
        """Write the new and revised values of a long frame as one vintage; unchanged values
        are no-ops, so ingest is idempotent. Series whose unit (or frequency) differs from
        the stored one are refused, never mixed. `prepared`: `prepare(frame, frequency)`."""
        if frame.empty:
            return IngestResult(frozenset(), 0, 0)
        incoming = prepared if prepared is not None else prepare(frame, frequency)
        return _ingest.ingest(self._database, self._memory, incoming, vintage, frequency)

    def series(self, ids: Iterable[str] | None = None) -> dict[str, SeriesInfo]:
        return _series.series_infos(self._memory, ids)

    def panel(self, ids: Sequence[str], frequency: str) -> pd.DataFrame:
        """Current values as a panel: full PeriodIndex, one float column per series."""
        return _series.panel(self._memory, ids, frequency)

    def newest_period(self, source: str) -> str | None:
        """The newest reference period any series of `source` has (None before its first data)."""
        return _series.newest_period(self._memory, source)

    def latest_snapshot(self, ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Each series' newest period (of `ids`, or all): series, frequency, period, value,
        vintage and the value of the same period a year earlier (NaN when missing)."""
        return _series.latest_snapshot(self._memory, ids)

    def series_history(self, series_id: str) -> pd.Series:
        """Current values of one series on a PeriodIndex (empty when unknown); `attrs["vintage"]`
        is the newest fetch time among them."""
        return _series.series_history(self._memory, series_id)

    def vintages(self, series: str) -> pd.DataFrame:
        """Every published value of one series: series, period, vintage, value, by period
        then fetch time."""
        return _series.vintages(self._database, self._memory, series)

    # -- outbox and deliveries -------------------------------------------------------------
    def pending_outbox(self, limit: int = 1000) -> list[OutboxEntry]:
        return _outbox.pending(self._database, limit)

    def record_delivery(self, outbox_id: int, receiver: str, sent_at: datetime | None,
                        error: str | None, outcome: str | None = None) -> None:
        """Record one attempt; sent_at None means it failed and will be retried. A silenced
        or inhibited notification is recorded as handled (sent_at set) with that outcome."""
        _outbox.record_delivery(self._database, outbox_id, receiver, sent_at, error, outcome)

    def record_deliveries(self, sent: Sequence[tuple[int, str, datetime, str | None]]) -> None:
        """Many successful deliveries (outbox id, receiver, sent at, outcome or None for
        "sent") in one transaction."""
        _outbox.record_deliveries(self._database, sent)

    def enqueue_reminder(self, fingerprint: str, episode: int, payload: Mapping[str, Any],
                         now: datetime) -> None:
        """A reminder of a still-firing alert, numbered after the previous ones."""
        _outbox.enqueue_reminder(self._database, fingerprint, episode, payload, now)

    def last_sent(self, fingerprint: str, episode: int) -> dict[str, datetime]:
        """receiver -> when it last got any notification of this alert episode."""
        return _outbox.last_sent(self._database, fingerprint, episode)

    def firing_outcomes(self, episodes: Sequence[tuple[str, int]]) -> dict[tuple[str, int], dict[str, str]]:
        """(fingerprint, episode) -> receiver -> how its firing notification was handled."""
        return _outbox.firing_outcomes(self._database, episodes)

    def mark_done_many(self, outbox_ids: Sequence[int], now: datetime) -> None:
        _outbox.mark_done_many(self._database, outbox_ids, now)

    def parked_deliveries(self) -> list[Parked]:
        return _outbox.parked_deliveries(self._database)

    def unpark(self) -> int:
        """Parked deliveries are retried from the next drain on (after a config reload)."""
        return _outbox.unpark(self._database)

    def notified(self, fingerprints: Sequence[str]) -> list[Notified]:
        """Firing and resolved notifications of these alerts, every episode, oldest first."""
        return _outbox.notified(self._database, fingerprints)

    def outbox_depth(self) -> tuple[int, datetime | None]:
        """Undelivered notifications and the creation time of the oldest."""
        return _outbox.depth(self._database)

    # -- receiver state ----------------------------------------------------------------------
    def receiver_state(self, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None:
        return _receivers.load(self._database, receiver, fingerprint, episode)

    def save_receiver_states(self, states: Sequence[ReceiverState]) -> None:
        """Upsert in one transaction (a digest records hundreds at once)."""
        _receivers.save(self._database, states)

    # -- interactive requests ----------------------------------------------------------------
    def claim_request(self, request_id: str, now: datetime) -> bool:
        """True the first time an interactive request's id is seen, False for a replay."""
        return _requests.claim(self._database, request_id, now)

    def seen_request(self, request_id: str) -> bool:
        return _requests.seen(self._database, request_id)
