"""`tradewatch silence add|list|expire`, `tradewatch routes show|test` (amtool's output) and
`tradewatch inhibit test`: operating on a running deployment's store and config without the
daemon."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.failures import ensure_store_dir, existing_store_url

if TYPE_CHECKING:  # each command imports what it uses, so `tradewatch --help` stays instant
    from monitor.config import LoadedConfig

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2

SILENCE_EXAMPLE = """examples:
  tradewatch silence add -m series=rus-chn/import/total --duration 7d --comment "known break"
  tradewatch silence query series=~"rus-.*"
  tradewatch silence query --expired -q
  tradewatch silence expire 3f1c..."""
ROUTES_EXAMPLE = """examples:
  tradewatch routes show --config config/tradewatch.yaml
  tradewatch routes test --config config/tradewatch.yaml severity=critical partner=RUS"""
INHIBIT_EXAMPLE = """example:
  tradewatch inhibit test --config config/tradewatch.yaml partner=RUS severity=warning"""

ConfigOptions = Callable[[argparse.ArgumentParser], None]


def add_parsers(commands: Any, config_options: ConfigOptions) -> None:
    """Register `silence add|list|expire`, `routes show|test` and `inhibit test`;
    `config_options` adds --config."""
    raw = argparse.RawDescriptionHelpFormatter
    silence = commands.add_parser("silence", help="create, list and expire silences", formatter_class=raw,
                                  epilog=SILENCE_EXAMPLE)
    actions = silence.add_subparsers(dest="silence_command", required=True)
    add = actions.add_parser("add", help="silence alerts matching every --matcher", formatter_class=raw,
                             epilog=SILENCE_EXAMPLE)
    add.add_argument("--matcher", "-m", action="append", default=[], required=True,
                     help='name=value, name!=value, name=~regex or name!~regex, the value optionally '
                          'in double quotes (repeatable)')
    add.add_argument("--duration", help="how long, e.g. 2h, 7d (default 2h unless --end)")
    add.add_argument("--start", help="ISO 8601 start (default now)")
    add.add_argument("--end", help="ISO 8601 end")
    add.add_argument("--author", "-a", default=os.environ.get("USER", ""),
                     help="who silences (default: $USER, as amtool)")
    add.add_argument("--comment", "-c", required=True)
    listings = []
    for name in ("query", "list"):
        listing = actions.add_parser(name, formatter_class=raw, epilog=SILENCE_EXAMPLE,
                                     help="list silences, those whose matchers answer every given "
                                     "matcher (as `amtool silence query`)")
        listing.add_argument("query", nargs="*", metavar="matcher", help='e.g. series=~"rus-.*"')
        listing.add_argument("--format", "-o", choices=["table", "json"], default="table")
        listing.add_argument("--expired", action="store_true", help="expired silences only (as amtool)")
        listing.add_argument("--all", action="store_true", help="active, pending and expired silences")
        listing.add_argument("--quiet", "-q", action="store_true", help="IDs only")
        listings.append(listing)
    expire = actions.add_parser("expire", help="end a silence now")
    expire.add_argument("id")
    routes = commands.add_parser("routes", help="routing tree helpers, printing what amtool prints",
                                 formatter_class=raw, epilog=ROUTES_EXAMPLE)
    routes_actions = routes.add_subparsers(dest="routes_command", required=True)
    show = routes_actions.add_parser("show", help="the routing tree (amtool config routes show)")
    test = routes_actions.add_parser("test", formatter_class=raw, epilog=ROUTES_EXAMPLE,
                                     help="the receivers an alert with these labels reaches, "
                                     "one per matching route (amtool config routes test)")
    test.add_argument("labels", nargs="*", metavar="label=value")
    test.add_argument("--verify.receivers", "--verify-receivers", dest="verify_receivers", metavar="r1,r2",
                      help="exit 1 unless the receivers are exactly these, in this order")
    test.add_argument("--tree", action="store_true", help="print the matching routes first")
    test.add_argument("--details", action="store_true",
                      help="instead, one line per matching route: its node and its group_by")
    inhibit = commands.add_parser("inhibit", help="inhibition helpers", formatter_class=raw,
                                  epilog=INHIBIT_EXAMPLE)
    inhibit_actions = inhibit.add_subparsers(dest="inhibit_command", required=True)
    inhibit_test = inhibit_actions.add_parser(
        "test", help="the firing alerts in the store that inhibit an alert with these labels")
    inhibit_test.add_argument("labels", nargs="*", metavar="label=value")
    for parser in (add, *listings, expire, show, test, inhibit_test):
        config_options(parser)


def _time(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run_silence(args: argparse.Namespace, loaded: LoadedConfig, now: datetime) -> int:
    """`silence add|expire` write (creating the store if need be); `silence query|list` only read
    (silences expired past their retention are removed by the daemon's drains)."""
    from monitor.config import parse_duration
    from monitor.matchers import parse_matchers
    from monitor.store import Store
    from monitor.store.silences import SilenceError, SilenceStore

    if args.silence_command in ("list", "query"):
        store = Store(existing_store_url(loaded.store_url))
    else:
        ensure_store_dir(loaded.store_url)
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
        query = [m for text in args.query for m in parse_matchers(text)]
        shown = [s for s in silences.all() if s.answers(query) and (
            args.all or (s.state(now) == "expired") == args.expired)]
        if args.quiet:
            for s in shown:
                print(s.id)
            return EXIT_OK
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


def _labels(items: list[str]) -> dict[str, str] | None:
    """`name=value` arguments (quotes allowed), as amtool reads them; None after an error."""
    from monitor.matchers import parse_matcher

    labels: dict[str, str] = {}
    for item in items:
        try:
            matcher = parse_matcher(item)
        except ValueError:
            matcher = None
        if matcher is None or matcher.op != "=":
            print(f"tradewatch: invalid label {item!r}: labels must be specified as key=value pairs",
                  file=sys.stderr)
            return None
        labels[matcher.name] = matcher.value
    return labels


def run_routes(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    """`routes show` and `routes test`, printing what amtool prints for the same tree."""
    from monitor.notify.routes_text import matching_tree, receivers_slug, show_tree
    from monitor.notify.routing import route

    tree = loaded.config.notify.route
    if args.routes_command == "show":
        print(show_tree(tree), end="")
        return EXIT_OK
    labels = _labels(args.labels)
    if labels is None:
        return EXIT_USAGE
    if args.details:
        for d in route(tree, labels):
            group_by = "..." if d.group_by_all else ",".join(d.group_by)
            print(f"{d.node}" + (f"  group_by={group_by}" if group_by else ""))
        return EXIT_OK
    if args.tree:
        print(matching_tree(tree, labels), end="")
    slug = receivers_slug(tree, labels)
    print(slug)
    if args.verify_receivers and args.verify_receivers != slug:
        print("WARNING: Expected receivers did not match resolved receivers.")
        return EXIT_MISMATCH
    return EXIT_OK


def run_inhibit(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    """`inhibit test`: which firing alerts in the store would inhibit these labels now, one
    line each (fingerprint, rule, labels), or `not inhibited`."""
    from monitor.alerts.lifecycle import Status
    from monitor.alerts.persist import load_alerts
    from monitor.notify.inhibit import inhibitors
    from monitor.store import Store

    labels = _labels(args.labels)
    if labels is None:
        return EXIT_USAGE
    store = Store(existing_store_url(loaded.store_url))
    try:
        firing = [a for a in load_alerts(store).values() if a.status is Status.FIRING]
    finally:
        store.close()
    found = inhibitors(labels, "", loaded.config.notify.inhibit_rules, firing)
    for alert in found:
        shown = ",".join(f'{name}="{value}"' for name, value in sorted(alert.labels.items()))
        print(f"{alert.fingerprint}  {alert.rule}  {{{shown}}}")
    if not found:
        print("not inhibited")
    return EXIT_OK
