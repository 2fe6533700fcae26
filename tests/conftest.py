"""Shared test helpers: small real CSV files and configs written to a temp directory."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.postgres import postgres_database, postgres_server  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[1]
DEMO_CSV = REPO / "monitor" / "demo" / "russia_china_monthly_2006_2021_russian_fcs.csv"


def require_binary(name: str) -> str:
    """Path of an executable; skip without it on a laptop, fail in CI where it must exist."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{name} is required in CI but not installed")
        pytest.skip(f"{name} not installed")
    return path


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., str]:
    """A factory of store URLs, run once on SQLite and once on PostgreSQL: one URL per name,
    the same name giving the same database (a store reopened), each name a fresh database."""
    urls: dict[str, str] = {}

    def url(name: str = "tw") -> str:
        if name not in urls:
            if request.param == "sqlite":
                (tmp_path / "state").mkdir(exist_ok=True)
                urls[name] = f"sqlite:///{tmp_path / 'state' / name}.db"
            else:
                urls[name] = request.getfixturevalue("postgres_database")()
        return urls[name]

    return url


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a YAML config (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "tradewatch.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def russia_china_csv(tmp_path: Path) -> Path:
    """A private copy of the real Russia-China file that a test may truncate or extend."""
    target = tmp_path / "russia_china.csv"
    shutil.copy(DEMO_CSV, target)
    return target


# Rosstat's Russia-China file (`russia_china_csv`) as the first item under `sources:`, both
# flows or imports only; a test adds its own keys (schedule, replay, release) and sources after it.
_ROSSTAT = """  - name: rosstat
    kind: file
    path: russia_china.csv
    labels: {reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}
"""
ROSSTAT_BOTH_FLOWS = _ROSSTAT + """    columns:
      ru_exports_to_cn_musd: {flow: export}
      ru_imports_from_cn_musd: {flow: import}
"""
ROSSTAT_IMPORTS = _ROSSTAT + """    columns: {ru_imports_from_cn_musd: {flow: import}}
"""

# A daemon on a random loopback port polling Russia's imports from China (russia_china.csv)
# hourly: the head of the configs that tests of the HTTP listener complete with their rules.
IMPORTS_DAEMON = """
store: {path: state.db}
http: {listen: "127.0.0.1:0"}
sources:
""" + ROSSTAT_IMPORTS + """    schedule: {every: 1h}
"""


def truncate_csv(path: Path, last_period: str, source: Path | None = None) -> None:
    """Keep the header and the rows (of `source`, else of `path` itself) up to and including
    `last_period` (YYYY-MM). Written to a temporary file and renamed over `path`, so a daemon
    polling meanwhile reads the old file or the new one, never half of one."""
    lines = (source or path).read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] <= last_period]
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(kept) + "\n")
    os.replace(partial, path)
