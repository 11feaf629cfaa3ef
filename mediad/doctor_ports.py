"""``mediad doctor``: can every listener of the config bind its port?

Each port is bound for a moment the way the daemon binds it (TCP with ``SO_REUSEADDR``,
as asyncio does; UDP without). A port that is taken is told apart by who holds it: a
mediad whose ``/healthz`` answers on the config's HTTP port (the service already running:
fine), or another program (a failure to fix before the daemon can start).
"""

from __future__ import annotations

import errno
import json
import os
import socket
import ssl
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mediad.config import Config
from mediad.doctor_findings import Finding, fail, ok, warn

_UNPRIVILEGED_START = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")


@dataclass(frozen=True, slots=True)
class Listener:
    name: str
    """How the self-hoster knows it: ``http``, ``rtmp``, ``rtmps``, ``srt``, ``metrics``."""
    key: str
    """The config key that sets its port."""
    host: str
    port: int
    udp: bool = False

    @property
    def label(self) -> str:
        return f"{self.port}/{'udp' if self.udp else 'tcp'}"


def listeners(config: Config) -> list[Listener]:
    """The sockets the daemon would bind with this config."""
    host = config.server.host
    found = [Listener("http", "server.http_port", host, config.server.http_port)]
    if config.rtmp.enabled:
        found.append(Listener("rtmp", "rtmp.port", host, config.rtmp.port))
        if config.server.tls:
            found.append(Listener("rtmps", "rtmp.tls_port", host, config.rtmp.tls_port))
    if config.srt.enabled:
        found.append(Listener("srt", "srt.port", host, config.srt.port, udp=True))
    if config.metrics.enabled and config.metrics.port:
        found.append(Listener("metrics", "metrics.port", config.metrics.host,
                              config.metrics.port))
    return found


def check_ports(config: Config, *, timeout: float = 2.0) -> list[Finding]:
    chosen = [entry for entry in listeners(config) if entry.port != 0]
    findings = [ok(f"port {entry.name}", f"{entry.key} = 0: a free port is picked at start")
                for entry in listeners(config) if entry.port == 0]
    clashes = Counter((entry.port, entry.udp) for entry in chosen)
    running: bool | None = None
    for entry in chosen:
        check = f"port {entry.name}"
        if clashes[(entry.port, entry.udp)] > 1:
            others = [o.key for o in chosen if (o.port, o.udp) == (entry.port, entry.udp)]
            findings.append(fail(check, f"{' and '.join(others)} are all {entry.label}",
                                 f"give {entry.key} a port of its own"))
            continue
        error = _bind_error(entry)
        if error is None:
            findings.append(_free(entry))
        elif error.errno == errno.EADDRINUSE:
            if running is None:
                running = _mediad_answers(config, timeout)
            findings.append(_taken(entry, config, running))
        elif error.errno == errno.EACCES:
            findings.append(fail(
                check, f"{entry.label} ({entry.key}) needs privileges to bind",
                "use a port above 1023 (forward 443 or 1935 to it in the firewall), or let "
                "the service bind it: AmbientCapabilities=CAP_NET_BIND_SERVICE and "
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE in conf/mediad.service"))
        elif error.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) \
                or isinstance(error, socket.gaierror):
            key = "metrics.host" if entry.name == "metrics" else "server.host"
            findings.append(fail(
                check, f"{entry.host!r} ({key}) is not an address of this machine: {error}",
                f"set {key} to one of this machine's addresses (ip -brief address), or "
                "0.0.0.0 for all of them"))
        else:
            findings.append(fail(check, f"cannot bind {entry.host}:{entry.label}: {error}",
                                 f"set {entry.key} to another port"))
    return findings


def _free(entry: Listener) -> Finding:
    check = f"port {entry.name}"
    if os.geteuid() == 0 and entry.port < _unprivileged_start():
        return warn(check, f"{entry.label} ({entry.key}) binds as root, but the service's "
                           "own user may not bind a port this low",
                    "in conf/mediad.service set AmbientCapabilities=CAP_NET_BIND_SERVICE and "
                    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE, or use a port above 1023")
    return ok(check, f"{entry.label} ({entry.key}) is free")


def _taken(entry: Listener, config: Config, running: bool) -> Finding:
    check = f"port {entry.name}"
    if running:
        return ok(check, f"{entry.label} ({entry.key}) is in use by the mediad already "
                         f"running (its /healthz answers on port {config.server.http_port})")
    ss = "ss -lunp" if entry.udp else "ss -ltnp"
    return fail(check, f"{entry.label} ({entry.key}) is in use by another program",
                f"find it with `{ss} 'sport = :{entry.port}'` and stop it, or set "
                f"{entry.key} to a free port")


def _bind_error(entry: Listener) -> OSError | None:
    kind = socket.SOCK_DGRAM if entry.udp else socket.SOCK_STREAM
    try:
        family, _, _, _, address = socket.getaddrinfo(
            entry.host or None, entry.port, type=kind, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind) as probe:
            if not entry.udp:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
            if not entry.udp:
                probe.listen(1)
    except OSError as exc:
        return exc
    return None


def _mediad_answers(config: Config, timeout: float) -> bool:
    """A mediad's ``/healthz`` answers on the config's HTTP port (over TLS when set)."""
    host = config.server.host
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if config.server.tls else "http"
    url = f"{scheme}://{host}:{config.server.http_port}/healthz"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # who answers matters here, not the certificate
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            body = json.loads(response.read(4096))
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and "version" in body


def _unprivileged_start() -> int:
    try:
        return int(_UNPRIVILEGED_START.read_text())
    except (OSError, ValueError):
        return 1024
