"""Schema revisions: a new store is at the newest, a store from before revisions is stamped
in place with its data, an older layout still converts, a newer schema is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from monitor.store import Store, versions
from monitor.store.codec import pack
from monitor.store.schema import metadata, observations, series_table
from tests.monitor.store.support import V1, V2, frame


def revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = versions.current(conn)
    engine.dispose()
    return found


def test_a_new_store_is_at_the_newest_revision(store_url: Callable[..., str]) -> None:
    Store(store_url()).close()
    assert revision(store_url()) == versions.head() == "0004"


def test_a_store_at_the_first_revision_gains_the_lease_table(store_url: Callable[..., str]) -> None:
    """A store written by the release before replicas: every table but the lease and the alert
    drivers, at 0002."""
    engine = sa.create_engine(store_url())
    later = ("lease", "alert_drivers")
    metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t.name not in later])
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('0002')"))
        assert not sa.inspect(conn).has_table("lease")
    engine.dispose()
    Store(store_url()).close()
    assert revision(store_url()) == "0004"
    engine = sa.create_engine(store_url())
    with engine.connect() as conn:
        assert sa.inspect(conn).has_table("lease")
    engine.dispose()


def test_a_store_written_before_revisions_is_stamped_and_keeps_its_data(
    store_url: Callable[..., str],
) -> None:
    """The tables as the store created them before it had a version table (`create_all`),
    holding a series with two fetches."""
    engine = sa.create_engine(store_url())
    metadata.create_all(engine)
    january = pd.Period("2015-01", "M").ordinal
    with engine.begin() as conn:
        conn.execute(series_table.insert().values(id="a", frequency="M", labels='{"source": "test"}',
                                                  first_seen=V1))
        for vintage, values in ((V1, [1.0, 2.0]), (V2, [2.5])):
            first, cells, ordinals, packed = pack(np.arange(january, january + len(values)), np.array(values))
            conn.execute(observations.insert().values(series="a", vintage=vintage, first_period=first,
                                                      cells=cells, period_ordinals=ordinals,
                                                      period_values=packed))
    engine.dispose()
    assert revision(store_url()) is None
    store = Store(store_url())
    assert revision(store_url()) == versions.head()
    assert store.panel(["a"], "M")["a"].tolist() == [2.5, 2.0]
    assert store.vintages("a")["value"].tolist() == [1.0, 2.5, 2.0]
    assert store.ingest(frame([("a", "2015-02", 2.0), ("a", "2015-03", 3.0)]), V2, "M").new_observations == 1
    store.close()
    reopened = Store(store_url())  # stamped once: opening again changes nothing
    assert reopened.panel(["a"], "M")["a"].tolist() == [2.5, 2.0, 3.0]
    reopened.close()


def test_a_schema_newer_than_this_tradewatch_is_refused(store_url: Callable[..., str]) -> None:
    Store(store_url()).close()
    engine = sa.create_engine(store_url())
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(versions.SchemaTooNew, match="schema revision 9999, newer than this tradewatch knows"):
        Store(store_url())
    assert revision(store_url()) == "9999"  # left as it was


def test_a_store_at_revision_0001_gains_the_interaction_tables(store_url: Callable[..., str]) -> None:
    """Acknowledgements and seen requests (0002), the lease (0003) and the alert drivers (0004)
    are added to a store at 0001, its rows kept."""
    store = Store(store_url())
    store.ingest(frame([("a", "2015-01", 1.0)]), V1, "M")
    store.close()
    engine = sa.create_engine(store_url())
    with engine.begin() as conn:
        for name in ("acknowledgements", "seen_requests", "lease", "alert_drivers"):
            conn.execute(sa.text(f"DROP TABLE {name}"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    reopened = Store(store_url())
    assert reopened._database.schema_revisions == ("0001", "0004")  # (before, after)
    assert reopened.claim_request("r1", V1) and not reopened.claim_request("r1", V1)
    assert reopened.panel(["a"], "M")["a"].tolist() == [1.0]
    reopened.close()


def test_a_store_at_revision_0003_gains_the_alert_drivers_table(store_url: Callable[..., str]) -> None:
    """What an alert said along its hierarchy (0004) is kept from then on; alerts stored before
    have none and keep their rows."""
    from datetime import UTC, datetime
    from types import MappingProxyType

    from detectors.contributions import Contributor, Drivers
    from monitor.alerts.lifecycle import Alert, Status
    from monitor.alerts.persist import AlertRows, load_alerts

    now = datetime(2025, 1, 1, tzinfo=UTC)
    plain = Alert(fingerprint="f1", rule="r", series="a", labels=MappingProxyType({"reporter": "EU27"}),
                  severity="info", status=Status.FIRING, episode=1, period="2015-01", since_period="2015-01",
                  value=1.0, reference=2.0, summary="s", active_at=now, fired_at=now, resolved_at=None,
                  updated_at=now)
    store = Store(store_url())
    AlertRows(store).commit([plain], [], [], now)
    store.close()
    engine = sa.create_engine(store_url())
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alert_drivers"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0003'"))
    engine.dispose()
    reopened = Store(store_url())
    assert reopened._database.schema_revisions == ("0003", "0004")
    assert load_alerts(reopened)["f1"].drivers is None
    drivers = Drivers("reporter", "2015-01", "2014-01", -3.0,
                      (Contributor("b", {"reporter": "DEU"}, -3.0, -50.0, 100.0),), 0, 0.0)
    rows = AlertRows(reopened)
    rows.load()
    rows.commit([replace(plain, drivers=drivers, parent=None)], [], [], now)
    assert load_alerts(reopened)["f1"].drivers == drivers
    rows.commit([replace(plain, drivers=None)], [], [], now)  # no longer along a hierarchy: row gone
    assert load_alerts(reopened)["f1"].drivers is None
    reopened.close()
