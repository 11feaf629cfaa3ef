"""The viewer's wait in each browser engine on localhost: time to first frame and steady
latency of the watch page, p50 over the joins, and the gzipped JavaScript it loads.

A real mediad (passthrough: the encoder's rendition, as a 2-core machine would run it) and
a real ffmpeg RTMP publish (640x360, 30 fps, 1 s GOP). Each engine joins the watch page
afresh each time (``player-web/e2e/join-bench.mjs``, through the adapter of
``player-web/e2e/browsers/``): Debian's Chromium (playwright-core), Firefox ESR (WebDriver
BiDi, puppeteer-core), WebKitGTK (WebKitWebDriver on a virtual display). First frame is
counted from navigation: the app, hls.js, the playlists and the first part. Beside it, the
same run and engine, the peer: a bare page with hls.js alone on the same stream, timed from
the moment hls.js is created. Targets: first frame under 1.5 s and latency under 1.5 s in
every engine (under 1.0 s first frame in Chromium, as before); watch-page JavaScript under
250 KB gzipped, hls.js included.

    python -m bench.player_join [--quick] [--engine chromium|firefox|webkit ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.harness import ffmpeg_publish, parse_args, print_result, require
from mediad.testing import DaemonProcess

ROOT = Path(__file__).resolve().parents[1]
PLAYER_WEB = ROOT / "player-web"
SCRIPT = PLAYER_WEB / "e2e" / "join-bench.mjs"
ENGINES = ("chromium", "firefox", "webkit")
PEERS = {"chromium": "chromium", "firefox": "firefox-esr", "webkit": "WebKitWebDriver"}
TTFF_TARGET_S = 1.5
LATENCY_TARGET_S = 1.5
CHROMIUM_TTFF_TARGET_S = 1.0
JS_TARGET_KB = 250.0


def join(node: str, daemon: DaemonProcess, engine: str, joins: int, settle: int) -> dict[str, Any]:
    run = subprocess.run(
        [node, str(SCRIPT), "--engine", engine, "--base", daemon.base_url, "--stream",
         daemon.banner.stream_id, "--joins", str(joins), "--settle", str(settle)],
        cwd=PLAYER_WEB, capture_output=True, text=True, timeout=600, check=False,
        start_new_session=True)
    if run.returncode != 0:
        raise SystemExit(f"join-bench.mjs failed in {engine}:\n{run.stdout[-3000:]}\n"
                         f"{run.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return report


def verdict(value: float, target: float) -> str:
    return f"target < {target:.1f} s: {'met' if value < target else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", action="append", choices=ENGINES,
                        help="an engine to measure (again for more); all three by default")
    args = parse_args(__doc__ or "", parser=parser)
    engines = args.engine or list(ENGINES)
    joins, settle = (4, 2) if args.quick else (10, 8)
    node = require("node")
    for engine in engines:
        require(PEERS[engine])
    if not (ROOT / "mediad" / "static" / "index.html").is_file():
        raise SystemExit("mediad/static is not built: run `make player`")
    config = "[transcode]\nenabled = false\n"
    reports: list[dict[str, Any]] = []
    with DaemonProcess(extra_config=config) as daemon:
        publisher = ffmpeg_publish(daemon.rtmp_url(), 900, width=640, height=360,
                                   bitrate_kbps=1500)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            time.sleep(3.0)  # a few segments exist, as for any viewer joining a live show
            reports = [join(node, daemon, engine, joins, settle) for engine in engines]
        finally:
            publisher.kill()
            publisher.wait()
    print(f"joins: {joins} per engine, latency read {settle} s after the first frame")
    ttffs: dict[str, float] = {}
    latencies: dict[str, float] = {}
    for report in reports:
        engine = report["engine"]
        ours_ttff = statistics.median(j["firstFrameMs"] for j in report["ours"]) / 1000
        ours_latency = statistics.median(j["latencyS"] for j in report["ours"])
        peer_ttff = statistics.median(j["firstFrameMs"] for j in report["peer"]) / 1000
        peer_latency = statistics.median(j["latencyS"] for j in report["peer"])
        paths = sorted({str(j["path"]) for j in report["ours"]})
        target = CHROMIUM_TTFF_TARGET_S if engine == "chromium" else TTFF_TARGET_S
        print(f"{report['browser']} ({', '.join(paths)}):")
        print(f"  time to first frame p50: watch page {ours_ttff:.3f} s (from navigation), "
              f"bare hls.js page {peer_ttff:.3f} s (from hls.js start), "
              f"ratio {ours_ttff / peer_ttff:.2f}; {verdict(ours_ttff, target)}")
        print(f"  steady latency p50: watch page {ours_latency:.2f} s, bare hls.js "
              f"{peer_latency:.2f} s, ratio {ours_latency / peer_latency:.2f}; "
              f"{verdict(ours_latency, LATENCY_TARGET_S)}")
        ttffs[f"ttff_p50_s_{engine}"] = round(ours_ttff, 3)
        latencies[f"latency_p50_s_{engine}"] = round(ours_latency, 2)
    result = {**ttffs, **latencies}
    js = next((r["js"] for r in reports if r.get("js")), None)
    if js:
        print(f"watch-page JavaScript: {js['rawKb']:.1f} KB raw, {js['gzipKb']:.1f} KB gzipped "
              f"({', '.join(js['files'])}); target < {JS_TARGET_KB:.0f} KB: "
              f"{'met' if js['gzipKb'] < JS_TARGET_KB else 'NOT met'}")
        result["js_gzip_kb"] = round(js["gzipKb"], 1)
    print_result(**result)


if __name__ == "__main__":
    main()
