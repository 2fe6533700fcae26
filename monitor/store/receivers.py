"""What a receiver keeps per alert episode across restarts (Slack: the channel and ts of the
episode's parent message, and how far a send got), so that updates thread under the parent
and a half-done send resumes instead of posting a second one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from monitor.store.database import Database
from monitor.store.schema import receiver_state


@dataclass(frozen=True, slots=True)
class ReceiverState:
    """Where a receiver put an alert episode's message (Slack: channel and parent ts), so that
    updates thread under it after a restart; `progress` lets a half-done send resume."""

    receiver: str
    fingerprint: str
    episode: int
    channel: str
    ts: str
    progress: str
    parent: Mapping[str, Any]


def load(database: Database, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None:
    with database.read() as conn:
        row = conn.execute(sa.select(receiver_state).where(
            receiver_state.c.receiver == receiver, receiver_state.c.fingerprint == fingerprint,
            receiver_state.c.episode == episode)).mappings().first()
    if row is None:
        return None
    return ReceiverState(row["receiver"], row["fingerprint"], row["episode"], row["channel"],
                         row["ts"], row["progress"], json.loads(row["parent"]))


def save(database: Database, states: Sequence[ReceiverState]) -> None:
    """Upsert in one transaction (a digest records hundreds at once)."""
    with database.write() as conn:
        for state in states:
            key = (receiver_state.c.receiver == state.receiver,
                   receiver_state.c.fingerprint == state.fingerprint,
                   receiver_state.c.episode == state.episode)
            values = {"channel": state.channel, "ts": state.ts, "progress": state.progress,
                      "parent": json.dumps(dict(state.parent), sort_keys=True, default=str)}
            if conn.execute(receiver_state.update().where(*key).values(**values)).rowcount == 0:
                conn.execute(receiver_state.insert().values(
                    receiver=state.receiver, fingerprint=state.fingerprint, episode=state.episode,
                    **values))
