"""A generic JSON webhook receiver (POST, one alert per request), with the same retry policy
as Slack: 429 honours Retry-After, 5xx and connection errors back off, then the row stays in
the outbox. Errors never quote the URL: webhook URLs often carry a secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from monitor.alerts.notification import Notification
from monitor.notify.render import webhook_body
from monitor.notify.retry import Gate, Refused, Transient, call_with_retries, retry_after_seconds
from monitor.notify.ruleinfo import RuleInfo
from monitor.retry import RetryPolicy


class DeliveryError(RuntimeError):
    """The receiver did not take the notification (after retries where they made sense)."""


class DeliveryRefused(DeliveryError, Refused):
    """The receiver answered with a client error (4xx other than 408 and 429): sending the
    same request again would get the same answer."""


def post_json(url: str, body: Any, timeout: float, policy: RetryPolicy, who: str,
              gate: Gate | None = None) -> httpx.Response:
    """POST `body` as JSON under the retry policy; raise DeliveryError naming `who`."""

    def attempt() -> httpx.Response:
        try:
            response = httpx.post(url, json=body, timeout=timeout)
        except httpx.TransportError as exc:
            raise Transient(f"could not connect ({type(exc).__name__})") from None
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise Transient(f"answered HTTP {response.status_code}", retry_after_seconds(response.headers))
        if response.status_code >= 300:
            detail = " ".join(response.text.split())[:200]
            message = f"{who} answered HTTP {response.status_code}" + (f": {detail}" if detail else "")
            if response.status_code >= 400:
                raise DeliveryRefused(message)
            raise DeliveryError(message)
        return response

    try:
        return call_with_retries(attempt, policy, gate=gate)
    except Transient as exc:
        raise DeliveryError(f"{who} {exc}; giving up for this drain, the notification stays in the outbox"
                            ) from None


class WebhookNotifier:
    digests: ClassVar[bool] = False

    def __init__(self, name: str, url: str, timeout_seconds: float, retry: RetryPolicy | None = None,
                 rules: Mapping[str, RuleInfo] | None = None) -> None:
        self.name = name
        self._rules: Mapping[str, RuleInfo] = rules or {}
        self._url = url
        self._timeout = timeout_seconds
        self._retry = retry or RetryPolicy()
        self._gate = Gate()

    def send(self, payload: Notification) -> None:
        body = webhook_body(payload, self.name, self._rules.get(payload.rule))
        post_json(self._url, body, self._timeout, self._retry, f"webhook {self.name}", self._gate)
