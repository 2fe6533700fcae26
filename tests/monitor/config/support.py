"""What the config tests share: the demo config, a minimal source, files written to a temp
directory and the problems a load reports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor.config import ConfigError, FileSource, load_config

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "config" / "tradewatch.yaml"

SOURCE = """
sources:
  - name: a
    kind: file
    path: a.csv
    value_column: v
"""


def write(tmp_path: Path, text: str, name: str = "tradewatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={} if env is None else env)
    return [str(p) for p in caught.value.problems]


def source(**fields: object) -> FileSource:
    return FileSource.model_validate(
        {"kind": "file", "name": "a", "path": "a.csv", "value_column": "v", **fields}
    )
