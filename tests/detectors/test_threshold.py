from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import DETECTORS, Consecutive, DetectorConfigError, Threshold, build_detector
from detectors.base import run_lengths

PanelFactory = Callable[..., pd.DataFrame]


def _flagged(mask: pd.DataFrame, column: str) -> list[str]:
    return [str(p) for p in mask.index[mask[column].to_numpy()]]


def test_threshold_below_is_strict_and_skips_nan(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=[-6, -5, -4.99, None, -5.01, 0])
    mask = Threshold("below", -5).mask(values)
    assert mask.dtypes.tolist() == [np.dtype(bool)]
    assert _flagged(mask, "a") == ["2020-01", "2020-05"]


def test_threshold_above_is_strict(make_panel: PanelFactory) -> None:
    values = make_panel("Q", "2020Q1", a=[10, 10.5, None, 9, 11])
    assert _flagged(Threshold("above", 10).mask(values), "a") == ["2020Q2", "2021Q1"]


def test_mask_keeps_index_and_columns(make_panel: PanelFactory) -> None:
    values = make_panel("Y", "2010", b=[1, 2], a=[3, 4])
    mask = Consecutive("above", 0, 2).mask(values)
    pd.testing.assert_index_equal(mask.index, values.index)
    assert mask.columns.tolist() == ["b", "a"]


def test_consecutive_flags_exact_periods(make_panel: PanelFactory) -> None:
    # 2020-01 .. 2020-10; 2020-09 is a gap.
    a = [-6, -7, -8, 1, -6, -6, -6, -6, None, -9]
    values = make_panel("M", "2020-01", a=a)
    detector = Consecutive("below", -5, 3)
    assert _flagged(detector.mask(values), "a") == ["2020-03", "2020-07", "2020-08"]
    assert detector.run_lengths(values)["a"].tolist() == [1, 2, 3, 0, 1, 2, 3, 4, 0, 1]


def test_consecutive_nan_breaks_the_run(make_panel: PanelFactory) -> None:
    values = make_panel("Q", "2019Q1", a=[20, 20, None, 20, 20, 20])
    assert _flagged(Consecutive("above", 10, 3).mask(values), "a") == ["2020Q2"]


def test_consecutive_annual(make_panel: PanelFactory) -> None:
    values = make_panel("Y", "2010", a=[5, 5, 4, 5, 5])
    assert _flagged(Consecutive("above", 4, 2).mask(values), "a") == ["2011", "2014"]


def test_consecutive_count_one_equals_threshold(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=[1, None, -3, 4, -5], b=[-1, -2, None, 0, 0])
    pd.testing.assert_frame_equal(
        Consecutive("below", -0.5, 1).mask(values), Threshold("below", -0.5).mask(values)
    )


def test_run_lengths_reset_trick() -> None:
    flags = np.array([[1, 0, 1], [1, 1, 1], [0, 1, 1], [1, 1, 0]], dtype=bool)
    assert run_lengths(flags).tolist() == [[1, 0, 1], [2, 1, 2], [0, 2, 3], [1, 3, 0]]
    assert run_lengths(np.zeros((0, 2), dtype=bool)).shape == (0, 2)


@pytest.mark.parametrize("shape", [(240, 500), (3, 4), (12, 2), (1, 7), (0, 3)])
def test_run_lengths_down_columns_match_the_row_by_row_form(shape: tuple[int, int]) -> None:
    flags = np.random.default_rng(sum(shape)).random(shape) < 0.7
    by_rows = run_lengths(np.ascontiguousarray(flags))
    by_columns = run_lengths(np.asfortranarray(flags))
    expected = np.zeros(shape, dtype=np.int32)
    for r in range(shape[0]):
        expected[r] = np.where(flags[r], (expected[r - 1] if r else 0) + 1, 0)
    assert by_rows.dtype == by_columns.dtype == np.int32
    np.testing.assert_array_equal(by_rows, expected)
    np.testing.assert_array_equal(by_columns, expected)


