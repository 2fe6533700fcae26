"""YAML loading with line numbers, ${VAR} interpolation and located problems."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from monitor.config.yamlfile import (
    ConfigError,
    ConfigProblem,
    LoadedYaml,
    dotted,
    load_yaml,
    problems_from_validation,
)


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_yaml(path, {} if env is None else env)
    return [str(p) for p in caught.value.problems]


# --- dotted and the problem's text ---------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        ((), ""),
        (("sources",), "sources"),
        (("rules", 0, "detector"), "rules[0].detector"),
        (("rules", 0, "detector", "kind"), "rules[0].detector.kind"),
        (("notify", "route", "routes", 1, "routes", 0, "receiver"),
         "notify.route.routes[1].routes[0].receiver"),
        (("a", 0, 3), "a[0][3]"),
        ((2, "x"), "[2].x"),
    ],
)
def test_dotted(loc: tuple[str | int, ...], expected: str) -> None:
    assert dotted(loc) == expected


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (ConfigProblem("c.yaml", 7, "rules[0].detectr", "unknown key 'detectr'"),
         "c.yaml:7: rules[0].detectr: unknown key 'detectr'"),
        (ConfigProblem("c.yaml", None, "", "cannot read config: No such file or directory"),
         "c.yaml: cannot read config: No such file or directory"),
        (ConfigProblem("c.yaml", 3, "", "invalid YAML: oops"), "c.yaml:3: invalid YAML: oops"),
        (ConfigProblem("c.yaml", None, "store.path", "bad"), "c.yaml: store.path: bad"),
    ],
)
def test_problem_text(problem: ConfigProblem, text: str) -> None:
    assert str(problem) == text


def test_config_error_carries_every_problem_and_lists_them_one_per_line() -> None:
    first = ConfigProblem("c.yaml", 1, "a", "one")
    second = ConfigProblem("c.yaml", 2, "b", "two")
    error = ConfigError([first, second])
    assert error.problems == [first, second]
    assert str(error) == "c.yaml:1: a: one\nc.yaml:2: b: two"


def test_problem_is_frozen() -> None:
    problem = ConfigProblem("c.yaml", 1, "a", "one")
    with pytest.raises(AttributeError):
        problem.line = 2  # type: ignore[misc]


# --- parsing and the line map ----------------------------------------------------------------


def test_data_and_lines(tmp_path: Path) -> None:
    path = write(tmp_path, """
        # header comment
        store:
          path: a.db
        sources:
          - name: a
            labels: {reporter: RUS}
          - name: b
            every: 5
        rules:
          - detector:
              kind: threshold
    """)
    loaded = load_yaml(path, {})
    assert loaded.file == str(path)
    assert loaded.data == {
        "store": {"path": "a.db"},
        "sources": [{"name": "a", "labels": {"reporter": "RUS"}}, {"name": "b", "every": 5}],
        "rules": [{"detector": {"kind": "threshold"}}],
    }
    assert dict(loaded.lines) == {
        (): 2,
        ("store",): 2,
        ("store", "path"): 3,
        ("sources",): 4,
        ("sources", 0): 5,
        ("sources", 0, "name"): 5,
        ("sources", 0, "labels"): 6,
        ("sources", 0, "labels", "reporter"): 6,
        ("sources", 1): 7,
        ("sources", 1, "name"): 7,
        ("sources", 1, "every"): 8,
        ("rules",): 9,
        ("rules", 0): 10,
        ("rules", 0, "detector"): 10,  # the key's line, not the line of its first child
        ("rules", 0, "detector", "kind"): 11,
    }


def test_line_of_falls_back_to_the_nearest_ancestor(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
            kind: file
    """)
    loaded = load_yaml(path, {})
    assert loaded.line_of(("sources", 0, "kind")) == 3
    assert loaded.line_of(("sources", 0, "path")) == 2  # missing key: its mapping's line
    assert loaded.line_of(("sources", 5, "path")) == 1
    assert loaded.line_of(("nothing", "here")) == 1
    assert loaded.line_of(()) == 1


def test_line_of_without_any_line_is_none() -> None:
    assert LoadedYaml({}, {}, "c.yaml").line_of(("a", "b")) is None


