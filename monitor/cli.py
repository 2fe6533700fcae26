"""Command line: the only place that reads argv and the environment, installs signal
handlers and chooses exit codes (0 ok, 1 a source failed, 2 bad config or usage)."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from monitor import __version__, admin
from monitor import detect as detect_command
from monitor.backtest import command as backtest_command
from monitor.config import ConfigError
from monitor.failures import UserError, ensure_store_dir, existing_store_url, report_unexpected
from monitor.logs import LOG_FORMATS, LOG_LEVELS, SecretFilter, setup_logging
from monitor.secrets import Masker, env_secrets

DEFAULT_CONFIG = "config/tradewatch.yaml"
EXIT_OK, EXIT_SOURCE_FAILED, EXIT_BAD_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradewatch", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tradewatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def config_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--config", default=os.environ.get("TRADEWATCH_CONFIG", DEFAULT_CONFIG),
                         help=f"config file (default: $TRADEWATCH_CONFIG or {DEFAULT_CONFIG})")
        sub.add_argument("--log-level", default="info", choices=LOG_LEVELS)
        sub.add_argument("--log-format", default="logfmt", choices=LOG_FORMATS,
                         help="stderr log lines: logfmt (default) or json, one event per line")

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        config_options(sub)
        return sub

    run = with_config("run", "run the daemon until SIGTERM or SIGINT")
    run.add_argument("--listen", help="HOST:PORT for /metrics and health (overrides http.listen)")
    with_config("once", "poll every source once, evaluate, notify, and exit")
    with_config("check", "validate the config and exit (0 valid, 2 invalid)")
    config_cmd = commands.add_parser("config", help="config helpers")
    config_sub = config_cmd.add_subparsers(dest="config_command", required=True)
    schema = config_sub.add_parser("schema", help="print the JSON Schema of the config file (for editors)")
    schema.add_argument("--log-level", default="warning", choices=LOG_LEVELS)
    schema.add_argument("--log-format", default="logfmt", choices=LOG_FORMATS)
    alerts = with_config("alerts", "list current alerts from the store")
    alerts.add_argument("--format", choices=["table", "json"], default="table")
    alerts.add_argument("--all", action="store_true", help="include resolved alerts")
    backtest_command.add_parser(commands)
    detect_command.add_parser(commands)
    admin.add_parsers(commands, config_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure ends as one line on stderr and an exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments  # anywhere on the line: the trace of an unexpected error
    arguments = [a for a in arguments if a != "--debug"]
    try:
        return _main(arguments)
    except UserError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        return EXIT_OK
    except Exception as exc:
        return report_unexpected(exc, debug)


def _main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "detect":  # a file in, findings out: no config, no logging setup
        return detect_command.run(args)
    secret_filter = setup_logging(args.log_level, getattr(args, "log_format", "logfmt"),
                                  env_secrets(os.environ))
    if args.command == "backtest":
        return backtest_command.run(args)
    from monitor.config import config_json_schema, load_config

    if args.command == "config":
        print(json.dumps(config_json_schema(), indent=2))
        return EXIT_OK

    mask = Masker(env_secrets(os.environ))
    try:
        loaded = load_config(args.config)
    except ConfigError as exc:  # its messages are masked with the config's own secrets
        print(mask(f"tradewatch: invalid config\n{exc}"), file=sys.stderr)
        return EXIT_BAD_CONFIG
    except Exception as exc:  # whatever a file does: one line, exit 2
        return _unexpected(args.config, exc)
    secret_filter.add(loaded.secrets)
    mask = mask.with_secrets(loaded.secrets)
    if args.command == "check":
        config = loaded.config
        print(mask(f"{args.config}: ok ({len(config.sources)} sources, {len(config.rules)} rules, "
                   f"{len(config.notify.receivers)} receivers)"))
        return EXIT_OK
    if args.command == "alerts":
        return _alerts(loaded, args.format, args.all)
    if args.command == "silence":
        from datetime import UTC, datetime

        return admin.run_silence(args, loaded, datetime.now(UTC))
    if args.command == "routes":
        return admin.run_routes(args, loaded)
    if args.command == "inhibit":
        return admin.run_inhibit(args, loaded)
    from monitor.app import App

    ensure_store_dir(loaded.store_url)
    if args.command == "once":
        try:
            app = App(loaded, env=os.environ)
        except ConfigError as exc:
            print(mask(f"tradewatch: invalid config\n{exc}"), file=sys.stderr)
            return EXIT_BAD_CONFIG
        except Exception as exc:
            return _unexpected(args.config, exc)
        try:
            results = app.run_once()
        finally:
            app.store.close()
        return EXIT_OK if all(r.ok for r in results) else EXIT_SOURCE_FAILED
    return _run(loaded, args.listen, secret_filter, mask)


def _run(loaded: object, listen: str | None, secret_filter: SecretFilter, mask: Masker) -> int:
    from monitor.app import App
    from monitor.config import LoadedConfig, parse_listen

    assert isinstance(loaded, LoadedConfig)
    stop = threading.Event()
    reload_requested = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()  # only a flag: the main thread does the work

    def on_hangup(signum: int, _frame: FrameType | None) -> None:
        reload_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_hangup)
    log = logging.getLogger("monitor.cli")
    address = listen or loaded.config.http.listen
    try:
        parse_listen(address)
    except ValueError as exc:
        raise UserError(str(exc), EXIT_BAD_CONFIG) from None
    try:
        app = App(loaded, listen=listen, api_token=os.environ.get("TRADEWATCH_API_TOKEN") or None,
                  env=os.environ)
    except ConfigError as exc:
        print(mask(f"tradewatch: invalid config\n{exc}"), file=sys.stderr)
        return EXIT_BAD_CONFIG
    secret_filter.follow(lambda: app.runtime.loaded.secrets)  # a reload's secrets too
    try:
        url = app.start()
    except OSError as exc:
        app.stop()
        raise UserError(f"cannot listen on {address}: {exc.strerror or exc}") from None
    print(f"tradewatch {__version__}: serving metrics at {url}", flush=True)
    log.info("started config=%s sources=%d rules=%d", loaded.path, len(app.runtime.sources),
             len(app.runtime.rules))
    while not stop.wait(0.2):
        if reload_requested.is_set():
            reload_requested.clear()
            app.reload_in_background()  # this loop keeps watching for SIGTERM meanwhile
    log.info("stopping: finishing the cycle in flight")
    app.stop()
    log.info("stopped")
    return EXIT_OK


def _unexpected(config: str, exc: BaseException) -> int:
    """A config that broke something unforeseen: one line naming the file, no traceback."""
    text = " ".join(str(exc).split())[:200]
    print(f"tradewatch: invalid config\n{config}: cannot load config: {type(exc).__name__}"
          + (f": {text}" if text else ""), file=sys.stderr)
    return EXIT_BAD_CONFIG


def _alerts(loaded: object, fmt: str, include_resolved: bool) -> int:
    from monitor.alerts.lifecycle import Status
    from monitor.alerts.persist import load_alerts
    from monitor.config import LoadedConfig
    from monitor.store import Store

    assert isinstance(loaded, LoadedConfig)
    store = Store(existing_store_url(loaded.store_url))
    try:
        items = sorted(load_alerts(store).values(), key=lambda a: (a.rule, a.series))
    finally:
        store.close()
    if not include_resolved:
        items = [a for a in items if a.status is not Status.RESOLVED]
    rows = [{
        "rule": a.rule, "series": a.series, "labels": dict(a.labels), "status": a.status.value,
        "severity": a.severity, "period": a.period, "since": a.since_period,
        "since_time": (a.fired_at or a.active_at).isoformat(),
        "value": a.value if math.isfinite(a.value) else None,
        "summary": a.summary,
    } for a in items]
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("no alerts")
        return EXIT_OK
    widths = [max(len(str(r[k])) for r in rows) for k in ("status", "rule", "series", "period")]
    for r in rows:
        cells = [str(r[k]).ljust(w) for k, w in zip(("status", "rule", "series", "period"), widths,
                                                     strict=True)]
        print("  ".join(cells) + f"  since {r['since']}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
