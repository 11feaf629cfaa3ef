"""LL-HLS viewers spread over many streams, for ``bench/metrics.py``, in their own process
(their CPU is not the daemon's). Each viewer is ``bench/llhls_clients.py``'s: one keep-alive
connection, a blocking playlist request for the hinted part, then a fetch of that part; the
viewers are dealt to the playlists in turn, each with its own User-Agent and CMCD session
(``player_headers``).

    python -m bench.metrics_viewers URL [URL ...] --clients N --seconds S --out FILE
writes one JSON object: {"answers": [[when, ...] per playlist], "errors": n,
"first_errors": [...]}, ``when`` being CLOCK_MONOTONIC of each blocking answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

from bench.llhls_clients import run_viewer


def deal(urls: list[str], clients: int) -> list[int]:
    """Viewers per playlist, dealt in turn: the first ``clients % len(urls)`` get one more."""
    return [clients // len(urls) + (1 if i < clients % len(urls) else 0)
            for i in range(len(urls))]


def player_headers(number: int) -> str:
    """What tells one player from another, as hls.js with CMCD on (header mode) sends it:
    its own User-Agent (the daemon counts LL-HLS viewers by address and agent, and every
    viewer here shares 127.0.0.1) and CMCD with a session id of its own, a buffer length, a
    measured throughput and the rendition's bitrate (the player-quality aggregate then holds
    a session per viewer, as it would with real players)."""
    session = uuid.UUID(int=number + 1)
    return (f"User-Agent: mediad-bench-viewer/{number}\r\n"
            f'CMCD-Session: sid="{session}"\r\n'
            f"CMCD-Request: bl={1000 + 100 * (number % 30)},mtp={2000 + 500 * (number % 20)}"
            "\r\n"
            "CMCD-Object: br=400\r\n")


async def main_async(urls: list[str], clients: int, seconds: float) -> dict[str, object]:
    received: list[list[tuple[int, int, float]]] = [[] for _ in urls]
    errors: list[str] = []
    until = time.monotonic() + seconds
    dealt = [i for i, n in enumerate(deal(urls, clients)) for _ in range(n)]
    await asyncio.gather(*(run_viewer(urls[i], until, True, received[i], errors,
                                      player_headers(number))
                           for number, i in enumerate(dealt)))
    return {"answers": [[at for _, _, at in stream] for stream in received],
            "errors": len(errors), "first_errors": errors[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("urls", nargs="+", help="media playlists")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", required=True, help="where the JSON report goes")
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(main_async(args.urls, args.clients, args.seconds))
    with open(args.out, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
