"""The one way sources make HTTP calls: a timeout on every call, capped retries with backoff,
a deadline over all attempts, Retry-After honoured, and errors that never show a secret.

Publishers fail in the same few ways (slow, overloaded, rate limiting, briefly down); handling
them once here keeps every source kind's module about its format, and keeps `reason` the same
short metrics label everywhere: timeout, connect, http_4xx, http_5xx, rate_limited,
too_large. A response is read as a stream and refused past the source's size cap, so a
runaway or hostile answer cannot fill the daemon's memory.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from monitor.retry import RetryPolicy
from monitor.secrets import REDACTED, Masker
from monitor.sources.base import SourceError

log = logging.getLogger(__name__)

# Query parameters whose values are credentials, whatever the publisher calls them.
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;](?:[^=&#;\s]*(?:key|token|secret|password|passwd|signature|auth)[^=&#;\s]*|sig)=)"
    r"[^&#;\s]*",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_MAX_BODY_IN_ERROR = 200
_ERROR_BODY_READ = 16 * 1024  # bytes of an error answer read for its explanation

__all__ = ["REDACTED", "HttpClient", "Redactor", "RetryPolicy"]


class Redactor:
    """Hides credentials in URLs and messages: known secret values anywhere, values of
    key/token-like query parameters, and user:password@ in URLs."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._mask = Masker(secrets)

    def __call__(self, text: str) -> str:
        text = self._mask(text)
        text = _SECRET_PARAM.sub(lambda m: m["name"] + REDACTED, text)
        return _USERINFO.sub(lambda m: m["scheme"] + REDACTED + "@", text)

    def with_secrets(self, secrets: Iterable[str | None]) -> Redactor:
        return Redactor([*self._mask.secrets, *secrets])


class _RedactHttpxLog(logging.Filter):
    """httpx logs every request URL at INFO; hide credentials in those lines too."""

    def __init__(self) -> None:
        super().__init__()
        self.redactor = Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg, record.args = record.getMessage(), ()
        record.msg = self.redactor(str(record.msg))
        return True


_HTTPX_FILTER = _RedactHttpxLog()


def _guard_httpx_log(secrets: Iterable[str | None]) -> None:
    """Attach the filter on first use (never at import) and teach it these secrets."""
    logger = logging.getLogger("httpx")
    if _HTTPX_FILTER not in logger.filters:
        logger.addFilter(_HTTPX_FILTER)
    _HTTPX_FILTER.redactor = _HTTPX_FILTER.redactor.with_secrets(secrets)


