"""The default receiver: one line per notification on stdout."""

from __future__ import annotations

import sys
import threading
from typing import ClassVar, TextIO

from monitor.alerts.notification import Notification
from monitor.notify.render import console_line


class ConsoleNotifier:
    digests: ClassVar[bool] = False

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, payload: Notification) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(console_line(payload) + "\n")
            stream.flush()
