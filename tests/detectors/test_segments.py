"""Segment statistics (compiled) against plain numpy on columns with gaps and late starts."""

from __future__ import annotations

import numpy as np

from detectors.segments import compact, regimes, standardize


def _panel() -> np.ndarray:
    rng = np.random.default_rng(3)
    x = rng.normal(100.0, 10.0, size=(60, 7)) + np.arange(60)[:, None] * rng.uniform(0, 2, 7)
    x[:15, 1] = np.nan  # late start
    x[[5, 6, 30], 2] = np.nan  # gaps
    x[:, 3] = 42.0  # flat: nothing to segment
    x[:50, 4] = np.nan  # too short
    return x


def test_standardize_matches_numpy() -> None:
    data = compact(_panel())
    for trend in (False, True):
        z, ok = standardize(data, trend=trend, min_length=6)
        assert ok.tolist() == [True, True, True, False, False, True, True]
        for c in np.flatnonzero(ok):
            n = int(data.lengths[c])
            y = data.values[:n, c]
            t = data.times()[:n] if data.times().ndim == 1 else data.times()[:n, c]
            resid = y - y.mean()
            if trend:
                slope, icpt = np.polyfit(t, y, 1)
                scale = np.sqrt(np.mean((y - (slope * t + icpt)) ** 2))
            else:
                scale = np.sqrt(np.mean(resid**2))
            np.testing.assert_allclose(z[:n, c], resid / scale, rtol=1e-9)
            assert not z[n:, c].any()
        assert not z[:, ~ok].any()


def test_regimes_match_numpy() -> None:
    data = compact(_panel())
    column = np.array([0, 0, 1, 2], dtype=np.int64)
    position = np.array([20, 40, 10, 25], dtype=np.int64)
    got = regimes(data, column, position)
    times = data.times()
    for k, (c, p) in enumerate(zip(column.tolist(), position.tolist(), strict=True)):
        same = column == c
        cuts = [0, *position[same].tolist(), int(data.lengths[c])]
        i = cuts.index(p)
        before, after = slice(cuts[i - 1], p), slice(p, cuts[i + 1])
        y = data.values[:, c]
        t = times if times.ndim == 1 else times[:, c]
        assert np.isclose(got.before[k], y[before].mean())
        assert np.isclose(got.after[k], y[after].mean())
        for part, line, slope in ((before, got.line_before[k], got.slope_before[k]),
                                  (after, got.line_after[k], got.slope_after[k])):
            fit_slope, fit_icpt = np.polyfit(t[part], y[part], 1)
            assert np.isclose(slope, fit_slope)
            assert np.isclose(line, fit_slope * t[p] + fit_icpt)
    means_only = regimes(data, column, position, lines=False)
    np.testing.assert_allclose(means_only.before, got.before)
    assert np.isnan(means_only.line_before).all()
