"""TLS from PEM files: the contexts the listeners get, the errors that name the bad file,
reloading for new handshakes only (a bad file keeps the certificate in use), the URLs a
streamer and a viewer are given with TLS on, and an edge in front of TLS origins. The
HTTP limits over TLS are in test_http_limits.py, RTMPS in tests/ingest/rtmp."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from mediad.api.views import keys_view, revealed_key
from mediad.bootstrap import BootstrapResult, banner
from mediad.cli import EXIT_CONFIG, main
from mediad.config import Config, ConfigError, RtmpConfig, ServerConfig
from mediad.daemon import Daemon
from mediad.store.keys import StreamKey
from mediad.store.streams import Stream
from mediad.tls import ServerTls, TlsError, check_tls_files
from mediad.urls import Ports, hls_url, player_url, rtmps_server_url, whep_url
from tests.interop.tls_testing import ServerCertificate, TestCa


@pytest.fixture
def ca(tmp_path: Path) -> TestCa:
    return TestCa(tmp_path / "tls")


def tls_config(cert: ServerCertificate, **server: object) -> Config:
    return Config(server=ServerConfig(tls_cert=str(cert.cert), tls_key=str(cert.key),
                                      public_host="media.example", **server))  # type: ignore[arg-type]


async def _hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo each line until the client leaves."""
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@asynccontextmanager
async def echo_server(context: ssl.SSLContext) -> AsyncIterator[int]:
    server = await asyncio.start_server(_hello, "127.0.0.1", 0, ssl=context)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


async def connect(port: int, ca: TestCa, *, alpn: list[str] | None = None
                  ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    client = ca.client_context()
    if alpn:
        client.set_alpn_protocols(alpn)
    return await asyncio.open_connection("127.0.0.1", port, ssl=client,
                                         server_hostname="localhost")


def peer_der(writer: asyncio.StreamWriter) -> bytes:
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    assert isinstance(der, bytes)
    return der


async def echo(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], text: bytes) -> bytes:
    reader, writer = conn
    writer.write(text + b"\n")
    async with asyncio.timeout(5):
        return (await reader.readline()).rstrip(b"\n")


# -- the contexts --------------------------------------------------------------------------


async def test_the_http_context_serves_the_certificate_with_alpn_http11(ca: TestCa) -> None:
    cert = ca.issue("server")
    tls = ServerTls(str(cert.cert), str(cert.key))
    assert tls.http.minimum_version == ssl.TLSVersion.TLSv1_2
    assert tls.certificate.names == ("localhost", "127.0.0.1", "::1")
    async with echo_server(tls.http) as port:
        conn = await connect(port, ca, alpn=["h2", "http/1.1"])
        assert peer_der(conn[1]) == cert.der()
        assert conn[1].get_extra_info("ssl_object").selected_alpn_protocol() == "http/1.1"
        assert await echo(conn, b"hello") == b"hello"
        conn[1].close()
    async with echo_server(tls.rtmp) as port:  # RTMPS: no ALPN, same certificate
        conn = await connect(port, ca)
        assert peer_der(conn[1]) == cert.der()
        assert conn[1].get_extra_info("ssl_object").selected_alpn_protocol() is None
        conn[1].close()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated")
async def test_tls_1_1_is_refused(ca: TestCa) -> None:
    cert = ca.issue("server")
    tls = ServerTls(str(cert.cert), str(cert.key))
    old = ca.client_context()
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    async with echo_server(tls.http) as port:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            await asyncio.open_connection("127.0.0.1", port, ssl=old,
                                          server_hostname="localhost")


# -- errors at start, each naming its file ---------------------------------------------------


def test_a_missing_certificate_names_the_file(ca: TestCa, tmp_path: Path) -> None:
    cert = ca.issue("server")
    with pytest.raises(TlsError, match=r"server\.tls_cert: cannot read .*nowhere\.pem: No such"):
        ServerTls(str(tmp_path / "nowhere.pem"), str(cert.key))
    with pytest.raises(TlsError, match=r"server\.tls_key: cannot read .*nokey\.pem"):
        ServerTls(str(cert.cert), str(tmp_path / "nokey.pem"))


def test_an_unreadable_key_names_the_file(ca: TestCa) -> None:
    cert = ca.issue("server")
    cert.key.chmod(0)
    try:
        if cert.key.open("rb").readable():  # running as root: permissions do not stop us
            pytest.skip("root reads a file of mode 000")
    except PermissionError:
        pass
    try:
        with pytest.raises(TlsError, match=r"server\.tls_key: cannot read .*server\.key: "
                                           r"Permission denied"):
            ServerTls(str(cert.cert), str(cert.key))
    finally:
        cert.key.chmod(0o600)


