"""What the tables themselves guarantee."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from monitor.store import Store
from monitor.store.schema import outbox
from tests.monitor.store.support import V1


def test_an_outbox_row_is_unique_per_alert_episode_and_status(store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    row = {"fingerprint": "f", "episode": 1, "status": "firing", "payload": "{}", "created_at": V1}
    with store.engine.begin() as conn:
        conn.execute(outbox.insert().values(**row))
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(outbox.insert().values(**row))
    store.close()
