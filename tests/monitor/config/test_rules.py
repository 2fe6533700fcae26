"""Rule models: detectors and transforms checked at load time, selectors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from detectors import DETECTORS, TRANSFORMS, DetectorConfigError, Threshold, build_detector
from monitor.config import Rule
from tests.monitor.config.support import errors, write

# --- in a file --------------------------------------------------------------------------------


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


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            for: many
            detector: {kind: threshold, direction: below, threshold: 1}
    """)
    assert errors(path) == [
        f"{path}:3: rules[0].for: for counts periods (releases): a whole number such as for: 2"
    ]


def test_for_must_be_positive(tmp_path: Path) -> None:
    path = write(tmp_path, """
        rules:
          - name: r
            for: 0
            detector: {kind: threshold, direction: below, threshold: 1}
    """)
    assert errors(path) == [f"{path}:3: rules[0].for: Input should be greater than or equal to 1"]


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


# --- models on their own ----------------------------------------------------------------------


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
