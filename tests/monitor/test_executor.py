"""Detection over partitions: the same findings whether a panel is evaluated whole, in
partitions in-process, in worker processes, or on a dask.distributed cluster."""

from __future__ import annotations

import importlib
import math
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from detectors import Finding, build_detector
from monitor.app import App
from monitor.config import ConfigError, load_config
from monitor.executor import (
    DaskExecutor,
    LocalExecutor,
    RulePlan,
    RuleResult,
    _plain,
    _rebuild,
    evaluate_partition,
    merge,
    partitions,
)
from tests.conftest import DEMO_CSV, truncate_csv

RULES = [
    ("decline", "yoy_pct", {}, "consecutive", {"direction": "below", "threshold": -5.0, "count": 3}),
    ("sharp_fall", "yoy_pct", {}, "threshold", {"direction": "below", "threshold": -15.0}),
    ("unusual", "level", {}, "robust_z", {"threshold": 3.0, "seasonal": True}),
    ("shift", "log", {}, "changepoint", {"cost": "l2"}),
    ("share_of_first", "share", {"parent": "s000"}, "threshold", {"direction": "below", "threshold": 50.0}),
]


def panel(series: int = 60, months: int = 96, seed: int = 3) -> pd.DataFrame:
    """Seasonal series with level shifts, declines at the end and gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    log = (rng.normal(7, 1, (series, 1)) + 0.1 * np.sin(2 * np.pi * t / 12)
           + rng.normal(0, 0.05, (series, months)))
    log += np.where((rng.random((series, 1)) < 0.4) & (t >= rng.integers(20, 80, (series, 1))), 0.5, 0.0)
    log -= np.where(rng.random((series, 1)) < 0.3, 0.04, 0.0) * np.clip(t - (months - 6), 0, None)
    values = np.exp(log)
    values[rng.random(values.shape) < 0.02] = np.nan
    values[:5, :30] = np.nan  # late starters
    return pd.DataFrame(values.T, index=pd.period_range("2015-01", periods=months, freq="M"),
                        columns=pd.Index([f"s{i:03d}" for i in range(series)], dtype=object))


def plans(watch: frozenset[str] = frozenset()) -> list[RulePlan]:
    return [RulePlan(name, transform, params, build_detector(kind, detector), "warning", watch)
            for name, transform, params, kind, detector in RULES]


def labels(frame: pd.DataFrame) -> dict[str, dict[str, str]]:
    return {sid: {"reporter": "RUS", "partner": "CHN", "flow": "export", "commodity": sid[1:]}
            for sid in frame.columns}


# For scope "latest", evaluate scores only the newest rows of a panel, counted from the oldest
# newest period among its series; a run of flags longer than that window is cut where the
# window starts, so beyond it `held_for` depends on which series share the panel.
HELD_FOR_WINDOW = getattr(importlib.import_module("detectors.evaluate"), "LATEST_TAIL", None)


def plain(results: Sequence[RuleResult], whole_panel_held_for: bool = True) -> list[Any]:
    """Findings comparable with ==, NaN included (and `held_for` cut at the window unless
    the panels compared are the same)."""
    def number(x: Any) -> Any:
        return "nan" if isinstance(x, float) and math.isnan(x) else x

    def held(k: str, v: Any) -> Any:
        if k != "held_for" or whole_panel_held_for or HELD_FOR_WINDOW is None:
            return v
        return min(v, HELD_FOR_WINDOW)

    def one(f: Finding) -> tuple[Any, ...]:
        details = tuple(sorted((k, number(held(k, v))) for k, v in f.details.items()))
        return (f.rule, f.series, str(f.period), f.kind, f.severity, number(f.value), number(f.reference),
                details, f.summary)

    return [([one(f) for f in r.findings], sorted((k, str(p), number(v)) for k, (p, v) in r.newest.items()),
             r.error) for r in results]


def test_partitions_find_what_the_whole_panel_finds() -> None:
    frame = panel()
    watch = frozenset(frame.columns[::7])
    whole = evaluate_partition(frame, plans(watch), labels(frame))
    assert all(r.error is None for r in whole)
    assert [len(r.findings) > 0 for r in whole] == [True] * len(RULES)  # every rule finds something
    parts = partitions(frame, plans(watch), labels(frame), 7)
    assert [len(p.own) for p in parts] == [7] * 8 + [4]
    assert all("s000" in p.panel.columns for p in parts)  # the parent of `share`, as context
    pieces = [evaluate_partition(p.panel, plans(watch), p.labels) for p in parts]
    assert plain(merge(plans(watch), parts, pieces), False) == plain(whole, False)


def test_results_travel_between_processes_unchanged() -> None:
    frame = panel(series=20)
    results = evaluate_partition(frame, plans(frozenset(frame.columns)), labels(frame))
    carried = _rebuild(pickle.loads(pickle.dumps(_plain(results))))
    assert plain(carried) == plain(results)


def test_a_failing_rule_is_reported_and_the_others_still_run() -> None:
    frame = panel(series=10)
    broken = RulePlan("broken", "share", {"parent": "missing"}, build_detector("threshold", {
        "direction": "below", "threshold": 1.0}), "warning")
    [fine, failed] = evaluate_partition(frame, [plans()[0], broken], labels(frame))
    assert fine.error is None and fine.findings
    assert failed.findings == [] and failed.error is not None and "missing" in failed.error


def test_rules_share_a_transform_and_find_what_they_find_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.executor as executor_module

    frame = panel(series=20)
    watch = frozenset(frame.columns[::3])
    alone = [evaluate_partition(frame, [plan], labels(frame))[0] for plan in plans(watch)]
    applied: list[str] = []
    real = executor_module.apply_transform

    def counting(name: str, values: pd.DataFrame, **params: Any) -> pd.DataFrame:
        applied.append(name)
        return real(name, values, **params)

    monkeypatch.setattr(executor_module, "apply_transform", counting)
    together = evaluate_partition(frame, plans(watch), labels(frame))
    assert sorted(applied) == ["level", "log", "share", "yoy_pct"]  # yoy_pct once for two rules
    assert plain(together) == plain(alone)
    assert all(r.seconds > 0 for r in together)


@pytest.mark.slow
def test_worker_processes_find_what_one_process_finds() -> None:
    frame = panel()
    parts = partitions(frame, plans(), labels(frame), 16)
    expected = merge(plans(), parts, [evaluate_partition(p.panel, plans(), p.labels) for p in parts])
    executor = LocalExecutor(partition_size=16, workers=2)
    try:
        assert plain(executor.run(frame, plans(), labels(frame))) == plain(expected)
    finally:
        executor.close()


@pytest.mark.slow
def test_a_dask_cluster_finds_what_the_local_executor_finds() -> None:
    distributed = pytest.importorskip("distributed")
    frame = panel()
    parts = partitions(frame, plans(), labels(frame), 16)
    local = merge(plans(), parts, [evaluate_partition(p.panel, plans(), p.labels) for p in parts])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        executor = DaskExecutor(cluster.scheduler_address, partition_size=16)
        try:
            remote = executor.run(frame, plans(), labels(frame))
        finally:
            executor.close()
    assert plain(remote) == plain(local)


CONFIG = """
store: {{path: state.db}}
sources:
  - name: rosstat
    kind: file
    path: russia_china.csv
    labels: {{reporter: RUS, partner: CHN, commodity: TOTAL, unit: USD_M}}
    columns:
      ru_exports_to_cn_musd: {{flow: export}}
      ru_imports_from_cn_musd: {{flow: import}}
