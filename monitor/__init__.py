"""tradewatch: a daemon that watches trade statistics and alerts when a series breaks pattern."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tradewatch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
