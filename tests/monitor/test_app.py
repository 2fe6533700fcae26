"""The daemon's process-wide settings."""

from __future__ import annotations

import gc

from monitor.app import GC_YOUNG_THRESHOLD, tune_gc


def test_tune_gc_raises_the_young_threshold_and_keeps_higher_settings() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        tune_gc()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 20, 10)
        gc.set_threshold(GC_YOUNG_THRESHOLD * 2, 50, 10)
        tune_gc()
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD * 2, 50, 10)
    finally:
        gc.set_threshold(*before)
