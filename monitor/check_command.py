"""`tradewatch check`: the config is valid, and what `once` or `run` would still trip over
is said now: a receiver's token missing from the environment, a data file that is not there.
Those are warnings (exit 0) unless `--strict` makes them errors (exit 2)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import LoadedConfig
    from monitor.config.web import WebConfig

EXIT_OK, EXIT_BAD_CONFIG = 0, 2
_REMOTE = ("http://", "https://", "demo://")


def warnings(loaded: LoadedConfig, env: Mapping[str, str]) -> list[str]:
    """What the config needs from outside itself that is missing, one sentence each."""
    found = []
    for receiver in loaded.config.notify.receivers:
        if receiver.slack is not None and not env.get("SLACK_BOT_TOKEN"):
            found.append(f"receiver {receiver.name!r} posts to Slack but SLACK_BOT_TOKEN is not set: "
                         "once and run would stop with exit 2")
    for source in loaded.config.sources:
        location = getattr(source, "path", None)
        if source.kind != "file" or not isinstance(location, str) or location.startswith(_REMOTE):
            continue
        path = Path(loaded.resolve(location.removeprefix("file://")))
        if not path.exists():
            found.append(f"source {source.name!r} reads {path}, which does not exist: "
                         "its polls would fail")
    return found


def _web_summary(web: WebConfig) -> str:
    users = len(web.file.basic_auth_users)
    tls = web.file.tls_server_config
    parts = [f"TLS {tls.min_version.value}+" if web.tls else "no TLS",
             f"{users} basic-auth user{'s' * (users != 1)}" if users else "no basic auth"]
    if tls.client_auth_type is not None:
        parts.append(f"client certificates: {tls.client_auth_type.value}")
    return ", ".join(parts)


def run_check(loaded: LoadedConfig, shown_path: str, strict: bool, env: Mapping[str, str],
              mask: Callable[[str], str], web: WebConfig | None = None) -> int:
    """Print `PATH: ok (...)` and any warnings; 2 when `strict` and there are warnings."""
    config = loaded.config
    found = warnings(loaded, env)
    for text in found:
        print(mask(f"{shown_path}: {'error' if strict else 'warning'}: {text}"), file=sys.stderr)
    if strict and found:
        return EXIT_BAD_CONFIG
    print(mask(f"{shown_path}: ok ({len(config.sources)} sources, {len(config.rules)} rules, "
               f"{len(config.notify.receivers)} receivers)"
               + (f", {len(found)} warning{'s' * (len(found) > 1)}" if found else "")))
    if web is not None:
        print(f"{web.path}: ok (web config: {_web_summary(web)})")
    return EXIT_OK
