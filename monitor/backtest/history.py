"""The data a backtest replays: every stored vintage where the store has a series, otherwise
one fetch of the configured sources into a throw-away in-memory store.

The configured store is only ever read (SQLite is opened read-only, no tables are created),
so a backtest can run beside the daemon. Sources are built with replay disabled: a backtest
wants the whole history at once and reveals it period by period itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import numpy as np
import pandas as pd
import sqlalchemy as sa

from monitor.config import LoadedConfig, SourceConfig
from monitor.sources import build_source
from monitor.sources.base import SourceError
from monitor.store import SeriesInfo, Store
from monitor.store.migrate import read_versions
from monitor.store.schema import series_table

DataMode = Literal["auto", "store", "fetch"]
DATA_MODES: tuple[DataMode, ...] = ("auto", "store", "fetch")
NO_VINTAGE = np.iinfo(np.int64).min  # a fetched value: visible once its own period is reached
VERSION_COLUMNS = ("series", "period", "vintage", "value")


class HistoryError(Exception):
    """The data could not be read (a source failed, the store is unreadable)."""


@dataclass(frozen=True, slots=True)
class History:
    """Series descriptions and every version of every value.

    `versions` has one row per (series, period, vintage): `period` as the store spells it,
    `vintage` in UTC nanoseconds (NO_VINTAGE for fetched data) and `value`."""

    infos: Mapping[str, SeriesInfo]
    versions: pd.DataFrame
    from_store: frozenset[str]

    def of(self, ids: Sequence[str]) -> pd.DataFrame:
        """The versions of some series."""
        return self.versions[self.versions["series"].isin(list(ids))]

    def describe(self) -> str:
        """One line saying where the data came from, so a surprising result can be traced."""
        fetched = len(self.infos) - len(self.from_store)
        parts = []
        if self.from_store:
            stored = self.of(sorted(self.from_store))
            newest = sorted(set(stored.groupby("series")["period"].max()))
            until = newest[0] if len(newest) == 1 else f"{newest[0]} to {newest[-1]}"
            parts.append(f"{len(self.from_store)} from the store with vintages (newest period {until})")
        if fetched:
            parts.append(f"{fetched} fetched from sources")
        return f"{len(self.infos)} series: " + (", ".join(parts) or "none")


def load_history(loaded: LoadedConfig, mode: DataMode, fetched_at: datetime) -> History:
    """Store series (with vintages) first; sources are fetched only for what the store lacks.

    A source counts as covered when the store holds any series it produced (the `source`
    label), so a backtest next to a running daemon reads nothing over the network."""
    infos: dict[str, SeriesInfo] = {}
    parts: list[pd.DataFrame] = []
    if mode != "fetch":
        infos, stored = read_store(loaded.store_url)
        parts.append(stored)
    from_store = frozenset(infos)
    covered = {info.labels.get("source") for info in infos.values()}
    wanted = [s for s in loaded.config.sources
              if mode == "fetch" or (mode == "auto" and s.name not in covered)]
    if wanted:
        fetched_infos, fetched = fetch_sources(loaded, wanted, fetched_at)
        keep = [sid for sid in fetched_infos if sid not in infos]
        infos.update({sid: fetched_infos[sid] for sid in keep})
        parts.append(fetched[fetched["series"].isin(keep)])
    versions = pd.concat(parts, ignore_index=True) if parts else _empty_versions()
    return History(infos, versions.reset_index(drop=True), from_store)


def fetch_sources(loaded: LoadedConfig, sources: Sequence[SourceConfig],
                  fetched_at: datetime) -> tuple[dict[str, SeriesInfo], pd.DataFrame]:
    """Fetch each source once (replay off) into an in-memory store, so labels and series ids
    come out exactly as the daemon would store them."""
    memory = Store("sqlite://")
    try:
        for config in sources:
            if getattr(config, "replay", None) is not None:
                config = config.model_copy(update={"replay": None})
            try:
                fetched = build_source(config, loaded).fetch(now=fetched_at)
            except SourceError as exc:
                raise HistoryError(str(exc)) from None
            memory.ingest(fetched.frame, fetched_at, config.frequency)
        infos = memory.series()
        by_frequency: dict[str, list[str]] = {}
        for info in infos.values():
            by_frequency.setdefault(info.frequency, []).append(info.id)
        parts = [_long(memory.panel(ids, frequency)) for frequency, ids in by_frequency.items()]
    finally:
        memory.close()
    versions = pd.concat(parts, ignore_index=True) if parts else _empty_versions()
    return infos, versions


def _long(panel: pd.DataFrame) -> pd.DataFrame:
    stacked = panel.stack().dropna()
    return pd.DataFrame({
        "series": stacked.index.get_level_values(1).astype(str),
        "period": stacked.index.get_level_values(0).astype(str),
        "vintage": np.full(len(stacked), NO_VINTAGE, dtype=np.int64),
        "value": stacked.to_numpy(dtype=float),
    })


def read_store(url: str) -> tuple[dict[str, SeriesInfo], pd.DataFrame]:
    """Every series and every vintage in the configured store, read-only.

    A SQLite file that does not exist is an empty store (and is not created); so is a
    database without tradewatch's tables."""
    engine = _read_only_engine(url)
    if engine is None:
        return {}, _empty_versions()
    try:
        with engine.connect() as conn:
            series_rows = conn.execute(sa.select(series_table.c.id, series_table.c.frequency,
                                                 series_table.c.labels)).all()
            frame = read_versions(conn, {r.id: r.frequency for r in series_rows})
    except sa.exc.OperationalError as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return {}, _empty_versions()
        raise HistoryError(f"cannot read the store {_safe(url)}: {exc.orig}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise HistoryError(f"cannot read the store {_safe(url)}: {exc}") from None
    finally:
        engine.dispose()
    infos = {r.id: SeriesInfo(r.id, r.frequency, json.loads(r.labels)) for r in series_rows}
    frame = frame[list(VERSION_COLUMNS)]
    vintages = pd.to_datetime(frame["vintage"], utc=True)
    frame["vintage"] = vintages.astype("datetime64[ns, UTC]").astype(np.int64)
    return infos, frame.astype({"series": str, "period": str, "value": float})


def store_mark(url: str) -> tuple[object, ...]:
    """A cheap fingerprint of the store's data (rows are only ever added: their count and
    the newest vintage change with every ingest), so a cached history is read again as soon
    as the daemon stores a release. Empty for a store that is not there or cannot be read."""
    engine = _read_only_engine(url)
    if engine is None:
        return ()
    try:
        with engine.connect() as conn:
            observations = sa.table("observations", sa.column("vintage"))
            row = conn.execute(sa.select(sa.func.count(), sa.func.max(observations.c.vintage))).one()
            series = conn.execute(sa.select(sa.func.count()).select_from(series_table)).scalar_one()
    except sa.exc.SQLAlchemyError:
        return ()
    finally:
        engine.dispose()
    return (series, row[0], str(row[1]))


def _read_only_engine(url: str) -> sa.Engine | None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url)
    database = parsed.database
    if not database or database == ":memory:" or not Path(database).exists():
        return None
    path = Path(database).resolve()
    # Without a -wal file everything is in the main file: `immutable` then reads it without
    # creating -wal/-shm files beside somebody else's database.
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    target = f"file:{quote(str(path))}?mode=ro{immutable}"
    return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(target, uri=True))


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _empty_versions() -> pd.DataFrame:
    return pd.DataFrame({"series": pd.Series(dtype=str), "period": pd.Series(dtype=str),
                         "vintage": pd.Series(dtype=np.int64), "value": pd.Series(dtype=float)})
