"""The listener's armour, kept apart from the routes: TLS on the socket and basic auth in
front of every path, as the exporter-toolkit's web config file asks (monitor/config/web.py),
and the `:PORT` form listening on IPv6 and IPv4 at once.

Everything served on the port is behind it: /metrics, the API, health and any page. The
API token (`TRADEWATCH_API_TOKEN`, sent as `Authorization: Bearer`) passes basic auth too,
since one request cannot carry both schemes; the routes still decide what it may change."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import socket
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer

from monitor.config.web import WebConfig
from monitor.http import HttpServer, StartResponse, _ThreadingServer, _ThreadingServer6

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 10.0  # seconds a client has to finish the TLS handshake
CHALLENGE = 'Basic realm="tradewatch", charset="UTF-8"'
_CACHE_SIZE = 1024
# Checked against when the user is unknown, so that a wrong name costs what a wrong password does.
_DECOY = b"$2b$10$" + b"N9qo8uLOickgx2ZMRZoMye" + b"IjZAgcfl7p92ldGxad68LJZdL17lhWy"

WsgiApp = Callable[..., Iterable[bytes]]


class BasicAuth:
    """WSGI middleware: the web config's headers on every answer, and a 401 with
    `WWW-Authenticate` for a request without valid credentials when users are configured.
    bcrypt is slow by design: a successful check is remembered (by a digest of name,
    password and hash) so that a scrape every few seconds costs one hash, not one each."""

    def __init__(self, app: WsgiApp, users: dict[str, bytes], headers: list[tuple[str, str]],
                 api_token: str | None = None) -> None:
        self._app = app
        self._users = users
        self._headers = headers
        self._token = api_token
        self._good: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def respond(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            return start_response(status, [*headers, *self._headers], *rest)

        if not self._users or self._allowed(environ.get("HTTP_AUTHORIZATION", "")):
            return self._app(environ, respond)
        body = b"401 Unauthorized\n"
        respond("401 Unauthorized", [("WWW-Authenticate", CHALLENGE),
                                     ("Content-Type", "text/plain; charset=utf-8"),
                                     ("Content-Length", str(len(body)))])
        return [body]

    def _allowed(self, header: str) -> bool:
        if self._token and hmac.compare_digest(header.encode(), f"Bearer {self._token}".encode()):
            return True
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not sep:
            return False
        hashed = self._users.get(user)
        key = hashlib.sha256(b"\0".join((user.encode(), password.encode(), hashed or b""))).digest()
        with self._lock:
            if key in self._good:
                self._good.move_to_end(key)
                return True
        if not _bcrypt_ok(password.encode(), hashed or _DECOY) or hashed is None:
            return False
        with self._lock:
            self._good[key] = None
            while len(self._good) > _CACHE_SIZE:
                self._good.popitem(last=False)
        return True


def _bcrypt_ok(password: bytes, hashed: bytes) -> bool:
    import bcrypt

    try:
        return bool(bcrypt.checkpw(password, hashed))
    except ValueError:  # a password past bcrypt's 72 bytes, a malformed hash
        return False


class _DualStackServer(_ThreadingServer6):
    """`:PORT`: one IPv6 socket that takes IPv4 connections too (IPV6_V6ONLY off)."""

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class _Certificates:
    """The TLS context, rebuilt when the certificate, key or CA files change on disk (a
    rotated certificate is served from the next connection on, as the exporter-toolkit
    does); a rebuild that fails keeps the context that works and says so once."""

    def __init__(self, web: WebConfig, context: ssl.SSLContext) -> None:
        self._web = web
        self._context = context
        self._stamp = self._stamps()
        self._lock = threading.Lock()

    def _stamps(self) -> tuple[tuple[int, int] | None, ...]:
        found: list[tuple[int, int] | None] = []
        for path in self._web.tls_files():
            try:
                stat = os.stat(path)
                found.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                found.append(None)
        return tuple(found)

    def current(self) -> ssl.SSLContext:
        stamp = self._stamps()
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    context = self._web.ssl_context()
                    assert context is not None
                    self._context = context
                    log.info("TLS certificates reloaded web_config=%s", self._web.path)
                except Exception as exc:
                    log.error("TLS certificates not reloaded, keeping the loaded ones: %s", exc)
            return self._context


def _tls_class(base: type[_ThreadingServer], certificates: _Certificates) -> type[_ThreadingServer]:
    class TlsServer(base):  # type: ignore[valid-type,misc]
        """Accepts in the serving thread, shakes hands in the request's own thread (a slow
        or silent client holds up nobody else)."""

        def get_request(self) -> tuple[socket.socket, Any]:
            sock, address = self.socket.accept()
            wrapped = certificates.current().wrap_socket(sock, server_side=True,
                                                               do_handshake_on_connect=False)
            return wrapped, address

        def finish_request(self, request: Any, client_address: Any) -> None:
            try:
                request.settimeout(HANDSHAKE_TIMEOUT)
                request.do_handshake()
                request.settimeout(None)
            except (OSError, ssl.SSLError) as exc:
                log.debug("TLS handshake failed client=%s: %s", client_address, exc)
                return
            super().finish_request(request, client_address)

        def setup_environ(self) -> None:
            super().setup_environ()
            self.base_environ["HTTPS"] = "on"
            self.base_environ["wsgi.url_scheme"] = "https"

    return TlsServer


def serve(host: str, port: int, app: WsgiApp, web: WebConfig | None = None,
          api_token: str | None = None) -> HttpServer:
    """The HTTP server for `app` on HOST:PORT (host "" for every interface), behind the web
    config's TLS and basic auth when one is given. Not started."""
    if host == "":
        base: type[_ThreadingServer] = _DualStackServer if socket.has_dualstack_ipv6() else _ThreadingServer
        host = "::" if base is _DualStackServer else "0.0.0.0"
    else:
        base = _ThreadingServer6 if ":" in host else _ThreadingServer
    context = web.ssl_context() if web is not None else None
    server_class: type[WSGIServer] = base
    if web is not None:
        app = BasicAuth(app, web.users, web.headers, api_token)
    if web is not None and context is not None:
        server_class = _tls_class(base, _Certificates(web, context))
    return HttpServer(host, port, app, server_class=server_class)


def scheme(web: WebConfig | None) -> str:
    return "https" if web is not None and web.tls else "http"