def test_scan_evidence_and_reference(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=[-6, -6, 0])
    scan = Consecutive("below", -5, 2).scan(values)
    assert scan.mask[:, 0].tolist() == [False, True, False]
    assert scan.evidence["run"][:, 0].tolist() == [1, 2, 0]
    assert scan.reference.shape == (3, 1)
    assert (scan.reference == -5.0).all()
    assert Threshold("above", 1).scan(values).evidence == {}


def test_detectors_are_frozen_and_normalise_numbers() -> None:
    detector = Consecutive("below", -5, 2)
    assert isinstance(detector.threshold, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        detector.count = 3  # type: ignore[misc]
    assert Threshold("above", np.float32(2.5)).threshold == 2.5  # type: ignore[arg-type]
    assert Consecutive("above", 1.0, np.int64(3)).count == 3  # type: ignore[arg-type]
    assert Threshold.kind == "threshold"
    assert Consecutive.kind == "consecutive"


def test_params() -> None:
    assert Threshold("above", 1).params() == {"direction": "above", "threshold": 1.0}
    assert Consecutive("below", -5, 2).params() == {
        "direction": "below",
        "threshold": -5.0,
        "count": 2,
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Consecutive("below", -5, 0), "consecutive.count must be >= 1, got 0"),
        (
            lambda: Consecutive("below", -5, 2.0),  # type: ignore[arg-type]
            "consecutive.count must be an integer, got 2.0",
        ),
        (lambda: Consecutive("below", -5, True), "consecutive.count must be an integer, got True"),
        (
            lambda: Consecutive("down", -5, 2),  # type: ignore[arg-type]
            "consecutive.direction must be 'above' or 'below', got 'down'",
        ),
        (
            lambda: Threshold("below", "-5"),  # type: ignore[arg-type]
            "threshold.threshold must be a number, got '-5'",
        ),
        (lambda: Threshold("below", math.nan), "threshold.threshold must be finite, got nan"),
        (lambda: Threshold("above", math.inf), "threshold.threshold must be finite, got inf"),
        (lambda: Threshold("above", False), "threshold.threshold must be a number, got False"),
        (
            lambda: Threshold(None, 1),  # type: ignore[arg-type]
            "threshold.direction must be 'above', 'below' or 'outside', got None",
        ),
    ],
)
def test_invalid_parameters_are_named(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(DetectorConfigError) as caught:
        make()
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_registry() -> None:
    assert DETECTORS["threshold"] is Threshold
    assert DETECTORS["consecutive"] is Consecutive
    assert {"robust_z", "staleness"} <= set(DETECTORS)
    assert all(cls.kind == kind for kind, cls in DETECTORS.items())  # type: ignore[attr-defined]


def test_build_detector() -> None:
    detector = build_detector("consecutive", {"direction": "below", "threshold": -5, "count": 2})
    assert detector == Consecutive("below", -5.0, 2)
    assert build_detector("threshold", {"direction": "above", "threshold": 3}) == Threshold(
        "above", 3.0
    )


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        (
            "zscore",
            {},
            f"unknown detector kind 'zscore'; known kinds: {', '.join(sorted(DETECTORS))}",
        ),
        (
            "threshold",
            {"direction": "above", "threshold": 1, "count": 2, "window": 3},
            "threshold: unknown parameter(s) 'count', 'window'; known: direction, lower, threshold, upper",
        ),
        (
            "consecutive",
            {"direction": "above"},
            "consecutive: missing parameter(s) 'threshold', 'count'",
        ),
        (
            "consecutive",
            {"direction": "above", "threshold": 1, "count": "2"},
            "consecutive.count must be an integer, got '2'",
        ),
    ],
)
def test_build_detector_errors_name_the_problem(
    kind: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(DetectorConfigError) as caught:
        build_detector(kind, params)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "detector",
    [
        Threshold("below", 0),
        Threshold("outside", lower=-1, upper=2),
        Consecutive("above", 0, 2),
        Consecutive("above", 0, 2, window=3),
    ],
    ids=lambda d: f"{d.kind}-{d.params()}",
)
def test_detectors_do_not_mutate_their_input(make_panel: PanelFactory, detector: Any) -> None:
    values = make_panel("M", "2020-01", a=[1, -1, None, 2, 3], b=[None, -2, -3, 4, 4])
    before = values.copy(deep=True)
    detector.mask(values)
    detector.scan(values)
    if isinstance(detector, Consecutive):
        detector.run_lengths(values)
    pd.testing.assert_frame_equal(values, before)


