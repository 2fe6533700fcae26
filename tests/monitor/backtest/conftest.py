"""Configs and helpers shared by the backtest tests: the real Russia-China file, a store in
tmp_path that does not exist (so data is fetched), and a routing tree with two receivers."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROSSTAT_BOTH_FLOWS

RC_CONFIG = """
store: {path: state/tradewatch.db}
sources:
""" + ROSSTAT_BOTH_FLOWS + """    replay: {start: 2010-01, every: 5s}   # a backtest reveals the data itself
rules:
  - name: decline
    transform: {kind: yoy_pct}
    detector: {kind: consecutive, direction: below, threshold: -5, count: 5}
    severity: warning
    labels: {team: policy}
  - name: sharp
    transform: {kind: yoy_pct}
    detector: {kind: threshold, direction: below, threshold: -20}
    severity: critical
    labels: {team: policy}
notify:
  receivers:
    - name: console
      console: {}
    - name: pager
      webhook: {url: "http://127.0.0.1:9/hook"}
  route:
    receiver: console
    routes:
      - match: {severity: critical}
        receiver: pager
"""


@pytest.fixture
def rc_config(write_config: Callable[[str], Path], russia_china_csv: Path) -> Path:
    """The two demo rules over the real Russia-China file, with a store that does not exist."""
    return write_config(RC_CONFIG)


def yoy_by_column(path: Path) -> dict[str, list[tuple[str, float | None]]]:
    """Year-on-year percent change per column of the wide CSV, computed by hand."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: dict[str, list[tuple[str, float | None]]] = {}
    for column in ("ru_exports_to_cn_musd", "ru_imports_from_cn_musd"):
        values = [float(row[column]) for row in rows]
        out[column] = [
            (row["period"], None if i < 12 else 100.0 * (values[i] / values[i - 12] - 1.0))
            for i, row in enumerate(rows)
        ]
    return out


def expected_transitions(series: list[tuple[str, float | None]], flagged: Callable[[list[bool], int], bool],
                         below: float, first: str, last: str) -> list[tuple[str, str]]:
    """(period, status) of every change of a `for: 1` alert, stepping month by month."""
    beyond = [value is not None and value < below for _, value in series]
    out, firing = [], False
    for i, (period, _) in enumerate(series):
        if not first <= period <= last:
            continue
        flag = flagged(beyond, i)
        if flag and not firing:
            out.append((period, "firing"))
        elif firing and not flag:
            out.append((period, "resolved"))
        firing = flag
    return out


def single(beyond: list[bool], i: int) -> bool:
    return beyond[i]


def run_of(count: int) -> Callable[[list[bool], int], bool]:
    def flagged(beyond: list[bool], i: int) -> bool:
        run = 0
        for j in range(i, -1, -1):
            if not beyond[j]:
                break
            run += 1
        return run >= count

    return flagged
