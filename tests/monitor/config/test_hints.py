"""The usual mistakes get the fix in the message: `for` counts periods, durations carry a
unit, HS codes are quoted text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.monitor.config.support import SOURCE, errors, write

RULE = """
rules:
  - name: r
    detector: {kind: threshold, direction: below, threshold: 1}
"""


@pytest.mark.parametrize(("line", "expected"), [
    ("for: 1m", "rules[0].for: for counts periods (releases), e.g. for: 2; durations like 1m are "
                "not accepted here"),
    ("keep_firing_for: 2 days", "rules[0].keep_firing_for: keep_firing_for counts periods (releases), "
                                "e.g. keep_firing_for: 2; durations like 2 days are not accepted here"),
    ("for: 1.5", "rules[0].for: for counts periods (releases): a whole number such as for: 2"),
])
def test_for_counts_periods(tmp_path: Path, line: str, expected: str) -> None:
    path = write(tmp_path, SOURCE + RULE + f"    {line}\n")
    assert errors(path) == [f"{path}:10: {expected}"]


def test_a_duration_without_unit_says_how_to_write_one(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    schedule: {every: 5 minutes}\n")
    (problem,) = errors(path)
    assert "use a number and a unit, e.g. 30s, 5m, 1h, 1d" in problem


def test_hs_code_as_a_number_is_told_to_quote_it(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "    labels: {commodity: 8456}\n")
    assert errors(path) == [
        f'{path}:6: sources[0].labels.commodity: HS codes are text: write commodity: "8456" in quotes '
        "(unquoted, a code such as 0101 loses its leading zero)"]
