"""Hostile config files: each is refused by `tradewatch check` with one located line (exit 2),
quickly, never with a traceback, a hang or a blown stack."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config.limits import MAX_CONFIG_BYTES, MAX_DEPTH, MAX_VALUES
from tests.monitor.config.support import SOURCE, errors, write

RULE = """
rules:
  - name: r
    detector: {kind: consecutive, direction: below, threshold: -5, count: 2}
"""
ROUTE = """
notify:
  route:
    receiver: console
    routes:
      - matchers: ["team=~%s"]
        receiver: console
"""


def laughs(levels: int = 9) -> str:
    """The "billion laughs" document: a few hundred bytes, 9**9 strings once expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\nsources: *a{levels}\n"


HOSTILE = {
    "every-overflow": (SOURCE + "    schedule: {every: 99999999999d}\n",
                       7, "sources[0].schedule.every",
                       "invalid duration '99999999999d': must be at most 365d"),
    "timeout-inf": (SOURCE + "    timeout: .inf\n", 7, "sources[0].timeout", "must be at most 365d"),
    "timeout-nan": (SOURCE + "    timeout: .nan\n", 7, "sources[0].timeout", "must be 0s or more"),
    "negative-timeout": (SOURCE + "    timeout: -5\n", 7, "sources[0].timeout", "must be 0s or more"),
    "zero-timeout": (SOURCE + "    timeout: 0s\n", 7, "sources[0].timeout", "must be at least 1ms"),
    "3000-groups": (SOURCE + ROUTE % ("(" * 3000 + "a" + ")" * 3000), 12,
                    "notify.route.routes[0].matchers", "longer than 1000 characters"),
    "bad-regex": (SOURCE + ROUTE % "a(", 12, "notify.route.routes[0].matchers", "missing )"),
    "recursive-alias": ("sources: &a [*a]\n", 1, "sources[0]", "recursive alias *a"),
    "recursive-mapping": ("x: &m {y: *m}\n" + SOURCE, 1, "x.y", "recursive alias *m"),
    "deep-nesting": ("sources: " + "[" * 3000 + "]" * 3000 + "\n", 1, "sources[0][0][0][0][0][0][0]",
                     f"nested more than {MAX_DEPTH} levels deep"),
    "deep-by-aliases": ("".join(f"a{i}: &a{i} [{f'*a{i - 1}' if i else 1}]\n" for i in range(70))
                        + SOURCE, 63, "a62[0]", "levels deep once aliases are expanded"),
    "billion-laughs": (laughs(), 6, "a5[0]", f"more than {MAX_VALUES} values once aliases are expanded"),
    "for-1e29": (SOURCE + RULE + "    for: 100000000000000000000000000000\n", 11, "rules[0].for",
                 "less than or equal to 10000"),
    "count-1e29": (SOURCE + RULE.replace("count: 2", "count: 100000000000000000000000000000"), 10,
                   "rules[0].detector", "consecutive.count must be <= 10000"),
    "window-inf": (SOURCE + RULE.replace("count: 2", "count: 2, window: .inf"), 10,
                   "rules[0].detector", "consecutive.window must be an integer"),
    "threshold-nan": (SOURCE + RULE.replace("-5", ".nan"), 10, "rules[0].detector",
                      "consecutive.threshold must be finite"),
    "empty-file": ("", 1, "sources", "no sources: nothing to watch"),
    "no-sources": ("sources: []\n", 1, "sources", "no sources: nothing to watch"),
}


@pytest.mark.parametrize(("text", "line", "path", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_check_refuses_with_one_located_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, path: str, message: str
) -> None:
    config = tmp_path / "tradewatch.yaml"
    config.write_text(text, encoding="utf-8")
    started = time.monotonic()
    code = main(["check", "--config", str(config)])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "Traceback" not in err
    assert err.splitlines()[0] == "tradewatch: invalid config"
    problem = err.splitlines()[1:]
    assert len(problem) == 1, err
    assert problem[0].startswith(f"{config}:{line}: {path}: "), problem[0]
    assert message in problem[0]
    assert len(problem[0]) < 300
    assert elapsed < 15, f"took {elapsed:.1f}s"  # a hang (an alias bomb ran for minutes), not a speed target


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(SOURCE + "#" * MAX_CONFIG_BYTES + "\n", encoding="utf-8")
    assert errors(path) == [f"{path}: config file too large: over {MAX_CONFIG_BYTES // 1024} KiB"]


def test_aliases_within_the_limits_still_work(tmp_path: Path) -> None:
    from monitor.config import load_config

    path = write(tmp_path, """
        common: &labels {reporter: RUS, partner: CHN}
        sources:
          - name: a
            kind: file
            path: a.csv
            value_column: v
            labels: *labels
        """.replace("common:", "x-common:"))
    assert errors(path) == [f"{path}:1: x-common: unknown key 'x-common'"]
    path.write_text(path.read_text().replace("x-common: &labels {reporter: RUS, partner: CHN}\n", "")
                    .replace("labels: *labels", "labels: &l {reporter: RUS}"))
    assert load_config(path, env={}).config.sources[0].labels == {"reporter": "RUS"}


@pytest.mark.parametrize("value", ["1e999s", "9" * 400 + "d", "366d", "1e3", float("inf")])
def test_parse_duration_refuses_without_overflow(value: object) -> None:
    from monitor.config import parse_duration

    with pytest.raises(ValueError, match=re.escape("invalid duration")):
        parse_duration(value)


def test_parse_duration_keeps_the_valid_range() -> None:
    from datetime import timedelta

    from monitor.config import parse_duration

    assert parse_duration("365d") == timedelta(days=365)
    assert parse_duration(0) == timedelta(0)
    assert parse_duration("250ms") == timedelta(milliseconds=250)