def test_files_that_are_not_pem_are_named(ca: TestCa, tmp_path: Path) -> None:
    cert = ca.issue("server")
    der = tmp_path / "cert.der"
    der.write_bytes(cert.der())
    with pytest.raises(TlsError, match=r"server\.tls_cert: .*cert\.der is not a PEM certificate"):
        ServerTls(str(der), str(cert.key))
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    with pytest.raises(TlsError, match=r"server\.tls_cert: .*broken\.pem is not a valid PEM"):
        ServerTls(str(broken), str(cert.key))
    with pytest.raises(TlsError, match=r"server\.tls_key: .*server\.crt is not a PEM private"):
        ServerTls(str(cert.cert), str(cert.cert))  # the certificate given as the key


def test_a_key_of_another_certificate_is_named(ca: TestCa) -> None:
    one, other = ca.issue("one"), ca.issue("other", key_type="rsa")
    with pytest.raises(TlsError, match=r"server\.tls_key: .*other\.key is not the key of the "
                                       r"certificate in .*one\.crt"):
        ServerTls(str(one.cert), str(other.key))


def test_an_encrypted_key_is_refused_without_a_prompt(ca: TestCa) -> None:
    from cryptography.hazmat.primitives import serialization

    cert = ca.issue("server")
    key = serialization.load_pem_private_key(cert.key.read_bytes(), password=None)
    cert.key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    with pytest.raises(TlsError, match=r"server\.tls_key: .*server\.key is encrypted"):
        ServerTls(str(cert.cert), str(cert.key))


def test_an_expired_certificate_loads_with_a_warning(ca: TestCa,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    cert = ca.issue("old", valid_days=-1)
    tls = ServerTls(str(cert.cert), str(cert.key))
    assert tls.certificate.expired
    assert any(r.levelno == logging.WARNING and "expired" in r.getMessage()
               for r in caplog.records)


def test_cert_without_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="give both or neither"):
        ServerConfig(tls_cert="/etc/cert.pem")


