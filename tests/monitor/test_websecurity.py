"""The listener behind a web config file, over real sockets on loopback: TLS with certificates
made for the test, client certificates, basic auth (right, wrong, missing), the API token
still working, rotated certificates picked up, and the IPv6 and `:PORT` listen forms."""

from __future__ import annotations

import base64
import shutil
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, make_wsgi_app

from monitor.config import parse_listen
from monitor.config.web import WebConfig, load_web_config
from monitor.http import HttpServer, build_app
from monitor.websecurity import CHALLENGE, HANDSHAKE_TIMEOUT, serve
from tests.tls import PASSWORD, USER, Pki, make_pki, write_web_config

TOKEN = "change-token-123"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def wsgi() -> Callable[..., Any]:
    registry = CollectorRegistry()
    Counter("tradewatch_test_total", "a counter for the test", registry=registry).inc()
    reloads: list[int] = []

    def reload() -> tuple[bool, str]:
        reloads.append(1)
        return True, "reloaded"

    return build_app(make_wsgi_app(registry), lambda: (True, "ok"), lambda: (True, "ready"),
                     reload=reload, api_token=TOKEN)


@pytest.fixture
def start() -> Iterator[Callable[..., HttpServer]]:
    servers: list[HttpServer] = []

    def run(web: WebConfig | None, listen: str = "127.0.0.1:0") -> HttpServer:
        host, port = parse_listen(listen)
        server = serve(host, port, wsgi(), web, TOKEN)
        server.start()
        servers.append(server)
        return server

    yield run
    for server in servers:
        server.stop()


def client_context(pki: Pki, ca: Path | None = None, client: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca or pki.ca))
    if client:
        context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


def url(server: HttpServer, path: str = "/metrics", scheme: str = "https", host: str | None = None) -> str:
    bound, port = server.address
    host = host or bound
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}{path}"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_metrics_over_tls_verified_against_the_ca(pki: Pki, start: Callable[..., HttpServer]) -> None:
    web = load_web_config(write_web_config(pki.cert.parent / "tls.yml", pki))
    server = start(web)
    response = httpx.get(url(server), verify=client_context(pki), timeout=10)
    assert response.status_code == 200
    assert "tradewatch_test_total 1.0" in response.text
    with pytest.raises(httpx.ConnectError):  # a client that trusts another CA refuses the server
        httpx.get(url(server), verify=client_context(pki, pki.other_ca), timeout=10)
    with pytest.raises(httpx.HTTPError):  # plain HTTP to a TLS port gets no answer
        httpx.get(url(server, scheme="http"), timeout=10)
    # The server survived both failed handshakes.
    assert httpx.get(url(server, "/-/healthy"), verify=client_context(pki), timeout=10).text == "ok\n"


def test_a_silent_client_does_not_hold_up_the_others(pki: Pki, start: Callable[..., HttpServer]) -> None:
    server = start(load_web_config(write_web_config(pki.cert.parent / "tls.yml", pki)))
    with socket.create_connection(server.address, timeout=10):  # connects, never says hello
        started = time.monotonic()
        response = httpx.get(url(server), verify=client_context(pki), timeout=HANDSHAKE_TIMEOUT * 3)
        assert response.status_code == 200
        assert time.monotonic() - started < HANDSHAKE_TIMEOUT * 3  # a hang bound, not a speed claim


def test_basic_auth_right_wrong_and_missing(pki: Pki, start: Callable[..., HttpServer]) -> None:
    web = load_web_config(write_web_config(pki.cert.parent / "auth.yml", pki, {USER: PASSWORD}))
    server = start(web)
    with httpx.Client(verify=client_context(pki), timeout=10) as client:
        assert client.get(url(server), headers=basic(USER, PASSWORD)).status_code == 200
        assert client.get(url(server), auth=(USER, PASSWORD)).status_code == 200  # from the cache
        for headers in ({}, basic(USER, "wrong"), basic("nobody", PASSWORD), basic(USER, PASSWORD + "x"),
                        {"Authorization": "Basic !!!"}, {"Authorization": "Bearer wrong"},
                        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}):
            for path in ("/metrics", "/-/healthy", "/api/v1/alerts", "/anything"):
                response = client.get(url(server, path), headers=headers)
                assert response.status_code == 401, (headers, path)
                assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_basic_auth_without_tls(pki: Pki, start: Callable[..., HttpServer]) -> None:
    server = start(load_web_config(write_web_config(pki.cert.parent / "plain.yml", None, {USER: PASSWORD})))
    assert httpx.get(url(server, scheme="http"), timeout=10).status_code == 401
    assert httpx.get(url(server, scheme="http"), auth=(USER, PASSWORD), timeout=10).status_code == 200


