"""``mediad doctor`` on real directories, ports, certificates and databases: each problem a
self-hoster meets is found, named, and comes with its fix."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediad.cli import main
from mediad.doctor import DoctorSettings, diagnose
from mediad.doctor_findings import Finding
from mediad.doctor_storage import DiskThresholds
from mediad.store.database import load_migrations, open_database
from mediad.testing import DaemonProcess, free_port
from tests.interop.tls_testing import TestCa


def write_config(tmp_path: Path, extra: str = "", *, data_dir: Path | None = None,
                 http_port: int | None = None, rtmp_port: int | None = None,
                 srt_port: int | None = None, server: str = "") -> Path:
    data = data_dir or tmp_path / "data"
    path = tmp_path / "mediad.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nhttp_port = {http_port or free_port()}\n'
        f'public_host = "127.0.0.1"\n{server}'
        f"[rtmp]\nport = {rtmp_port or free_port()}\n"
        f"[srt]\nport = {srt_port or free_port(socket.SOCK_DGRAM)}\n"
        f'[storage]\ndata_dir = "{data}"\n' + extra)
    return path


def found(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def only(findings: list[Finding], check: str) -> Finding:
    matching = found(findings, check)
    assert len(matching) == 1, findings
    return matching[0]


def test_a_sound_config_passes_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    config = write_config(tmp_path)
    # --min-free-gb 0: this machine's free disk space is not what this test is about.
    assert main(["--config", str(config), "doctor", "--min-free-gb", "0"]) == 0
    out = capsys.readouterr().out
    for line in ("OK    port http:", "OK    port rtmp:", "OK    port srt:", "OK    store:",
                 "OK    encoder: libx264 opens", "OK    ffmpeg: no ffmpeg program is needed"):
        assert line in out, out
    assert "FAIL" not in out
    assert out.rstrip().splitlines()[-1].startswith("0 failed,")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    from mediad import __version__
    assert capsys.readouterr().out == f"mediad {__version__}\n"


def test_ports_taken_by_another_program_fail_with_how_to_find_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        rtmp, srt = tcp.getsockname()[1], udp.getsockname()[1]
        config = write_config(tmp_path, rtmp_port=rtmp, srt_port=srt)
        assert main(["--config", str(config), "doctor", "--min-free-gb", "0"]) == 1
        findings = diagnose(str(config))
    out = capsys.readouterr().out
    assert f"FAIL  port rtmp: {rtmp}/tcp (rtmp.port) is in use by another program" in out
    assert f"ss -ltnp 'sport = :{rtmp}'" in out and f"ss -lunp 'sport = :{srt}'" in out
    assert only(findings, "port srt").level == "FAIL"
    assert only(findings, "port http").level == "OK"
    assert out.rstrip().splitlines()[-1].startswith("2 failed,")


def test_ports_held_by_the_running_mediad_are_fine() -> None:
    with DaemonProcess() as daemon:
        assert daemon.data_dir is not None
        findings = diagnose(str(daemon.data_dir / "mediad.toml"))
    for check in ("port http", "port rtmp", "port srt"):
        finding = only(findings, check)
        assert finding.level == "OK" and "in use by the mediad already running" in \
            finding.message, finding
    assert only(findings, "store").level == "OK"


def test_two_listeners_on_one_port(tmp_path: Path) -> None:
    port = free_port()
    findings = diagnose(str(write_config(tmp_path, http_port=port, rtmp_port=port)))
    rtmp = only(findings, "port rtmp")
    assert rtmp.level == "FAIL" and "server.http_port and rtmp.port" in rtmp.message
    assert "give rtmp.port a port of its own" == rtmp.fix


def test_a_port_below_1024(tmp_path: Path) -> None:
    findings = diagnose(str(write_config(tmp_path, "[metrics]\nport = 1\n")))
    metrics = only(findings, "port metrics")
    assert "CAP_NET_BIND_SERVICE" in metrics.fix
    # Root may bind it, the service's own user may not: a warning then, a failure otherwise.
    assert metrics.level == ("WARN" if os.geteuid() == 0 else "FAIL"), metrics


def test_an_address_not_of_this_machine(tmp_path: Path) -> None:
    findings = diagnose(str(write_config(tmp_path, '[metrics]\nport = 19999\n'
                                                   'host = "192.0.2.1"\n')))
    metrics = only(findings, "port metrics")
    assert metrics.level == "FAIL" and "'192.0.2.1' (metrics.host)" in metrics.message
    assert "ip -brief address" in metrics.fix


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory this process really cannot write in: permission bits for a user, a
    read-only mount for root (whom permission bits do not stop)."""
    path = tmp_path / "ro"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only directory as root here: {mounted.stderr}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_read_only_data_dir_fails(tmp_path: Path, read_only_dir: Path) -> None:
    findings = diagnose(str(write_config(tmp_path, data_dir=read_only_dir)))
    data = only(findings, "data dir")
    assert data.level == "FAIL" and f"cannot write in {read_only_dir}" in data.message
    assert "chown -R mediad:mediad" in data.fix and "storage.data_dir" in data.fix
    # A data dir still to be created under one: the parent is what must be writable.
    findings = diagnose(str(write_config(tmp_path, data_dir=read_only_dir / "var")))
    assert only(findings, "data dir").level == "FAIL"