def test_the_cli_exits_2_naming_the_file(ca: TestCa, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    cert = ca.issue("server")
    other = ca.issue("other")
    config = tmp_path / "mediad.toml"
    config.write_text(f'[server]\ntls_cert = "{cert.cert}"\ntls_key = "{other.key}"\n'
                      f'[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    for command in ("check-config", "serve"):
        assert main(["-c", str(config), command]) == EXIT_CONFIG
        err = capsys.readouterr().err
        assert "mediad: bad configuration: server.tls_key:" in err and str(other.key) in err
    assert not (tmp_path / "data").exists()  # refused before anything was opened
    config.write_text(f'[server]\ntls_cert = "{cert.cert}"\ntls_key = "{cert.key}"\n')
    assert main(["-c", str(config), "check-config"]) == 0
    assert check_tls_files(ServerConfig()) is None


# -- reload ------------------------------------------------------------------------------


async def test_reload_serves_the_new_certificate_to_new_connections_only(
        ca: TestCa, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "mediad.tls")
    first = ca.issue("server", key_type="rsa")
    tls = ServerTls(str(first.cert), str(first.key))
    listener = tls.http
    async with echo_server(tls.http) as port:
        before = await connect(port, ca)
        assert peer_der(before[1]) == first.der()
        renewed = ca.issue("server")  # a renewal in place, and RSA became ECDSA
        assert tls.reload()
        assert tls.http is listener  # the listeners' context is never replaced
        after = await connect(port, ca)
        assert peer_der(after[1]) == renewed.der() != first.der()
        assert after[1].get_extra_info("ssl_object").cipher()[0].startswith("TLS_")
        assert await echo(before, b"still here") == b"still here"  # opened before: untouched
        assert peer_der(before[1]) == first.der()
        for conn in (before, after):
            conn[1].close()
    assert [r.getMessage() for r in caplog.records] == ["tls certificate loaded",
                                                        "tls certificate reloaded"]
    assert tls.reloads == 1


async def test_a_failed_reload_keeps_the_certificate_in_use(
        ca: TestCa, caplog: pytest.LogCaptureFixture) -> None:
    cert = ca.issue("server")
    tls = ServerTls(str(cert.cert), str(cert.key))
    async with echo_server(tls.http) as port:
        cert.cert.write_text("half-written by a renewal\n")
        assert not tls.reload()
        mismatch = ca.issue("spare")
        cert.cert.write_bytes(mismatch.cert.read_bytes())  # the new cert, the old key
        assert not tls.reload()
        conn = await connect(port, ca)
        assert peer_der(conn[1]) == cert.der()  # still the one loaded first
        assert await echo(conn, b"ok") == b"ok"
        conn[1].close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and tls.failed_reloads == 2
    assert "the certificate in use stays" in errors[0] and "is not a PEM certificate" in errors[0]
    assert "is not the key of the certificate" in errors[1]


def test_sighup_without_tls_only_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "mediad")
    daemon = Daemon(Config())
    daemon.reload()
    assert [r.getMessage() for r in caplog.records] == [
        "reload (SIGHUP): nothing to reload (no server.tls_cert)"]


# -- the URLs ------------------------------------------------------------------------------

PORTS = Ports(8443, 1935, 9000, 1936)
RESULT = BootstrapResult("admin", "pw", "s1", "live_primary", "live_backup", "phrase")


def test_urls_are_https_and_rtmps_with_tls(ca: TestCa) -> None:
    config = tls_config(ca.issue("server"))
    assert player_url(config, PORTS, "s1") == "https://media.example:8443/watch/s1"
    assert hls_url(config, PORTS, "s1") == "https://media.example:8443/hls/s1/index.m3u8"
    assert whep_url(config, PORTS, "s1") == "https://media.example:8443/whep/s1"
    assert rtmps_server_url(config, PORTS) == "rtmps://media.example:1936/live"
    plain = Config(server=ServerConfig(public_host="media.example"))
    assert player_url(plain, PORTS, "s1") == "http://media.example:8443/watch/s1"
    assert rtmps_server_url(plain, PORTS) is None
    no_rtmp = tls_config(ca.issue("other"))
    no_rtmp = Config(server=no_rtmp.server, rtmp=RtmpConfig(enabled=False))
    assert rtmps_server_url(no_rtmp, PORTS) is None


def test_the_banner_gives_rtmps_beside_rtmp_and_https(ca: TestCa) -> None:
    text = banner(RESULT, tls_config(ca.issue("server")), PORTS)
    assert "    Server:        rtmp://media.example:1935/live\n" in text
    assert "    Server (TLS):  rtmps://media.example:1936/live\n" in text
    assert "  Player:          https://media.example:8443/watch/s1\n" in text
    assert "  HLS playlist:    https://media.example:8443/hls/s1/index.m3u8\n" in text
    assert "rtmps" not in banner(RESULT, Config(), PORTS)


def test_the_keys_api_gives_the_rtmps_server(ca: TestCa) -> None:
    config = tls_config(ca.issue("server"))
    stream = Stream(id="s1", owner_id=1, title="t", state="idle", created_at=0,
                    updated_at=0, dvr_window_sec=0, age_restricted=False, watermark=False,
                    srt_passphrase="")
    key = StreamKey(stream_id="s1", kind="primary", secret="live_secret", created_at=0)
    assert keys_view(stream, {"primary": key}, config, PORTS)["rtmpsServer"] == (
        "rtmps://media.example:1936/live")
    revealed = revealed_key(stream, key, config, PORTS)
    assert revealed["rtmpsUrl"] == "rtmps://media.example:1936/live/live_secret"
    assert revealed["rtmpUrl"] == "rtmp://media.example:1935/live/live_secret"
    assert "rtmpsServer" not in keys_view(stream, {"primary": key}, Config(), PORTS)


# -- an nginx edge in front of TLS origins -------------------------------------------------


def test_the_edge_config_speaks_https_to_tls_origins() -> None:
    from mediad.edge_config import EdgeConfigError, render_edge_config

    text = render_edge_config(["media.example:8443"], listen=8088, cache_dir="/var/cache/e",
                              origin_tls=True, origin_ca="/etc/mediad/ca.pem")
    assert text.count("proxy_pass https://mediad_origins;") == 8
    assert "proxy_pass http://" not in text
    for directive in ("proxy_ssl_server_name on;", "proxy_ssl_name media.example;",
                      "proxy_ssl_verify on;", "proxy_ssl_trusted_certificate /etc/mediad/ca.pem;"):
        assert f"\n    {directive}" in text  # once, at http level: every location inherits it
    plain = render_edge_config(["media.example:8080"], listen=8088, cache_dir="/var/cache/e")
    assert "proxy_ssl" not in plain and "https://" not in plain
    with pytest.raises(EdgeConfigError, match="--origin-tls-name"):
        render_edge_config(["a.example:8443", "b.example:8443"], listen=8088,
                           cache_dir="/var/cache/e", origin_tls=True)
    several = render_edge_config(["a.example:8443", "b.example:8443"], listen=8088,
                                 cache_dir="/var/cache/e", origin_tls=True,
                                 origin_tls_name="media.example")
    assert "proxy_ssl_name media.example;" in several
    with pytest.raises(EdgeConfigError, match="nginx checks a DNS name only"):
        render_edge_config(["10.0.0.5:8443"], listen=8088, cache_dir="/var/cache/e",
                           origin_tls=True)
    with pytest.raises(EdgeConfigError, match="origin CA file"):
        render_edge_config(["a.example:8443"], listen=8088, cache_dir="/var/cache/e",
                           origin_tls=True, origin_ca="ca.pem")


def test_edge_config_follows_the_configs_tls(ca: TestCa, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cert = ca.issue("server")
    config = tmp_path / "mediad.toml"
    config.write_text(f'[server]\ntls_cert = "{cert.cert}"\ntls_key = "{cert.key}"\n')
    assert main(["-c", str(config), "edge-config", "--origin", "media.example:8443"]) == 0
    assert "proxy_pass https://mediad_origins;" in capsys.readouterr().out
    assert main(["-c", str(config), "edge-config", "--origin", "media.example:8080",
                 "--no-origin-tls"]) == 0
    assert "proxy_ssl" not in capsys.readouterr().out
