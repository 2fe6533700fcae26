from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

from detectors import KINDS, DetectorConfigError, Needs, Staleness, Threshold, build_detector, evaluate

PanelFactory = Callable[..., pd.DataFrame]
IMPORTS = "ru_imports_from_cn_musd"


@pytest.mark.parametrize(
    ("freq", "params", "now", "expected"),
    [
        ("M", {}, date(2025, 9, 25), "2025-08"),  # 2025-08 was due on 2025-09-20
        ("M", {}, date(2025, 9, 20), "2025-07"),  # due today: not late yet
        ("M", {}, date(2025, 9, 21), "2025-08"),
        ("M", {"grace_days": 3}, date(2025, 9, 23), "2025-07"),
        ("M", {"grace_days": 3}, date(2025, 9, 24), "2025-08"),
        ("M", {"lag": 2, "day": 15}, date(2025, 9, 16), "2025-07"),
        ("M", {"day": 31}, date(2024, 2, 29), "2023-12"),  # January's due date is 29 February
        ("M", {"day": 31}, date(2024, 3, 1), "2024-01"),
        ("M", {"grace_days": 60}, date(2025, 9, 25), "2025-06"),
        ("Q", {}, date(2025, 9, 25), "2025Q2"),  # 2025Q2 was due on 2025-09-20
        ("Q", {}, date(2025, 9, 20), "2025Q1"),
        ("Q", {"lag": 2, "day": 1}, date(2026, 1, 2), "2025Q2"),
        ("Y", {}, date(2025, 9, 25), "2023"),  # 2024 is due on 2025-12-20
        ("Y", {}, date(2025, 12, 21), "2024"),
        ("M", {}, datetime(2025, 9, 21, 0, 30, tzinfo=UTC), "2025-08"),
        ("M", {}, datetime(2025, 9, 20, 23, 59), "2025-07"),
    ],
)
def test_expected_period(freq: str, params: dict[str, int], now: date, expected: str) -> None:
    assert str(Staleness(**params).expected_period(now, freq)) == expected


def test_due_dates() -> None:
    detector = Staleness()
    assert detector.due_date(pd.Period("2025-07", "M")) == date(2025, 8, 20)
    assert detector.due_date(pd.Period("2025Q2", "Q")) == date(2025, 9, 20)
    assert detector.due_date(pd.Period("2024", "Y")) == date(2025, 12, 20)
    assert Staleness(lag=2, day=31).due_date(pd.Period("2023-12", "M")) == date(2024, 2, 29)


def test_scan_flags_each_late_series_at_its_newest_period(make_panel: PanelFactory) -> None:
    values = make_panel(
        "M",
        "2025-03",
        on_time=[1, 2, 3, 4, 5, 6],
        one_late=[1, 2, 3, 4, 5, None],
        three_late=[1, None, 3, None, None, None],
        empty=[None] * 6,
    )
    scan = Staleness().scan(values, now=date(2025, 9, 25))
    flagged = [(values.columns[j], str(values.index[i])) for i, j in zip(*np.nonzero(scan.mask), strict=True)]
    assert sorted(flagged) == [("one_late", "2025-07"), ("three_late", "2025-05")]
    assert scan.evidence["periods_late"][0].tolist() == [0, 1, 3, 0]
    assert scan.evidence["expected_period"][0, 0] == "2025-08"
    assert scan.evidence["due_date"][0, 0] == "2025-09-20"
    assert np.isnan(scan.reference).all()


def test_early_release_and_a_panel_ending_before_the_expected_period(make_panel: PanelFactory) -> None:
    values = make_panel("Q", "2024Q3", early=[1, 2, 3, 4], short=[1, 2, None, None])
    detector = Staleness()
    # On 2025-05-01 the newest overdue quarter is 2024Q4 (due 2025-03-20): 2025Q2 is early.
    assert not detector.mask(values, now=date(2025, 5, 1)).to_numpy().any()
    mask = detector.mask(values, now=date(2025, 9, 21))
    assert mask["short"].tolist() == [False, True, False, False]
    assert mask["early"].tolist() == [False] * 4


def _summaries(panel: pd.DataFrame, now: date, **kw: Any) -> list[str]:
    findings = evaluate(
        panel,
        rule="late",
        transform="level",
        detector=Staleness(**kw),
        severity="warning",
        subjects={"s": "Russia's imports from China"},
        now=now,
    )
    return [f.summary for f in findings]


