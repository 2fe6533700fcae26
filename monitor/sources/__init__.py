"""Source kinds: each module turns one kind of publisher into the long frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.config import LoadedConfig, SourceConfig
from monitor.sources.base import Source

SourceFactory = Callable[[Any, LoadedConfig], Source]


def _file(config: Any, loaded: LoadedConfig) -> Source:
    from monitor.sources.file import FileSource

    return FileSource(config, loaded.resolve(config.path), secrets=loaded.secrets)


def _comtrade(config: Any, loaded: LoadedConfig) -> Source:
    from monitor.sources.comtrade import ComtradeSource

    return ComtradeSource(config, secrets=loaded.secrets)


def _sdmx(config: Any, loaded: LoadedConfig) -> Source:
    from monitor.sources.sdmx import SdmxSource

    return SdmxSource(config, secrets=loaded.secrets)


def _http_json(config: Any, loaded: LoadedConfig) -> Source:
    from monitor.sources.http_json import HttpJsonSource

    return HttpJsonSource(config, secrets=loaded.secrets)


# kind -> factory; explicit, so adding a kind is one line here and one model in config/sources.py.
# Each factory imports its module when used, so a config without SDMX never loads sdmx1.
SOURCE_KINDS: dict[str, SourceFactory] = {
    "file": _file,
    "comtrade": _comtrade,
    "sdmx": _sdmx,
    "http_json": _http_json,
}


def build_source(config: SourceConfig, loaded: LoadedConfig, previous: Source | None = None) -> Source:
    """A source for `config`; the previous instance is kept when its config is unchanged, so
    its state (a replay position, the periods already read) survives a reload."""
    if previous is not None and getattr(previous, "config", None) == config and getattr(
            previous, "location", None) == _location(config, loaded):
        return previous
    return SOURCE_KINDS[config.kind](config, loaded)


def _location(config: SourceConfig, loaded: LoadedConfig) -> str | None:
    path = getattr(config, "path", None)
    return loaded.resolve(path) if isinstance(path, str) else None
