"""Columns in blocks, the blocks shared by a few threads: the compiled kernels hold no GIL."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def over_blocks(width: int, block: int, run: Callable[[int, int], T], workers: int | None = None) -> list[T]:
    """`run(lo, hi)` for each block of `block` columns of `width`, in order; on up to
    `workers` threads (default: one per core). The first error of any block is raised."""
    spans = [(lo, min(lo + block, width)) for lo in range(0, width, block)]
    count = min(len(spans), workers if workers is not None else os.cpu_count() or 1)
    if count <= 1:
        return [run(lo, hi) for lo, hi in spans]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda span: run(*span), spans))
