"""Handing freed memory back to the system after a stream's media are released.

A stream's window is many megabytes of parts and segments allocated while other streams
allocate too; once released, glibc keeps most of it in its heaps (interleaved with live
allocations, below its trim threshold), so the daemon's RSS would only ever grow as
streams come and go. ``malloc_trim`` returns the free pages. Elsewhere (musl, macOS) this
is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _load_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _load_malloc_trim()


def give_back_freed_memory() -> bool:
    """Returns free heap pages to the system; False where the C library cannot."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True
