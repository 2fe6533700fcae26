"""What the store keeps in memory: the series, the current value of every cell (a matrix per
frequency), the fetch times, and the id of the last observations row they reflect.

It is rebuilt from the vintage history at first use and caught up with rows another process
added, so panels, the metrics snapshot and the comparison at ingest read arrays instead of
millions of rows.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor.store.codec import Block, read_blocks
from monitor.store.current import Cells, Matrix
from monitor.store.database import Database
from monitor.store.schema import observations, series_table
from monitor.store.sql import chunks, decode_all, utc

_REPLAY_BATCH = 10_000  # stored rows applied at once when rebuilding the current values


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    id: str
    frequency: str
    labels: Mapping[str, str]


@dataclass(slots=True)
class State:
    """Series, current values, fetch times, and the id of the last observations row they
    reflect."""

    infos: dict[str, SeriesInfo] = field(default_factory=dict)
    matrices: dict[str, Matrix] = field(default_factory=dict)
    vintages: list[datetime] = field(default_factory=list)
    vintage_ids: dict[datetime, int] = field(default_factory=dict)
    watermark: int = 0

    def vintage_id(self, vintage: datetime) -> int:
        key = utc(vintage) or vintage
        if key not in self.vintage_ids:
            self.vintage_ids[key] = len(self.vintages)
            self.vintages.append(key)
        return self.vintage_ids[key]

    def matrix(self, frequency: str) -> Matrix:
        if frequency not in self.matrices:
            self.matrices[frequency] = Matrix(frequency)
        return self.matrices[frequency]


class Memory:
    """The in-memory state of one store; `lock` guards it."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.lock = threading.RLock()
        self._state: State | None = None

    def synced(self, conn: Connection | None = None) -> State:
        """The state, loaded at first use and caught up with rows added since."""
        with self.lock:
            if conn is None:
                with self._database.read() as own:
                    return self.catch_up(own)
            return self.catch_up(conn)

    def catch_up(self, conn: Connection) -> State:
        """Apply the observations rows newer than the state (all of them the first time)."""
        with self.lock:
            state = self._state
            if state is None:
                state = State()
                rows = conn.execute(sa.select(series_table.c.id, series_table.c.frequency,
                                              series_table.c.labels)).all()
                for (sid, frequency, _), labels in zip(rows, decode_all([r[2] for r in rows]), strict=True):
                    state.infos[sid] = SeriesInfo(sid, frequency, labels)
                self._state = state
            newest = conn.scalar(sa.select(sa.func.max(observations.c.id))) or 0
            if newest <= state.watermark:
                return state
            batch: list[Block] = []
            seen: set[str] = set()
            for block in read_blocks(conn, after=state.watermark):
                if block.series in seen or len(batch) >= _REPLAY_BATCH:  # cells must not collide
                    _replay(conn, state, batch)
                    batch, seen = [], set()
                batch.append(block)
                seen.add(block.series)
            _replay(conn, state, batch)
            return state


def _replay(conn: Connection, state: State, blocks: Sequence[Block]) -> None:
    """Apply blocks of distinct series (so their cells never collide)."""
    if not blocks:
        return
    missing = sorted({b.series for b in blocks} - state.infos.keys())
    for chunk in chunks(missing, 500):
        rows = conn.execute(sa.select(series_table.c.id, series_table.c.frequency, series_table.c.labels)
                            .where(series_table.c.id.in_(chunk))).all()
        for (sid, frequency, _), labels in zip(rows, decode_all([r[2] for r in rows]), strict=True):
            state.infos[sid] = SeriesInfo(sid, frequency, labels)
    by_frequency: dict[str, list[Block]] = {}
    for block in blocks:
        info = state.infos.get(block.series)
        by_frequency.setdefault(info.frequency if info else "M", []).append(block)
    for frequency, group in by_frequency.items():
        matrix = state.matrix(frequency)
        matrix.add_series([b.series for b in group])
        sizes = [len(b.ordinals) for b in group]
        matrix.apply(Cells(
            np.repeat(np.array([matrix.row[b.series] for b in group], dtype=np.int64), sizes),
            np.concatenate([b.ordinals for b in group]),
            np.concatenate([b.values for b in group]),
            np.repeat(np.array([state.vintage_id(b.vintage) for b in group], dtype=np.int32), sizes)))
    state.watermark = max(state.watermark, blocks[-1].id)
