"""Compiled loops for the few places where whole-array numpy is not enough.

numba is imported only by the modules that hold compiled kernels, and those are imported
inside the functions that call them, so importing `detectors` stays quick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit


def compiled(fn: Callable[..., Any]) -> Any:
    """Compile `fn` without Python's division checks (they stop vectorization), releasing the
    GIL, cached on disk where a cache directory is writable, else compiled at first use."""
    options: dict[str, Any] = {"nogil": True, "error_model": "numpy"}
    try:
        return njit(cache=True, **options)(fn)
    except RuntimeError:  # numba found no writable place for its cache (a read-only install)
        return njit(**options)(fn)
