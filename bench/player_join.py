"""The viewer's wait in Chromium on localhost: time to first frame and steady latency of the
watch page, p50 over 10 joins, and the gzipped JavaScript the watch page loads.

A real mediad (passthrough: the encoder's rendition, as a 2-core machine would run it) and
a real ffmpeg RTMP publish (640x360, 30 fps, 1 s GOP); Debian's headless Chromium driven by
playwright-core joins the watch page afresh each time (``player-web/e2e/join-bench.mjs``).
First frame is counted from navigation: the app, hls.js, the playlists and the first part.
Beside it, the same run, the peer: a bare page with hls.js alone on the same stream, timed
from the moment hls.js is created. Targets: first frame under 1.0 s, watch-page
JavaScript under 250 KB gzipped, hls.js included.

    python -m bench.player_join [--quick]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path

from bench.harness import ffmpeg_publish, parse_args, print_result, require
from mediad.testing import DaemonProcess

ROOT = Path(__file__).resolve().parents[1]
PLAYER_WEB = ROOT / "player-web"
SCRIPT = PLAYER_WEB / "e2e" / "join-bench.mjs"
TTFF_TARGET_S = 1.0
JS_TARGET_KB = 250.0


def main() -> None:
    args = parse_args(__doc__ or "")
    joins, settle = (10, 3) if args.quick else (10, 8)
    node = require("node")
    require("chromium")
    if not (ROOT / "mediad" / "static" / "index.html").is_file():
        raise SystemExit("mediad/static is not built: run `make player`")
    config = "[transcode]\nenabled = false\n"
    with DaemonProcess(extra_config=config) as daemon:
        publisher = ffmpeg_publish(daemon.rtmp_url(), 600, width=640, height=360,
                                   bitrate_kbps=1500)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            time.sleep(3.0)  # a few segments exist, as for any viewer joining a live show
            run = subprocess.run(
                [node, str(SCRIPT), "--base", daemon.base_url, "--stream",
                 daemon.banner.stream_id, "--joins", str(joins), "--settle", str(settle)],
                cwd=PLAYER_WEB, capture_output=True, text=True, timeout=600, check=False)
        finally:
            publisher.kill()
            publisher.wait()
    if run.returncode != 0:
        raise SystemExit(f"join-bench.mjs failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    report = json.loads(run.stdout.strip().splitlines()[-1])
    ours_ttff = statistics.median(j["firstFrameMs"] for j in report["ours"]) / 1000
    ours_latency = statistics.median(j["latencyS"] for j in report["ours"])
    peer_ttff = statistics.median(j["firstFrameMs"] for j in report["peer"]) / 1000
    peer_latency = statistics.median(j["latencyS"] for j in report["peer"])
    js = report["js"]
    print(f"joins: {joins}, latency read {settle} s after the first frame")
    print(f"time to first frame p50: watch page {ours_ttff:.3f} s (from navigation), "
          f"bare hls.js page {peer_ttff:.3f} s (from hls.js start), "
          f"ratio {ours_ttff / peer_ttff:.2f}; target < {TTFF_TARGET_S:.1f} s: "
          f"{'met' if ours_ttff < TTFF_TARGET_S else 'NOT met'}")
    print(f"steady latency p50: watch page {ours_latency:.2f} s, bare hls.js "
          f"{peer_latency:.2f} s, ratio {ours_latency / peer_latency:.2f}")
    print(f"watch-page JavaScript: {js['rawKb']:.1f} KB raw, {js['gzipKb']:.1f} KB gzipped "
          f"({', '.join(js['files'])}); target < {JS_TARGET_KB:.0f} KB: "
          f"{'met' if js['gzipKb'] < JS_TARGET_KB else 'NOT met'}")
    print_result(ttff_p50_s=round(ours_ttff, 3), latency_p50_s=round(ours_latency, 2),
                 js_gzip_kb=round(js["gzipKb"], 1))


if __name__ == "__main__":
    main()
