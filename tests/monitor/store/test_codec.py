"""The vintage history as packed rows: one row per series and fetch."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from monitor.store import Store
from monitor.store.schema import observations
from tests.monitor.store.support import V1, frame


def test_one_row_per_series_and_fetch_holds_its_values(store_url: Callable[..., str]) -> None:
    store = Store(store_url())
    store.ingest(frame([("a", "2015-01", 1.0), ("a", "2015-02", 2.0), ("a", "2015-03", 3.0),
                        ("b", "2015-01", 5.0), ("b", "2015-03", 7.0)]), V1, "M")
    with store.engine.connect() as conn:
        c = observations.c
        rows = conn.execute(sa.select(c.series, c.first_period, c.cells, c.period_ordinals, c.period_values)
                            .order_by(c.id)).all()
    january = pd.Period("2015-01", "M").ordinal
    assert [(r[0], r[1], r[2]) for r in rows] == [("a", january, 3), ("b", january, 2)]
    assert rows[0][3] is None  # consecutive periods need no list of them
    assert np.frombuffer(rows[1][3], "<i4").tolist() == [january, january + 2]
    assert np.frombuffer(rows[0][4], "<f8").tolist() == [1.0, 2.0, 3.0]
    assert store.vintages("b")[["period", "value"]].to_dict("list") == {
        "period": ["2015-01", "2015-03"], "value": [5.0, 7.0]}
    store.close()
