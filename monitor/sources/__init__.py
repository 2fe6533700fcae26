"""Source kinds: each module turns one kind of publisher into the long frame."""

from __future__ import annotations

from collections.abc import Callable

from monitor.config import LoadedConfig, SourceConfig
from monitor.sources.base import Source
from monitor.sources.file import FileSource

SourceFactory = Callable[[SourceConfig, LoadedConfig], Source]

# kind -> factory; explicit, so adding a kind is one line here and one model in config.py.
SOURCE_KINDS: dict[str, SourceFactory] = {
    "file": lambda config, loaded: FileSource(config, loaded.resolve(config.path)),
}


def build_source(config: SourceConfig, loaded: LoadedConfig, previous: Source | None = None) -> Source:
    """A source for `config`; the previous instance is kept when its config is unchanged, so
    its state (a replay position, a cached token) survives a reload."""
    if previous is not None and getattr(previous, "config", None) == config and getattr(
            previous, "location", None) == _location(config, loaded):
        return previous
    return SOURCE_KINDS[config.kind](config, loaded)


def _location(config: SourceConfig, loaded: LoadedConfig) -> str | None:
    path = getattr(config, "path", None)
    return loaded.resolve(path) if isinstance(path, str) else None
