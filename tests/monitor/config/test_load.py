"""Loading a config: the demo, misspelt keys, ${VAR}, cross-checks, whole-file problems."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from detectors import DETECTORS
from monitor.config import ConfigError, Replay, Schedule, load_config
from tests.monitor.config.support import DEMO, ROOT, SOURCE, errors, write

# --- the shipped demo -------------------------------------------------------------------------


def test_demo_config_loads() -> None:
    loaded = load_config(DEMO, env={})
    config = loaded.config
    assert loaded.path == DEMO
    assert loaded.base_dir == DEMO.parent
    assert loaded.sha256 == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert [s.name for s in config.sources] == [
        "rosstat_russia_china", "eurostat_eu_exports_to_russia",
    ]
    rosstat, eurostat = config.sources
    assert rosstat.path == "demo://russia_china_monthly_2006_2021_russian_fcs.csv"
    assert rosstat.columns == {
        "ru_exports_to_cn_musd": {"flow": "export"},
        "ru_imports_from_cn_musd": {"flow": "import"},
    }
    assert rosstat.value_column is None
    assert rosstat.labels == {"reporter": "RUS", "partner": "CHN", "commodity": "TOTAL",
                              "unit": "USD_M"}
    assert rosstat.replay == Replay(start="2014-09", every=timedelta(seconds=5))
    assert rosstat.poll_schedule == Schedule(every=timedelta(seconds=5))
    assert rosstat.schedule == Schedule(every=timedelta(hours=1))
    assert eurostat.value_column == "value_eur"
    assert eurostat.include["reporter"][:2] == ["EU27", "AUT"] and len(eurostat.include["reporter"]) == 28
    assert eurostat.label_columns == {"reporter": "reporter", "partner": "partner",
                                      "flow": "flow"}
    assert [r.name for r in config.rules] == ["yoy_consecutive_decline", "yoy_sharp_fall",
                                              "eu_exports_sharp_fall"]
    decline, sharp, _ = config.rules
    assert decline.detector == {"kind": "consecutive", "direction": "below",
                                "threshold": -5.0, "count": 5}
    assert decline.transform.kind == "yoy_pct"
    assert decline.select == {"partner": ["CHN", "RUS"]}
    assert (decline.severity, sharp.severity) == ("warning", "critical")
    assert decline.for_ == 1
    assert [r.name for r in config.notify.receivers] == ["console"]
    assert config.notify.route.receiver == "console"
    assert config.notify.route.group_by == ["alertname"]
    assert config.http.listen == "127.0.0.1:9470"
    assert loaded.store_url == f"sqlite:///{(ROOT / 'var' / 'demo.db').resolve()}"


def test_config_is_frozen() -> None:
    config = load_config(DEMO, env={}).config
    with pytest.raises(ValidationError):
        config.sources[0].name = "other"


# --- misspelt and unknown keys ----------------------------------------------------------------


def test_misspelt_key_names_file_line_and_path(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources: []
        # rules below

        rules:
          - name: r1
            severity: warning
            detectr: {kind: threshold, direction: below, threshold: -5}
    """)
    assert errors(path) == [
        f"{path}:5: rules[0].detector: Field required",
        f"{path}:7: rules[0].detectr: unknown key 'detectr' (did you mean 'detector'?)",
    ]


def test_misspelt_block_key_is_reported_at_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r1
            detectr:
              kind: threshold
              direction: below
    """)
    assert f"{path}:3: rules[0].detectr: unknown key 'detectr' (did you mean 'detector'?)" in errors(path)


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
        store: {path: x.db}
        sourcez: []
    """)
    assert errors(path) == [f"{path}:2: sourcez: unknown key 'sourcez' (did you mean 'sources'?)"]


def test_list_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "rules: {a: 1}\n")
    assert errors(path) == [f"{path}:1: rules: Input should be a valid list"]


# --- ${VAR} -----------------------------------------------------------------------------------


WEBHOOK = """
notify:
  receivers:
    - name: hook
      webhook:
        url: "https://hooks.slack.example/${SLACK_TOKEN}"
        timeout: ${HOOK_TIMEOUT:-3s}
  route: {receiver: hook}
""" + SOURCE


def test_unset_variable_names_the_variable_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, WEBHOOK)
    assert errors(path) == [
        f"{path}:5: notify.receivers[0].webhook.url: environment variable SLACK_TOKEN is not set"
    ]


