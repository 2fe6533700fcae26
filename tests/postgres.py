"""A throwaway PostgreSQL server for the tests: started once per session on a free loopback
port, a fresh database per test, stopped at the end.

PostgreSQL refuses to run as root, so as root the server runs as `nobody` on a temporary
directory that user owns. Without the server binaries a test skips on a laptop and fails in
CI (`CI=true`), where they must be installed.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVER_USER = "nobody"


def server_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server and the databases created on it."""

    bindir: Path
    home: Path
    port: int
    version: str = ""
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _run(self, *argv: str) -> str:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *argv], cwd=self.home, capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode != 0:
            log = self.home / "server.log"
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr or done.stdout}"
                               + (log.read_text() if log.exists() else ""))
        return done.stdout

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.home, SERVER_USER)
        data = self.home / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--no-locale")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.home} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.home / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        self.version = self._run(str(self.bindir / "postgres"), "--version").strip()

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.home / "data"), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"tw{next(self._numbers)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def require_postgres() -> Path:
    bindir = server_binaries()
    if bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are required in CI but not installed")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    return bindir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the session (skips without the binaries, fails in CI)."""
    bindir = require_postgres()
    home = Path(tempfile.mkdtemp(prefix="tradewatch-pg-"))
    home.chmod(0o700)
    server = PostgresServer(bindir, home, _free_port())
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(RuntimeError):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_database(postgres_server: PostgresServer) -> Callable[[], str]:
    """A factory of fresh databases on the session's server (their URLs)."""
    return postgres_server.create_database
