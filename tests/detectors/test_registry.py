"""The registry declares, per kind, what a detector needs besides a panel and whether its
flags are causal; callers read that here, never off the detector object."""

from __future__ import annotations

import pytest

from detectors import DETECTORS, KINDS, DetectorConfigError, Needs, build_detector, kind_of, needs


def test_each_kind_declares_its_needs_and_causality() -> None:
    declared = {kind: (sorted(n.value for n in entry.needs), entry.causal, entry.windowed)
                for kind, entry in KINDS.items()}
    assert declared == {
        "threshold": ([], True, False),
        "consecutive": ([], True, False),
        "robust_z": ([], True, True),
        "staleness": (["clock"], False, False),
        "changepoint": ([], False, False),
        "revision": (["previous"], False, False),
    }


def test_the_class_map_and_each_class_kind_follow_the_registry() -> None:
    assert dict(DETECTORS) == {kind: entry.cls for kind, entry in KINDS.items()}
    assert all(entry.cls.kind == kind for kind, entry in KINDS.items())  # type: ignore[attr-defined]


def test_a_built_detector_is_known_by_its_registration() -> None:
    stale = build_detector("staleness", {"lag": 1})
    assert kind_of(stale) is KINDS["staleness"]
    assert needs(stale, Needs.CLOCK) and not needs(stale, Needs.PREVIOUS)
    assert not needs(build_detector("threshold", {"direction": "below", "threshold": -5}), Needs.CLOCK)


def test_unknown_kinds_and_parameters_are_named() -> None:
    with pytest.raises(DetectorConfigError, match="unknown detector kind 'zscore'"):
        build_detector("zscore", {})
    with pytest.raises(DetectorConfigError, match=r"threshold: unknown parameter\(s\) 'limit'"):
        build_detector("threshold", {"direction": "below", "threshold": -5, "limit": 3})