def test_variables_and_defaults_are_used(tmp_path: Path) -> None:
    path = write(tmp_path, WEBHOOK)
    webhook = load_config(path, env={"SLACK_TOKEN": "T0/B1"}).config.notify.receivers[0].webhook
    assert webhook is not None
    assert webhook.url == "https://hooks.slack.example/T0/B1"
    assert webhook.timeout == timedelta(seconds=3)
    webhook = load_config(path, env={"SLACK_TOKEN": "x", "HOOK_TIMEOUT": "1m"}
                          ).config.notify.receivers[0].webhook
    assert webhook is not None
    assert webhook.timeout == timedelta(minutes=1)


def test_process_environment_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_TOKEN", "from-env")
    path = write(tmp_path, WEBHOOK)
    webhook = load_config(path).config.notify.receivers[0].webhook
    assert webhook is not None
    assert webhook.url == "https://hooks.slack.example/from-env"


# --- cross-checks -----------------------------------------------------------------------------


def test_duplicate_source_names(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
            kind: file
            path: a.csv
            value_column: v
          - name: b
            kind: file
            path: b.csv
            value_column: v
          - name: a
            kind: file
            path: c.csv
            value_column: v
    """)
    assert errors(path) == [f"{path}:10: sources[2].name: duplicate name 'a'"]


def test_duplicate_rule_and_receiver_names(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            detector: {kind: threshold, direction: below, threshold: 1}
          - name: r
            detector: {kind: threshold, direction: above, threshold: 1}
        notify:
          receivers:
            - name: console
              console: {}
            - name: console
              console: {}
    """)
    assert errors(path) == [
        f"{path}:4: rules[1].name: duplicate name 'r'",
        f"{path}:10: notify.receivers[1].name: duplicate name 'console'",
    ]


def test_route_to_an_unknown_receiver(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          receivers:
            - name: console
              console: {}
            - name: ops
              webhook: {url: "http://127.0.0.1:1/hook"}
          route:
            receiver: console
            routes:
              - match: {severity: critical}
                receiver: pager
              - match: {team: policy}
                routes:
                  - receiver: desk
    """)
    assert errors(path) == [
        f"{path}:11: notify.route.routes[0].receiver: unknown receiver 'pager'; "
        "known: console, ops",
        f"{path}:14: notify.route.routes[1].routes[0].receiver: unknown receiver 'desk'; "
        "known: console, ops",
    ]


def test_root_route_needs_a_receiver(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          route: {group_by: [rule]}
    """)
    assert errors(path) == [f"{path}:2: notify.route: the root route needs a receiver"]


def test_root_route_has_no_matchers_and_no_continue_as_in_alertmanager(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          route:
            receiver: console
            match: {severity: critical}
            match_re: {team: "a.*"}
            matchers: [team=b]
            continue: true
    """)
    assert errors(path) == [
        f"{path}:4: notify.route.match: the root route must not have any matchers: it takes every alert",
        f"{path}:5: notify.route.match_re: the root route must not have any matchers: it takes every alert",
        f"{path}:6: notify.route.matchers: the root route must not have any matchers: it takes every alert",
        f"{path}:7: notify.route.continue: the root route cannot have `continue`: it has no siblings",
    ]


def test_group_by_and_intervals_follow_alertmanager_rules(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          route:
            receiver: console
            routes:
              - {group_by: ['...', rule]}
              - {group_by: [rule, rule]}
              - {group_interval: 0s, repeat_interval: 0s}
    """)
    found = errors(path)
    assert len(found) == 4
    assert "routes[0].group_by" in found[0] and "'...' groups by every label" in found[0]
    assert "routes[1].group_by" in found[1] and "'rule' is named twice" in found[1]
    assert "routes[2].group_interval" in found[2] and "longer than zero" in found[2]
    assert "routes[2].repeat_interval" in found[3]


def test_default_route_needs_the_console_receiver(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          receivers:
            - name: ops
              webhook: {url: "http://127.0.0.1:1/hook"}
    """)
    assert errors(path) == [
        f"{path}:1: notify.route.receiver: unknown receiver 'console'; known: ops"
    ]


def test_schema_and_reference_errors_come_together_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
            kind: file
            path: a.csv
            value_colum: v
        rules:
          - name: r
            select: {source: b}
            detector: {kind: threshold, direction: below, threshold: 1}
        notify:
          receivers: [{name: desk, console: {}}]
          route: {receiver: dsk}
    """)
    assert errors(path) == [
        f"{path}:5: sources[0].value_colum: unknown key 'value_colum' (did you mean 'value_column'?)",
        f"{path}:8: rules[0].select.source: unknown source 'b'; known: a",
        f"{path}:12: notify.route.receiver: unknown receiver 'dsk' (did you mean 'desk'?); known: desk",
    ]


# --- whole-file problems ----------------------------------------------------------------------


