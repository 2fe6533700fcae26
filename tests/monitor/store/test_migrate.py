"""A database in the earlier row-per-value layout is converted when the store opens."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from monitor.store import Store
from tests.monitor.store.support import V2, frame


def test_the_earlier_row_per_value_layout_is_converted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE series (id VARCHAR PRIMARY KEY, frequency VARCHAR(1) NOT NULL, "
                             "labels TEXT NOT NULL, first_seen DATETIME NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE observations (series VARCHAR, period VARCHAR, vintage DATETIME, "
                             "value FLOAT NOT NULL, PRIMARY KEY (series, period, vintage))")
        conn.exec_driver_sql("CREATE TABLE current (series VARCHAR, period VARCHAR, value FLOAT NOT NULL, "
                             "vintage DATETIME NOT NULL, PRIMARY KEY (series, period))")
        conn.exec_driver_sql("INSERT INTO series VALUES ('a', 'M', '{\"source\": \"test\"}', "
                             "'2026-03-01 06:00:00.000000')")
        for period, vintage, value in (("2015-01", "2026-03-01 06:00:00.000000", 1.0),
                                       ("2015-02", "2026-03-01 06:00:00.000000", 2.0),
                                       ("2015-02", "2026-03-31 06:00:00.000000", 2.5)):
            conn.exec_driver_sql("INSERT INTO observations VALUES ('a', ?, ?, ?)", (period, vintage, value))
    engine.dispose()
    store = Store(url)
    assert store.vintages("a")[["period", "value"]].values.tolist() == [["2015-01", 1.0], ["2015-02", 2.0],
                                                                        ["2015-02", 2.5]]
    assert store.panel(["a"], "M")["a"].tolist() == [1.0, 2.5]
    assert store.series_history("a").attrs["vintage"] == V2
    assert not sa.inspect(store.engine).has_table("current")
    assert sa.inspect(store.engine).has_table("alembic_version")  # stamped after the conversion
    assert store.ingest(frame([("a", "2015-02", 2.5)]), V2, "M").changed == frozenset()
    store.close()
