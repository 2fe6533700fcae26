"""The config models: loading, validation errors located by file, line and path, cross-checks."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from detectors import DETECTORS, TRANSFORMS, DetectorConfigError, Threshold, build_detector
from monitor.config import (
    FileSource,
    Replay,
    Rule,
    Schedule,
    load_config,
    parse_duration,
    parse_listen,
)
from monitor.configfile import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "tradewatch.yaml"

SOURCE = """
sources:
  - name: a
    kind: file
    path: a.csv
    value_column: v
"""


def write(tmp_path: Path, text: str, name: str = "tradewatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={} if env is None else env)
    return [str(p) for p in caught.value.problems]


def source(**fields: object) -> FileSource:
    return FileSource.model_validate(
        {"kind": "file", "name": "a", "path": "a.csv", "value_column": "v", **fields}
    )


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
    assert eurostat.include == {"reporter": ["EU27", "DEU"]}
    assert eurostat.label_columns == {"reporter": "reporter", "partner": "partner",
                                      "flow": "flow"}
    assert [r.name for r in config.rules] == ["yoy_consecutive_decline", "yoy_sharp_fall"]
    decline, sharp = config.rules
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


# --- misspelt and unknown keys ------------------------------------------------------------------


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


def test_unknown_key_in_a_source(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    colour: red\n")
    assert errors(path) == [f"{path}:6: sources[0].colour: unknown key 'colour' (did you mean 'columns'?)"]


def test_unknown_key_in_a_nested_model(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    replay: {start: 2020-01, pace: 1s}\n")
    assert errors(path) == [f"{path}:6: sources[0].replay.pace: unknown key 'pace'"]


def test_unknown_key_deep_in_the_routing_tree(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          route:
            receiver: console
            routes:
              - receiver: console
                matchs: {severity: critical}
    """)
    assert errors(path) == [
        f"{path}:6: notify.route.routes[0].matchs: unknown key 'matchs' (did you mean 'match'?)"]


def test_unknown_detector_parameter_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r0
            detector: {kind: threshold, direction: below, threshold: 1}
          - name: r1
            detector:
              kind: threshold
              direction: below
              threshhold: 1
    """)
    assert errors(path) == [
        f"{path}:5: rules[1].detector: threshold: unknown parameter(s) 'threshhold'; "
        f"known: {', '.join(sorted(f.name for f in dataclasses.fields(Threshold)))}"
    ]


def detector_error(kind: str, params: dict[str, object]) -> str:
    """The detector library's own message, which the config error must carry unchanged."""
    with pytest.raises(DetectorConfigError) as caught:
        build_detector(kind, params)
    return str(caught.value)


@pytest.mark.parametrize(
    ("detector", "message"),
    [
        ("{direction: below, threshold: 1}", "missing 'kind' (e.g. threshold, consecutive)"),
        ("{kind: nope}", f"unknown detector kind 'nope'; known kinds: {', '.join(sorted(DETECTORS))}"),
        ("{kind: consecutive, direction: below, threshold: 1}",
         "consecutive: missing parameter(s) 'count'"),
        ("{kind: threshold, direction: sideways, threshold: 1}",
         detector_error("threshold", {"direction": "sideways", "threshold": 1})),
        ("{kind: threshold, direction: below, threshold: low}",
         "threshold.threshold must be a number, got 'low'"),
        ("{kind: consecutive, direction: below, threshold: 1, count: 0}",
         "consecutive.count must be >= 1, got 0"),
    ],
)
def test_detector_errors(tmp_path: Path, detector: str, message: str) -> None:
    path = write(tmp_path, f"""
        rules:
          - name: r
            detector: {detector}
    """)
    assert errors(path) == [f"{path}:3: rules[0].detector: {message}"]


