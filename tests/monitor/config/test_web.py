"""The web config file: what the exporter-toolkit accepts is read the same way, and every bad
field is one located error naming the file and the field; `promtool check web-config`
agrees on the files the daemon accepts."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from monitor.config import ConfigError
from monitor.config.web import ClientAuth, TlsVersion, load_web_config, web_config_path
from tests.conftest import require_binary
from tests.tls import Pki, hashed, make_pki, write_web_config


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def problem(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    text = str(caught.value)
    assert str(path) in text
    return text


def test_an_empty_file_means_plain_http_without_auth(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text("")
    web = load_web_config(path)
    assert (web.tls, web.users, web.ssl_context()) == (False, {}, None)


def test_tls_with_relative_paths_client_certificates_and_users(pki: Pki) -> None:
    path = write_web_config(pki.cert.parent / "web.yml", pki, {"prometheus": "pw"},
                            client_auth_type="RequireAndVerifyClientCert", client_ca_file=pki.ca.name,
                            min_version="TLS13")
    web = load_web_config(path)
    tls = web.file.tls_server_config
    assert (tls.client_auth_type, tls.min_version) == (ClientAuth.REQUIRE_AND_VERIFY, TlsVersion.TLS13)
    context = web.ssl_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert set(web.users) == {"prometheus"}
    assert web.tls_files() == (pki.cert, pki.key, pki.ca)


@pytest.mark.parametrize(("text", "where", "says"), [
    ("tls_server_config: {cert_file: server.pem}\n", "tls_server_config.key_file", "missing one of key"),
    ("tls_server_config: {cert_file: nope.pem, key_file: server.key}\n", "tls_server_config.cert_file",
     "no such file"),
    ("tls_server_config: {cert_file: server.pem, key_file: client.key}\n", "tls_server_config.cert_file",
     "cannot load the key pair"),
    ("tls_server_config: {cert_file: server.pem, key_file: server.key, min_version: TLS14}\n",
     "tls_server_config.min_version", "TLS13"),
    ("tls_server_config: {cert_file: server.pem, key_file: server.key, client_ca_file: ca.pem}\n",
     "tls_server_config.client_auth_type", "without a client auth policy"),
    ("tls_server_config: {cert_file: server.pem, key_file: server.key, "
     "client_auth_type: RequireAndVerifyClientCert}\n", "tls_server_config.client_ca_file", "needs"),
    ("tls_server_config: {cert_file: server.pem, key_file: server.key, "
     "client_auth_type: RequireAnyClientCert, client_ca_file: ca.pem}\n",
     "tls_server_config.client_auth_type", "not supported"),
    ("tls_server_config: {cert_file: server.pem, key_file: server.key, client_ca_file: server.key, "
     "client_auth_type: RequireAndVerifyClientCert}\n", "tls_server_config.client_ca_file",
     "cannot load client CAs"),
    ("tls_server_config: {cert_file: server.pem, key_file: server.key, cipher_suites: [X]}\n",
     "tls_server_config.cipher_suites", "not supported"),
    ("tls_server_config: {cert_file: server.pem, key_file: server.key, min_version: TLS13, "
     "max_version: TLS12}\n", "tls_server_config.min_version", "above max_version"),
    ("basic_auth_users:\n  alice: plaintext\n", "basic_auth_users.alice", "not a bcrypt hash"),
    ("basic_auth_user:\n  alice: x\n", "basic_auth_user", "unknown key"),
    ("http_server_config: {headers: {X-Powered-By: me}}\n", "http_server_config.headers.X-Powered-By",
     "not allowed"),
    ("- a list\n", "", "a mapping"),
    ("tls_server_config: [\n", "", "invalid YAML"),
])
def test_bad_files_name_the_file_and_the_field(pki: Pki, text: str, where: str, says: str) -> None:
    path = pki.cert.parent / "bad.yml"
    path.write_text(text)
    message = problem(path)
    assert where in message and says in message, message
    assert "Traceback" not in message


def test_a_bad_hash_is_located_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text(f"basic_auth_users:\n  good: {hashed()}\n  bad: '$2b$10$short'\n")
    assert f"{path}:3: basic_auth_users.bad: not a bcrypt hash" in problem(path)


def test_the_flag_wins_over_the_config_key(tmp_path: Path) -> None:
    assert web_config_path("flag.yml", "web.yml", tmp_path) == Path("flag.yml")
    assert web_config_path(None, "web.yml", tmp_path) == tmp_path / "web.yml"
    assert web_config_path(None, None, tmp_path) is None


def _promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    promtool = require_binary("promtool")
    return subprocess.run([promtool, "check", "web-config", str(path)], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("fields", [
    {},
    {"client_auth_type": "RequireAndVerifyClientCert", "client_ca_file": "ca.pem", "min_version": "TLS13"},
    {"client_auth_type": "VerifyClientCertIfGiven", "client_ca_file": "ca.pem", "max_version": "TLS12"},
], ids=["tls", "mtls", "optional-client-cert"])
def test_promtool_accepts_every_file_the_daemon_accepts(pki: Pki, fields: dict[str, str]) -> None:
    path = write_web_config(pki.cert.parent / "web.yml", pki, {"prometheus": "pw", "grafana": "pw2"},
                            **fields)
    load_web_config(path)
    result = _promtool_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    auth_only = write_web_config(pki.cert.parent / "auth.yml", None, {"prometheus": "pw"})
    load_web_config(auth_only)
    result = _promtool_check(auth_only)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "tls_server_config: {cert_file: server.pem}\n",
    "tls_server_config: {cert_file: server.pem, key_file: server.key, client_ca_file: ca.pem}\n",
    "basic_auth_users:\n  alice: plaintext\n",
    "basic_auth_user:\n  alice: x\n",
], ids=["no-key", "ca-without-policy", "plain-password", "unknown-key"])
def test_promtool_and_the_daemon_refuse_the_same_broken_files(pki: Pki, text: str) -> None:
    path = pki.cert.parent / "broken.yml"
    path.write_text(text)
    problem(path)
    assert _promtool_check(path).returncode != 0
