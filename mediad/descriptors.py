"""File descriptors: the process limit raised at start, and how many are left.

Every socket is a descriptor. Once ``RLIMIT_NOFILE`` is reached, ``accept()`` fails for
every listener at once: 20,000 slow HTTP connections used to stop RTMP publishes, SRT
handshakes and ``/healthz`` too (issue 16). The daemon raises the soft limit to the hard one
(the kernel's default soft limit, 1024, is far below what a busy server needs) and keeps a
reserve that HTTP never takes (``mediad.http.limits``).
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

_FD_DIRS = ("/proc/self/fd", "/dev/fd")


@dataclass(frozen=True, slots=True)
class DescriptorLimit:
    soft: int
    """The limit in force (after raising it)."""
    hard: int
    was: int
    """The soft limit the process started with."""


def raise_descriptor_limit() -> DescriptorLimit:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit where allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    was = soft
    target = hard
    if target == resource.RLIM_INFINITY:
        target = 1 << 20  # macOS reports an infinite hard limit it does not grant
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            pass  # not allowed here (a container's seccomp, macOS's OPEN_MAX): keep it
    return DescriptorLimit(soft, hard, was)


def open_descriptors() -> int:
    """How many descriptors this process has open (one directory listing, no syscall per
    descriptor); -1 where the system cannot tell."""
    for path in _FD_DIRS:
        try:
            return len(os.listdir(path)) - 1  # the listing's own descriptor
        except OSError:
            continue
    return -1