def test_unknown_transform(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            transform: {kind: cube}
            detector: {kind: threshold, direction: below, threshold: 1}
    """)
    assert errors(path) == [
        f"{path}:3: rules[0].transform.kind: unknown transform 'cube'; "
        f"known: {', '.join(sorted(TRANSFORMS))}"
    ]


# --- wrong values -----------------------------------------------------------------------------


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            for: many
            detector: {kind: threshold, direction: below, threshold: 1}
    """)
    assert errors(path) == [
        f"{path}:3: rules[0].for: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]


def test_for_must_be_positive(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            for: 0
            detector: {kind: threshold, direction: below, threshold: 1}
    """)
    assert errors(path) == [f"{path}:3: rules[0].for: Input should be greater than or equal to 1"]


def test_list_expected(tmp_path: Path) -> None:
    path = write(tmp_path, "rules: {a: 1}\n")
    assert errors(path) == [f"{path}:1: rules: Input should be a valid list"]


def test_selector_value_of_the_wrong_shape(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            select:
              partner: {code: CHN}
            detector: {kind: threshold, direction: below, threshold: 1}
    """)
    assert errors(path) == [
        f"{path}:4: rules[0].select.partner: Input should be a valid string",
        f"{path}:4: rules[0].select.partner: Input should be a valid list",
    ]


def test_bad_duration(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    timeout: 5 parsecs\n")
    assert errors(path) == [
        f"{path}:6: sources[0].timeout: invalid duration '5 parsecs': "
        "use a number and a unit, e.g. 30s, 5m, 1h, 1d"
    ]


def test_bad_cron_expression(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + '    schedule: {cron: "61 * * * *"}\n')
    assert errors(path) == [
        f"{path}:6: sources[0].schedule: invalid cron expression '61 * * * *': "
        "Error validating expression '61': the last value (61) is higher than the maximum "
        "value (59)"
    ]


def test_cron_with_too_few_fields(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + '    schedule: {cron: "0 6"}\n')
    (problem,) = errors(path)
    assert problem.startswith(f"{path}:6: sources[0].schedule: invalid cron expression '0 6': ")


@pytest.mark.parametrize("start", ["2014-13", "someday", "null", "true"])
def test_bad_replay_start(tmp_path: Path, start: str) -> None:
    path = write(tmp_path, SOURCE + f"    replay: {{start: {start}}}\n")
    shown = {"null": "None", "true": "True"}.get(start, repr(start))
    assert errors(path) == [
        f"{path}:6: sources[0].replay.start: invalid period {shown}: "
        "use YYYY-MM, YYYY-Qn or YYYY"
    ]


@pytest.mark.parametrize(
    ("start", "expected"),
    [("2014-09", "2014-09"), ("2014Q3", "2014Q3"), ("2014", "2014"), ("2014-09-01", "2014-09-01")],
)
def test_replay_start_as_written_unquoted(tmp_path: Path, start: str, expected: str) -> None:
    path = write(tmp_path, SOURCE + f"    replay: {{start: {start}, every: 2s}}\n")
    replay = load_config(path, env={}).config.sources[0].replay
    assert replay == Replay(start=expected, every=timedelta(seconds=2))


def test_missing_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
            kind: file
            value_column: v
    """)
    assert errors(path) == [f"{path}:2: sources[0].path: Field required"]


def test_missing_required_key_in_a_nested_model(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    replay: {every: 5s}\n")
    assert errors(path) == [f"{path}:6: sources[0].replay.start: Field required"]


@pytest.mark.parametrize(
    "shape", ["    columns: {x: {flow: export}}\n", ""], ids=["both", "neither"]
)
def test_exactly_one_of_value_column_and_columns(tmp_path: Path, shape: str) -> None:
    body = SOURCE if shape else SOURCE.replace("    value_column: v\n", "")
    path = write(tmp_path, body + shape)
    assert errors(path) == [
        f"{path}:2: sources[0]: give exactly one of 'value_column' (long file) "
        "or 'columns' (wide file)"
    ]


def test_unknown_source_kind(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE.replace("kind: file", "kind: sql"))
    assert errors(path) == [
        f"{path}:3: sources[0].kind: unknown kind 'sql'; known: file, comtrade, sdmx, http_json"
    ]


def test_missing_source_kind(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE.replace("    kind: file\n", ""))
    assert errors(path) == [
        f"{path}:2: sources[0].kind: Field required"
    ]


def test_error_inside_a_comtrade_source_names_file_line_and_path(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: kr_cn
            kind: comtrade
            reporter: 410
            partner: Atlantis
            flows: [X, Q]
            start: 2001-13
            retry: {attempts: 0}
    """)
    assert errors(path) == [
        f"{path}:5: sources[0].partner: unknown area 'Atlantis': use a UN Comtrade numeric code "
        "(e.g. 156 for China) or an ISO code it knows",
        f"{path}:6: sources[0].flows[1]: Input should be 'X', 'M', 'RX' or 'RM'",
        f"{path}:8: sources[0].retry.attempts: Input should be greater than or equal to 1",
    ]


def test_misspelt_key_in_an_sdmx_source_is_suggested(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: imf
            kind: sdmx
            provider: IMF_DATA
            dataflow: IMTS
            dimension: {reporter: REF_AREA}
    """)
    assert errors(path) == [
        f"{path}:6: sources[0].dimension: unknown key 'dimension' (did you mean 'dimensions'?)"
    ]


def test_bad_name(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE.replace("name: a", 'name: "a b"'))
    assert errors(path) == [
        f"{path}:2: sources[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$'"
    ]


def test_bad_listen_address(tmp_path: Path) -> None:
    path = write(tmp_path, "http: {listen: nowhere}\n")
    assert errors(path) == [
        f"{path}:1: http.listen: invalid listen address 'nowhere': "
        "use HOST:PORT, e.g. 127.0.0.1:9470"
    ]


def test_receiver_needs_exactly_one_kind(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          receivers:
            - name: x
              console: {}
              webhook: {url: "http://127.0.0.1:1/hook"}
          route: {receiver: x}
    """)
    assert errors(path) == [
        f"{path}:3: notify.receivers[0]: give exactly one receiver kind: console, webhook, slack, "
        "slack_webhook or alertmanager (got console and webhook)"
    ]


# --- ${VAR} -----------------------------------------------------------------------------------


WEBHOOK = """
notify:
  receivers:
    - name: hook
      webhook:
        url: "https://hooks.slack.example/${SLACK_TOKEN}"
        timeout: ${HOOK_TIMEOUT:-3s}
  route: {receiver: hook}
"""


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
        "use HOST:PORT, e.g. 127.0.0.1:9470",
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


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    loaded = load_config(path, env={})
    config = loaded.config
    assert config.sources == [] and config.rules == []
    assert [r.name for r in config.notify.receivers] == ["console"]
    assert config.notify.route.receiver == "console"
    assert config.http.listen == "127.0.0.1:9470"
    assert loaded.store_url == f"sqlite:///{tmp_path.resolve() / 'tradewatch.db'}"
    assert loaded.sha256 == hashlib.sha256(b"").hexdigest()


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


# --- parse_duration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5s", 5), ("5m", 300), ("1h", 3600), ("1d", 86400), ("250ms", 0.25), ("1.5h", 5400),
        (" 2 h ", 7200), ("0s", 0), (30, 30), (1.5, 1.5), (timedelta(minutes=2), 120),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["5 parsecs", "", "5", "s", "-5s", "5S", "1w", True, None, [5]])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == (
        f"invalid duration {value!r}: use a number and a unit, e.g. 30s, 5m, 1h, 1d"
    )


