"""Simulated LL-HLS viewers for ``bench/llhls_latency.py``, run in their own process.

Each viewer keeps one HTTP/1.1 keep-alive connection and loops like a low-latency player:
a blocking playlist request for the part after the newest it knows (``_HLS_msn`` /
``_HLS_part``, from the preload hint), then a fetch of that part. HTTP is spoken directly
over asyncio streams so that thousands of viewers fit in one Python process; the server is
what is measured, not the client library.

    python -m bench.llhls_clients URL --clients N --seconds S --out FILE [--no-parts]
writes one JSON object: {"received": [[msn, part, monotonic_time], ...], "errors": n, ...}.
``time.monotonic`` is the system-wide CLOCK_MONOTONIC, comparable with the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from urllib.parse import urlsplit

_HINT = re.compile(rb'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg(\d+)\.(\d+)\.m4s"')
_PART = re.compile(rb'#EXT-X-PART:[^\n]*URI="seg(\d+)\.(\d+)\.m4s"')


class Viewer:
    def __init__(self, host: str, port: int, path: str, headers: str = "") -> None:
        self.host, self.port, self.path = host, port, path
        self.headers = headers  # header lines, each ending CRLF, sent with every request
        self.base = path.rsplit("/", 1)[0] + "/"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, target: str) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n{self.headers}\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body


async def run_viewer(url: str, until: float, fetch_parts: bool,
                     received: list[tuple[int, int, float]], errors: list[str],
                     headers: str = "") -> None:
    parts = urlsplit(url)
    viewer = Viewer(parts.hostname or "127.0.0.1", parts.port or 80, parts.path, headers)
    try:
        await viewer.connect()
        status, body = await viewer.get(viewer.path)
        while time.monotonic() < until:
            hint = _HINT.search(body)
            if status != 200 or hint is None:
                errors.append(f"playlist {status}")
                status, body = await viewer.get(viewer.path)
                continue
            msn, part = int(hint[1]), int(hint[2])
            status, body = await viewer.get(f"{viewer.path}?_HLS_msn={msn}&_HLS_part={part}")
            at = time.monotonic()
            listed = list(_PART.finditer(body))
            newest = listed[-1] if listed else None
            if status != 200 or newest is None:
                continue
            # The part that satisfied the request (part 0 of the next segment when the
            # hinted one never came because a keyframe closed the segment).
            msn, part = int(newest[1]), int(newest[2])
            received.append((msn, part, at))
            if fetch_parts:
                part_status, _ = await viewer.get(f"{viewer.base}seg{msn}.{part}.m4s")
                if part_status != 200:
                    errors.append(f"part {part_status}")
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        if viewer.writer is not None:
            viewer.writer.close()


async def main_async(url: str, clients: int, seconds: float, fetch_parts: bool
                     ) -> dict[str, object]:
    received: list[tuple[int, int, float]] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(run_viewer(url, until, fetch_parts, received, errors)
                           for _ in range(clients)))
    return {"received": received, "errors": len(errors), "first_errors": errors[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    parser.add_argument("--no-parts", action="store_true")
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(main_async(args.url, args.clients, args.seconds, not args.no_parts))
    with open(args.out, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
