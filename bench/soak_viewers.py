"""LL-HLS viewers for ``bench/soak.py``, run in their own process.

Each viewer plays like a low-latency player that survives its stream's reconnects: the
multivariant playlist, the first media playlist it names, then blocking reloads for the
hinted part (``_HLS_msn``/``_HLS_part``) and a fetch of each new part; on any failure (the
publisher reconnected and the session moved, a 404, a reset) it starts over from the
multivariant playlist half a second later. HTTP is spoken over raw asyncio streams
(``bench/llhls_clients.py``'s ``Viewer``) so that hundreds fit in one process.

Part latency: the wall-clock time a blocking reload returned, minus the program date time
of the newest part it lists (its segment's EXT-X-PROGRAM-DATE-TIME, the ingest clock, plus
the durations of the parts before it): at least the part's duration, since a part is
listed once its last frame is in. Signed, unclamped: a clock anomaly shows.

    python -m bench.soak_viewers HOST PORT STREAM --clients N --seconds S --out FILE
writes {"buckets": {"<10 s bucket start, unix s>": {"<ms>": count}}, "parts": n,
"part_errors": n, "restarts": n, "first_errors": [...]}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections import Counter, defaultdict
from datetime import datetime

from bench.harness import raise_open_files_limit, run_on_uvloop
from bench.llhls_clients import Viewer

BUCKET_SEC = 10
_HINT = re.compile(rb'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg(\d+)\.(\d+)\.m4s"')


def newest_part_start(playlist: bytes) -> tuple[str, float] | None:
    """(URI, program date time in unix seconds) of the last EXT-X-PART listed."""
    start: float | None = None
    offset = 0.0
    newest: tuple[str, float] | None = None
    for line in playlist.decode("utf-8", "replace").splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            stamp = line.split(":", 1)[1].replace("Z", "+00:00")
            start, offset = datetime.fromisoformat(stamp).timestamp(), 0.0
        elif line.startswith("#EXT-X-PART:") and start is not None:
            attributes = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line[12:]))
            newest = (attributes["URI"].strip('"'), start + offset)
            offset += float(attributes["DURATION"])
    return newest


class Tally:
    def __init__(self) -> None:
        self.buckets: defaultdict[int, Counter[int]] = defaultdict(Counter)
        self.parts = 0
        self.part_errors = 0
        self.restarts = 0
        self.first_errors: list[str] = []

    def error(self, what: str) -> None:
        self.restarts += 1
        if len(self.first_errors) < 10:
            self.first_errors.append(what)

    def latency(self, at: float, ms: float) -> None:
        self.buckets[int(at // BUCKET_SEC * BUCKET_SEC)][round(ms)] += 1


async def play(host: str, port: int, stream: str, until: float, tally: Tally) -> bool:
    """One play from the multivariant playlist until the deadline or a failure."""
    root = f"/hls/{stream}"
    viewer = Viewer(host, port, f"{root}/index.m3u8")
    try:
        await viewer.connect()
        status, body = await viewer.get(viewer.path)
        media = next((line for line in body.decode().splitlines()
                      if line and not line.startswith("#")), None)
        if status != 200 or media is None:
            tally.error(f"multivariant {status}")
            return False
        path = f"{root}/{media}"
        base = path.rsplit("/", 1)[0]
        status, body = await viewer.get(path)
        while time.monotonic() < until:
            hint = _HINT.search(body)
            if status != 200 or hint is None:
                tally.error(f"media playlist {status}")
                return False
            status, body = await viewer.get(f"{path}?_HLS_msn={hint[1].decode()}"
                                            f"&_HLS_part={hint[2].decode()}")
            at = time.time()
            newest = newest_part_start(body) if status == 200 else None
            if newest is None:
                continue
            tally.latency(at, (at - newest[1]) * 1000)
            part_status, _ = await viewer.get(f"{base}/{newest[0]}")
            tally.parts += 1
            tally.part_errors += part_status != 200
        return True
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.error(f"{type(exc).__name__}: {exc}")
        return False
    finally:
        if viewer.writer is not None:
            viewer.writer.close()


async def run_viewer(host: str, port: int, stream: str, until: float, tally: Tally) -> None:
    while time.monotonic() < until:
        if not await play(host, port, stream, until, tally):
            await asyncio.sleep(0.5)


async def main_async(host: str, port: int, stream: str, clients: int, seconds: float
                     ) -> dict[str, object]:
    tally = Tally()
    until = time.monotonic() + seconds
    await asyncio.gather(*(run_viewer(host, port, stream, until, tally)
                           for _ in range(clients)))
    return {"buckets": {str(k): {str(ms): n for ms, n in v.items()}
                        for k, v in tally.buckets.items()},
            "parts": tally.parts, "part_errors": tally.part_errors,
            "restarts": tally.restarts, "first_errors": tally.first_errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("stream")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    args = parser.parse_args()
    raise_open_files_limit()
    result = run_on_uvloop(main_async(args.host, args.port, args.stream, args.clients,
                                      args.seconds))
    with open(args.out, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
