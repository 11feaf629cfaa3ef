"""Tell systemd how the daemon is doing (``sd_notify(3)``), without a dependency.

Under ``Type=notify`` systemd puts a datagram socket's address in ``$NOTIFY_SOCKET`` and
waits for ``READY=1`` before it calls the service started (and before units ordered after
it start); ``STOPPING=1``, ``RELOADING=1`` and ``STATUS=...`` show in ``systemctl status``.
A message is newline-separated ``KEY=VALUE`` assignments in one datagram. Outside systemd
the variable is unset and nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger("mediad")

NOTIFY_SOCKET = "NOTIFY_SOCKET"


def notify_address(value: str) -> str | None:
    """The socket address ``$NOTIFY_SOCKET`` names: a path, or an abstract socket written
    ``@name`` (the kernel's leading NUL). Other forms (``vsock:``) are not ours to reach."""
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


def notify(*assignments: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``assignments`` (``"READY=1"``, ``"STATUS=..."``) in one datagram; True when
    systemd's socket took it. Never blocks and never raises: readiness reporting must not
    take the daemon down."""
    env = os.environ if environ is None else environ
    address = notify_address(env.get(NOTIFY_SOCKET, ""))
    if address is None or not assignments:
        return False
    message = "\n".join(assignments).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)
            sock.sendto(message, address)
    except OSError as exc:
        log.warning("sd_notify failed", extra={"fields": {
            "socket": env.get(NOTIFY_SOCKET), "error": str(exc)}})
        return False
    return True


def reloading(status: str, environ: Mapping[str, str] | None = None) -> bool:
    """``RELOADING=1`` with the monotonic time systemd pairs it with (``sd_notify(3)``:
    required for ``Type=notify-reload``, harmless for ``Type=notify``)."""
    now_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    return notify("RELOADING=1", f"MONOTONIC_USEC={now_usec}", f"STATUS={status}",
                  environ=environ)
