"""How the commands fail: an expected failure is one line and an exit code; an unexpected
one is one line plus a file holding its trace, so nobody reads a traceback by accident.

Also where the store lives on disk, so a command can say "cannot create /x" or "no store
at /x" instead of the database driver's words."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import quote

EXIT_RUNTIME, EXIT_USAGE = 1, 2


class UserError(Exception):
    """A failure the user can fix: its message is the whole story; `code` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_RUNTIME) -> None:
        super().__init__(message)
        self.code = code


def report_unexpected(exc: BaseException, debug: bool) -> int:
    """One line naming the error and the file with its trace (or the trace, with --debug)."""
    trace = "".join(traceback.format_exception(exc))
    text = " ".join(str(exc).split())[:200]
    head = f"tradewatch: unexpected error: {type(exc).__name__}" + (f": {text}" if text else "")
    if debug:
        print(trace, end="", file=sys.stderr)
        print(head, file=sys.stderr)
        return EXIT_RUNTIME
    try:
        fd, name = tempfile.mkstemp(prefix=f"tradewatch-trace-{time.strftime('%Y%m%dT%H%M%S')}-",
                                    suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(trace)
        where = f"full trace in {name}"
    except OSError:
        where = "no trace file could be written"
    print(f"{head} ({where}; --debug prints it)", file=sys.stderr)
    return EXIT_RUNTIME


def sqlite_path(store_url: str) -> Path | None:
    """The file of a SQLite store URL; None for in-memory and other databases."""
    prefix = "sqlite:///"
    if not store_url.startswith(prefix):
        return None
    path = store_url[len(prefix):].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def ensure_store_dir(store_url: str) -> None:
    """The daemon creates its store: say so clearly when its directory cannot be made."""
    path = sqlite_path(store_url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the store directory {path.parent}: "
                        f"{exc.strerror or exc}") from None
    if not path.exists() and not os.access(path.parent, os.W_OK):
        raise UserError(f"cannot create the store {path}: {path.parent} is not writable")


def existing_store_url(store_url: str) -> str:
    """A read-only URL of a store that must already exist: commands that only read never
    create one where the daemon has never run."""
    path = sqlite_path(store_url)
    if path is None:
        return store_url
    if not path.is_file():
        raise UserError(f"no store at {path}: run the daemon first (tradewatch run), "
                        "or check store.path in the config")
    return f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true"