def test_a_relative_data_dir_is_a_warning(tmp_path: Path) -> None:
    config = tmp_path / "mediad.toml"
    config.write_text('[storage]\ndata_dir = "./var"\n[metrics]\nenabled = false\n')
    warning = found(diagnose(str(config)), "data dir")[0]
    assert warning.level == "WARN" and "is relative" in warning.message
    assert "/var/lib/mediad" in warning.fix


def test_the_database_schema(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = str(write_config(tmp_path, data_dir=data))
    assert "created (schema" in only(diagnose(config), "store").message

    async def make(migrations: int) -> None:
        db = await open_database(data / "mediad.sqlite3", load_migrations()[:migrations])
        await db.close()

    asyncio.run(make(3))
    older = only(diagnose(config), "store")
    assert older.level == "WARN" and "is at schema 3; the next start migrates it" in \
        older.message and "back up" in older.fix
    asyncio.run(make(len(load_migrations())))
    assert only(diagnose(config), "store").level == "OK"
    with sqlite3.connect(data / "mediad.sqlite3") as db:
        db.execute("PRAGMA user_version = 999")
    newer = only(diagnose(config), "store")
    assert newer.level == "FAIL" and "newer than this mediad" in newer.message


def test_a_database_that_is_not_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "mediad.sqlite3").write_bytes(b"not a database at all" * 100)
    store = only(diagnose(str(write_config(tmp_path, data_dir=data))), "store")
    assert store.level == "FAIL" and "cannot read" in store.message and "backup" in store.fix


def test_an_encoder_that_is_not_there(tmp_path: Path) -> None:
    findings = diagnose(str(write_config(tmp_path, '[transcode]\nencoder = "h264_nope"\n')))
    encoder = only(findings, "encoder")
    assert encoder.level == "FAIL" and "h264_nope" in encoder.message
    assert 'transcode.encoder = "libx264"' in encoder.fix


def test_tls_files(tmp_path: Path) -> None:
    ca = TestCa(tmp_path / "ca")
    good = ca.issue("good", valid_days=90)
    soon = ca.issue("soon", valid_days=3)
    gone = ca.issue("gone", valid_days=-1)
    other = ca.issue("other", names=("stream.example.org",), valid_days=90)

    def tls(cert: Path, key: Path) -> list[Finding]:
        server = f'tls_cert = "{cert}"\ntls_key = "{key}"\n'
        return diagnose(str(write_config(tmp_path, server=server)))

    findings = tls(good.cert, good.key)
    assert [f.level for f in found(findings, "tls")] == ["OK"]
    assert only(findings, "port rtmps").level == "OK"
    assert only(tls(soon.cert, soon.key), "tls").level == "WARN"
    expired = only(tls(gone.cert, gone.key), "tls")
    assert expired.level == "FAIL" and "expired" in expired.message
    assert "systemctl reload mediad" in expired.fix
    missing = only(tls(tmp_path / "no.crt", good.key), "tls")
    assert missing.level == "FAIL" and f"cannot read {tmp_path / 'no.crt'}" in missing.message
    mismatched = only(tls(good.cert, soon.key), "tls")
    assert mismatched.level == "FAIL" and "is not the key of the certificate" in \
        mismatched.message
    names = found(tls(other.cert, other.key), "tls")
    assert [f.level for f in names] == ["OK", "WARN"]
    assert "stream.example.org" in names[1].message


def test_the_recordings_disk_against_its_thresholds(tmp_path: Path) -> None:
    """The free space is the filesystem's real one; the thresholds are what moves."""
    config = str(write_config(tmp_path, f'[recording]\ndir = "{tmp_path / "rec"}"\n'))
    plenty = only(diagnose(config, settings=DoctorSettings(disk=DiskThresholds(0, 0))), "disk")
    assert plenty.level == "OK" and "GB free of" in plenty.message
    huge = 10**18
    low = only(diagnose(config, settings=DoctorSettings(disk=DiskThresholds(huge, 0))), "disk")
    assert low.level == "WARN" and "recording.max_gb" in low.fix
    full = only(diagnose(config, settings=DoctorSettings(disk=DiskThresholds(huge, huge))),
                "disk")
    assert full.level == "FAIL" and str(tmp_path / "rec") in full.message
    off = str(write_config(tmp_path, "[recording]\nenabled = false\n"))
    assert found(diagnose(off, settings=DoctorSettings(disk=DiskThresholds(huge, huge))),
                 "disk") == []


def test_the_descriptor_limit(tmp_path: Path) -> None:
    config = str(write_config(tmp_path))
    low = only(diagnose(config, settings=DoctorSettings(descriptors_wanted=1 << 40)),
               "descriptors")
    assert low.level == "WARN" and "LimitNOFILE=" in low.fix and "viewers" in low.message
    assert only(diagnose(config, settings=DoctorSettings(descriptors_wanted=1)),
                "descriptors").level == "OK"


def test_a_config_that_does_not_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nhttp_port = 'eighty'\n")
    assert main(["--config", str(bad), "doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  config:" in out and "server.http_port: expected an integer" in out
    assert main(["--config", str(tmp_path / "none.toml"), "doctor"]) == 1
    assert "cp conf/mediad.toml /etc/mediad/mediad.toml" in capsys.readouterr().out
    typo = write_config(tmp_path, "[hls]\npart_duraton_ms = 300\n")
    warning = [f for f in diagnose(str(typo)) if f.check == "config" and f.level == "WARN"]
    assert len(warning) == 1 and "hls.part_duraton_ms: unknown key" in warning[0].message
