"""tradewatch: a daemon that watches trade statistics and alerts when a series breaks pattern."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`__version__` is read from the installed metadata on first use, not at import: the
    lookup costs more than the rest of `tradewatch --help`."""
    if name != "__version__":
        raise AttributeError(f"module 'monitor' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tradewatch")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
