"""One retry policy for sources and receivers: built from a source's `retry:` block, and its
backoff doubles, stays under the cap and is jittered between half and all of the step."""

from __future__ import annotations

from datetime import timedelta

from monitor.config import Retry
from monitor.retry import RetryPolicy


def test_a_source_retry_block_becomes_the_policy_in_seconds() -> None:
    block = Retry.model_validate({"attempts": 6, "backoff": "2s", "max_backoff": "1m", "deadline": "10m"})
    policy = RetryPolicy.of(block)
    assert (policy.attempts, policy.backoff, policy.max_backoff, policy.deadline) == (6, 2.0, 60.0, 600.0)
    assert RetryPolicy.of(Retry()).deadline == timedelta(minutes=5).total_seconds()


def test_the_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=5.0)
    for attempt, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)]:
        waits = [policy.delay(attempt) for _ in range(200)]
        assert all(step / 2 <= w <= step for w in waits), (attempt, min(waits), max(waits))
        assert max(waits) - min(waits) > step / 10  # jittered, not one value