def test_scalars_keep_their_yaml_types(tmp_path: Path) -> None:
    path = write(tmp_path, """
        int: 5
        float: 1.5
        bool: true
        none: null
        text: "5"
        "7": seven
    """)
    assert load_yaml(path, {}).data == {
        "int": 5, "float": 1.5, "bool": True, "none": None, "text": "5", "7": "seven",
    }


def test_anchors_and_aliases_are_followed(tmp_path: Path) -> None:
    path = write(tmp_path, """
        base: &labels {team: policy}
        rule: {labels: *labels}
    """)
    assert load_yaml(path, {}).data == {
        "base": {"team": "policy"}, "rule": {"labels": {"team": "policy"}},
    }


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file_is_an_empty_mapping(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_yaml(path, {})
    assert loaded.data == {}
    assert dict(loaded.lines) == {}


def test_top_level_list_is_returned_as_is(tmp_path: Path) -> None:
    path = write(tmp_path, """
        - a
        - b
    """)
    loaded = load_yaml(path, {})
    assert loaded.data == ["a", "b"]
    assert loaded.lines[(1,)] == 2


# --- problems found while reading -------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert problems_of(path) == [f"{path}: cannot read config: No such file or directory"]


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: cannot read config: Is a directory"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b'store: {path: "\xe9t\xe9.db"}\n')
    assert problems_of(path) == [
        f"{path}: cannot read config: not UTF-8 text (invalid continuation byte at byte 15)"
    ]


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
           kind: file
    """)
    assert problems_of(path) == [
        f"{path}:3: invalid YAML: expected <block end>, but found '<block mapping start>'"
    ]


def test_unclosed_flow_sequence(tmp_path: Path) -> None:
    path = write(tmp_path, """
        store: {path: a.db}
        sources: [a, b
    """)
    assert problems_of(path) == [
        f"{path}:3: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_tab_indentation(tmp_path: Path) -> None:
    path = tmp_path / "tabs.yaml"
    path.write_text("store:\n\tpath: a.db\n", encoding="utf-8")
    assert problems_of(path) == [
        f"{path}:2: invalid YAML: found character '\\t' that cannot start any token"
    ]


def test_duplicate_keys_are_reported_at_the_second_occurrence(tmp_path: Path) -> None:
    path = write(tmp_path, """
        store:
          path: a.db
          path: b.db
        http: {listen: "127.0.0.1:1"}
        http: {listen: "127.0.0.1:2"}
    """)
    assert problems_of(path) == [
        f"{path}:3: store.path: duplicate key",
        f"{path}:5: http: duplicate key",
    ]


def test_duplicate_key_inside_a_list_item(tmp_path: Path) -> None:
    path = write(tmp_path, """
        sources:
          - name: a
          - name: b
            name: c
    """)
    assert problems_of(path) == [f"{path}:4: sources[1].name: duplicate key"]


def test_unknown_tag_is_a_located_problem(tmp_path: Path) -> None:
    path = write(tmp_path, """
        store:
          path: !env DB_PATH
    """)
    assert problems_of(path) == [
        f"{path}:2: store.path: invalid value: "
        "could not determine a constructor for the tag '!env'"
    ]


def test_impossible_date_is_a_located_problem(tmp_path: Path) -> None:
    path = write(tmp_path, """
        replay:
          start: 2014-02-30
    """)
    assert problems_of(path) == [
        f"{path}:2: replay.start: invalid value: day is out of range for month"
    ]


def test_non_scalar_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
        ? [a, b]
        : 1
    """)
    assert problems_of(path) == [
        f"{path}:1: invalid YAML: expected a scalar node, but found sequence"
    ]


# --- ${VAR} interpolation ---------------------------------------------------------------------


def test_variables_are_replaced(tmp_path: Path) -> None:
    path = write(tmp_path, """
        url: "https://hooks.example/${TOKEN}"
        both: ${A}-${B}
        plain: no variables here
        dollar: $TOKEN stays
    """)
    data = load_yaml(path, {"TOKEN": "t0k", "A": "x", "B": "y"}).data
    assert data == {
        "url": "https://hooks.example/t0k",
        "both": "x-y",
        "plain": "no variables here",
        "dollar": "$TOKEN stays",
    }


def test_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, """
        unset: ${X:-fallback}
        set: ${Y:-fallback}
        empty_default: "[${Z:-}]"
        default_with_punctuation: ${URL:-http://127.0.0.1:9000/hook}
        empty_value: ${EMPTY:-fallback}
        empty_no_default: "[${EMPTY}]"
    """)
    data = load_yaml(path, {"Y": "given", "EMPTY": ""}).data
    assert data == {
        "unset": "fallback",
        "set": "given",
        "empty_default": "[]",
        "default_with_punctuation": "http://127.0.0.1:9000/hook",
        "empty_value": "fallback",
        "empty_no_default": "[]",
    }


