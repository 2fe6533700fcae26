"""The default receiver: one line per notification on stdout, worded as the Slack header
and the finding's sentence are."""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import ClassVar, TextIO

from monitor.alerts.notification import Notification
from monitor.notify.render import console_line
from monitor.notify.ruleinfo import RuleInfo


class ConsoleNotifier:
    digests: ClassVar[bool] = False

    def __init__(self, name: str, stream: TextIO | None = None,
                 rules: Mapping[str, RuleInfo] | None = None) -> None:
        self.name = name
        self._stream = stream
        self._rules: Mapping[str, RuleInfo] = rules or {}
        self._lock = threading.Lock()

    def send(self, payload: Notification) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(console_line(payload, self._rules.get(payload.rule)) + "\n")
            stream.flush()
