"""Compiled kernels still work where numba cannot write its cache."""

from __future__ import annotations

from typing import Any

import pytest

import detectors.jit as jit


def test_compiles_without_a_cache_when_none_can_be_written(monkeypatch: pytest.MonkeyPatch) -> None:
    real = jit.njit
    calls: list[dict[str, Any]] = []

    def njit(**options: Any) -> Any:
        calls.append(options)
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'double': no locator available for file")
        return real(**options)

    monkeypatch.setattr(jit, "njit", njit)

    @jit.compiled
    def double(x: float) -> float:
        return 2.0 * x

    assert double(21.0) == 42.0
    assert [c.get("cache") for c in calls] == [True, None]
    assert calls[-1]["nogil"] and calls[-1]["error_model"] == "numpy"
