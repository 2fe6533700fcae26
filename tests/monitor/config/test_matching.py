"""Matcher fields in the config accept and refuse what Alertmanager 0.25 does."""

from __future__ import annotations

from pathlib import Path

from monitor.config import load_config
from monitor.matchers import parse_matcher
from tests.monitor.config.support import errors, write

ROUTE = """
sources: [{name: a, kind: file, path: a.csv, value_column: v}]
notify:
  receivers:
    - {name: Policy desk, console: {}}
    - {name: équipe, console: {}}
  route:
    receiver: Policy desk
    routes:
      - receiver: équipe
        %s
"""


def test_alertmanager_forms_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTE % """matchers: ['foo="bar",baz=~"q.*"', '{team="a\\\\b"}', "x='y'"]
        match: {code: 500, none: ~}
        match_re: {severity: "warn|crit"}""")
    route = load_config(path, env={}).config.notify.route.routes[0]
    assert route.receiver == "équipe"
    assert route.matchers == ["foo=bar", "baz=~q.*", 'team="a\\\\b"', "x='y'"]
    assert route.match == {"code": "500", "none": ""}
    labels = {"foo": "bar", "baz": "qux", "team": "a\\b", "x": "'y'", "code": "500", "severity": "warn"}
    assert all(m.matches(labels) for m in route.all_matchers())


def test_refused_as_alertmanager_refuses(tmp_path: Path) -> None:
    cases = {
        "matchers: 'foo=bar'": "give a list of matchers",
        "matchers: ['foo=\"bar']": "double quote is not closed",
        "matchers: ['foo=~(?=x)']": "invalid regex in matcher",
        "match: {bad-name: x}": "invalid label name 'bad-name'",
        "match_re: {a: null}": "invalid regex for 'a'",
        "match_re: {1a: x}": "invalid label name '1a'",
        "match: {a: [1, 2]}": "must be a single value",
    }
    for text, message in cases.items():
        problems = errors(write(tmp_path, ROUTE % text))
        assert len(problems) == 1 and message in problems[0], (text, problems)
        assert problems[0].startswith(f"{tmp_path / 'tradewatch.yaml'}:10: notify.route.routes[0]."), problems


def test_receiver_name_may_not_be_empty(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          receivers: [{name: "", console: {}}]
          route: {receiver: x}
    """)
    assert any("a receiver needs a name" in p for p in errors(path))


def test_rule_select_takes_matchers(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources: [{name: a, kind: file, path: a.csv, value_column: v}]
        rules:
          - name: r
            select: {flow: export}
            select_matchers: 'partner=~"RUS|CHN", commodity!=TOTAL'
            detector: {kind: threshold, direction: above, threshold: 1}
    """)
    rule = load_config(path, env={}).config.rules[0]
    assert rule.select_matchers == ["partner=~RUS|CHN", "commodity!=TOTAL"]
    assert rule.matches({"flow": "export", "partner": "CHN", "commodity": "8458"})
    assert not rule.matches({"flow": "export", "partner": "DEU", "commodity": "8458"})
    assert not rule.matches({"flow": "import", "partner": "CHN", "commodity": "8458"})
    assert not rule.selects_all
    assert parse_matcher(rule.select_matchers[0]).matches({"partner": "RUS"})
