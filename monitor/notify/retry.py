"""Receivers' retries: the one policy (`monitor/retry.py`) run with an attempt cap, a
deadline, and the server's Retry-After honoured.

A drain runs under the engine's lock, so a receiver must give up in bounded time; what it
gives up on stays in the outbox and the next drain tries again. tenacity rather than
slack_sdk's RetryHandlers because the same policy covers the httpx receivers too, and its
`stop_before_delay` refuses a wait (a long Retry-After) that would overrun the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from monitor.retry import RetryPolicy

T = TypeVar("T")


class Deferred(Exception):
    """Not attempted: the receiver gave up on an earlier call and its gate is closed until the
    cool-off has passed. Nothing was sent, so nothing counts as a failed attempt."""


class Refused(Exception):
    """The receiver refused for a reason no retry can fix (credentials, a missing scope, a
    channel that is gone, a request it rejects): the delivery is parked with this reason until
    the config is reloaded."""


class Transient(Exception):
    """A failure worth another attempt; `retry_after` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in delta-seconds (what Slack sends); None when absent or an HTTP date,
    which falls back to the backoff rather than reading the clock here."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return None if value is None else max(0.0, float(str(value).strip()))
    except ValueError:
        return None


class Gate:
    """Once a receiver has given up, its later calls fail fast until the cool-off (or the
    server's Retry-After) has passed: with Slack down, a drain of 300 rows must not spend a
    deadline on each of them while it holds the engine's lock."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._closed_until = 0.0

    def check(self) -> None:
        left = self._closed_until - self._monotonic()
        if left > 0:
            raise Deferred(f"not retried for another {left:.0f}s after the last failure")

    def close(self, seconds: float) -> None:
        self._closed_until = max(self._closed_until, self._monotonic() + seconds)


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy,
                      transient: Callable[[BaseException], bool] | None = None,
                      gate: Gate | None = None) -> T:
    """Run `fn`; retry when it raises Transient (or what `transient` accepts). The last
    exception is re-raised once attempts or the deadline run out, and then `gate` stays
    closed for the cool-off or the server's Retry-After, whichever is longer."""
    if gate is not None:
        gate.check()
    def is_transient(exc: BaseException) -> bool:
        return isinstance(exc, Transient) or (transient is not None and transient(exc))

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return exc.retry_after
        return policy.delay(state.attempt_number)

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.deadline),
        wait=wait, retry=retry_if_exception(is_transient), sleep=policy.sleep, reraise=True)
    try:
        return retrying(fn)
    except Exception as exc:
        if gate is not None and is_transient(exc):
            hint = exc.retry_after if isinstance(exc, Transient) else None
            gate.close(max(policy.cooloff, hint or 0.0))
        raise
