"""`tradewatch silence add|query|expire` as amtool handles silences: the author defaults to
$USER, a query takes matchers, `--expired` lists only expired silences, `-q` only IDs."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main

CONFIG = """
store: {path: tw.db}
sources: [{name: a, kind: file, path: a.csv, value_column: v}]
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_silences_as_amtool_handles_them(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "ana")
    config = tmp_path / "tw.yaml"
    config.write_text(CONFIG)
    c = ["--config", str(config)]
    code, desk = run(capsys, "silence", "add", *c, "-m", "team=desk", "-m", 'partner=~"R.*"', "-c", "known")
    assert code == 0
    code, ops = run(capsys, "silence", "add", *c, "-m", "team=ops", "-c", "drill")
    assert code == 0
    code, listed = run(capsys, "silence", "query", *c, "team=desk")
    assert code == 0 and desk.strip() in listed and ops.strip() not in listed and "by ana: known" in listed
    assert run(capsys, "silence", "query", *c, "-q") == (0, f"{desk.strip()}\n{ops.strip()}\n")
    assert run(capsys, "silence", "expire", *c, ops.strip())[0] == 0
    assert run(capsys, "silence", "query", *c, "-q") == (0, f"{desk.strip()}\n")
    assert run(capsys, "silence", "query", *c, "-q", "--expired") == (0, f"{ops.strip()}\n")
    assert run(capsys, "silence", "list", *c, "-q", "--all") == (0, f"{desk.strip()}\n{ops.strip()}\n")
