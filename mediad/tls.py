"""TLS for the HTTP port (HTTPS, WSS) and RTMPS, from the PEM files of ``server.tls_cert``
and ``server.tls_key``, read again on SIGHUP (``Daemon.reload``).

The listeners are given one ``ssl.SSLContext`` each, for their whole life. That context
holds the protocol settings but no certificate: its SNI callback (OpenSSL calls it for every
ClientHello, with or without a server name) moves each new handshake onto the context of
the files as last loaded. A reload builds that inner context whole and swaps it in only once
it loaded, so a bad file keeps the certificate in use, a renewal that changes the key type
(RSA to ECDSA) leaves no stale certificate behind, and open connections keep the context
they started with.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from mediad.config import ConfigError, ServerConfig

log = logging.getLogger("mediad.tls")

HTTP_ALPN = ("http/1.1",)
"""aiohttp speaks HTTP/1.1 only; a client offering h2 alone gets no ALPN answer."""
CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!MD5:!DSS"
"""TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are all of that)."""


class TlsError(ConfigError):
    """A certificate or key that cannot be used; the message names the key and the file."""


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What the logs say of a loaded certificate."""

    subject: str
    names: tuple[str, ...]
    """Its subject alternative names (DNS names and addresses)."""
    not_after: datetime.datetime
    fingerprint: str
    """SHA-256 of the leaf certificate (DER), hex: tells a renewal from the same file."""

    @property
    def expired(self) -> bool:
        return self.not_after <= datetime.datetime.now(datetime.UTC)

    def fields(self) -> dict[str, object]:
        return {"subject": self.subject, "names": ",".join(self.names),
                "not_after": self.not_after.isoformat(), "sha256": self.fingerprint[:16]}


@dataclass(frozen=True, slots=True)
class _Loaded:
    http: ssl.SSLContext
    rtmp: ssl.SSLContext
    info: CertificateInfo


def _configured(alpn: tuple[str, ...]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def _read(path: str, key: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise TlsError(f"server.{key}: cannot read {path}: {exc.strerror or exc}") from None


def _check_pair(cert_path: str, key_path: str) -> CertificateInfo:
    """Read and parse both files first, so each failure names its file and what is wrong
    (OpenSSL's own errors name neither)."""
    cert_pem = _read(cert_path, "tls_cert")
    if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        raise TlsError(f"server.tls_cert: {cert_path} is not a PEM certificate (no"
                       " '-----BEGIN CERTIFICATE-----')")
    try:
        leaf = x509.load_pem_x509_certificates(cert_pem)[0]
    except ValueError as exc:
        raise TlsError(f"server.tls_cert: {cert_path} is not a valid PEM certificate: {exc}"
                       ) from None
    key_pem = _read(key_path, "tls_key")
    if b"PRIVATE KEY-----" not in key_pem:
        raise TlsError(f"server.tls_key: {key_path} is not a PEM private key (no"
                       " '-----BEGIN ... PRIVATE KEY-----')")
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise TlsError(f"server.tls_key: {key_path} is encrypted: give the key without a"
                       " passphrase (mediad cannot ask for one)") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise TlsError(f"server.tls_key: {key_path} is not a valid PEM private key: {exc}"
                       ) from None
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(*spki) != leaf.public_key().public_bytes(*spki):
        raise TlsError(f"server.tls_key: {key_path} is not the key of the certificate in"
                       f" {cert_path} (server.tls_cert)")
    return _info(leaf)


def _info(leaf: x509.Certificate) -> CertificateInfo:
    try:
        alternative = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple([*alternative.get_values_for_type(x509.DNSName),
                       *(str(ip) for ip in alternative.get_values_for_type(x509.IPAddress))])
    except x509.ExtensionNotFound:
        names = ()
    fingerprint = hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()
    return CertificateInfo(leaf.subject.rfc4514_string(), names, leaf.not_valid_after_utc,
                           fingerprint)


def _no_passphrase() -> bytes:
    return b""  # never a prompt on the terminal: an encrypted key simply fails to load


def _load(cert_path: str, key_path: str) -> _Loaded:
    info = _check_pair(cert_path, key_path)
    contexts = []
    for alpn in (HTTP_ALPN, ()):
        context = _configured(alpn)
        try:
            context.load_cert_chain(cert_path, key_path, password=_no_passphrase)
        except (OSError, ssl.SSLError) as exc:  # the files changed since they were checked
            raise TlsError(f"server.tls_cert, server.tls_key: cannot load {cert_path} with"
                           f" {key_path}: {exc}") from None
        contexts.append(context)
    return _Loaded(contexts[0], contexts[1], info)


def check_tls_files(server: ServerConfig) -> CertificateInfo | None:
    """Load ``server.tls_cert`` and ``server.tls_key`` as the daemon will (``TlsError`` if
    they cannot serve), without keeping them; None without TLS."""
    return _load(server.tls_cert, server.tls_key).info if server.tls else None


class ServerTls:
    """The listeners' contexts (``http``: HTTPS and WSS; ``rtmp``: RTMPS) and the files
    they serve. Raises ``TlsError`` when the files cannot be used."""

    def __init__(self, cert_path: str, key_path: str) -> None:
        self.cert_path = cert_path
        self.key_path = key_path
        self._loaded = _load(cert_path, key_path)
        self.http = self._listener(HTTP_ALPN, lambda loaded: loaded.http)
        self.rtmp = self._listener((), lambda loaded: loaded.rtmp)
        self.reloads = 0
        self.failed_reloads = 0
        _log_loaded("tls certificate loaded", self._loaded.info, cert_path)

    @classmethod
    def from_config(cls, server: ServerConfig) -> ServerTls | None:
        return cls(server.tls_cert, server.tls_key) if server.tls else None

    @property
    def certificate(self) -> CertificateInfo:
        return self._loaded.info

    def _listener(self, alpn: tuple[str, ...],
                  pick: Callable[[_Loaded], ssl.SSLContext]) -> ssl.SSLContext:
        context = _configured(alpn)

        def current(connection: ssl.SSLObject, server_name: str | None,
                    listener: ssl.SSLContext) -> None:
            connection.context = pick(self._loaded)

        context.sni_callback = current
        return context

    def reload(self) -> bool:
        """Read both files again; new handshakes get them. On failure the certificate in
        use stays and the log says why. True when the new files are in use."""
        try:
            loaded = _load(self.cert_path, self.key_path)
        except TlsError as exc:
            self.failed_reloads += 1
            log.error("tls reload failed, the certificate in use stays: %s", exc,
                      extra={"fields": self._loaded.info.fields()})
            return False
        previous, self._loaded = self._loaded, loaded
        self.reloads += 1
        renewed = loaded.info.fingerprint != previous.info.fingerprint
        message = "tls certificate reloaded" + ("" if renewed else " (unchanged)")
        _log_loaded(message, loaded.info, self.cert_path)
        return True


def _log_loaded(message: str, info: CertificateInfo, path: str) -> None:
    log.info(message, extra={"fields": {"file": path, **info.fields()}})
    if info.expired:
        log.warning("tls certificate expired: browsers and encoders will refuse it",
                    extra={"fields": {"file": path, **info.fields()}})
