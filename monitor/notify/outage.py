"""Delivery failures told once per receiver and interval, not once per notification.

With a receiver down for a minute, every drain would otherwise log every pending row again
(a thousand lines that hide everything else). The first failure of a receiver is logged at
once; later ones are counted and summed up in one line per interval, with the last error;
the first success after failures says the receiver is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("monitor.notify.pipeline")

INTERVAL_SECONDS = 60.0


@dataclass(slots=True)
class _Tally:
    failed: int = 0
    parked: int = 0
    last_error: str = ""
    logged_at: float | None = None  # when the last line about this receiver was written
    failing: bool = False
    told: set[str] = field(default_factory=set)  # refusal reasons logged already


class DeliveryLog:
    def __init__(self, interval: float = INTERVAL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._tallies: dict[str, _Tally] = {}
        self._lock = threading.Lock()

    def failed(self, receiver: str, rule: str, series: str, error: str) -> None:
        with self._lock:
            tally = self._tallies.setdefault(receiver, _Tally())
            tally.failed += 1
            tally.last_error = error
            if not tally.failing:
                tally.failing = True
                log.warning("delivery failed receiver=%s rule=%s series=%s error=%s", receiver, rule, series,
                            error)
                tally.failed, tally.logged_at = 0, self._monotonic()
            else:
                self._summary(receiver, tally)

    def parked(self, receiver: str, rule: str, series: str, reason: str) -> None:
        with self._lock:
            tally = self._tallies.setdefault(receiver, _Tally())
            tally.failing = True
            tally.last_error = reason
            if reason not in tally.told:
                tally.told.add(reason)
                log.error("delivery parked until a config reload receiver=%s rule=%s series=%s reason=%s",
                          receiver, rule, series, reason)
                tally.logged_at = tally.logged_at or self._monotonic()
            else:
                tally.parked += 1
                self._summary(receiver, tally)

    def sent(self, receiver: str) -> None:
        with self._lock:
            tally = self._tallies.get(receiver)
            if tally is None or not tally.failing:
                return
            if tally.failed or tally.parked:
                self._summary(receiver, tally, force=True)
            log.info("delivery recovered receiver=%s", receiver)
            self._tallies.pop(receiver, None)

    def flush(self) -> None:
        """Write the pending summaries whose interval has passed (called after each drain)."""
        with self._lock:
            for receiver, tally in self._tallies.items():
                self._summary(receiver, tally)

    def _summary(self, receiver: str, tally: _Tally, force: bool = False) -> None:
        now = self._monotonic()
        if not (tally.failed or tally.parked):
            return
        if not force and tally.logged_at is not None and now - tally.logged_at < self._interval:
            return
        log.warning("delivery still failing receiver=%s failed=%d parked=%d in the last %.0fs last_error=%s",
                    receiver, tally.failed, tally.parked,
                    now - tally.logged_at if tally.logged_at is not None else 0.0, tally.last_error)
        tally.failed, tally.parked, tally.logged_at = 0, 0, now
