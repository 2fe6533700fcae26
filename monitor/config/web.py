"""The web configuration file of Prometheus exporters (`--web.config.file`): TLS for the
listener and basic-auth users with bcrypt hashes, in the exporter-toolkit's YAML format, so
that one file serves tradewatch, node_exporter and `promtool check web-config` alike.

Reading the file checks everything the listener will need: unknown keys, both halves of the
key pair, the files readable and matching, client CAs, TLS versions, bcrypt hashes. Each
problem names the file, the line and the field. Relative paths resolve against the file's
directory, as in the exporter-toolkit. What Python's TLS cannot do as Go's does
(`RequestClientCert`, `RequireAnyClientCert`, Go cipher-suite and curve names, SAN allow
lists) is refused by name rather than silently ignored."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pydantic import Field, ValidationError

from monitor.config.base import Strict
from monitor.config.yamlfile import ConfigError, ConfigProblem, load_yaml, problems_from_validation


class ClientAuth(Enum):
    NO_CLIENT_CERT = "NoClientCert"
    VERIFY_IF_GIVEN = "VerifyClientCertIfGiven"
    REQUIRE_AND_VERIFY = "RequireAndVerifyClientCert"
    # Go's crypto/tls can ask for a certificate without verifying it; Python's ssl cannot.
    REQUEST = "RequestClientCert"
    REQUIRE_ANY = "RequireAnyClientCert"


_VERIFY_MODES = {ClientAuth.NO_CLIENT_CERT: ssl.CERT_NONE, ClientAuth.VERIFY_IF_GIVEN: ssl.CERT_OPTIONAL,
                 ClientAuth.REQUIRE_AND_VERIFY: ssl.CERT_REQUIRED}


class TlsVersion(Enum):
    TLS10 = "TLS10"
    TLS11 = "TLS11"
    TLS12 = "TLS12"
    TLS13 = "TLS13"

    @property
    def ssl(self) -> ssl.TLSVersion:
        return {"TLS10": ssl.TLSVersion.TLSv1, "TLS11": ssl.TLSVersion.TLSv1_1,
                "TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}[self.value]


class TlsServerConfig(Strict):
    cert_file: str = ""
    key_file: str = ""
    cert: str = ""
    key: str = ""
    client_auth_type: ClientAuth | None = None
    client_ca_file: str = ""
    client_ca: str = ""
    min_version: TlsVersion = TlsVersion.TLS12
    max_version: TlsVersion = TlsVersion.TLS13
    prefer_server_cipher_suites: bool = True
    cipher_suites: list[str] = Field(default_factory=list)
    curve_preferences: list[str] = Field(default_factory=list)
    client_allowed_sans: list[str] | None = None

    @property
    def enabled(self) -> bool:
        """The exporter-toolkit's rule: any TLS field set means TLS."""
        return any((self.cert_file, self.key_file, self.cert, self.key, self.client_ca_file,
                    self.client_ca, self.client_auth_type is not None))


class HttpServerConfig(Strict):
    http2: bool = True  # accepted for compatibility; the listener speaks HTTP/1.1
    headers: dict[str, str] = Field(default_factory=dict)


class WebConfigFile(Strict):
    tls_server_config: TlsServerConfig = Field(default_factory=TlsServerConfig)
    http_server_config: HttpServerConfig = Field(default_factory=HttpServerConfig)
    basic_auth_users: dict[str, str] = Field(default_factory=dict)


# $2a$, $2b$ or $2y$, a two-digit cost, 22 characters of salt and 31 of hash.
_BCRYPT = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
# The exporter-toolkit refuses these headers' other values; tradewatch sets no others.
_HEADER_VALUES = {"X-Content-Type-Options": {"nosniff"}, "X-Frame-Options": {"deny", "sameorigin"}}
_HEADERS = {"Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection",
            "Content-Security-Policy"}