def _naive_consecutive(column: list[float], direction: str, threshold: float, count: int) -> list:
    flags, run = [], 0
    for v in column:
        beyond = not math.isnan(v) and (v < threshold if direction == "below" else v > threshold)
        run = run + 1 if beyond else 0
        flags.append(run >= count)
    return flags


_cell = st.one_of(st.just(math.nan), st.integers(-10, 10).map(float), st.floats(-10, 10))


@settings(max_examples=100, deadline=None)
@given(
    columns=st.integers(0, 30).flatmap(
        lambda n_rows: st.lists(
            st.lists(_cell, min_size=n_rows, max_size=n_rows), min_size=1, max_size=4
        )
    ),
    direction=st.sampled_from(["above", "below"]),
    threshold=st.integers(-5, 5).map(float),
    count=st.integers(1, 5),
)
def test_consecutive_matches_a_plain_loop(
    make_panel: PanelFactory,
    columns: list[list[float]],
    direction: Any,
    threshold: float,
    count: int,
) -> None:
    values = make_panel("M", "2000-01", **{f"s{i}": col for i, col in enumerate(columns)})
    mask = Consecutive(direction, threshold, count).mask(values)
    for i, col in enumerate(columns):
        assert mask[f"s{i}"].tolist() == _naive_consecutive(col, direction, threshold, count)


# --- the outside band -----------------------------------------------------------------------


def test_outside_band_is_strict_and_skips_nan(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2020-01", a=[-10.01, -10, 0, None, 10, 10.5, -30])
    detector = Threshold("outside", lower=-10, upper=10)
    assert _flagged(detector.mask(values), "a") == ["2020-01", "2020-06", "2020-07"]
    scan = detector.scan(values)
    assert scan.reference[[0, 5, 6], 0].tolist() == [-10.0, 10.0, -10.0]
    assert scan.evidence == {}


def test_outside_band_quarterly_and_annual(make_panel: PanelFactory) -> None:
    quarterly = make_panel("Q", "2020Q1", a=[5, 0.5, 1.5, None, 3])
    detector = Threshold("outside", lower=1, upper=2.5)
    assert _flagged(detector.mask(quarterly), "a") == ["2020Q1", "2020Q2", "2021Q1"]
    annual = make_panel("Y", "2018", a=[1, 3, 2])
    assert _flagged(detector.mask(annual), "a") == ["2019"]


def test_outside_params_and_normalised_bounds() -> None:
    detector = build_detector("threshold", {"direction": "outside", "lower": -10, "upper": np.int64(10)})
    assert detector == Threshold("outside", lower=-10.0, upper=10.0)
    assert detector.params() == {"direction": "outside", "lower": -10.0, "upper": 10.0}
    assert isinstance(Threshold("outside", lower=-1, upper=1).upper, float)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"direction": "outside", "lower": -1}, "threshold: direction 'outside' needs parameter(s) 'upper'"),
        (
            {"direction": "outside"},
            "threshold: direction 'outside' needs parameter(s) 'lower', 'upper'",
        ),
        (
            {"direction": "outside", "lower": 1, "upper": 1},
            "threshold.lower must be below threshold.upper, got 1.0 and 1.0",
        ),
        (
            {"direction": "outside", "lower": -1, "upper": 1, "threshold": 0},
            "threshold.threshold does not apply to direction 'outside'; use lower and upper",
        ),
        (
            {"direction": "outside", "lower": "-1", "upper": 1},
            "threshold.lower must be a number, got '-1'",
        ),
        (
            {"direction": "below", "threshold": 1, "upper": 2},
            "threshold.upper only applies to direction 'outside'",
        ),
        ({"direction": "above"}, "threshold: missing parameter(s) 'threshold'"),
        (
            {"direction": "inside", "lower": -1, "upper": 1},
            "threshold.direction must be 'above', 'below' or 'outside', got 'inside'",
        ),
    ],
)
def test_band_parameters_are_checked(params: dict[str, Any], message: str) -> None:
    with pytest.raises(DetectorConfigError) as caught:
        build_detector("threshold", params)
    assert str(caught.value) == message


