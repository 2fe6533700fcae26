"""The revision detector: two vintages of a panel in, one finding per revised series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from detectors import DetectorConfigError, Revision, build_detector


def panels() -> tuple[pd.DataFrame, pd.DataFrame]:
    index = pd.period_range("2014-01", "2015-04", freq="M")
    before = pd.DataFrame({"a": np.arange(100.0, 116.0), "b": np.full(16, 50.0)}, index=index)
    after = before.copy()
    after.loc[pd.Period("2015-03", "M"), "a"] = 90.0  # YoY +11.8% -> -11.8%
    after.loc[pd.Period("2014-06", "M"), "b"] = 50.2  # tiny
    return before, after


def test_flags_the_largest_revision_of_each_series_in_the_rules_transform() -> None:
    before, after = panels()
    copies = before.copy(), after.copy()
    findings = Revision(threshold=1.0).find(before, after, rule="rev", transform="yoy_pct",
                                            severity="info", subjects={"a": "A's imports"})
    assert [(f.series, f.details["break_period"], f.kind) for f in findings] == [("a", "2015-03", "event")]
    assert findings[0].summary == "A's imports: March 2015 was revised from +11.8% to -11.8% YoY."
    assert findings[0].period == pd.Period("2015-04", "M")  # the series' newest period
    pd.testing.assert_frame_equal(before, copies[0])
    pd.testing.assert_frame_equal(after, copies[1])


def test_levels_threshold_and_new_periods() -> None:
    before, after = panels()
    level = Revision(threshold=0.1).find(before, after, rule="rev", transform="level", severity="info")
    assert [(f.series, f.details["break_period"]) for f in level] == [("a", "2015-03"), ("b", "2014-06")]
    assert level[1].summary == "b: June 2014 was revised from 50 to 50.2."
    grown = pd.concat([after, pd.DataFrame({"a": [1.0], "b": [1.0]},
                                           index=pd.PeriodIndex(["2015-05"], freq="M"))])
    new_only = Revision().find(after, grown, rule="rev", transform="level", severity="info")
    assert new_only == []  # a new period is a release, not a revision


def test_parameters_are_checked_and_scan_is_refused() -> None:
    with pytest.raises(DetectorConfigError, match=r"revision\.threshold must be >= 0"):
        build_detector("revision", {"threshold": -1})
    with pytest.raises(TypeError, match="compares two vintages"):
        Revision().scan(panels()[0])


@pytest.mark.parametrize(("min_level", "min_change", "found"), [
    (None, None, ["a", "b"]),
    (60.0, None, ["a"]),  # b's level (50) is below: its revision is not a finding
    (None, 1.0, ["a"]),  # b's level moved by 0.2, a's by 24
    (None, 25.0, []),  # nor a's
    (120.0, None, []),  # a's trailing mean in March 2015 is 107.5
])
def test_guards_hold_revisions_of_small_flows_and_small_revisions(
        min_level: float | None, min_change: float | None, found: list[str]) -> None:
    from detectors.guards import Materiality

    before, after = panels()
    findings = Revision(threshold=0.1).find(before, after, rule="rev", transform="level", severity="info",
                                            materiality=Materiality(min_level, min_change))
    assert [f.series for f in findings] == found
