"""`tradewatch db current|upgrade`, and the daemon refusing a schema newer than it knows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.cli import main
from monitor.store import Store, versions
from monitor.store.schema import metadata

CONFIG = """
store: {url: URL}
sources: [{name: a, kind: file, path: a.csv, value_column: v}]
"""


@pytest.fixture
def config(write_config: Callable[..., Path], store_url: Callable[..., str]) -> str:
    return str(write_config(CONFIG.replace("URL", store_url())))


def test_current_and_upgrade_of_a_store_from_before_revisions(
    config: str, store_url: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    engine = sa.create_engine(store_url())
    metadata.create_all(engine)  # the tables, without a version table
    engine.dispose()
    assert main(["db", "current", "--config", config]) == 0
    assert capsys.readouterr().out.startswith("none (before revisions")
    assert main(["db", "upgrade", "--config", config]) == 0
    assert capsys.readouterr().out == f"upgraded a store from before revisions to {versions.head()}\n"
    assert main(["db", "current", "--config", config]) == 0
    assert capsys.readouterr().out == f"{versions.head()} (newest)\n"
    assert main(["db", "upgrade", "--config", config]) == 0
    assert capsys.readouterr().out == f"{versions.head()}: already the newest\n"


@pytest.mark.parametrize("command", ["run", "once", "db current", "db upgrade"])
def test_a_schema_newer_than_this_tradewatch_stops_with_exit_2(
    config: str, store_url: Callable[..., str], capsys: pytest.CaptureFixture[str], command: str
) -> None:
    Store(store_url()).close()
    engine = sa.create_engine(store_url())
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert main([*command.split(), "--config", config]) == 2
    err = capsys.readouterr().err
    assert "has schema revision 9999, newer than this tradewatch knows (its newest is 0003)" in err
    assert "invalid config" not in err
