"""Exact summary sentences, end to end through evaluate, for every wording branch."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from detectors import Consecutive, Threshold, evaluate


def _summary(
    freq: str, start: str, values: list, detector: Any, transform: str, **params: Any
) -> str:
    index = pd.period_range(start, periods=len(values), freq=freq)
    panel = pd.DataFrame({"s": [math.nan if v is None else float(v) for v in values]}, index)
    (finding,) = evaluate(
        panel,
        rule="r",
        transform=transform,
        detector=detector,
        severity="warning",
        subjects={"s": "Exports"},
        transform_params=params,
    )
    return finding.summary


@pytest.mark.parametrize(
    ("freq", "start", "values", "detector", "transform", "sentence"),
    [
        (
            "M",
            "2014-01",
            [100] * 12 + [100, 111, 115, 112],
            Consecutive("above", 10, 3),
            "yoy_pct",
            "Exports rose 12.0% YoY in April 2015, the 3rd consecutive monthly rise above +10%.",
        ),
        (
            "M",
            "2014-11",
            [4100, 3900, 3800, 3700, 3456.14],
            Consecutive("below", 4000, 4),
            "level",
            "Exports stood at 3,456.1 in March 2015, the 4th consecutive month below 4,000.",
        ),
        (
            "Q",
            "2014Q3",
            [10, 5000, 5200.5],
            Consecutive("above", 4999.5, 2),
            "level",
            "Exports stood at 5,200.5 in Q1 2015, the 2nd consecutive quarter above 4,999.5.",
        ),
        (
            "Y",
            "2012",
            [100, 90, 80, 70],
            Consecutive("above", 50, 3),
            "level",
            "Exports stood at 70 in 2015, the 4th consecutive year above 50.",
        ),
        (
            "Q",
            "2014Q2",
            [100, 97, 94.09, 91.2673],
            Consecutive("below", -2.5, 3),
            "mom_pct",
            "Exports fell 3.0% QoQ in Q1 2015, the 3rd consecutive quarterly decline below -2.5%.",
        ),
        (
            "Y",
            "2011",
            [100, 80, 70, 63, 56.7],
            Consecutive("below", -5, 4),
            "yoy_pct",
            "Exports fell 10.0% YoY in 2015, the 4th consecutive annual decline below -5%.",
        ),
        (
            "M",
            "2014-01",
            [100] * 12 + [101, 102],
            Consecutive("below", 5, 2),
            "yoy_pct",
            "Exports rose 2.0% YoY in February 2015, the 2nd consecutive month below +5%.",
        ),
        (
            "M",
            "2014-01",
            [100] * 12 + [110, 115],
            Threshold("above", 10),
            "yoy_pct",
            "Exports rose 15.0% YoY in February 2015, above the +10% threshold.",
        ),
        (
            "M",
            "2014-01",
            [100] * 12 + [102],
            Threshold("below", 5),
            "yoy_pct",
            "Exports rose 2.0% YoY in January 2015, below the +5% threshold.",
        ),
        (
            "M",
            "2014-01",
            [100] * 12 + [100],
            Threshold("below", 2.5),
            "yoy_pct",
            "Exports showed no change YoY in January 2015, below the +2.5% threshold.",
        ),
        (
            "M",
            "2014-01",
            [100] * 12 + [79.7],
            Threshold("below", -20),
            "yoy_pct",
            "Exports fell 20.3% YoY in January 2015, below the -20% threshold.",
        ),
        (
            "M",
            "2014-12",
            [3456.1],
            Threshold("above", 3000),
            "level",
            "Exports stood at 3,456.1 in December 2014, above the 3,000 threshold.",
        ),
        (
            "Q",
            "2015Q1",
            [1234567.89],
            Threshold("above", 1e6),
            "level",
            "Exports stood at 1,234,567.9 in Q1 2015, above the 1,000,000 threshold.",
        ),
        (
            "M",
            "2015-01",
            [100, 88],
            Threshold("below", -10),
            "mom_pct",
            "Exports fell 12.0% MoM in February 2015, below the -10% threshold.",
        ),
    ],
)
def test_summary_sentences(
    freq: str, start: str, values: list, detector: Any, transform: str, sentence: str
) -> None:
    assert _summary(freq, start, values, detector, transform) == sentence


@pytest.mark.parametrize(
    ("freq", "start", "values", "detector", "transform", "sentence"),
    [
        (
            "M",
            "2014-01",
            [100] * 12 + [100, 88],
            Threshold("outside", lower=-10, upper=10),
            "yoy_pct",
            "Exports fell 12.0% YoY in February 2015, outside the -10% to +10% band.",
        ),
        (
            "Q",
            "2015Q1",
            [5000, 100],
            Threshold("outside", lower=1000, upper=4000),
            "level",
            "Exports stood at 100 in Q2 2015, outside the 1,000 to 4,000 band.",
        ),
        (
            "M",
            "2014-01",
            [100] * 12 + [94, 100, 93, 90, 100, 94],
            Consecutive("below", -5, 4, window=6),
            "yoy_pct",
            "Exports fell 6.0% YoY in June 2015, the 4th decline below -5% in the last 6 months.",
        ),
        (
            "M",
            "2014-01",
            [100] * 12 + [94, 93, 90, 94, 100],
            Consecutive("below", -5, 4, window=6),
            "yoy_pct",
            "Exports showed no change YoY in May 2015; 4 of the last 6 months were below -5%.",
        ),
        (
            "M",
            "2014-01",
            [100] * 11 + [0] + [94, 93, 90, 94] + [100] * 7 + [50],
            Consecutive("below", -5, 4, window=12),
            "yoy_pct",
            "Exports has no value for December 2015; 4 of the last 12 months were below -5%.",
        ),
        (
            "Q",
            "2014Q1",
            [5000, 100, 5000, 5000],
            Consecutive("above", 4999.5, 3, window=4),
            "level",
            "Exports stood at 5,000 in Q4 2014, the 3rd quarter above 4,999.5 in the last 4 quarters.",
        ),
        (
            "Y",
            "2010",
            [60, 40, 70, 80],
            Consecutive("above", 50, 3, window=4),
            "level",
            "Exports stood at 80 in 2013, the 3rd year above 50 in the last 4 years.",
        ),
        (
            "M",
            "2015-01",
            [1000, 879.5],
            Threshold("below", -100),
            "diff",
            "Exports fell 120.5 MoM in February 2015, below the -100 threshold.",
        ),
        (
            "Q",
            "2015Q1",
            [1000, 800, 600],
            Consecutive("below", -100, 2),
            "diff",
            "Exports fell 200 QoQ in Q3 2015, the 2nd consecutive quarterly decline below -100.",
        ),
        (
            "M",
            "2015-01",
            [100, 200],
            Threshold("above", 250),
            "ytd_sum",
            "Exports stood at 300 (year to date) in February 2015, above the 250 threshold.",
        ),
    ],
)
def test_summary_sentences_for_bands_windows_and_new_transforms(
    freq: str, start: str, values: list, detector: Any, transform: str, sentence: str
) -> None:
    assert _summary(freq, start, values, detector, transform) == sentence


def test_summary_uses_transform_parameters() -> None:
    sentence = _summary("M", "2015-01", [1000] * 3, Threshold("above", 2500), "rolling_sum", window=3)
    assert sentence == "Exports stood at 3,000 (3-month sum) in March 2015, above the 2,500 threshold."


def test_share_summary() -> None:
    index = pd.period_range("2015-01", periods=2, freq="M")
    panel = pd.DataFrame({"world": [1000.0, 1000.0], "china": [150.0, 123.4]}, index)
    findings = evaluate(
        panel,
        rule="r",
        transform="share",
        transform_params={"parent": "world"},
        detector=Threshold("below", 15),
        severity="warning",
        subjects={"china": "Exports to China"},
    )
    assert [f.summary for f in findings] == [
        "Exports to China stood at 12.3% of the total in February 2015, below the 15% threshold."
    ]
