"""Compiled loops for the few places where whole-array numpy is not enough.

numba is imported only by the modules that hold compiled kernels, and those are imported
inside the functions that call them, so importing `detectors` stays quick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

# Reductions such as a minimum vectorize only when the compiler may assume finite values and
# reorder them; for min and max any order gives the same result.
FINITE_REDUCTION = frozenset({"nnan", "ninf", "nsz", "reassoc"})


def compiled(fn: Callable[..., Any] | None = None, *, fastmath: frozenset[str] = frozenset()) -> Any:
    """Compile `fn` without Python's division checks (they stop vectorization), releasing the
    GIL, cached on disk where a cache directory is writable, else compiled at first use.
    `fastmath` names the floating-point assumptions the kernel may make (see FINITE_REDUCTION)."""
    options: dict[str, Any] = {"nogil": True, "error_model": "numpy"}
    if fastmath:
        options["fastmath"] = set(fastmath)

    def build(function: Callable[..., Any]) -> Any:
        try:
            return njit(cache=True, **options)(function)
        except RuntimeError:  # numba found no writable place for its cache (a read-only install)
            return njit(**options)(function)

    return build if fn is None else build(fn)
