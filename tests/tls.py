"""Certificates made for a test: a CA, a server certificate for localhost, 127.0.0.1 and ::1
signed by it, and a client certificate (for client-certificate auth), written as PEM files;
and a web config file in the exporter-toolkit's format pointing at them."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USER, PASSWORD = "prometheus", "s3cret-scrape"


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing the server trusts


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
                 issuer_key: ec.EllipticCurvePrivateKey, ca: bool, usage: Any = None,
                 names: list[x509.GeneralName] | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("tradewatch test CA", ca_key, "tradewatch test CA", ca_key, ca=True)
    other = _certificate("another CA", other_key, "another CA", other_key, ca=True)
    names: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                     x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                     x509.IPAddress(ipaddress.ip_address("::1"))]
    server = _certificate("localhost", server_key, "tradewatch test CA", ca_key, ca=False,
                          usage=ExtendedKeyUsageOID.SERVER_AUTH, names=names)
    client = _certificate("scraper", client_key, "tradewatch test CA", ca_key, ca=False,
                          usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    _write_key(server_key, directory / "server.key")
    _write_key(client_key, directory / "client.key")
    return Pki(ca=_pem(ca, directory / "ca.pem"), cert=_pem(server, directory / "server.pem"),
               key=directory / "server.key", client_cert=_pem(client, directory / "client.pem"),
               client_key=directory / "client.key", other_ca=_pem(other, directory / "other-ca.pem"))


def hashed(password: str = PASSWORD, rounds: int = 4) -> str:
    """A bcrypt hash at the lowest cost (the tests check many)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def write_web_config(path: Path, pki: Pki | None = None, users: dict[str, str] | None = None,
                     **tls: Any) -> Path:
    """A web config file: TLS with `pki` (relative paths, as they would be written beside it)
    plus any other tls_server_config fields, and `users` (name -> password, hashed here)."""
    document: dict[str, Any] = {}
    if pki is not None:
        document["tls_server_config"] = {"cert_file": pki.cert.name, "key_file": pki.key.name, **tls}
    if users:
        document["basic_auth_users"] = {name: hashed(password) for name, password in users.items()}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
