"""The chat fan-out peer for ``bench/chat_fanout.py``: a minimal aiohttp broadcast loop.

What a chat server written from aiohttp's examples looks like, nothing more: a set of
sockets per stream, and each posted message sent to them one by one with
``await ws.send_str(...)`` inside the POST handler. No batching, no per-socket queues, no
store, no auth; it is the floor that mediad's fan-out is compared with, same clients, same
load, same run.

    python -m bench.ws_baseline --port P

prints ``LISTENING <port>`` once bound. ``GET /ws/streams/{id}`` is a viewer's socket
(incoming frames are read and ignored), ``POST /api/streams/{id}/chat`` with JSON
{"text": str} broadcasts {"type": "chat.message", "id": n, "text": text} and answers 201
{"id": n}, ``GET /healthz`` answers 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from aiohttp import web

from bench.harness import raise_open_files_limit, run_on_uvloop

SOCKETS = web.AppKey("sockets", dict[str, set[web.WebSocketResponse]])
COUNTER = web.AppKey("counter", list[int])


async def stream_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    sockets = request.app[SOCKETS].setdefault(request.match_info["id"], set())
    sockets.add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        sockets.discard(ws)
    return ws


async def send_chat(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(reason="the body must be JSON") from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise web.HTTPBadRequest(reason="'text' must be a string")
    counter = request.app[COUNTER]
    counter[0] += 1
    message_id = counter[0]
    payload = json.dumps({"type": "chat.message", "id": message_id, "text": text})
    for ws in list(request.app[SOCKETS].get(request.match_info["id"], ())):
        try:
            await ws.send_str(payload)
        except ConnectionError:
            pass  # closing: its reader loop takes it out of the set
    return web.json_response({"id": message_id}, status=201)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app() -> web.Application:
    app = web.Application()
    app[SOCKETS] = {}
    app[COUNTER] = [0]
    app.router.add_get("/ws/streams/{id}", stream_socket)
    app.router.add_post("/api/streams/{id}/chat", send_chat)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(make_app(), access_log=None, handle_signals=False,
                           shutdown_timeout=2.0)
    await runner.setup()
    # A deep accept queue: thousands of viewers connect at once, and a dropped SYN costs
    # the client a one-second retransmit that has nothing to do with fan-out.
    site = web.TCPSite(runner, host, port, backlog=4096)
    await site.start()
    print(f"LISTENING {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()




def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    raise_open_files_limit()
    run_on_uvloop(serve(args.host, args.port))


if __name__ == "__main__":
    main()
