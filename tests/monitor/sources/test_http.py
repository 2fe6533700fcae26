"""The shared HTTP layer: retries, attempt cap, deadline, Retry-After, reasons and redaction,
against a real local server."""

from __future__ import annotations

import logging
import time

import pytest

from monitor.retry import RetryPolicy
from monitor.sources.base import SourceError
from monitor.sources.http import HttpClient, Redactor
from tests.monitor.httpserver import LocalServer, Reply

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, deadline=5.0)
SECRET = "s3cr3t-subscription-key-0123"


def client(policy: RetryPolicy = FAST, timeout: float = 2.0, **kwargs: object) -> HttpClient:
    return HttpClient("feed", timeout=timeout, retry=policy, **kwargs)  # type: ignore[arg-type]


def failure(call: object) -> SourceError:
    with pytest.raises(SourceError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_success_returns_the_body_and_sends_headers(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(200, b'{"ok": true}'))
    response = client(headers={"X-Team": "policy"}).get(f"{local_server.url}/data", {"q": "1"})
    assert response.content == b'{"ok": true}'
    (request,) = local_server.to("/data")
    assert request.query == {"q": "1"}
    assert request.headers["x-team"] == "policy"


def test_a_server_error_then_success_is_retried(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(500, b"oops"), Reply(200, b"fine"))
    assert client().get(f"{local_server.url}/data").content == b"fine"
    assert len(local_server.to("/data")) == 2


def test_server_errors_forever_stop_at_the_attempt_cap(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(503, b"down"))
    url = f"{local_server.url}/data"
    error = failure(lambda: client().get(url))
    assert error.reason == "http_5xx"
    assert error.source == "feed"
    assert str(error) == f"source 'feed': {url} answered HTTP 503 (gave up after 3 attempts)"
    assert len(local_server.to("/data")) == 3


def test_the_deadline_stops_retries_before_the_attempt_cap(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(500))
    policy = RetryPolicy(attempts=20, backoff=0.1, max_backoff=0.1, deadline=0.35)
    started = time.monotonic()
    error = failure(lambda: client(policy).get(f"{local_server.url}/data"))
    assert error.reason == "http_5xx"
    assert time.monotonic() - started < 1.5
    assert 2 <= len(local_server.to("/data")) < 20


def test_rate_limited_waits_out_retry_after(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(429, b"slow down", {"Retry-After": "1"}), Reply(200, b"ok"))
    started = time.monotonic()
    assert client().get(f"{local_server.url}/data").content == b"ok"
    assert time.monotonic() - started >= 0.95
    assert len(local_server.to("/data")) == 2


def test_forbidden_with_retry_after_is_a_rate_limit(local_server: LocalServer) -> None:
    # UN Comtrade answers an exhausted quota with 403 and Retry-After.
    local_server.route("/data", Reply(403, b"quota", {"Retry-After": "0"}), Reply(200, b"ok"))
    assert client().get(f"{local_server.url}/data").content == b"ok"


def test_retry_after_as_an_http_date(local_server: LocalServer) -> None:
    headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:01 GMT", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}
    local_server.route("/data", Reply(429, b"", headers), Reply(200, b"ok"))
    started = time.monotonic()
    assert client().get(f"{local_server.url}/data").content == b"ok"
    assert time.monotonic() - started >= 0.95


def test_retry_after_past_the_deadline_fails_at_once(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(429, b"", {"Retry-After": "3600"}))
    url = f"{local_server.url}/data"
    started = time.monotonic()
    error = failure(lambda: client().get(url))
    assert time.monotonic() - started < 1
    assert error.reason == "rate_limited"
    assert str(error) == (f"source 'feed': {url} answered HTTP 429 (rate limited); "
                          "Retry-After 3600s is past the deadline")
    assert len(local_server.to("/data")) == 1


def test_rate_limited_without_retry_after_backs_off_then_gives_up(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(429))
    error = failure(lambda: client().get(f"{local_server.url}/data"))
    assert error.reason == "rate_limited"
    assert str(error).endswith("answered HTTP 429 (rate limited) (gave up after 3 attempts)")


def test_client_errors_are_not_retried_and_show_the_body(local_server: LocalServer) -> None:
    local_server.route("/data", Reply(400, b'{"error": "Invalid  parameter:\n cmdCode"}'))
    url = f"{local_server.url}/data"
    error = failure(lambda: client().get(url))
    assert error.reason == "http_4xx"
    assert str(error) == (
        f"source 'feed': {url} answered HTTP 400: " '{"error": "Invalid parameter: cmdCode"}')
    assert len(local_server.to("/data")) == 1


def test_not_found_is_short(local_server: LocalServer) -> None:
    url = f"{local_server.url}/nothing"
    error = failure(lambda: client().get(url))
    assert (error.reason, str(error)) == ("http_4xx", f"source 'feed': {url} answered HTTP 404")


def test_an_accepted_status_is_returned(local_server: LocalServer) -> None:
    response = client().get(f"{local_server.url}/nothing", accept_status={404})
    assert response.status_code == 404


def test_timeout_is_retried_then_reported(local_server: LocalServer) -> None:
    local_server.route("/slow", Reply(200, b"late", wait=5))
    url = f"{local_server.url}/slow"
    policy = RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.01, deadline=5)
    started = time.monotonic()
    error = failure(lambda: client(policy, timeout=0.3).get(url))
    assert time.monotonic() - started < 2
    assert error.reason == "timeout"
    assert str(error) == f"source 'feed': timed out reading {url} (gave up after 2 attempts)"
    assert len(local_server.to("/slow")) == 2


def test_connection_refused(local_server: LocalServer) -> None:
    url = f"{local_server.url}/data"
    local_server.close()
    error = failure(lambda: client().get(url))
    assert error.reason == "connect"
    assert str(error).startswith(f"source 'feed': cannot read {url}: ")


def test_secrets_never_appear_in_errors_or_logs(local_server: LocalServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    local_server.route("/data", Reply(500, f"echo {SECRET}".encode()), Reply(401, f"bad {SECRET}".encode()))
    http = client(headers={"Ocp-Apim-Subscription-Key": SECRET})
    with caplog.at_level(logging.DEBUG):
        error = failure(lambda: http.get(f"{local_server.url}/data",
                                         {"reporterCode": "156", "token": "tok-12345", "apikey": "k-67890"}))
    assert error.reason == "http_4xx"
    text = str(error) + "\n" + caplog.text
    for secret in (SECRET, "tok-12345", "k-67890"):
        assert secret not in text
    assert f"{local_server.url}/data?reporterCode=156&token=***&apikey=***" in str(error)
    assert str(error).endswith("answered HTTP 401: bad ***")
    assert "source retry source=feed reason=http_5xx attempt=1" in caplog.text
    assert local_server.to("/data")[0].headers["ocp-apim-subscription-key"] == SECRET


@pytest.mark.parametrize(("text", "shown"), [
    ("https://h/x?subscription-key=abcd&period=2020", "https://h/x?subscription-key=***&period=2020"),
    ("https://h/x?access_token=abcd", "https://h/x?access_token=***"),
    ("https://h/x?sig=abcd&cmdCode=TOTAL", "https://h/x?sig=***&cmdCode=TOTAL"),
    ("https://user:pw@h/x", "https://***@h/x"),
    ("key xyz-secret in a message", "key *** in a message"),
])
def test_redactor(text: str, shown: str) -> None:
    assert Redactor(["xyz-secret", None, ""])(text) == shown