# --- models on their own ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give exactly one of 'every' or 'cron'"),
        ({"every": "1m", "cron": "* * * * *"}, "give exactly one of 'every' or 'cron'"),
        ({"every": "500ms"}, "'every' must be at least 1s"),
    ],
)
def test_schedule_rejects(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Schedule.model_validate(fields)
    assert caught.value.errors()[0]["msg"] == f"Value error, {message}"


def test_schedule_accepts() -> None:
    assert Schedule.model_validate({"every": "1s"}).every == timedelta(seconds=1)
    assert Schedule.model_validate({"cron": "0 6 * * 1-5"}).cron == "0 6 * * 1-5"


def test_poll_schedule() -> None:
    plain = source(schedule={"cron": "0 6 * * *"})
    assert plain.poll_schedule == Schedule(cron="0 6 * * *")
    replaying = source(schedule={"cron": "0 6 * * *"}, replay={"start": "2020-01", "every": "2s"})
    assert replaying.poll_schedule == Schedule(every=timedelta(seconds=2))
    default_pace = source(replay={"start": "2020-01"})
    assert default_pace.poll_schedule == Schedule(every=timedelta(seconds=5))


def test_file_source_defaults() -> None:
    config = source()
    assert config.format is None
    assert config.frequency == "M"
    assert config.period_column == "period"
    assert config.separator == ","
    assert config.thousands is None
    assert config.timeout == timedelta(seconds=30)
    assert config.schedule == Schedule(every=timedelta(hours=1))
    assert config.replay is None
    assert config.labels == {} and config.label_columns == {} and config.include == {}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"reporter": "RUS", "partner": "CHN", "flow": "import"}, True),
        ({"reporter": "RUS", "partner": "DEU", "flow": "import"}, True),
        ({"reporter": "RUS", "partner": "USA", "flow": "import"}, False),
        ({"reporter": "RUS", "partner": "CHN", "flow": "export"}, False),
        ({"reporter": "CHN", "partner": "CHN", "flow": "import"}, False),
        ({"partner": "CHN", "flow": "import"}, False),
        ({}, False),
    ],
)
def test_rule_matches(labels: dict[str, str], expected: bool) -> None:
    rule = Rule.model_validate({
        "name": "r",
        "select": {"reporter": "RUS", "partner": ["CHN", "DEU"], "flow": "import"},
        "detector": {"kind": "threshold", "direction": "below", "threshold": 0},
    })
    assert rule.matches(labels) is expected


