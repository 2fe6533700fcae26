"""tradewatch's routing against `amtool config routes` itself, on random trees and labels: the
receivers (one per matching route, repeats included) and the printed tree must be the same."""

from __future__ import annotations

import pytest

from tests.conftest import require_binary
from tests.monitor.notify.amtool_compare import compare


def _agree(trees: int, seed: int) -> None:
    report = compare(require_binary("amtool"), seed=seed, trees=trees)
    assert report.cases == trees * 11
    assert report.differences == []
    assert (report.agreed, report.shows_agreed) == (report.cases, report.shows)


def test_a_few_random_trees_route_as_amtool_says() -> None:
    _agree(trees=12, seed=11)


@pytest.mark.slow
def test_over_a_thousand_random_trees_and_labels_route_as_amtool_says() -> None:
    _agree(trees=150, seed=20250101)  # 1,650 cases, 150 printed trees
