"""Source models: schedules, replay, kinds and their fields, located errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.config import Replay, Schedule, load_config
from monitor.periods import PERIOD_HINT
from tests.monitor.config.support import SOURCE, errors, source, write

# --- in a file --------------------------------------------------------------------------------


def test_unknown_key_in_a_source(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    colour: red\n")
    assert errors(path) == [f"{path}:6: sources[0].colour: unknown key 'colour' (did you mean 'columns'?)"]


def test_unknown_key_in_a_nested_model(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    replay: {start: 2020-01, pace: 1s}\n")
    assert errors(path) == [f"{path}:6: sources[0].replay.pace: unknown key 'pace'"]


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
        f"{path}:6: sources[0].replay.start: invalid period {shown}: {PERIOD_HINT}"
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
