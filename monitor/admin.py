"""`tradewatch silence add|list|expire` and `tradewatch routes test`: operating on a running
deployment's store and config without the daemon."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monitor.config import LoadedConfig, parse_duration
from monitor.notify.routing import route
from monitor.store import Store
from monitor.store.silences import SilenceError, SilenceStore

EXIT_OK, EXIT_USAGE = 0, 2

ConfigOptions = Callable[[argparse.ArgumentParser], None]


def add_parsers(commands: Any, config_options: ConfigOptions) -> None:
    """Register `silence add|list|expire` and `routes test`; `config_options` adds --config."""
    silence = commands.add_parser("silence", help="create, list and expire silences")
    actions = silence.add_subparsers(dest="silence_command", required=True)
    add = actions.add_parser("add", help="silence alerts matching every --matcher")
    add.add_argument("--matcher", "-m", action="append", default=[], required=True,
                     help='name=value, name!=value, name=~regex or name!~regex, the value optionally '
                          'in double quotes (repeatable)')
    add.add_argument("--duration", help="how long, e.g. 2h, 7d (default 2h unless --end)")
    add.add_argument("--start", help="ISO 8601 start (default now)")
    add.add_argument("--end", help="ISO 8601 end")
    add.add_argument("--author", required=True)
    add.add_argument("--comment", required=True)
    listing = actions.add_parser("list", help="list silences")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.add_argument("--all", action="store_true", help="include expired silences")
    expire = actions.add_parser("expire", help="end a silence now")
    expire.add_argument("id")
    routes = commands.add_parser("routes", help="routing tree helpers")
    routes_actions = routes.add_subparsers(dest="routes_command", required=True)
    test = routes_actions.add_parser("test", help="which receivers an alert with these labels reaches")
    test.add_argument("labels", nargs="*", metavar="label=value")
    for parser in (add, listing, expire, test):
        config_options(parser)


def _time(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run_silence(args: argparse.Namespace, loaded: LoadedConfig, now: datetime) -> int:
    store = Store(loaded.store_url)
    silences = SilenceStore(store)
    try:
        if args.silence_command == "add":
            start = _time(args.start, now)
            end = _time(args.end, now) if args.end else start + parse_duration(args.duration or "2h")
            silence = silences.add(args.matcher, start, end, args.author, args.comment, now)
            print(silence.id)
            return EXIT_OK
        if args.silence_command == "expire":
            silence = silences.expire(args.id, now)
            print(f"expired {silence.id}")
            return EXIT_OK
        shown = [s for s in silences.all() if args.all or s.state(now) != "expired"]
        if args.format == "json":
            print(json.dumps([s.to_json(now) for s in shown], indent=2))
        elif not shown:
            print("no silences")
        for s in shown if args.format == "table" else []:
            print(f"{s.id}  {s.state(now):8}  {s.starts_at:%Y-%m-%d %H:%M} -> {s.ends_at:%Y-%m-%d %H:%M}  "
                  f"{' '.join(s.matchers)}  by {s.created_by}: {s.comment}")
        return EXIT_OK
    except (SilenceError, ValueError) as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()


def run_routes(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    labels: dict[str, str] = {}
    for item in args.labels:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"tradewatch: invalid label {item!r}: use name=value", file=sys.stderr)
            return EXIT_USAGE
        labels[name] = value
    for destination in route(loaded.config.notify.route, labels):
        extra = f"  group_by={','.join(destination.group_by)}" if destination.group_by else ""
        print(f"{destination.receiver}{extra}")
    return EXIT_OK
