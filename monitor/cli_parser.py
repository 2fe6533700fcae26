"""The `tradewatch` command line: every command, its options and a worked example, written
for the person at the terminal. Builds the parser only: nothing heavy is imported here, so
`tradewatch --help` answers at once."""

from __future__ import annotations

import argparse
import os
from typing import Any

from monitor import admin, dbcommands
from monitor import detect as detect_command
from monitor.backtest import command as backtest_command
from monitor.logs import LOG_FORMATS, LOG_LEVELS

DEFAULT_CONFIG = "config/tradewatch.yaml"

DESCRIPTION = """\
tradewatch watches trade statistics and alerts when a series breaks pattern: it polls the
sources of a config file, stores every observation, runs the rules' detectors, and notifies
receivers (Slack, webhooks, the console) of alerts that fire and resolve."""

EPILOG = """\
start here:
  tradewatch check --config config/tradewatch.yaml   validate a config
  tradewatch once --config config/tradewatch.yaml    poll every source once and notify
  tradewatch run --config config/tradewatch.yaml     the daemon, metrics on 127.0.0.1:9470

exit codes: 0 ok, 1 a runtime failure (a source, the store, a port), 2 usage or config.
Add --debug anywhere to print the trace of an unexpected error.
Each command explains itself: tradewatch COMMAND --help"""

EXAMPLES = {
    "run": "example:\n  tradewatch run --config config/tradewatch.yaml --listen :9470\n\n"
           "--listen takes HOST:PORT, :PORT (every interface, IPv6 and IPv4) or [IPv6]:PORT; the port\n"
           "is required. --web.config.file FILE adds TLS and basic auth (the format of Prometheus'\n"
           "exporters: tls_server_config, basic_auth_users with bcrypt hashes).",
    "once": "example:\n  tradewatch once --config config/examples/file-csv.yaml\n\n"
            "exit codes: 0 every source polled, 1 a source failed, 2 an invalid config.",
    "check": "example:\n  tradewatch check --config config/tradewatch.yaml\n\n"
             "Errors are printed as FILE:LINE: dotted.path: message. Warnings (an environment "
             "variable a\nreceiver needs is not set) do not fail the check unless --strict.",
    "alerts": "examples:\n  tradewatch alerts --config config/tradewatch.yaml\n"
              "  tradewatch alerts --all --format csv > alerts.csv\n\n"
              "Reads the store the daemon writes; never creates it.",
    "config": "example:\n  tradewatch config schema > tradewatch.schema.json",
}


class _Version(argparse.Action):
    """`--version`, reading the installed version only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any, **_kwargs: Any) -> None:
        import monitor

        print(f"tradewatch {monitor.__version__}")
        parser.exit()


def config_options(sub: argparse.ArgumentParser) -> None:
    """--config, --log-level and --log-format, the options of every command reading a config."""
    sub.add_argument("--config", default=os.environ.get("TRADEWATCH_CONFIG", DEFAULT_CONFIG),
                     help=f"config file (default: $TRADEWATCH_CONFIG or {DEFAULT_CONFIG})")
    sub.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    sub.add_argument("--log-format", default="logfmt", choices=LOG_FORMATS,
                     help="stderr log lines: logfmt (default) or json, one event per line")


def web_config_option(sub: argparse.ArgumentParser) -> None:
    """--web.config.file, the exporter-toolkit's web config (TLS, basic auth) of the listener."""
    sub.add_argument("--web.config.file", dest="web_config_file", metavar="FILE",
                     help="TLS and basic auth of the listener, in the Prometheus exporters' web config "
                          "format (overrides http.web_config_file)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="tradewatch", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=raw)
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--debug", action="store_true",
                        help="print the full trace of an unexpected error (allowed anywhere)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
            epilog=EXAMPLES.get(name), formatter_class=raw)
        config_options(sub)
        return sub

    run = command("run", "run the daemon until SIGTERM or SIGINT")
    run.add_argument("--listen", metavar="ADDRESS",
                     help="HOST:PORT, :PORT or [IPv6]:PORT for /metrics and health (overrides http.listen)")
    web_config_option(run)
    command("once", "poll every source once, evaluate, notify, and exit")
    check = command("check", "validate the config and exit (0 valid, 2 invalid)")
    check.add_argument("--strict", action="store_true",
                       help="fail (exit 2) on warnings too, such as an unset SLACK_BOT_TOKEN")
    web_config_option(check)
    config_cmd = commands.add_parser("config", help="config helpers (the JSON Schema for editors)",
                                     epilog=EXAMPLES["config"], formatter_class=raw)
    config_sub = config_cmd.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    schema = config_sub.add_parser("schema", help="print the JSON Schema of the config file (for editors)",
                                   epilog=EXAMPLES["config"], formatter_class=raw)
    schema.add_argument("--log-level", default="warning", choices=LOG_LEVELS)
    schema.add_argument("--log-format", default="logfmt", choices=LOG_FORMATS)
    alerts = command("alerts", "list the current alerts in the store")
    alerts.add_argument("--format", choices=["table", "json", "csv"], default="table")
    alerts.add_argument("--all", action="store_true", help="include resolved alerts")
    backtest_command.add_parser(commands)
    detect_command.add_parser(commands)
    admin.add_parsers(commands, config_options)
    dbcommands.add_parser(commands, config_options)
    return parser
