"""Which replica is active: a thread that takes the store's lease, renews it, and says when
this process becomes active or goes back to standing by.

Every replica runs one. The active one renews every `renew` seconds; a standby tries to take
the lease as often, and gets it once the lease has run out (its holder died, stopped, or lost
the database). The active replica also keeps a deadline of its own: when it could not renew
for a lease's length less one renewal, it stops acting before the database can give the lease
to another, so even a send to a receiver that the store cannot fence (Slack, a webhook) is
not made by two replicas at once, as long as the hosts' clocks run at about the same rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError

from monitor.store import Lease

log = logging.getLogger(__name__)


class Role(StrEnum):
    STARTING = "starting"  # the first try has not answered yet
    ACTIVE = "active"
    STANDBY = "standby"


@dataclass(frozen=True, slots=True)
class ReplicaStatus:
    """What /metrics, /-/ready and /-/leader say about this replica."""

    role: Role
    epoch: int  # held when active; the newest seen when standing by (0: none yet)
    holder: str  # the active replica as last seen ("" before the first answer)
    since: float  # time.monotonic() of the last change of role
    ticked: float  # time.monotonic() of the last try, answered or not


class Replica:
    """The lease loop. `on_active(epoch)` runs on the loop's thread before this replica acts
    (load what the previous holder wrote); `on_standby()` when it stops acting; `on_tick()`
    after every try of a standby (refresh what it shows); `on_acting()` once it acts (catch up
    on what was missed). `force`: take the lease at once,
    for a process that knows it is alone (a SQLite store's lock file)."""

    def __init__(self, lease: Lease, renew: float, on_active: Callable[[int], None],
                 on_standby: Callable[[], None], on_tick: Callable[[], None] | None = None,
                 on_acting: Callable[[], None] | None = None, force: bool = False) -> None:
        self._lease = lease
        self._renew = renew
        self._on_active = on_active
        self._on_standby = on_standby
        self._on_tick = on_tick or (lambda: None)
        self._on_acting = on_acting or (lambda: None)
        self._force = force
        self._lock = threading.Lock()
        now = time.monotonic()
        self._status = ReplicaStatus(Role.STARTING, 0, "", now, now)
        self._valid_until = 0.0  # monotonic: act only before this
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self._lease.holder

    def status(self) -> ReplicaStatus:
        with self._lock:
            return self._status

    def active(self) -> bool:
        """Whether this replica may act now: it holds the lease and renewed it recently enough
        that no other replica can have taken it."""
        with self._lock:
            return self._status.role is Role.ACTIVE and time.monotonic() < self._valid_until

    def start(self) -> None:
        """Try once now (a lone replica becomes active at once), then keep trying."""
        self.tick()
        self._thread = threading.Thread(target=self._loop, name="lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop trying and give the lease up, so a standby takes over on its next try."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._renew * 2 + 10)
        was_active = self.status().role is Role.ACTIVE
        self._set(Role.STANDBY, self.status().epoch, self.status().holder)
        if was_active:
            try:
                self._lease.release()
                log.info("lease released replica=%s", self.name)
            except SQLAlchemyError as exc:
                log.warning("lease not released replica=%s error=%s", self.name, type(exc).__name__)

    def _loop(self) -> None:
        while not self._stop.wait(self._renew):
            self.tick()

    def tick(self) -> None:
        """One try: renew the lease held, or take it if it is free."""
        began = time.monotonic()
        role = self.status().role
        try:
            if role is Role.ACTIVE:
                if self._lease.renew():
                    self._renewed(began)
                else:
                    self._lost("another replica took the lease")
            else:
                view = self._lease.acquire(force=self._force)
                if view.mine:
                    self._won(view.epoch, began)
                else:
                    self._set(Role.STANDBY, view.epoch, view.holder)
                    self._on_tick()
        except SQLAlchemyError as exc:
            log.warning("lease try failed replica=%s role=%s error=%s", self.name, role.value,
                        type(exc).__name__)
            if role is Role.ACTIVE and time.monotonic() >= self._valid_until:
                self._lost("the lease could not be renewed in time")
            elif role is Role.STARTING:
                self._set(Role.STANDBY, 0, "")
        except Exception:  # the loop must outlive a bug in a callback
            log.exception("lease loop error replica=%s", self.name)
        finally:
            with self._lock:
                self._status = replace(self._status, ticked=time.monotonic())

    def _renewed(self, began: float) -> None:
        with self._lock:
            self._valid_until = began + self._lease.seconds - self._renew

    def _won(self, epoch: int, began: float) -> None:
        log.info("lease taken, this replica is active replica=%s epoch=%d", self.name, epoch)
        self._on_active(epoch)  # before acting: load what the previous holder committed
        with self._lock:
            self._valid_until = began + self._lease.seconds - self._renew
        self._set(Role.ACTIVE, epoch, self.name)
        self._on_acting()

    def _lost(self, why: str) -> None:
        epoch = self.status().epoch
        log.warning("lease lost, this replica stands by replica=%s epoch=%d reason=%s", self.name, epoch, why)
        self._lease.epoch = None
        self._set(Role.STANDBY, epoch, "")
        self._on_standby()

    def _set(self, role: Role, epoch: int, holder: str) -> None:
        with self._lock:
            now = time.monotonic()
            since = self._status.since if role is self._status.role else now
            self._status = ReplicaStatus(role, epoch, holder, since, self._status.ticked)

