"""A generic JSON webhook receiver (POST, one alert per request)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from monitor.notify.render import webhook_body


class WebhookNotifier:
    def __init__(self, name: str, url: str, timeout_seconds: float) -> None:
        self.name = name
        self._url = url
        self._timeout = timeout_seconds

    def send(self, payload: Mapping[str, Any]) -> None:
        response = httpx.post(self._url, json=webhook_body(payload, self.name), timeout=self._timeout)
        if response.status_code >= 300:
            raise RuntimeError(f"webhook {self.name} answered HTTP {response.status_code}")
