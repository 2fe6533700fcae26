"""A one-line progress bar on stderr, for backtests long enough to wonder about.

It draws nothing for the first second (short runs stay silent), at most ten times a second,
and only when it was asked to be shown (stderr a terminal, output not JSON): no dependency,
nothing in logs or pipes.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, label: str, enabled: bool, stream: TextIO | None = None,
                 delay: float = 1.0) -> None:
        self._label = label
        self._enabled = enabled
        self._stream = stream or sys.stderr
        self._delay = delay
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    @staticmethod
    def wanted(stream: TextIO, fmt: str) -> bool:
        """Shown on a terminal, never with JSON output (scripts read that)."""
        isatty = getattr(stream, "isatty", None)
        return fmt != "json" and bool(isatty and isatty())

    def update(self, fraction: float, detail: str = "") -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._started < self._delay or (now - self._last_draw < 0.1 and fraction < 1.0):
            return
        self._last_draw = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(WIDTH * fraction)
        bar = "#" * filled + "." * (WIDTH - filled)
        elapsed = now - self._started
        text = f"\r{self._label} [{bar}] {fraction * 100:3.0f}% {elapsed:4.1f}s {detail}"
        self._stream.write(text.ljust(100)[:100])
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar, so what follows starts on a clean line."""
        if self._drawn:
            self._stream.write("\r" + " " * 100 + "\r")
            self._stream.flush()
            self._drawn = False