def test_unset_variable_names_the_variable_the_line_and_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, """
        notify:
          receivers:
            - name: slack
              webhook:
                url: "https://hooks.slack.example/${SLACK_TOKEN}"
    """)
    assert problems_of(path) == [
        f"{path}:5: notify.receivers[0].webhook.url: environment variable SLACK_TOKEN is not set"
    ]


def test_every_unset_variable_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, """
        a: ${ONE}/${TWO}
        b:
          - ${THREE:-ok}
          - ${FOUR}
    """)
    assert problems_of(path) == [
        f"{path}:1: a: environment variable ONE is not set",
        f"{path}:1: a: environment variable TWO is not set",
        f"{path}:4: b[1]: environment variable FOUR is not set",
    ]


def test_interpolated_numbers_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path, "count: ${N:-3}\n")
    assert load_yaml(path, {}).data == {"count": "3"}


def test_process_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWATCH_TEST_SECRET", "s3cret")
    path = write(tmp_path, "token: ${TRADEWATCH_TEST_SECRET}\n")
    assert load_yaml(path).data == {"token": "s3cret"}
    assert load_yaml(path, {"TRADEWATCH_TEST_SECRET": "other"}).data == {"token": "other"}


def test_keys_and_non_text_values_are_not_interpolated(tmp_path: Path) -> None:
    path = write(tmp_path, """
        ${KEY}: 1
        n: 5
    """)
    assert load_yaml(path, {}).data == {"${KEY}": 1, "n": 5}


# --- pydantic errors mapped back to the file --------------------------------------------------


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int
    tags: dict[str, str | list[str]] = {}


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    items: list[_Inner] = []

    @field_validator("name")
    @classmethod
    def _short(cls, value: str) -> str:
        if len(value) > 3:
            raise ValueError(f"name {value!r} is longer than 3 characters")
        return value


def validation_problems(tmp_path: Path, text: str) -> list[str]:
    loaded = load_yaml(write(tmp_path, text), {})
    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(loaded.data)
    return [str(p) for p in problems_from_validation(caught.value, loaded)]


def test_validation_problems_are_located(tmp_path: Path) -> None:
    problems = validation_problems(tmp_path, """
        name: abcdef
        items:
          - count: 1
          - count: many
            colour: red
          - {}
        extra: 1
    """)
    file = tmp_path / "config.yaml"
    assert problems == [
        f"{file}:1: name: name 'abcdef' is longer than 3 characters",
        f"{file}:4: items[1].count: Input should be a valid integer, "
        "unable to parse string as an integer",
        f"{file}:5: items[1].colour: unknown key 'colour'",
        f"{file}:6: items[2].count: Field required",
        f"{file}:7: extra: unknown key 'extra'",
    ]


def test_union_member_names_are_not_part_of_the_path(tmp_path: Path) -> None:
    problems = validation_problems(tmp_path, """
        name: abc
        items:
          - count: 1
            tags:
              a: {x: 1}
              b: [1]
    """)
    file = tmp_path / "config.yaml"
    assert problems == [
        f"{file}:5: items[0].tags.a: Input should be a valid string",
        f"{file}:5: items[0].tags.a: Input should be a valid list",
        f"{file}:6: items[0].tags.b: Input should be a valid string",
        f"{file}:6: items[0].tags.b[0]: Input should be a valid string",
    ]


def test_missing_top_level_key(tmp_path: Path) -> None:
    problems = validation_problems(tmp_path, "items: []\n")
    assert problems == [f"{tmp_path / 'config.yaml'}:1: name: Field required"]


def test_wrong_shape_at_the_top(tmp_path: Path) -> None:
    loaded = load_yaml(write(tmp_path, "- 1\n"), {})
    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(loaded.data)
    problems: list[Any] = problems_from_validation(caught.value, loaded)
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'config.yaml'}:1: Input should be a valid dictionary or instance of _Outer"
    ]