# --- N of the last M ------------------------------------------------------------------------


def test_n_of_m_flags_exact_periods(make_panel: PanelFactory) -> None:
    # 2020-01 .. 2020-10; 2020-06 is a gap (never counts as beyond).
    a = [-6, 1, -6, 1, -6, None, -7, 1, 1, 1]
    values = make_panel("M", "2020-01", a=a)
    detector = Consecutive("below", -5, 3, window=5)
    assert _flagged(detector.mask(values), "a") == ["2020-05", "2020-07"]
    assert detector.scan(values).evidence["hits"][:, 0].tolist() == [1, 1, 2, 2, 3, 2, 3, 2, 2, 1]


def test_n_of_m_quarterly_with_gaps(make_panel: PanelFactory) -> None:
    values = make_panel("Q", "2019Q1", a=[20, None, 20, 5, 20, None, None, 20])
    assert _flagged(Consecutive("above", 10, 2, window=3).mask(values), "a") == ["2019Q3", "2020Q1"]


def test_n_of_n_equals_n_consecutive(make_panel: PanelFactory) -> None:
    values = make_panel("Y", "2000", a=[5, 5, None, 5, 5, 5, 1, 5], b=[5] * 8)
    pd.testing.assert_frame_equal(
        Consecutive("above", 4, 3, window=3).mask(values), Consecutive("above", 4, 3).mask(values)
    )


def test_n_of_m_params_and_checks() -> None:
    detector = build_detector(
        "consecutive", {"direction": "below", "threshold": -5, "count": 4, "window": 6}
    )
    assert detector == Consecutive("below", -5.0, 4, window=6)
    assert detector.params() == {"direction": "below", "threshold": -5.0, "count": 4, "window": 6}
    with pytest.raises(DetectorConfigError) as caught:
        Consecutive("below", -5, 4, window=3)
    assert str(caught.value) == "consecutive.window must be >= count (4), got 3"
    with pytest.raises(DetectorConfigError) as caught:
        Consecutive("below", -5, 4, window=6.0)  # type: ignore[arg-type]
    assert str(caught.value) == "consecutive.window must be an integer, got 6.0"


def _naive_n_of_m(
    column: list[float], direction: str, threshold: float, count: int, window: int
) -> tuple[list[bool], list[int]]:
    flags, hits = [], []
    for t in range(len(column)):
        recent = column[max(0, t - window + 1) : t + 1]
        n = sum(
            1
            for v in recent
            if not math.isnan(v) and (v < threshold if direction == "below" else v > threshold)
        )
        hits.append(n)
        flags.append(n >= count)
    return flags, hits


@settings(max_examples=60, deadline=None)
@given(
    columns=st.integers(0, 30).flatmap(
        lambda n_rows: st.lists(
            st.lists(_cell, min_size=n_rows, max_size=n_rows), min_size=1, max_size=4
        )
    ),
    direction=st.sampled_from(["above", "below"]),
    threshold=st.integers(-5, 5).map(float),
    count_window=st.integers(1, 5).flatmap(lambda n: st.tuples(st.just(n), st.integers(n, 8))),
)
def test_n_of_m_matches_a_plain_loop(
    make_panel: PanelFactory,
    columns: list[list[float]],
    direction: Any,
    threshold: float,
    count_window: tuple[int, int],
) -> None:
    count, window = count_window
    values = make_panel("M", "2000-01", **{f"s{i}": col for i, col in enumerate(columns)})
    scan = Consecutive(direction, threshold, count, window=window).scan(values)
    for i, col in enumerate(columns):
        flags, hits = _naive_n_of_m(col, direction, threshold, count, window)
        assert scan.mask[:, i].tolist() == flags
        assert scan.evidence["hits"][:, i].tolist() == hits
