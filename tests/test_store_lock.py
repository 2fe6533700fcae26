"""One daemon per SQLite file: a second `run` or a `once` on a store a running daemon holds
stops with exit 2 naming the file and the daemon; reading commands still work; the lock goes
with the daemon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.store.lockfile import StoreInUse, lock_store
from tests.test_daemon import SOURCE, Daemon, daemons  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def tradewatch(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *argv], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False)


def test_a_second_daemon_on_one_sqlite_file_is_refused(
    write_config: Callable[[str], Path], russia_china_csv: Path, daemons: list[Daemon]  # noqa: F811
) -> None:
    config = write_config(SOURCE.format(extra=""))
    database = config.parent / "state" / "tradewatch.db"
    first = Daemon(config)
    daemons.append(first)
    first.wait_ready()
    for command in ("run", "once"):
        second = tradewatch(command, "--config", str(config), "--listen", "127.0.0.1:0") if command == "run" \
            else tradewatch(command, "--config", str(config))
        assert second.returncode == 2, second.stderr
        assert second.stderr == (
            f"tradewatch: the store {database} is in use by another tradewatch (pid {first.process.pid}, "
            "tradewatch run); stop it first, or give this one another store.path\n")
    listing = tradewatch("alerts", "--config", str(config))
    assert listing.returncode == 0, listing.stderr
    code, stderr = first.stop(signal.SIGTERM)
    assert code == 0, stderr
    after = tradewatch("once", "--config", str(config))
    assert after.returncode == 0, after.stderr


def test_the_lock_is_the_process_s_own_and_a_postgresql_store_has_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    held = lock_store(url, "once")
    assert held is not None
    with pytest.raises(StoreInUse, match=f"pid {os.getpid()}, tradewatch once"):
        lock_store(url, "run")
    held.release()
    again = lock_store(url, "run")
    assert again is not None
    again.release()
    assert lock_store("postgresql+psycopg://user@127.0.0.1:1/db", "run") is None