def test_several_errors_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sourcez: 1
        sources:
          - name: a
            kind: file
            path: a.csv
            value_column: v
            timeout: soon
        rules:
          - name: r
            detector: {kind: nope}
        http: {listen: nowhere}
    """)
    assert sorted(errors(path)) == sorted([
        f"{path}:1: sourcez: unknown key 'sourcez' (did you mean 'sources'?)",
        f"{path}:7: sources[0].timeout: invalid duration 'soon': "
        "use a number and a unit, e.g. 30s, 5m, 1h, 1d",
        f"{path}:10: rules[0].detector: unknown detector kind 'nope'; "
        f"known kinds: {', '.join(sorted(DETECTORS))}",
        f"{path}:11: http.listen: invalid listen address 'nowhere': "
        "no port; use HOST:PORT, :PORT or [IPv6]:PORT, e.g. 127.0.0.1:9470",
    ])


def test_several_cross_check_errors_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
            kind: file
            path: a.csv
            value_column: v
          - name: a
            kind: file
            path: b.csv
            value_column: v
        notify:
          route: {receiver: nobody}
    """)
    assert errors(path) == [
        f"{path}:6: sources[1].name: duplicate name 'a'",
        f"{path}:11: notify.route.receiver: unknown receiver 'nobody'; known: console",
    ]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
            kind: [file
    """)
    assert errors(path) == [
        f"{path}:4: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_a_lone_source_gets_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "lone.yaml"
    path.write_text(SOURCE, encoding="utf-8")
    loaded = load_config(path, env={})
    config = loaded.config
    assert [s.name for s in config.sources] == ["a"] and config.rules == []
    assert [r.name for r in config.notify.receivers] == ["console"]
    assert config.notify.route.receiver == "console"
    assert config.http.listen == "127.0.0.1:9470"
    assert loaded.store_url == f"sqlite:///{tmp_path.resolve() / 'tradewatch.db'}"
    assert loaded.sha256 == hashlib.sha256(SOURCE.encode()).hexdigest()


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "sources: []\n", "rules: []\n"])
def test_a_config_without_sources_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    assert errors(path) == [f"{path}:1: sources: no sources: nothing to watch"]


@pytest.mark.parametrize(
    ("text", "line"), [("- a\n- b\n", 1), ("# comment\n\njust text\n", 3), ("5\n", 1)]
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    assert errors(path) == [f"{path}:{line}: the config must be a mapping"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    assert errors(path) == [f"{path}: cannot read config: No such file or directory"]


def test_path_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE)
    loaded = load_config(str(path), env={})
    assert loaded.path == path
    assert loaded.config.sources[0].name == "a"


def test_resolve_and_store_url(tmp_path: Path) -> None:
    path = write(tmp_path, "store: {path: ../var/x.db}\n" + SOURCE, name="c.yaml")
    loaded = load_config(path, env={})
    assert loaded.resolve("data/a.csv") == str(tmp_path.resolve() / "data" / "a.csv")
    assert loaded.resolve("/abs/a.csv") == "/abs/a.csv"
    assert loaded.resolve("https://example.org/a.csv") == "https://example.org/a.csv"
    assert loaded.resolve("demo://a.csv") == "demo://a.csv"
    assert loaded.store_url == f"sqlite:///{tmp_path.resolve().parent / 'var' / 'x.db'}"


def test_store_url_given_explicitly(tmp_path: Path) -> None:
    url = "postgresql+psycopg://tw@db.internal/tradewatch"
    path = write(tmp_path, f"store: {{path: ignored.db, url: '{url}'}}\n" + SOURCE)
    assert load_config(path, env={}).store_url == url


# --- the command line -------------------------------------------------------------------------


def run_check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "check", "--config", str(config)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )


def test_cli_check_accepts_the_demo() -> None:
    result = run_check(DEMO)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{DEMO}: ok (2 sources, 3 rules, 1 receivers)\n"


def test_cli_check_rejects_a_bad_config(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r1
            detectr: {kind: threshold, direction: below, threshold: -5}
    """)
    result = run_check(path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "tradewatch: invalid config\n"
        f"{path}:2: rules[0].detector: Field required\n"
        f"{path}:3: rules[0].detectr: unknown key 'detectr' (did you mean 'detector'?)\n"
    )


def test_a_guard_a_rule_kind_cannot_honour_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sources: [{name: a, kind: file, path: a.csv, value_column: v}]\nrules:\n"
                    "  - name: late\n    detector: {kind: staleness, lag: 1, day: 20}\n"
                    "    min_level: 5\n    min_change: 1\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "c.yaml:6: rules[0].min_change: min_change cannot apply" in str(raised.value)
    assert "min_change cannot apply to a staleness rule" in str(raised.value)
    path.write_text(path.read_text().replace("    min_change: 1\n", ""))
    assert load_config(path).config.rules[0].min_level == 5
