"""Malformed HTTP requests as one WARNING line, rate limited, instead of aiohttp's traceback.

aiohttp answers a request it cannot parse (``BadHttpMessage``: a header line past
``max_field_size`` is ``LineTooLong``, a bad request line ``BadStatusLine``, ...) with a 400
and then logs ``"Error handling request from %s"`` with the parser's traceback at ERROR on
``aiohttp.server`` (``RequestHandler.handle_error``). That is the client's fault, not ours,
and anyone can send it in a loop: this filter turns such a record into one WARNING line
naming the peer and the reason, lets at most one through per ``interval_sec`` and counts
the rest into the next. Every other record of that logger passes unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.log import server_logger

INTERVAL_SEC = 10.0
_REASON_CHARS = 160


class MalformedRequestFilter(logging.Filter):
    def __init__(self, interval_sec: float = INTERVAL_SEC,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("mediad.quiet_errors")
        self.interval_sec = interval_sec
        self._clock = clock
        self._next_at = float("-inf")
        self.suppressed = 0
        """Malformed requests not reported since the last line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, BadHttpMessage):
            return True
        now = self._clock()
        if now < self._next_at:
            self.suppressed += 1
            return False
        self._next_at = now + self.interval_sec
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else None
        reason = " ".join(str(error.message).split())[:_REASON_CHARS]
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "refused a malformed HTTP request from %s (%d %s): %s"
        record.args = (peer or "an unknown peer", error.code, type(error).__name__, reason)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.fields = {"peer": peer, "status": error.code,
                         "not_reported_since_last": self.suppressed}
        self.suppressed = 0
        return True


def quiet_malformed_requests(logger: logging.Logger = server_logger) -> MalformedRequestFilter:
    """Install the filter on aiohttp's server logger once; returns the one installed."""
    for existing in logger.filters:
        if isinstance(existing, MalformedRequestFilter):
            return existing
    installed = MalformedRequestFilter()
    logger.addFilter(installed)
    return installed