@dataclass(frozen=True)
class WebConfig:
    """A checked web config file: what the listener wraps itself in."""

    path: Path
    file: WebConfigFile

    @property
    def users(self) -> dict[str, bytes]:
        return {name: hashed.encode() for name, hashed in self.file.basic_auth_users.items()}

    @property
    def headers(self) -> list[tuple[str, str]]:
        return list(self.file.http_server_config.headers.items())

    @property
    def tls(self) -> bool:
        return self.file.tls_server_config.enabled

    def resolve(self, name: str) -> Path:
        return (self.path.parent / name) if name and not Path(name).is_absolute() else Path(name)

    def tls_files(self) -> tuple[Path, ...]:
        """The files the TLS context reads (watched to reload rotated certificates)."""
        tls = self.file.tls_server_config
        return tuple(self.resolve(n) for n in (tls.cert_file, tls.key_file, tls.client_ca_file) if n)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context, None without TLS; ConfigError naming the field on a
        file that is missing, unreadable or does not match its other half."""
        tls = self.file.tls_server_config
        if not tls.enabled:
            return None
        problems = _tls_problems(self, tls)
        if problems:
            raise ConfigError(problems)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = tls.min_version.ssl
        context.maximum_version = tls.max_version.ssl
        if tls.prefer_server_cipher_suites:
            context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
        cert_path, key_path = self.resolve(tls.cert_file), self.resolve(tls.key_file)
        where = "tls_server_config." + ("cert_file" if tls.cert_file else "cert")
        try:
            _load_pair(context, tls, cert_path, key_path)
        except (OSError, ssl.SSLError) as exc:
            raise self._problem(where, f"cannot load the key pair: {_reason(exc)}") from None
        auth = tls.client_auth_type or ClientAuth.NO_CLIENT_CERT
        context.verify_mode = _VERIFY_MODES[auth]
        if tls.client_ca_file or tls.client_ca:
            field = "client_ca_file" if tls.client_ca_file else "client_ca"
            try:
                if tls.client_ca_file:
                    context.load_verify_locations(cafile=self.resolve(tls.client_ca_file))
                else:
                    context.load_verify_locations(cadata=tls.client_ca)
            except (OSError, ssl.SSLError) as exc:
                raise self._problem(f"tls_server_config.{field}",
                                    f"cannot load client CAs: {_reason(exc)}") from None
        return context

    def _problem(self, field: str, message: str) -> ConfigError:
        return ConfigError([ConfigProblem(str(self.path), None, field, message)])


def _load_pair(context: ssl.SSLContext, tls: TlsServerConfig, cert: Path, key: Path) -> None:
    """Python loads key pairs from files only: inline `cert`/`key` halves go through a
    private temporary file each, removed at once."""
    import os
    import tempfile

    made: list[str] = []
    try:
        names = []
        for inline, path in ((tls.cert, cert), (tls.key, key)):
            if not inline:
                names.append(str(path))
                continue
            fd, name = tempfile.mkstemp(prefix="tradewatch-tls-", suffix=".pem")
            made.append(name)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(inline)
            names.append(name)
        context.load_cert_chain(names[0], names[1])
    finally:
        for name in made:
            os.unlink(name)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return " ".join(str(exc).split())[:200]


def _tls_problems(web: WebConfig, tls: TlsServerConfig) -> list[ConfigProblem]:
    file = str(web.path)
    found: list[ConfigProblem] = []

    def problem(field: str, message: str) -> None:
        found.append(ConfigProblem(file, None, f"tls_server_config.{field}", message))

    if not (tls.cert_file or tls.cert):
        problem("cert_file", "missing one of cert or cert_file")
    if not (tls.key_file or tls.key):
        problem("key_file", "missing one of key or key_file")
    for field in ("cert_file", "key_file", "client_ca_file"):
        name = getattr(tls, field)
        if name and not web.resolve(name).is_file():
            problem(field, f"no such file: {web.resolve(name)}")
    auth = tls.client_auth_type
    if auth in (ClientAuth.REQUEST, ClientAuth.REQUIRE_ANY):
        problem("client_auth_type", f"{auth.value} is not supported (a client certificate is always "
                "verified here): use VerifyClientCertIfGiven or RequireAndVerifyClientCert")
    if (tls.client_ca_file or tls.client_ca) and auth in (None, ClientAuth.NO_CLIENT_CERT):
        problem("client_auth_type", "client CAs are configured without a client auth policy")
    if auth in (ClientAuth.VERIFY_IF_GIVEN, ClientAuth.REQUIRE_AND_VERIFY) and not (
            tls.client_ca_file or tls.client_ca):
        problem("client_ca_file", f"{auth.value} needs client_ca_file (the CAs client certificates "
                "are verified against)")
    if tls.min_version.ssl > tls.max_version.ssl:
        problem("min_version", f"{tls.min_version.value} is above max_version {tls.max_version.value}")
    for field in ("cipher_suites", "curve_preferences", "client_allowed_sans"):
        if getattr(tls, field):
            problem(field, "not supported: OpenSSL's defaults apply; remove the field")
    return found


def load_web_config(path: Path | str) -> WebConfig:
    """Read and check a web config file; ConfigError naming the file, line and field."""
    path = Path(path)
    loaded = load_yaml(path, env={})
    if loaded.data is None or loaded.data == {}:
        web = WebConfig(path, WebConfigFile())
        return web
    if not isinstance(loaded.data, dict):
        raise ConfigError([ConfigProblem(str(path), 1, "", "a web config file is a mapping")])
    try:
        parsed = WebConfigFile.model_validate(loaded.data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, loaded)) from None
    problems = []
    for user, hashed in parsed.basic_auth_users.items():
        match = _BCRYPT.fullmatch(hashed)
        if match is None or not 4 <= int(match.group(1)) <= 31:
            problems.append(ConfigProblem(str(path), loaded.line_of(("basic_auth_users", user)),
                                          f"basic_auth_users.{user}",
                                          "not a bcrypt hash (make one with `htpasswd -nBC 10 USER` "
                                          "or Python's bcrypt.hashpw)"))
    for name, value in parsed.http_server_config.headers.items():
        allowed = _HEADER_VALUES.get(name)
        if name not in _HEADERS or (allowed is not None and value.lower() not in allowed):
            problems.append(ConfigProblem(str(path), loaded.line_of(("http_server_config", "headers", name)),
                                          f"http_server_config.headers.{name}",
                                          "header or value not allowed; allowed headers: "
                                          + ", ".join(sorted(_HEADERS))))
    if problems:
        raise ConfigError(problems)
    web = WebConfig(path, parsed)
    web.ssl_context()  # every file read and checked now, not at the first connection
    return web


def web_config_path(flag: str | None, configured: str | None, base_dir: Path) -> Path | None:
    """`--web.config.file` wins over `http.web_config_file` (relative to the config's directory)."""
    if flag:
        return Path(flag)
    if configured:
        return base_dir / configured
    return None
