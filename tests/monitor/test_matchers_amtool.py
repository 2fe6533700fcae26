"""tradewatch's matchers against Alertmanager's own: generated matcher strings (fixed seed) go
into route `matchers`, `amtool check-config` says which it accepts and `amtool config routes
test` which routes a label set takes; tradewatch must accept, refuse and match the same."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from monitor.matchers import Matcher, MatcherError, parse_matchers

AMTOOL = shutil.which("amtool")
NAMES = ["foo", "a_b", "a:b", "team"] * 6 + ["1a", "bad-name", ""]
OPS = ["=", "!=", "=~", "!~"] * 6 + ["==", "=~~", "!"]
VALUES = [
    "bar", '"bar"', "'bar'", '"a\\"b"', "a\\\\b", '"a\\\\b"', '"x,y"', "x,y", '"unclosed', 'x"y', '""',
    '"a\\nb"', "a\\nb", "\\d+", '"\\\\d+"', "[[:alpha:]]+", '"a{,2}"', "a{,2}", "(?=a)", "a**", "(?i)abc",
    "\\pL+", "a|b", "[", "(?P<n>x)", "(?<n>x)", "\\C", "x{2}{3}", ".*", "é+", "\\w+", "5..", "(?s)a.b",
    "a$", "}", "{x}", " spaced out ", '"  padded  "', "\\", '"\\"', "~", "\\p{Greek}+", "[^a-z]", "\\b", "",
    "(a)\\1", "a{1001}", "\\x{41}", "\\Qa.b\\E", "(?U)a+", "[a-\\d]",
]
LABELS = [  # values each label set gives the names above; a missing label reads as ""
    "bar", '"bar"', "'bar'", 'a"b', "a\\b", "x,y", "a\nb", "123", "٣", "é", "éé", "aa", "a{,2}", "",
    "abc", "ABC", "xyz", "a", "b", "x", "spaced out", " spaced out ", "  padded  ", "a.b", "A", "a\\nb",
]
CASES, LABEL_SETS = 600, 40


def _matcher(rng: random.Random) -> str:
    pad = rng.choice(["", "", " ", "\t"])
    return f"{pad}{rng.choice(NAMES)}{pad}{rng.choice(OPS)}{pad}{rng.choice(VALUES)}{pad}"


def generated(seed: int = 20250) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(CASES):
        parts = [_matcher(rng) for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3]))]
        text = rng.choice([",", ", ", " , "]).join(parts) + rng.choice(["", "", ",", ", "])
        out.append(rng.choice(["{%s}", "%s", "%s", " {%s}"]) % text)
    return out


def label_sets(seed: int = 20251) -> list[dict[str, str]]:
    rng = random.Random(seed)
    names = ["foo", "a_b", "a:b", "team"]
    return [{n: rng.choice(LABELS) for n in names if rng.random() < 0.85} for _ in range(LABEL_SETS)]


def _config(matchers: list[str]) -> str:
    routes = "".join(f"    - {{receiver: r{i}, continue: true, matchers: [{json.dumps(m)}]}}\n"
                     for i, m in enumerate(matchers))
    receivers = "".join(f"  - name: r{i}\n" for i in range(len(matchers)))
    return f"route:\n  receiver: root\n  routes:\n{routes}receivers:\n  - name: root\n{receivers}"


def amtool_accepts(texts: list[str], tmp: Path) -> list[bool]:
    paths = []
    for i, text in enumerate(texts):
        paths.append(tmp / f"c{i}.yml")
        paths[-1].write_text(_config([text]), encoding="utf-8")
    out = subprocess.run([AMTOOL or "amtool", "check-config", *map(str, paths)], capture_output=True,
                         text=True, timeout=120, check=False).stdout
    verdicts = dict(re.findall(r"Checking '([^']+)'\s+(SUCCESS|FAILED)", out))
    return [verdicts[str(p)] == "SUCCESS" for p in paths]


def amtool_routes(texts: list[str], labels: dict[str, str], config: Path) -> set[int]:
    args = ['{}="{}"'.format(k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
            for k, v in labels.items()]
    out = subprocess.run([AMTOOL or "amtool", "config", "routes", "test", f"--config.file={config}", *args],
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    return {int(r[1:]) for r in out.split(",") if r != "root"}


def _ours(text: str) -> list[Matcher] | None:
    try:
        return parse_matchers(text)
    except MatcherError:
        return None


@pytest.mark.skipif(AMTOOL is None and os.environ.get("CI") != "true", reason="amtool is not installed")
def test_same_verdicts_and_routes_as_amtool(tmp_path: Path) -> None:
    assert AMTOOL is not None, "CI needs amtool (Debian's prometheus-alertmanager)"
    texts = generated()
    ours = [_ours(t) for t in texts]
    theirs = amtool_accepts(texts, tmp_path)
    verdicts = [t for t, o, a in zip(texts, ours, theirs, strict=True) if (o is not None) != a]
    accepted = [(t, o) for t, o, a in zip(texts, ours, theirs, strict=True) if a and o is not None]
    config = tmp_path / "all.yml"
    config.write_text(_config([t for t, _ in accepted]), encoding="utf-8")
    routes: list[tuple[str, dict[str, str], bool]] = []
    pairs = 0
    for labels in label_sets():
        taken = amtool_routes([t for t, _ in accepted], labels, config)
        for i, (text, matchers) in enumerate(accepted):
            pairs += 1
            if all(m.matches(labels) for m in matchers) != (i in taken):
                routes.append((text, labels, i in taken))
    print(f"\nverdicts: {len(texts)} strings, {sum(theirs)} accepted by amtool, "
          f"{len(texts) - len(verdicts)} agree; routes: {pairs} (string, labels) pairs, "
          f"{pairs - len(routes)} agree")
    assert sum(theirs) > len(texts) // 4 and len(texts) - sum(theirs) > len(texts) // 4  # both kinds
    assert not verdicts, f"accepted or refused unlike amtool: {verdicts}"
    assert not routes, f"matched unlike amtool (text, labels, amtool matched): {routes}"