def test_empty_selector_matches_everything() -> None:
    rule = Rule.model_validate(
        {"name": "r", "detector": {"kind": "threshold", "direction": "below", "threshold": 0}}
    )
    assert rule.matches({}) is True
    assert rule.matches({"reporter": "RUS"}) is True


def test_rule_aliases() -> None:
    rule = Rule.model_validate({
        "name": "r", "for": 3,
        "detector": {"kind": "threshold", "direction": "below", "threshold": 0},
    })
    assert rule.for_ == 3
    assert rule.severity == "warning"
    assert rule.transform.kind == "level"


def test_resolve_and_store_url(tmp_path: Path) -> None:
    path = write(tmp_path, "store: {path: ../var/x.db}\n", name="c.yaml")
    loaded = load_config(path, env={})
    assert loaded.resolve("data/a.csv") == str(tmp_path.resolve() / "data" / "a.csv")
    assert loaded.resolve("/abs/a.csv") == "/abs/a.csv"
    assert loaded.resolve("https://example.org/a.csv") == "https://example.org/a.csv"
    assert loaded.resolve("demo://a.csv") == "demo://a.csv"
    assert loaded.store_url == f"sqlite:///{tmp_path.resolve().parent / 'var' / 'x.db'}"


def test_store_url_given_explicitly(tmp_path: Path) -> None:
    url = "postgresql+psycopg://tw@db.internal/tradewatch"
    path = write(tmp_path, f"store: {{path: ignored.db, url: '{url}'}}\n")
    assert load_config(path, env={}).store_url == url


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:9470", ("127.0.0.1", 9470)), ("0.0.0.0:0", ("0.0.0.0", 0)),
     ("[::1]:80", ("[::1]", 80)), ("localhost:65535", ("localhost", 65535))],
)
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["nowhere", ":80", "host:", "host:http", "host:65536"])
def test_parse_listen_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="invalid listen address"):
        parse_listen(value)


# --- the command line ---------------------------------------------------------------------------


def run_check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "check", "--config", str(config)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )


def test_cli_check_accepts_the_demo() -> None:
    result = run_check(DEMO)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{DEMO}: ok (2 sources, 2 rules, 1 receivers)\n"


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


def test_transform_parameters_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            transform: {kind: share}
            detector: {kind: threshold, direction: below, threshold: 1}
          - name: s
            transform: {kind: level, window: 3}
            detector: {kind: threshold, direction: below, threshold: 1}
    """)
    assert errors(path) == [
        f"{path}:3: rules[0].transform: share: missing parameter(s) 'parent'",
        f"{path}:6: rules[1].transform: level: unknown parameter(s) 'window'; level takes no parameters",
    ]
