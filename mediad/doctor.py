"""``mediad doctor``: what stands between this config and a daemon that starts and serves.

Each check looks at the real thing the daemon will use (the config file and its
environment overrides, the ports, the data directory and database, the encoder, the TLS
files, the recordings' disk, the descriptor limit) and says what it found, as OK, WARN or
FAIL, with the fix for anything that is not OK. Nothing is changed, nothing is left behind.
Run it as the service's user to see what the service sees (``sudo -u mediad mediad
doctor``): root may write and bind where the service may not.
"""

from __future__ import annotations

import datetime
import os
import resource
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mediad.config import Config, ConfigError, load_config
from mediad.doctor_findings import Finding, fail, ok, warn
from mediad.doctor_ports import check_ports
from mediad.doctor_storage import (
    DiskThresholds,
    check_data_dir,
    check_database,
    check_recording_disk,
)

DESCRIPTORS_PER_VIEWER = 3
"""An LL-HLS viewer holds up to two HTTP connections (a blocking playlist request beside
part downloads) and the page's WebSocket."""


@dataclass(frozen=True, slots=True)
class DoctorSettings:
    disk: DiskThresholds = field(default_factory=DiskThresholds)
    cert_warn_days: float = 14.0
    """A certificate that expires sooner than this is a warning (renewal did not run)."""
    descriptors_wanted: int = 65536
    """A hard ``RLIMIT_NOFILE`` below this is a warning (about 20,000 viewers)."""
    probe_timeout: float = 2.0
    """How long a running mediad's ``/healthz`` may take to answer the port check."""


def diagnose(config_path: str | None, environ: Mapping[str, str] | None = None,
             settings: DoctorSettings | None = None) -> list[Finding]:
    settings = settings or DoctorSettings()
    warnings: list[str] = []
    source = config_path or "the embedded defaults"
    try:
        config = load_config(config_path, environ=environ, warnings=warnings)
    except ConfigError as exc:
        if config_path is not None and not Path(config_path).is_file():
            fix = ("give --config (or $MEDIAD_CONFIG) an existing file: conf/mediad.toml "
                   "is a start (cp conf/mediad.toml /etc/mediad/mediad.toml)")
        else:
            fix = ("correct what it names (conf/mediad.toml documents every key with its "
                   "default), then run mediad doctor again")
        return [fail("config", str(exc), fix)]
    findings = [ok("config", f"loaded {source}")]
    root = running_as_root()
    if root is not None:
        findings.append(root)
    findings += [warn("config", text, "correct the key's name or remove it (conf/mediad.toml "
                                      "lists the keys)") for text in warnings]
    findings += check_ports(config, timeout=settings.probe_timeout)
    findings += check_data_dir(config)
    findings.append(check_database(config))
    findings.append(check_encoder(config))
    findings += check_tls(config, settings.cert_warn_days)
    findings += check_recording_disk(config, settings.disk)
    findings.append(check_descriptors(config, settings.descriptors_wanted))
    findings.append(check_web_app())
    findings.append(check_ffmpeg())
    return findings


def check_encoder(config: Config) -> Finding:
    from packager.transcode import HARDWARE_ENCODERS, EncoderUnavailable
    from packager.transcode import check_encoder as try_encoder

    encoder = config.transcode.encoder
    if not config.transcode.enabled:
        return ok("encoder", "transcode.enabled = false: viewers get the source only")
    try:
        try_encoder(encoder)
    except EncoderUnavailable as exc:
        fix = "set transcode.encoder = \"libx264\" (software, always there)"
        if encoder in HARDWARE_ENCODERS:
            fix += (", or give the service the GPU: its driver installed, and in the unit "
                    "PrivateDevices=no and SupplementaryGroups=render video")
        return fail("encoder", str(exc), fix + ", or transcode.enabled = false")
    rungs = ", ".join(rung.name for rung in config.transcode.ladder) or "none"
    return ok("encoder", f"{encoder} opens (ladder: {rungs})")


def check_tls(config: Config, warn_days: float) -> list[Finding]:
    server = config.server
    if not server.tls:
        return [ok("tls", "no server.tls_cert: plain HTTP and RTMP (put mediad behind a "
                          "TLS proxy or set server.tls_cert/tls_key to serve HTTPS)")]
    from mediad.tls import TlsError, check_tls_files

    try:
        certificate = check_tls_files(server)
    except TlsError as exc:
        return [fail("tls", str(exc), "point server.tls_cert at the full chain (fullchain.pem)"
                                      " and server.tls_key at its unencrypted key, both "
                                      "readable by the service's user")]
    assert certificate is not None  # server.tls is set
    left = certificate.not_after - datetime.datetime.now(datetime.UTC)
    when = certificate.not_after.strftime("%Y-%m-%d %H:%M UTC")
    renew = ("renew it (certbot renew) and run systemctl reload mediad: the new files are "
             "read without dropping viewers")
    findings = []
    if left.total_seconds() <= 0:
        findings.append(fail("tls", f"{server.tls_cert} expired on {when}", renew))
    elif left < datetime.timedelta(days=warn_days):
        findings.append(warn("tls", f"{server.tls_cert} expires on {when} "
                                    f"({left.days} days left)", renew))
    else:
        findings.append(ok("tls", f"{server.tls_cert} matches its key, valid until {when}"))
    if certificate.names and not any(_name_matches(name, server.public_host)
                                     for name in certificate.names):
        findings.append(warn(
            "tls", f"the certificate names {', '.join(certificate.names)}, not "
                   f"server.public_host {server.public_host!r}: browsers and OBS will "
                   "refuse it there",
            "set server.public_host to a name the certificate has, or get a certificate "
            f"for {server.public_host}"))
    return findings


def check_descriptors(config: Config, wanted: int) -> Finding:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    usable = soft if hard == resource.RLIM_INFINITY else hard  # the daemon raises soft to hard
    viewers = max(0, usable - config.server.descriptor_reserve) // DESCRIPTORS_PER_VIEWER
    said = (f"open-file limit {usable} (soft {soft}, raised to the hard limit at start): "
            f"room for about {viewers} viewers")
    if usable < wanted:
        return warn("descriptors", said,
                    "under systemd set LimitNOFILE=1048576 in the unit (conf/mediad.service "
                    "does); in a shell raise the hard limit (ulimit -Hn, or nofile in "
                    "/etc/security/limits.conf)")
    return ok("descriptors", said)


def check_web_app() -> Finding:
    from mediad.http.web import STATIC

    if (STATIC / "index.html").is_file():
        return ok("web app", f"the player is built ({STATIC})")
    return warn("web app", f"{STATIC / 'index.html'} is missing: browsers get a page that "
                           "says the player is not built (HLS works without it)",
                "run make player in the checkout (it needs Node.js), or install a mediad "
                "wheel, which carries the built player")


def check_ffmpeg() -> Finding:
    import av

    version = getattr(av, "ffmpeg_version_info", "")
    return ok("ffmpeg", f"no ffmpeg program is needed: PyAV {av.__version__} carries its own "
                        f"FFmpeg libraries {version}".rstrip())


def running_as_root() -> Finding | None:
    if os.geteuid() != 0:
        return None
    return warn("user", "running as root: files and ports root may use can still be closed "
                        "to the service's user",
                "run it as the service's user to see what the service sees: "
                "sudo -u mediad mediad --config /etc/mediad/mediad.toml doctor")


def _name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host
