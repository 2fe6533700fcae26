"""Command line: the only place that reads argv and the environment, installs signal
handlers and chooses exit codes (0 ok, 1 a source failed, 2 bad config or usage)."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from monitor import admin
from monitor import detect as detect_command
from monitor.backtest import command as backtest_command
from monitor.cli_parser import build_parser
from monitor.failures import UserError, ensure_store_dir, report_unexpected
from monitor.logs import SecretFilter, setup_logging
from monitor.secrets import Masker, env_secrets

if TYPE_CHECKING:
    from monitor.config.web import WebConfig

EXIT_OK, EXIT_SOURCE_FAILED, EXIT_BAD_CONFIG = 0, 1, 2


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
    args = build_parser().parse_args(argv)
    if args.command == "detect":  # a file in, findings out: no config, no logging setup
        return detect_command.run(args)
    secret_filter = setup_logging(args.log_level, getattr(args, "log_format", "logfmt"),
                                  env_secrets(os.environ))
    if args.command == "backtest":
        return backtest_command.run(args)
    from monitor.config import ConfigError, config_json_schema, load_config

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
    web = None
    if args.command in ("check", "run"):
        web = _web_config(loaded, args.web_config_file)
    if args.command == "check":
        from monitor.check_command import run_check

        return run_check(loaded, args.config, args.strict, os.environ, mask, web)
    if args.command == "alerts":
        from datetime import UTC, datetime

        from monitor.alerts_command import list_alerts

        return list_alerts(loaded, args.format, args.all, datetime.now(UTC))
    if args.command == "silence":
        from datetime import UTC, datetime

        return admin.run_silence(args, loaded, datetime.now(UTC))
    if args.command == "routes":
        return admin.run_routes(args, loaded)
    if args.command == "inhibit":
        return admin.run_inhibit(args, loaded)
    if args.command == "db":
        from monitor import dbcommands

        return dbcommands.run(args, loaded)
    from monitor.app import App
    from monitor.store.lockfile import lock_store
    from monitor.store.versions import StoreRefused

    ensure_store_dir(loaded.store_url)
    if args.command == "once":
        lock = None
        try:
            lock = lock_store(loaded.store_url, "once")
            app = App(loaded, env=os.environ)
        except ConfigError as exc:
            print(mask(f"tradewatch: invalid config\n{exc}"), file=sys.stderr)
            return EXIT_BAD_CONFIG
        except StoreRefused as exc:
            print(mask(f"tradewatch: {exc}"), file=sys.stderr)
            return EXIT_BAD_CONFIG
        except Exception as exc:
            return _unexpected(args.config, exc)
        try:
            if not app.hold_lease():  # PostgreSQL: an active replica polls this store
                status = app.replica.status() if app.replica is not None else None
                holder = status.holder if status is not None and status.holder else "another replica"
                print(mask(f"tradewatch: the store {app.store.url_shown} is in use by the active replica "
                           f"{holder}; `once` runs only while no replica is active"), file=sys.stderr)
                return EXIT_BAD_CONFIG
            results = app.run_once()
        finally:
            if app.replica is not None:
                app.replica.stop()
            app.store.close()
            if lock is not None:
                lock.release()
        return EXIT_OK if all(r.ok for r in results) else EXIT_SOURCE_FAILED
    return _run(loaded, args.listen, secret_filter, mask, web)


def _web_config(loaded: object, flag: str | None) -> WebConfig | None:
    """The listener's web config (TLS, basic auth), None without one; a bad one is exit 2."""
    from monitor.config import ConfigError, LoadedConfig
    from monitor.config.web import load_web_config, web_config_path

    assert isinstance(loaded, LoadedConfig)
    path = web_config_path(flag, loaded.config.http.web_config_file, loaded.base_dir)
    if path is None:
        return None
    try:
        return load_web_config(path)
    except ConfigError as exc:
        raise UserError(f"invalid web config\n{exc}", EXIT_BAD_CONFIG) from None


def _run(loaded: object, listen: str | None, secret_filter: SecretFilter, mask: Masker,
         web: WebConfig | None = None) -> int:
    from monitor.app import App
    from monitor.config import ConfigError, LoadedConfig, parse_listen
    from monitor.store.lockfile import lock_store
    from monitor.store.versions import StoreRefused

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
        lock = lock_store(loaded.store_url, "run")  # held while the daemon runs
        app = App(loaded, listen=listen, api_token=os.environ.get("TRADEWATCH_API_TOKEN") or None,
                  env=os.environ, web=web)
    except ConfigError as exc:
        print(mask(f"tradewatch: invalid config\n{exc}"), file=sys.stderr)
        return EXIT_BAD_CONFIG
    except StoreRefused as exc:
        print(mask(f"tradewatch: {exc}"), file=sys.stderr)
        return EXIT_BAD_CONFIG
    secret_filter.follow(lambda: app.runtime.loaded.secrets)  # a reload's secrets too
    try:
        url = app.start()
    except OSError as exc:
        app.stop()
        raise UserError(f"cannot listen on {address}: {exc.strerror or exc}") from None
    import monitor

    print(f"tradewatch {monitor.__version__}: serving metrics at {url}", flush=True)
    role = app.replica.status().role.value if app.replica is not None else "active"
    log.info("started config=%s sources=%d rules=%d role=%s", loaded.path, len(app.runtime.sources),
             len(app.runtime.rules), role)
    while not stop.wait(0.2):
        if reload_requested.is_set():
            reload_requested.clear()
            app.reload_in_background()  # this loop keeps watching for SIGTERM meanwhile
    log.info("stopping: finishing the cycle in flight")
    app.stop()
    if lock is not None:
        lock.release()
    log.info("stopped")
    return EXIT_OK


def _unexpected(config: str, exc: BaseException) -> int:
    """A config that broke something unforeseen: one line naming the file, no traceback."""
    text = " ".join(str(exc).split())[:200]
    print(f"tradewatch: invalid config\n{config}: cannot load config: {type(exc).__name__}"
          + (f": {text}" if text else ""), file=sys.stderr)
    return EXIT_BAD_CONFIG


if __name__ == "__main__":
    sys.exit(main())