def test_summaries(make_panel: PanelFactory) -> None:
    monthly = make_panel("M", "2025-05", s=[1, 2, 3])
    assert _summaries(monthly, date(2025, 9, 25)) == [
        "Russia's imports from China has no data for August 2025, due 2025-09-20; the newest is July 2025."
    ]
    assert _summaries(monthly.iloc[:1], date(2025, 9, 25)) == [
        "Russia's imports from China has no data for June 2025 to August 2025 (3 months), the last due "
        "2025-09-20; the newest is May 2025."
    ]
    quarterly = make_panel("Q", "2024Q4", s=[1])
    assert _summaries(quarterly, date(2025, 9, 25)) == [
        "Russia's imports from China has no data for Q1 2025 to Q2 2025 (2 quarters), the last due "
        "2025-09-20; the newest is Q4 2024."
    ]
    annual = make_panel("Y", "2022", s=[1])
    assert _summaries(annual, date(2025, 9, 25), lag=1, day=1) == [
        "Russia's imports from China has no data for 2023, due 2024-12-01; the newest is 2022."
    ]
    assert _summaries(monthly, date(2025, 9, 20)) == []


def test_finding_details(make_panel: PanelFactory) -> None:
    (finding,) = evaluate(
        make_panel("M", "2025-05", s=[1, 2, 3]),
        rule="late",
        transform="level",
        detector=Staleness(grace_days=2),
        severity="warning",
        now=datetime(2025, 9, 25, tzinfo=timezone(timedelta(hours=-5))),
    )
    assert finding.kind == "condition"
    assert finding.period == pd.Period("2025-07", "M")
    assert finding.value == 3.0
    assert dict(finding.details) == {
        "transform": "level",
        "lag": 1,
        "day": 20,
        "grace_days": 2,
        "expected_period": "2025-08",
        "periods_late": 1,
        "due_date": "2025-09-20",
        "held_for": 1,
    }


def test_on_the_real_panel(rc_panel: pd.DataFrame) -> None:
    findings = evaluate(
        rc_panel,
        rule="late",
        transform="level",
        detector=build_detector("staleness", {"lag": 1, "day": 20}),
        severity="warning",
        subjects={IMPORTS: "Russia's imports from China"},
        now=date(2022, 3, 1),
    )
    assert len(findings) == 3
    (imports,) = [f for f in findings if f.series == IMPORTS]
    assert imports.summary == (
        "Russia's imports from China has no data for January 2022, due 2022-02-20; "
        "the newest is December 2021."
    )
    assert evaluate(
        rc_panel, rule="late", transform="level", detector=Staleness(), severity="w", now=date(2022, 2, 20)
    ) == []


def test_now_is_required_and_reaches_only_clocked_detectors(make_panel: PanelFactory) -> None:
    panel = make_panel("M", "2025-05", s=[1, 2, 3])
    with pytest.raises(ValueError, match="detector 'staleness' needs `now`"):
        evaluate(panel, rule="r", transform="level", detector=Staleness(), severity="w")
    with pytest.raises(ValueError, match="staleness needs `now`"):
        Staleness().scan(panel)
    findings = evaluate(
        panel, rule="r", transform="level", detector=Threshold("above", 2), severity="w", now=date(2030, 1, 1)
    )
    assert [str(f.period) for f in findings] == ["2025-07"]
    assert KINDS["staleness"].needs == {Needs.CLOCK} and not KINDS["threshold"].needs


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lag": 0}, "staleness.lag must be >= 1, got 0"),
        ({"day": 0}, "staleness.day must be >= 1, got 0"),
        ({"day": 32}, "staleness.day must be <= 31, got 32"),
        ({"grace_days": -1}, "staleness.grace_days must be >= 0, got -1"),
        ({"grace_days": 1.5}, "staleness.grace_days must be an integer, got 1.5"),
        ({"due": 20}, "staleness: unknown parameter(s) 'due'; known: day, grace_days, lag"),
    ],
)
def test_invalid_parameters_are_named(params: dict[str, Any], message: str) -> None:
    with pytest.raises(DetectorConfigError) as caught:
        build_detector("staleness", params)
    assert str(caught.value) == message


def test_params_and_defaults() -> None:
    assert build_detector("staleness", {}) == Staleness(lag=1, day=20, grace_days=0)
    assert Staleness(lag=2).params() == {"lag": 2, "day": 20, "grace_days": 0}


def test_staleness_does_not_mutate_its_input(make_panel: PanelFactory) -> None:
    values = make_panel("M", "2025-03", a=[1, 2, None, 4], b=[None, 2, 3, None])
    before = values.copy(deep=True)
    Staleness().scan(values, now=date(2025, 9, 25))
    Staleness().mask(values, now=date(2025, 9, 25))
    pd.testing.assert_frame_equal(values, before)