class _Retryable(Exception):
    """An attempt that may succeed if repeated; carries the SourceError to raise if not."""

    def __init__(self, error: SourceError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class HttpClient:
    """GET with the source's timeout and retry policy; raises SourceError, never httpx errors.

    `sleep` and `monotonic` are injectable so that tests can run the policy without waiting."""

    def __init__(
        self,
        source: str,
        *,
        timeout: float,
        retry: RetryPolicy,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str | None] = (),
        max_response_bytes: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.timeout = timeout
        self.retry = retry
        self.max_response_bytes = max_response_bytes
        self.headers = dict(headers or {})
        # Every configured header value may be a credential (Authorization, X-Api-Key, ...),
        # and so may each word of it ("Bearer TOKEN": a server may echo TOKEN alone).
        words = [word for value in self.headers.values() for word in value.split() if len(word) >= 8]
        secrets = [*secrets, *self.headers.values(), *words]
        self.redact = Redactor(secrets)
        _guard_httpx_log(secrets)
        self._sleep = sleep
        self._monotonic = monotonic
        self._client: httpx.Client | None = None  # made on first use; reused (TLS setup is slow)

    def get(self, url: str, params: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None, *,
            accept_status: Collection[int] = (),
            deadline_at: float | None = None) -> httpx.Response:
        """A successful (2xx) response, after retrying what is worth retrying.

        A status in `accept_status` is returned too (a 404 that means "not there yet").
        `deadline_at` (a `monotonic` instant) lets a caller share one deadline over several
        calls; by default each call has the policy's deadline."""
        request_url = str(httpx.URL(url, params=params)) if params else url
        shown = self.redact(request_url)
        start = self._monotonic()
        deadline_at = start + self.retry.deadline if deadline_at is None else deadline_at
        delays: dict[int, float] = {}

        def delay(state: RetryCallState) -> float:
            """The wait before the next attempt, computed once per attempt (stop and wait
            both ask): Retry-After when the server gave one, else backoff with jitter."""
            if state.attempt_number not in delays:
                exc = state.outcome.exception() if state.outcome else None
                if isinstance(exc, _Retryable) and exc.retry_after is not None:
                    delays[state.attempt_number] = exc.retry_after
                else:
                    delays[state.attempt_number] = self.retry.delay(state.attempt_number)
            return delays[state.attempt_number]

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= self.retry.attempts:
                return True
            return self._monotonic() + delay(state) > deadline_at

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = exc.error.reason if isinstance(exc, _Retryable) else "error"
            log.warning("source retry source=%s reason=%s attempt=%d wait=%.1fs url=%s",
                        self.source, reason, state.attempt_number, delay(state), shown)

        retrying = Retrying(
            stop=stop, wait=delay, retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep, before_sleep=before_sleep, reraise=True,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    remaining = deadline_at - self._monotonic()
                    timeout = max(0.05, min(self.timeout, remaining))
                    return self._attempt(request_url, shown, headers, timeout, accept_status)
        except _Retryable as exc:
            raise self._final(exc, attempts, shown) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _attempt(self, url: str, shown: str, headers: Mapping[str, str] | None,
                 timeout: float, accept_status: Collection[int]) -> httpx.Response:
        if self._client is None:
            self._client = httpx.Client(follow_redirects=True)
        try:
            with self._client.stream("GET", url, headers={**self.headers, **(headers or {})},
                                     timeout=timeout) as streamed:
                return self._answer(streamed, shown, accept_status)
        except httpx.TimeoutException:
            raise _Retryable(SourceError(self.source, "timeout", f"timed out reading {shown}")) from None
        except httpx.HTTPError as exc:
            message = f"cannot read {shown}: {self.redact(str(exc) or type(exc).__name__)}"
            raise _Retryable(SourceError(self.source, "connect", message)) from None

    def _answer(self, streamed: httpx.Response, shown: str,
                accept_status: Collection[int]) -> httpx.Response:
        """The response read whole (within the cap) when wanted, else the error it means."""
        status = streamed.status_code
        if 200 <= status < 300 or status in accept_status:
            return _whole(streamed, self._read_capped(streamed, shown))
        response = _whole(streamed, _read_prefix(streamed, _ERROR_BODY_READ))
        retry_after = _retry_after(response.headers)
        if status == 429 or (status == 403 and retry_after is not None):
            message = f"{shown} answered HTTP {status} (rate limited)"
            raise _Retryable(SourceError(self.source, "rate_limited", message), retry_after)
        if status >= 500 or status == 408:
            reason = "http_5xx" if status >= 500 else "timeout"
            raise _Retryable(SourceError(self.source, reason, f"{shown} answered HTTP {status}"),
                             retry_after)
        message = f"{shown} answered HTTP {status}"
        if status != 404 and (snippet := self._snippet(response)):
            message += f": {snippet}"
        raise SourceError(self.source, "http_4xx", message)

    def _read_capped(self, response: httpx.Response, shown: str) -> bytes:
        """The body, refused as soon as it is known to pass `max_response_bytes`: from
        Content-Length when the server sends one, else while it streams in (decoded, so a
        compressed bomb is caught too)."""
        cap = self.max_response_bytes
        if cap is None:
            return response.read()
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_large(shown, cap, int(declared))
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise self._too_large(shown, cap)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, shown: str, cap: int, declared: int | None = None) -> SourceError:
        sent = f"announced {declared:,} bytes, more" if declared is not None else "sent more"
        return SourceError(self.source, "too_large",
                           f"{shown} {sent} than the cap of {cap:,} bytes (max_response_bytes)")

    def _final(self, exc: _Retryable, attempts: int, shown: str) -> SourceError:
        error = exc.error
        message = str(error).removeprefix(f"source {self.source!r}: ")
        if exc.retry_after is not None and attempts < self.retry.attempts:
            message += f"; Retry-After {exc.retry_after:g}s is past the deadline"
        elif attempts > 1:
            message += f" (gave up after {attempts} attempts)"
        return SourceError(self.source, error.reason, message)

    def _snippet(self, response: httpx.Response) -> str:
        """The start of an error body (publishers explain a bad parameter there), redacted."""
        try:
            text = " ".join(response.text.split())
        except (UnicodeDecodeError, LookupError):
            return ""
        if len(text) > _MAX_BODY_IN_ERROR:
            text = text[:_MAX_BODY_IN_ERROR] + "…"
        return self.redact(text)


def _read_prefix(response: httpx.Response, limit: int) -> bytes:
    """At most about `limit` bytes of the body (an error page's start, not all of it)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _whole(streamed: httpx.Response, body: bytes) -> httpx.Response:
    """A complete response holding `body` (already decoded, so no Content-Encoding), usable
    after the stream is closed."""
    headers = [(k, v) for k, v in streamed.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    return httpx.Response(streamed.status_code, headers=headers, content=body,
                          request=streamed.request, extensions=streamed.extensions)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date measured against the response's own
    Date header (the server's clock, so no local clock is read)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        sent = email.utils.parsedate_to_datetime(headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    when, sent = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (when, sent))
    return max(0.0, (when - sent).total_seconds())