def test_the_api_token_still_changes_state_behind_basic_auth(pki: Pki,
                                                             start: Callable[..., HttpServer]) -> None:
    server = start(load_web_config(write_web_config(pki.cert.parent / "auth.yml", pki, {USER: PASSWORD})))
    with httpx.Client(verify=client_context(pki), timeout=10) as client:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        response = client.post(url(server, "/-/reload"), headers=bearer)
        assert response.status_code == 200 and response.json()["message"] == "reloaded"
        # Basic auth reads, but changes still need the token.
        assert client.post(url(server, "/-/reload"), auth=(USER, PASSWORD)).status_code == 401
        assert client.get(url(server), headers=bearer).status_code == 200


def test_client_certificates_required_and_verified(pki: Pki, start: Callable[..., HttpServer]) -> None:
    web = load_web_config(write_web_config(pki.cert.parent / "mtls.yml", pki,
                                           client_auth_type="RequireAndVerifyClientCert",
                                           client_ca_file=pki.ca.name))
    server = start(web)
    response = httpx.get(url(server), verify=client_context(pki, client=True), timeout=10)
    assert response.status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.get(url(server), verify=client_context(pki), timeout=10)


def test_min_version_refuses_older_clients(pki: Pki, start: Callable[..., HttpServer]) -> None:
    server = start(load_web_config(write_web_config(pki.cert.parent / "tls13.yml", pki, min_version="TLS13")))
    old = client_context(pki)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(httpx.ConnectError):
        httpx.get(url(server), verify=old, timeout=10)
    with httpx.Client(verify=client_context(pki), timeout=10) as client:
        assert client.get(url(server)).status_code == 200


def test_headers_of_the_web_config_are_sent(tmp_path: Path, start: Callable[..., HttpServer]) -> None:
    path = tmp_path / "headers.yml"
    path.write_text("http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                    "    Strict-Transport-Security: max-age=31536000\n")
    server = start(load_web_config(path))
    response = httpx.get(url(server, scheme="http"), timeout=10)
    assert response.headers["X-Frame-Options"] == "deny"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_rotated_certificate_is_served_from_the_next_connection(tmp_path: Path,
                                                                  start: Callable[..., HttpServer]) -> None:
    first = make_pki(tmp_path / "first")
    web = load_web_config(write_web_config(first.cert.parent / "web.yml", first))
    server = start(web)
    assert httpx.get(url(server), verify=client_context(first), timeout=10).status_code == 200
    second = make_pki(tmp_path / "second")
    time.sleep(0.01)  # a new modification time even on coarse clocks
    shutil.copy(second.cert, first.cert)
    shutil.copy(second.key, first.key)
    assert httpx.get(url(server), verify=client_context(second), timeout=10).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url(server), verify=client_context(first), timeout=10)
    first.key.write_text("garbage")  # a half-written rotation keeps serving the loaded pair
    assert httpx.get(url(server), verify=client_context(second), timeout=10).status_code == 200


def test_ipv6_loopback_with_tls(pki: Pki, start: Callable[..., HttpServer]) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    server = start(load_web_config(write_web_config(pki.cert.parent / "tls.yml", pki)), "[::1]:0")
    assert server.address[0] == "::1"
    assert httpx.get(url(server), verify=client_context(pki), timeout=10).status_code == 200


def test_colon_port_listens_on_ipv4_and_ipv6(start: Callable[..., HttpServer]) -> None:
    server = start(None, ":0")
    _host, port = server.address
    assert httpx.get(f"http://127.0.0.1:{port}/-/healthy", timeout=10).status_code == 200
    if socket.has_dualstack_ipv6():
        assert server.address[0] == "::"
        assert httpx.get(f"http://[::1]:{port}/-/healthy", timeout=10).status_code == 200
