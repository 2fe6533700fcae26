from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pandas as pd
import pytest

from detectors import Finding


def _finding(**overrides: object) -> Finding:
    fields: dict[str, object] = {
        "rule": "r",
        "series": "s",
        "period": pd.Period("2015-03", freq="M"),
        "kind": "condition",
        "severity": "warning",
        "value": -21.6,
        "reference": -5.0,
        "details": {"run": 5},
        "summary": "s fell 21.6% YoY in 2015-03.",
    }
    fields.update(overrides)
    return Finding(**fields)  # type: ignore[arg-type]


def test_details_are_a_read_only_copy() -> None:
    source = {"run": 5}
    finding = _finding(details=source)
    source["run"] = 6
    assert isinstance(finding.details, MappingProxyType)
    assert finding.details["run"] == 5
    with pytest.raises(TypeError):
        finding.details["run"] = 7  # type: ignore[index]


def test_finding_is_frozen_and_slotted() -> None:
    finding = _finding()
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.value = 0.0  # type: ignore[misc]
    assert not hasattr(finding, "__dict__")


def test_equal_findings_compare_equal() -> None:
    assert _finding() == _finding()
    assert _finding() != _finding(value=-21.5)


def test_kind_is_checked() -> None:
    with pytest.raises(ValueError, match="'condition' or 'event', got 'alert'"):
        _finding(kind="alert")
