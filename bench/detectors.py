"""Every registered detector over a 100,000-series x 240-month panel, against a naive peer.

    .venv/bin/python bench/detectors.py [--series 100000] [--months 240] [--workers N]

Run by hand, not a test. The panel is synthetic trade-like data: levels spread over orders
of magnitude, trends, seasonality, multiplicative noise, level shifts in 30% of series, runs
of declines in 15%, a few gaps and late starts. Each detector is timed over the whole panel
(transform + scan). Its naive peer runs in the same process on a sample of series and is
extrapolated: a pandas loop per series for the threshold-type detectors and robust_z (rolling
median and MAD), ruptures' Pelt per series for change points (also checked to give the same
breaks), and for any other detector the detector itself called one series at a time. Each
detector first runs on 50 series, so compiled kernels are loaded before the clock starts (the
first run on a machine compiles them, a few seconds, then they are cached on disk).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ruptures as rpt

from detectors import DETECTORS, Changepoint, Needs, apply_transform, build_detector, needs
from detectors.segments import compact, standardize

# Parameters and transform for the kinds known here; other kinds run with their defaults.
KNOWN: dict[str, tuple[str, dict[str, Any]]] = {
    "threshold": ("yoy_pct", {"direction": "below", "threshold": -20.0}),
    "consecutive": ("yoy_pct", {"direction": "below", "threshold": -5.0, "count": 3}),
    "robust_z": ("yoy_pct", {}),
    "staleness": ("level", {}),
}
NOW = date(2025, 2, 1)


def make_panel(series: int, months: int, seed: int = 7) -> pd.DataFrame:
    """Synthetic monthly trade values, built column-wise with numpy."""
    rng = np.random.default_rng(seed)
    t = np.arange(months, dtype=float)[:, None]
    level = np.exp(rng.normal(8.0, 1.5, series))
    growth = rng.normal(0.003, 0.004, series)
    season = rng.uniform(0.0, 0.25, series) * np.sin(2 * np.pi * (t / 12 + rng.random(series)))
    noise = rng.normal(0.0, 1.0, (months, series)) * rng.uniform(0.02, 0.10, series)
    log_values = growth * t + season + noise
    shifted = rng.random(series) < 0.30
    at = rng.integers(24, months - 24, series)
    log_values += np.where(shifted & (t >= at), rng.normal(0.0, 0.3, series), 0.0)
    declining = rng.random(series) < 0.15
    start = rng.integers(12, months - 40, series)
    length = rng.integers(6, 19, series)
    rate = rng.uniform(0.02, 0.06, series)
    months_in = np.clip(t - start, 0, length) * declining
    log_values += np.log1p(-rate) * months_in
    values = level * np.exp(log_values)
    values[rng.random(values.shape) < 0.0005] = np.nan  # a few missing releases
    late = rng.random(series) < 0.01
    values[t[:, 0][:, None] < np.where(late, rng.integers(1, 60, series), 0)] = np.nan  # late starts
    index = pd.period_range("2005-01", periods=months, freq="M")
    return pd.DataFrame(values, index=index, columns=[f"s{i:06d}" for i in range(series)])


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


# --- naive peers ---------------------------------------------------------------------------


def naive_threshold(panel: pd.DataFrame, params: dict[str, Any]) -> None:
    for name in panel.columns:
        yoy = panel[name].pct_change(12, fill_method=None) * 100
        _ = yoy < params["threshold"] if params["direction"] == "below" else yoy > params["threshold"]


def naive_consecutive(panel: pd.DataFrame, params: dict[str, Any]) -> None:
    for name in panel.columns:
        yoy = panel[name].pct_change(12, fill_method=None) * 100
        beyond = yoy < params["threshold"] if params["direction"] == "below" else yoy > params["threshold"]
        runs = beyond.astype(int).groupby((~beyond).cumsum()).cumsum()
        _ = runs >= params["count"]


def naive_robust_z(panel: pd.DataFrame, window: int) -> None:
    """Trailing median and MAD with pandas rolling windows, one series at a time."""
    for name in panel.columns:
        yoy = panel[name].pct_change(12, fill_method=None) * 100
        history = yoy.shift(1)
        median = history.rolling(window, min_periods=window).median()
        mad = (history - median).abs().rolling(window, min_periods=window).median()
        _ = (0.6745 * (yoy - median) / mad).abs() > 3.5


def naive_changepoint(panel: pd.DataFrame, detector: Changepoint) -> list[list[int]]:
    """ruptures' Pelt per series on the standardized observed values, with the same penalty."""
    data = compact(panel.to_numpy(dtype=float))
    z, ok = standardize(data, trend=detector.cost == "linear", min_length=detector.effective_min_size)
    rows: list[list[int]] = []
    for col in range(panel.shape[1]):
        n = int(data.lengths[col])
        if not ok[col]:
            rows.append([])
            continue
        t = data.times()
        t = t[:n] if t.ndim == 1 else t[:n, col]
        signal = np.column_stack([z[:n, col], np.ones(n), t]) if detector.cost == "linear" else z[:n, col]
        algo = rpt.Pelt(model=detector.cost, min_size=detector.min_size, jump=1)
        bkps = algo.fit(signal).predict(pen=3 * math.log(n))
        rows.append(data.row_of(np.full(len(bkps) - 1, col), np.array(bkps[:-1], dtype=np.int64)).tolist())
    return rows


