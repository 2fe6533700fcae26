"""The one retry policy of every outside call, sources' and receivers' alike: an attempt
cap, a deadline over all attempts, exponential backoff with jitter, and a cool-off after
giving up. Each side runs it with tenacity in its own way (sources map HTTP failures to
reasons, receivers keep a gate per receiver); the numbers and the backoff rule are here once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol


class RetrySettings(Protocol):
    """A config's `retry:` block."""

    @property
    def attempts(self) -> int: ...

    @property
    def backoff(self) -> timedelta: ...

    @property
    def max_backoff(self) -> timedelta: ...

    @property
    def deadline(self) -> timedelta: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    deadline: float = 30.0  # seconds for the whole call, waits included
    backoff: float = 0.5  # first wait; doubles up to max_backoff, with jitter
    max_backoff: float = 8.0
    cooloff: float = 15.0  # after giving up, a receiver fails fast this long (or the server's Retry-After)
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def of(cls, retry: RetrySettings) -> RetryPolicy:
        """From the config model (`retry:` of a source)."""
        return cls(attempts=retry.attempts, deadline=retry.deadline.total_seconds(),
                   backoff=retry.backoff.total_seconds(), max_backoff=retry.max_backoff.total_seconds())

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (from 1): the doubled backoff, capped,
        between half and all of it so that clients that failed together do not retry together."""
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)
