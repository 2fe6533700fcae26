"""Log lines cannot be forged: text from data (labels, publishers' and parsers' errors) is
escaped in every field, so one event is always one line, in logfmt and in JSON."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor import cli

FORGED = "\nlevel=error msg=forged"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def once(write_config: Callable[..., Path], tmp_path: Path, csv: str, *flags: str) -> int:
    data = tmp_path / "feed.csv"
    data.write_text(csv, encoding="utf-8")
    path = write_config(f"""
        store: {{path: {tmp_path / 'tw.db'}}}
        sources:
          - name: desk
            kind: file
            path: {data}
            value_column: value
            label_columns: {{commodity: commodity}}
            labels: {{reporter: CHN, partner: RUS, flow: export}}
        rules:
          - name: high
            select: {{}}
            detector: {{kind: threshold, direction: above, threshold: 0}}
        notify:
          receivers: [{{name: console, console: {{}}}}]
          route: {{receiver: console}}
    """)
    return cli.main(["once", "--config", str(path), *flags])


def format_flags(fmt: str) -> tuple[str, ...]:
    return () if fmt == "logfmt" else ("--log-format", fmt)  # logfmt is the default


def events(err: str, fmt: str) -> list[dict[str, object] | str]:
    lines = err.splitlines()
    if fmt == "json":
        return [json.loads(line) for line in lines]  # a split line would not parse
    assert all(line.startswith("ts=") for line in lines), err
    return list(lines)


@pytest.mark.parametrize("fmt", ["logfmt", "json"])
def test_a_label_with_a_newline_stays_inside_its_one_line(
        write_config: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        fmt: str) -> None:
    csv = f'period,value,commodity\n2025-06,5,"8456{FORGED}"\n'
    once(write_config, tmp_path, csv, *format_flags(fmt))
    err = capsys.readouterr().err
    found = events(err, fmt)
    fired = [e for e in found if "alert firing" in str(e)]
    assert len(fired) == 1, err
    assert not any(str(line).startswith("level=error") for line in err.splitlines())
    if fmt == "json":
        event = fired[0]
        assert isinstance(event, dict) and event["level"] == "info"
        assert event["logger"] == "monitor.alerts.book"
        assert str(event["series"]).endswith("8456\nlevel=error_msg=forged")  # the value itself, intact
        assert {"time", "message", "rule", "period"} <= set(event)
    else:
        assert "8456\\nlevel=error_msg=forged" in str(fired[0])


@pytest.mark.parametrize("fmt", ["logfmt", "json"])
def test_a_pandas_error_ending_in_a_newline_stays_on_one_line(
        write_config: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        fmt: str) -> None:
    csv = "period,value,commodity\n2025-06,5,8456\n2025-07,6,8456,extra,cells\n"
    code = once(write_config, tmp_path, csv, *format_flags(fmt))
    err = capsys.readouterr().err
    assert code == cli.EXIT_SOURCE_FAILED
    [failed] = [e for e in events(err, fmt) if "source failed" in str(e)]
    assert "Error tokenizing data" in str(failed)
    if fmt == "json":
        assert isinstance(failed, dict) and failed["reason"] == "parse" and failed["source"] == "desk"
        assert str(failed["message"]).endswith("\n")  # pandas' own text, newline and all


def test_every_field_escapes_control_characters_quotes_and_backslashes() -> None:
    from monitor.logs import JsonFormatter, LogfmtFormatter

    try:
        raise ValueError('bad "value"\r\nlevel=error\x85\u2028')
    except ValueError:
        record = logging.LogRecord("feed\nx", logging.WARNING, __file__, 1,
                                   'skipped %s row=%d tab=%s', ('a"b\\c', 3, "\t\x1b"), sys.exc_info())
    line = LogfmtFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x85" not in line and "\u2028" not in line
    assert 'logger="feed\\nx"' in line
    assert 'msg="skipped a\\"b\\\\c row=3 tab=\\t\\u001b"' in line
    assert 'exc="Traceback' in line and 'bad \\"value\\"\\r\\nlevel=error\\u0085\\u2028' in line
    event = JsonFormatter().format(record)
    assert "\n" not in event and "\x85" not in event and "\u2028" not in event
    parsed = json.loads(event)
    assert parsed["message"] == 'skipped a"b\\c row=3 tab=\t\x1b' and parsed["row"] == 3
    assert parsed["exception"].endswith('ValueError: bad "value"\r\nlevel=error\x85\u2028')
