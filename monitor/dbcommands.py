"""`tradewatch db current|upgrade`: the store's schema revision shown, and brought up to the
newest this tradewatch knows, without starting the daemon (which upgrades when it opens the
store too, so these are for looking before, and for upgrading as a deployment step)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built for every command: it imports nothing heavy
    from monitor.config import LoadedConfig

EXIT_OK, EXIT_REFUSED = 0, 2
EXAMPLE = """examples:
  tradewatch db current --config config/tradewatch.yaml
  tradewatch db upgrade --config config/tradewatch.yaml"""


def add_parser(commands: Any, config_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `db current` and `db upgrade`; `config_options` adds --config."""
    raw = argparse.RawDescriptionHelpFormatter
    db = commands.add_parser("db", help="the store's schema revision", epilog=EXAMPLE, formatter_class=raw)
    actions = db.add_subparsers(dest="db_command", required=True)
    config_options(actions.add_parser("current", help="print the store's schema revision", epilog=EXAMPLE,
                                      formatter_class=raw))
    config_options(actions.add_parser("upgrade", help="upgrade the store's schema to the newest revision",
                                      epilog=EXAMPLE, formatter_class=raw))


def run(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    if args.db_command == "current":
        return _current(loaded.store_url)
    return _upgrade(loaded.store_url)


def _current(url: str) -> int:
    import sqlalchemy as sa

    from monitor.store import versions

    engine = sa.create_engine(url)
    if engine.url.get_backend_name() == "sqlite" and not _exists(engine.url.database):
        print(f"tradewatch: no store at {engine.url.database}", file=sys.stderr)
        return EXIT_REFUSED
    newest = versions.head()
    try:
        with engine.connect() as conn:
            revision = versions.current(conn)
            has_tables = sa.inspect(conn).has_table("series")
    finally:
        engine.dispose()
    if revision is None:
        state = "before revisions: stamped when it next opens" if has_tables else "empty"
        print(f"none ({state}; newest known {newest})")
        return EXIT_OK
    try:
        versions.check_known(revision, url)
    except versions.SchemaTooNew as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{revision}" + (" (newest)" if revision == newest else f" (newest known {newest})"))
    return EXIT_OK


def _upgrade(url: str) -> int:
    from monitor.store import versions
    from monitor.store.database import Database

    try:
        database = Database(url)
    except versions.StoreRefused as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    before, after = database.schema_revisions
    database.close()
    if before == after:
        print(f"{after}: already the newest")
    else:
        print(f"upgraded {before or 'a store from before revisions'} to {after}")
    return EXIT_OK


def _exists(path: str | None) -> bool:
    from pathlib import Path

    return bool(path) and path != ":memory:" and Path(str(path)).exists()