def per_series(detector: Any, values: pd.DataFrame) -> None:
    for name in values.columns:
        scan(detector, values[[name]])


def scan(detector: Any, values: pd.DataFrame) -> Any:
    if needs(detector, Needs.CLOCK):
        return detector.scan(values, now=NOW)
    return detector.scan(values)


# --- the run -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=240)
    parser.add_argument("--sample", type=int, default=2_000, help="series in the pandas loops")
    parser.add_argument("--rpt-sample", type=int, default=12, help="series in the ruptures loops")
    args = parser.parse_args()

    panel, wall, _ = timed(lambda: make_panel(args.series, args.months))
    print(
        f"panel: {args.series:,} series x {args.months} months, {panel.isna().to_numpy().mean():.3%} missing "
        f"(built in {wall:.1f} s)"
    )
    scale = args.series / args.sample
    sample = panel.iloc[:, : args.sample]
    rows: list[tuple[str, float, float, float | None, str]] = []

    for kind in DETECTORS:
        transform, params = KNOWN.get(kind, ("level", {}))
        try:
            detector = build_detector(kind, params)
        except ValueError as exc:
            rows.append((kind, math.nan, math.nan, None, f"skipped: {exc}"))
            continue
        variants = [(kind, detector)]
        if kind == "changepoint":
            variants = [
                ("changepoint cost=l2 (fast)", Changepoint(cost="l2")),
                ("changepoint default (linear, fast)", Changepoint()),
            ]
        for label, det in variants:

            def run(det: Any = det, transform: str = transform, frame: pd.DataFrame = panel) -> Any:
                return scan(det, apply_transform(transform, frame))

            with contextlib.suppress(TypeError):  # reported below
                run(frame=panel.iloc[:, :50])  # compiled kernels load (or compile, once per machine)

            try:
                result, wall, cpu = timed(run)
            except TypeError as exc:  # e.g. a detector that needs two vintages
                rows.append((label, math.nan, math.nan, None, f"skipped: {exc}"))
                continue
            flagged = int(np.count_nonzero(result.mask))
            if kind == "robust_z":
                _, naive, _ = timed(lambda det=det: naive_robust_z(sample, det.span))
                note = f"pandas rolling median/MAD on {args.sample:,} series; {flagged:,} cells"
                rows.append((label, wall, cpu, naive * scale, note))
            elif kind in ("threshold", "consecutive"):
                peer = naive_threshold if kind == "threshold" else naive_consecutive
                _, naive, _ = timed(lambda peer=peer, params=params: peer(sample, params))
                rows.append(
                    (
                        label,
                        wall,
                        cpu,
                        naive * scale,
                        f"pandas loop on {args.sample:,} series; {flagged:,} cells",
                    )
                )
            elif kind == "changepoint":
                few = panel.iloc[:, : args.rpt_sample]
                expected, naive, _ = timed(lambda det=det, few=few: naive_changepoint(few, det))
                got = [np.flatnonzero(result.mask[:, c]).tolist() for c in range(args.rpt_sample)]
                same = "identical" if got == expected else "DIFFERENT"
                breaks = int(np.count_nonzero(result.mask))
                note = f"ruptures Pelt on {args.rpt_sample} series, {same} breaks; {breaks:,} breaks"
                rows.append((label, wall, cpu, naive * args.series / args.rpt_sample, note))
            else:
                values = apply_transform(transform, sample)
                _, naive, _ = timed(lambda det=det, values=values: per_series(det, values))
                rows.append((label, wall, cpu, naive * scale, f"same detector per series on {args.sample:,}"))

    print(f"\n{'detector':36s} {'wall s':>8s} {'cpu s':>8s} {'naive s':>10s} {'ratio':>8s}  note")
    for label, wall, cpu, naive, note in rows:
        if math.isnan(wall):
            print(f"{label:36s} {'-':>8s} {'-':>8s} {'-':>10s} {'-':>8s}  {note}")
            continue
        ratio = f"{naive / wall:,.0f}x" if naive else "-"
        print(f"{label:36s} {wall:8.2f} {cpu:8.2f} {naive or 0:10,.1f} {ratio:>8s}  {note}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory {peak:,.0f} MB; cpu s counts both cores; naive times extrapolated from the sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
