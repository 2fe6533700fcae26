"""Fixtures of the receiver tests: the fake Slack Web API server over loopback, and a store
file holding the real Russia-China series (built once per module, copied per test)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.store import Store
from tests.fakes.payloads import demo_store
from tests.fakes.slack_server import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tw.db"
    demo_store(path).close()
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[Store]:
    """A copy of the template store, for one test."""
    shutil.copy(template, tmp_path / "tw.db")
    opened = Store(f"sqlite:///{tmp_path / 'tw.db'}")
    yield opened
    opened.close()
