"""The default receiver: one line per notification on stdout."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from monitor.notify.render import console_line


class ConsoleNotifier:
    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, payload: Mapping[str, Any]) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(console_line(payload) + "\n")
            stream.flush()
