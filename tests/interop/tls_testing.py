"""A throwaway certificate authority and the server certificates it signs (for 127.0.0.1,
::1 and localhost), written as PEM files the way a self-hoster's Let's Encrypt files are;
and a real mediad serving them (``TlsDaemon``)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mediad.testing import DaemonProcess, free_port

KeyType = Literal["ec", "rsa"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


def _key(kind: KeyType) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _alternative_names(names: tuple[str, ...]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    cert: Path
    """The chain: leaf, then the CA (what certbot's fullchain.pem holds)."""
    key: Path
    serial: int
    leaf_der: bytes
    """The leaf as issued, DER: what a client sees as ``getpeercert(binary_form=True)``
    (the files may since hold a renewal)."""

    def der(self) -> bytes:
        return self.leaf_der


class TestCa:
    __test__ = False  # not a pytest class

    def __init__(self, directory: Path, name: str = "mediad test CA") -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._key = _key("ec")
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(self._key, hashes.SHA256()))
        self.cert_path = directory / "ca.pem"
        self.cert_path.write_bytes(self.pem)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def client_context(self) -> ssl.SSLContext:
        """A client that trusts this CA only (and checks the host name)."""
        return ssl.create_default_context(cadata=self.pem.decode())

    def issue(self, stem: str, *, names: tuple[str, ...] = SERVER_NAMES,
              key_type: KeyType = "ec", valid_days: float = 1.0) -> ServerCertificate:
        """``STEM.crt`` (leaf + CA) and ``STEM.key`` in the CA's directory."""
        key = _key(key_type)
        now = datetime.datetime.now(datetime.UTC)
        serial = x509.random_serial_number()
        leaf = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0])).issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - datetime.timedelta(days=3))
            .not_valid_after(now + datetime.timedelta(days=valid_days))
            .add_extension(_alternative_names(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(self._key, hashes.SHA256()))
        cert = self.directory / f"{stem}.crt"
        key_path = self.directory / f"{stem}.key"
        cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + self.pem)
        key_path.write_bytes(_key_pem(key))
        key_path.chmod(0o600)
        return ServerCertificate(cert, key_path, serial,
                                 leaf.public_bytes(serialization.Encoding.DER))


@dataclass
class TlsDaemon(DaemonProcess):
    """A real mediad with ``server.tls_cert``/``tls_key`` set to ``certificate``: HTTPS on
    the HTTP port, RTMPS on ``rtmps_port``, health checked through the test CA."""

    ca: TestCa | None = None
    certificate: ServerCertificate | None = None
    rtmps_port: int = field(default_factory=free_port)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.http_port}"

    @property
    def client(self) -> ssl.SSLContext:
        """Trusts the test CA only (the health check at start uses it too)."""
        assert self.ca is not None
        return self.ca.client_context()

    def rtmps_url(self, key: str | None = None) -> str:
        return f"rtmps://127.0.0.1:{self.rtmps_port}/live/{key or self.banner.primary_key}"

    @property
    def rtmps_server(self) -> str:
        """The banner's ``Server (TLS):`` line."""
        _ = self.banner
        return next(line.split(":", 1)[1].strip() for line in self.stdout_lines
                    if line.strip().startswith("Server (TLS):"))

    def config_text(self) -> str:
        assert self.certificate is not None
        text = super().config_text()
        text = text.replace("[server]\n", f'[server]\ntls_cert = "{self.certificate.cert}"\n'
                                          f'tls_key = "{self.certificate.key}"\n', 1)
        return text.replace("[rtmp]\n", f"[rtmp]\ntls_port = {self.rtmps_port}\n", 1)

    def get(self, path: str, timeout: float = 15) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=timeout,
                                        context=self.client) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
