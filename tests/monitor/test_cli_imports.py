"""`tradewatch --help`, every command's --help and `check` stay instant: they import none of
the heavy libraries (the check is what is imported, never how long it takes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "scipy", "ruptures", "sqlalchemy", "numba", "matplotlib")
SCRIPT = """
import json, sys, contextlib, io
import monitor.cli
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        monitor.cli.main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""
COMMANDS = ["run", "once", "check", "alerts", "backtest", "detect", "silence", "routes", "inhibit",
            "config"]


def _imported(*argv: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SCRIPT, *argv], capture_output=True, text=True,
                         check=True, env=env, cwd=ROOT).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], *[[c, "--help"] for c in COMMANDS],
                                  ["check", "--config", "config/tradewatch.yaml"],
                                  ["check", "--config", "config/examples/china-russia-machine-tools.yaml"]],
                         ids=" ".join)
def test_no_heavy_import(argv: list[str]) -> None:
    assert _imported(*argv) & set(HEAVY) == set()


def test_every_command_help_has_an_example() -> None:
    from monitor.cli_parser import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, sub in commands.choices.items():  # type: ignore[attr-defined]
        assert "example" in (sub.epilog or ""), name