rules:
  - name: decline
    transform: {{kind: yoy_pct}}
    detector: {{kind: consecutive, direction: below, threshold: -5, count: 5}}
  - name: shift
    transform: {{kind: log}}
    detector: {{kind: changepoint, cost: l2}}
{detection}
"""


def alerts_of(config: Path) -> list[tuple[str, str, str, str, str]]:
    app = App(load_config(config))
    try:
        app.run_once()
        return [(a.rule, a.series, a.status.value, a.period, a.summary) for a in app.book.alerts()]
    finally:
        app.stop()


@pytest.mark.slow
def test_the_daemon_alerts_the_same_through_a_dask_cluster(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    distributed = pytest.importorskip("distributed")
    for name in ("local", "dask"):
        (tmp_path / name).mkdir()
        truncate_csv(tmp_path / name / "russia_china.csv", "2015-03", source=DEMO_CSV)
    local = alerts_of(write_config(CONFIG.format(detection=""), "local/tradewatch.yaml"))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        detection = f"detection: {{executor: dask, address: '{address}', partition_size: 1}}"
        remote = alerts_of(write_config(CONFIG.format(detection=detection), "dask/tradewatch.yaml"))
    assert [a[:3] for a in local] == [("decline", "rus-chn/export/total", "firing"),
                                      ("decline", "rus-chn/import/total", "firing")]
    assert remote == local


def test_an_unreachable_cluster_falls_back_to_this_process(
    tmp_path: Path, write_config: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("distributed")
    truncate_csv(tmp_path / "russia_china.csv", "2015-03", source=DEMO_CSV)
    detection = "detection: {executor: dask, address: 'tcp://127.0.0.1:9', timeout: 1s}"
    alerts = alerts_of(write_config(CONFIG.format(detection=detection)))
    assert [a[:3] for a in alerts] == [("decline", "rus-chn/export/total", "firing"),
                                       ("decline", "rus-chn/import/total", "firing")]
    assert "detection executor failed; evaluating in-process" in caplog.text


def test_dask_needs_an_address(write_config: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match="executor dask needs an address"):
        load_config(write_config("detection: {executor: dask}\n"))
    source = "sources: [{name: a, kind: file, path: a.csv, value_column: v}]\n"
    loaded = load_config(write_config("detection: {partition_size: 500, workers: 2}\n" + source))
    assert (loaded.config.detection.executor, loaded.config.detection.partition_size,
            loaded.config.detection.workers) == ("local", 500, 2)
