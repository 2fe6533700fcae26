"""Every command output shown in README.md and docs/*.md is produced here, from the demo data,
so the documentation says what the program prints today.

An output block is a fenced block right after an HTML comment naming the command:

    <!-- output: tradewatch backtest --config config/tradewatch.yaml --data fetch -->
    ```
    $ tradewatch backtest --config config/tradewatch.yaml --data fetch
    tradewatch backtest
    ...
    ```

A first line `$ COMMAND` shows the command to the reader and must repeat the comment's; a
last line `...` shows only the first lines of the output. `tradewatch run` is the daemon: the
test runs it (its replay sped up to one period a second), reads its notifications until it has
printed as many lines as the block shows, stops it, and checks that the block's lines are those
first lines, in the order each series printed them (two sources interleave as they are polled).

`UPDATE_README=1 pytest tests/test_readme_outputs.py` rewrites the blocks from the outputs.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!-- output: (?P<command>.+?) -->\n(?P<fence>```[a-z]*)\n(?P<body>.*?)^```$",
                    re.MULTILINE | re.DOTALL)
FENCE = re.compile(r"^ *```[a-z]*\n(?P<body>.*?)^ *```$", re.MULTILINE | re.DOTALL)
UPDATE = os.environ.get("UPDATE_README") == "1"
ELLIPSIS = "..."
DAEMON_PORT = re.compile(r"(http://127\.0\.0\.1:)\d+(/metrics)")


@dataclass(frozen=True)
class Block:
    document: Path
    command: str
    body: str
    line: int

    @property
    def id(self) -> str:
        return f"{self.document.name}:{self.line}"

    @property
    def lines(self) -> list[str]:
        lines = self.body.rstrip("\n").split("\n")
        if lines and lines[0].startswith("$ "):
            assert lines[0] == f"$ {self.command}", f"{self.id}: the $ line differs from the comment"
            lines = lines[1:]
        return lines

    @property
    def shows_command(self) -> bool:
        return self.body.startswith("$ ")


def blocks() -> list[Block]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text("utf-8")
        for match in MARKER.finditer(text):
            found.append(Block(document, match["command"], match["body"],
                               text.count("\n", 0, match.start()) + 1))
    return found


def run_command(command: str) -> list[str]:
    argv = shlex.split(command)
    assert argv[0] == "tradewatch", command
    done = subprocess.run([sys.executable, "-m", "monitor", *argv[1:]], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stderr}"
    return [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")]


def run_daemon(command: str, wanted: int, tmp_path: Path) -> list[str]:
    """The daemon's first `wanted` lines of stdout, on a copy of its config with a faster replay
    and a free port (shown as the config's), its store in tmp_path."""
    argv = shlex.split(command)
    config = REPO / argv[argv.index("--config") + 1]
    copy = tmp_path / "config" / config.name
    copy.parent.mkdir()
    copy.write_text(re.sub(r"(replay: \{start: [^,]+, every: )\d+s\}", r"\g<1>1s}", config.read_text()))
    argv[argv.index("--config") + 1] = str(copy)
    process = subprocess.Popen([sys.executable, "-m", "monitor", *argv[1:], "--listen", "127.0.0.1:0"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    deadline = time.monotonic() + 300  # a hang bound on a loaded machine, not a speed target
    try:
        assert process.stdout is not None
        while len(lines) < wanted and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    listen = re.search(r"listen: (\S+)", config.read_text())
    port = listen.group(1).rsplit(":", 1)[1] if listen else "9470"
    return [DAEMON_PORT.sub(rf"\g<1>{port}\g<2>", line) for line in lines]


def series_of(line: str) -> str:
    """Whose trade a notification line tells of ("Russia's imports from China: ... · critical
    · ..."; "Resolved · " first for a resolution), else the line."""
    if " · " not in line:
        return line
    return line.removeprefix("Resolved · ").split(":")[0]


def check_daemon(block: Block, shown: list[str], output: list[str]) -> None:
    differ = f"{block.id}: the daemon's first lines differ:\n" + "\n".join(output)
    assert sorted(shown) == sorted(output), differ
    for series in {series_of(line) for line in shown}:
        assert [x for x in shown if series_of(x) == series] == [x for x in output if series_of(x) == series]


def rewrite(block: Block, output: list[str]) -> None:
    """Replace the block's body (found again by its command: the file may have moved)."""
    head = [f"$ {block.command}"] if block.shows_command else []
    body = "\n".join([*head, *output]) + "\n"
    text = block.document.read_text("utf-8")
    [match] = [m for m in MARKER.finditer(text) if m["command"] == block.command]
    block.document.write_text(text[: match.start("body")] + body + text[match.end("body"):], "utf-8")


BLOCKS = blocks()


def test_the_readme_marks_its_output_blocks() -> None:
    commands = [b.command for b in BLOCKS]
    assert len(set(commands)) == len(commands), "one block per command"
    assert any(c.startswith("tradewatch run") for c in commands), commands
    assert sum(c.startswith("tradewatch backtest") for c in commands) >= 2, commands
    for document in DOCUMENTS:  # a block that shows a command being run must be checked here
        text = document.read_text("utf-8")
        marked = {m.start("body") for m in MARKER.finditer(text)}
        for match in FENCE.finditer(text):
            if match["body"].lstrip().startswith("$ tradewatch") and match.start("body") not in marked:
                pytest.fail(f"{document.name}: a block shows `tradewatch` output without an "
                            "<!-- output: ... --> comment, so no test keeps it true")


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_an_output_block_is_what_the_command_prints(block: Block, tmp_path: Path) -> None:
    shown = block.lines
    partial = bool(shown) and shown[-1] == ELLIPSIS
    if partial:
        shown = shown[:-1]
    if block.command.startswith("tradewatch run"):
        output = run_daemon(block.command, len(shown), tmp_path)
    else:
        output = run_command(block.command)
        if partial:
            output = output[: len(shown)]
    if UPDATE:
        rewrite(block, output + ([ELLIPSIS] if partial else []))
        return
    if block.command.startswith("tradewatch run"):
        check_daemon(block, shown, output)
    else:
        assert shown == output, f"{block.id}: `{block.command}` prints:\n" + "\n".join(output)
