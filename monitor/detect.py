"""`tradewatch detect`: run one registered detector over a file, without a config or store.

    tradewatch detect KIND [--param K=V ...] --input FILE [--transform T] [--format table|json]
    tradewatch detect changepoint --format tcpd < series.json

The CSV is wide (a `period` column and one column per series) or long (`series`, `period`,
`value`). Findings are printed for every flagged period (scope "all"). `--format tcpd` speaks
the change-point benchmark protocol: `{"values": [...], "time": [...]}` on stdin (null is a
missing value), a JSON list of the flagged indices on stdout. Parameters not given keep the
detector's defaults, the same the daemon uses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.detect_input import InputError, read_panel

if TYPE_CHECKING:  # the heavy imports wait until the command runs, so `tradewatch --help` stays quick
    import pandas as pd

EXIT_OK, EXIT_USAGE = 0, 2
_TCPD_START = "2000-01"  # TCPD gives positions, not periods: label them as consecutive months


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `detect` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "detect",
        help="run one detector over a CSV file (or TCPD JSON on stdin) and print its findings",
        description="Run one detector over a CSV file (wide: a period column and a column per "
                    "series; long: series,period,value) and print every flagged period. No config, "
                    "no store.",
        epilog="examples:\n"
               "  tradewatch detect threshold --param direction=below --param threshold=-20 \\\n"
               "      --transform yoy_pct --input trade.csv\n"
               "  tradewatch detect changepoint --format tcpd < series.json\n\n"
               "Periods may be written 2015-03, 2015M03, 201503, Mar 2015, 2015-03-01, 2015Q1 or 2015.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", help="detector kind, e.g. threshold, consecutive, changepoint")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="K=V",
        help="detector parameter, repeatable; V is read as a YAML scalar (6, -5.0, binseg, null)",
    )
    parser.add_argument("--input", help="CSV file, wide or long ('-' for stdin); not with --format tcpd")
    parser.add_argument("--transform", default="level", help="transform applied first (default: level)")
    parser.add_argument("--format", choices=["table", "json", "tcpd"], default="table")
    return parser


def run(args: argparse.Namespace) -> int:
    """Execute `detect`; 0 on success, 2 on bad usage or input (with a message on stderr)."""
    try:
        detector = _build(args.kind, args.param)
        if args.format == "tcpd":
            if args.input not in (None, "-"):
                raise InputError("--format tcpd reads its series from stdin; drop --input")
            print(json.dumps(_tcpd(detector, json.load(sys.stdin), args.transform)))
            return EXIT_OK
        if not args.input:
            raise InputError("--input FILE is required (or use --format tcpd with stdin)")
        panel = read_panel(sys.stdin if args.input == "-" else Path(args.input))
        findings = _findings(detector, panel, args.transform)
    except (InputError, ValueError, KeyError, json.JSONDecodeError, OSError) as exc:
        print(f"tradewatch detect: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps([_as_json(f) for f in findings], indent=2, ensure_ascii=False))
    elif not findings:
        print("no findings")
    else:
        width = max(len(f.series) for f in findings)
        for f in findings:
            print(f"{f.period!s:8s}  {f.series.ljust(width)}  {f.summary}")
    return EXIT_OK


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """`k=v` pairs to a dict, each value read as a YAML scalar, as in a config file."""
    import yaml

    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param expects K=V, got {pair!r}")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            raise InputError(f"--param {key.strip()}: cannot read {text!r}: {exc}") from None
        if isinstance(value, str):  # YAML 1.1 reads 1e12 as text; JSON reads it as a number
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key.strip()] = value
    return params


def _build(kind: str, pairs: Sequence[str]) -> Any:
    from detectors import build_detector

    return build_detector(kind, parse_params(pairs))


def _findings(detector: Any, panel: pd.DataFrame, transform: str) -> list[Any]:
    from detectors import evaluate

    return evaluate(
        panel, rule=f"detect:{detector.kind}", transform=transform, detector=detector,
        severity="info", scope="all",
    )  # fmt: skip


def _tcpd(detector: Any, payload: Any, transform: str) -> list[int]:
    """Indices (0-based) of the periods the detector flags in one TCPD series."""
    import numpy as np
    import pandas as pd

    from detectors import apply_transform

    if not isinstance(payload, dict) or not isinstance(payload.get("values"), list):
        raise InputError('expected a JSON object {"values": [...], "time": [...]} on stdin')
    values = [math.nan if v is None else float(v) for v in payload["values"]]
    index = pd.period_range(_TCPD_START, periods=len(values), freq="M")
    panel = pd.DataFrame({"series": values}, index=index, dtype=float)
    mask = detector.scan(apply_transform(transform, panel)).mask
    return [int(i) for i in np.flatnonzero(mask[:, 0])]


def _as_json(finding: Any) -> dict[str, Any]:
    def plain(x: Any) -> Any:
        return None if isinstance(x, float) and not math.isfinite(x) else x

    return {
        "series": finding.series,
        "period": str(finding.period),
        "kind": finding.kind,
        "value": plain(finding.value),
        "reference": plain(finding.reference),
        "details": {k: plain(v) for k, v in finding.details.items()},
        "summary": finding.summary,
    }
