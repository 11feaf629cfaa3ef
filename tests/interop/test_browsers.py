"""The viewer's and the creator's journey through the web app (``player-web/e2e/journey.mjs``)
in three engines, each through one small adapter (``player-web/e2e/browsers/``), against a
real mediad and a real ffmpeg RTMP publish: Debian's Chromium (playwright-core), Firefox ESR
(WebDriver BiDi through puppeteer-core) and WebKitGTK (WebKitWebDriver, on a virtual display;
Safari's engine). Discovery, muted autoplay and a click to unmute on the path the engine
takes, chat between two viewers, the chat over HTTP polling while a proxy blocks WebSockets
and back on its WebSocket after, a signed tip, the creator's control room (key rotation,
slow mode, the age restriction), the age gate, the end of the stream. And WebKit with an MSE
that cannot decode H.264: the player takes the browser's own HLS through ``<video src>``.
Screenshots of every step land in ``test-results/<engine>/`` (CI artifacts)."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mediad.testing import DaemonProcess
from tests.interop.hls_viewer_testing import wait_listing, wait_media
from tests.interop.live_publisher_testing import publish
from tests.interop.player_e2e_testing import (
    PLAYER_WEB,
    RESULTS,
    drive,
    e2e_peers,
    failure_summary,
    require_engine,
)
from tests.interop.websocket_blocker_testing import WebSocketBlocker

pytestmark = pytest.mark.interop

JOURNEY = PLAYER_WEB / "e2e" / "journey.mjs"
WEBHOOK_SECRET = "e2e-webhook-secret"
CONFIG = f'[tips]\nwebhook_secret = "{WEBHOOK_SECRET}"\n[transcode]\nenabled = false\n'
SCRIPT_TIMEOUT = 180.0


class QualityWatch:
    """Scrapes the daemon's ``/metrics`` (readable from 127.0.0.1 by default) while the
    script runs: what it reported of the stream's players (CMCD and the player's reports),
    scrape by scrape, until ``stop``."""

    def __init__(self, daemon: DaemonProcess, stream_id: str) -> None:
        self.url = daemon.base_url + "/metrics"
        self.stream_id = stream_id
        self.scrapes: list[dict[str, float]] = []
        self.errors: list[str] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(0.25):
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    text = response.read().decode()
            except OSError as exc:
                self.errors.append(str(exc))
                continue
            seen: dict[str, float] = {}
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name.startswith("mediad_player_") and \
                            sample.labels.get("stream") == self.stream_id:
                        rendition = sample.labels.get("rendition")
                        seen[sample.name + (f"/{rendition}" if rendition else "")] = sample.value
            if seen:
                self.scrapes.append(seen)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def check(self) -> str:
        """What went wrong, "" when the daemon aggregated viewer A's session: once, while A
        alone played, one session playing ``source`` (the URLs' rendition, from its CMCD;
        its reports under the same session id, or it would count two), with a buffer."""
        alone = [s for s in self.scrapes if s.get("mediad_player_sessions") == 1.0
                 and s.get("mediad_player_rendition_sessions/source") == 1.0
                 and "mediad_player_buffer_seconds" in s]
        if alone:
            return ""
        return (f"no scrape showed one player session on source with a buffer; "
                f"{len(self.scrapes)} scrapes with player series, the last: "
                f"{self.scrapes[-3:]}, errors: {self.errors[-3:]}")


def wait_for_segments(daemon: DaemonProcess, stream_id: str, count: int,
                      within: float = 20.0) -> None:
    """Until the stream's first media playlist lists ``count`` complete segments. A viewer
    that joins in a stream's first second in WebKitGTK has been seen stuck there: on its own
    HLS at 0.23 s with nothing buffered, and over MSE at readyState 1 with 30 s buffered
    (the player's StuckPlaybackWatch seeks on from the latter). The journeys join a stream
    that has been on air a few seconds, as viewers mostly do."""
    found = wait_listing(f"{daemon.base_url}/hls/{stream_id}/index.m3u8",
                         lambda listing: bool(listing.variants), "the multivariant playlist",
                         within)
    url = next(iter(found.media_urls().values()))
    wait_media(url, lambda playlist: len(playlist.complete) >= count,
               f"{count} complete segments in {url}", within)


@dataclass
class Journey:
    report: dict[str, Any]
    output: str  # what to show on a failure
    proxy: WebSocketBlocker
    quality: QualityWatch


def run_journey(engine: str, results: str, *extra: str) -> Journey:
    """Runs the journey in ``engine`` against a fresh daemon, publisher and proxy."""
    node, _, ffmpeg = e2e_peers()
    env = require_engine(engine)
    out = RESULTS / results
    with DaemonProcess(extra_config=CONFIG) as daemon, \
            WebSocketBlocker(urllib.parse.urlsplit(daemon.base_url).port or 80) as proxy:
        banner = daemon.banner
        # On the backup key: the journey rotates the primary one, which would disconnect a
        # publisher using it and end the stream before the creator gets to end it.
        publisher = publish(ffmpeg, daemon.rtmp_url(banner.backup_key), 150)
        quality = QualityWatch(daemon, banner.stream_id)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            wait_for_segments(daemon, banner.stream_id, 3)
            # name=value: a generated password may start with "-", which node's parseArgs
            # would take for an option.
            run = drive(node, JOURNEY, [
                f"--engine={engine}", *extra, f"--base={proxy.url}",
                f"--stream={banner.stream_id}", f"--admin-password={banner.admin_password}",
                f"--webhook-secret={WEBHOOK_SECRET}", f"--out={out}"],
                {"block-websockets": proxy.block, "allow-websockets": proxy.allow}, env,
                SCRIPT_TIMEOUT)
        finally:
            quality.stop()
            publisher.kill()
            publisher.wait()
        output = (f"stdout:\n{run.out[-4000:]}\nstderr:\n{run.errors[-4000:]}\n"
                  f"mediad:\n{daemon.logs[-4000:]}\nartifacts in {out}\n"
                  f"{failure_summary(run.report, out)}")
        assert run.returncode == 0, f"the journey failed in {engine} ({run.returncode})\n{output}"
        report = run.report
        assert report is not None and report.get("ok") is True, output
        # A screenshot of every step, this run's (the script clears an earlier run's).
        shots = sorted(out.glob("[0-9][0-9]-*.png"))
        assert len(shots) == len(report["steps"]) and not list(out.glob("failure-*")), shots
        return Journey(report, output, proxy, quality)


@pytest.mark.parametrize("engine", ["chromium", "firefox", "webkit"])
def test_a_viewer_and_the_creator_through_the_whole_show(engine: str) -> None:
    journey = run_journey(engine, engine)
    report, output = journey.report, journey.output
    assert report["path"] == "hlsjs", output
    # The proxy cut both viewers' chat WebSockets (and the creator's page came later).
    assert journey.proxy.cut >= 2, (journey.proxy.cut, output)
    # The player sent CMCD in its requests' headers, never in a URL (an edge caches by
    # URL), where the driver sees the requests (not WebKitWebDriver); with its reports it
    # reached the daemon's player quality in every engine.
    cmcd = report["cmcd"]
    assert (cmcd is None) == (engine == "webkit"), cmcd
    if cmcd is not None:
        assert cmcd["inHeaders"] > 0 and cmcd["inUrl"] == 0, cmcd
    assert journey.quality.check() == "", journey.quality.check()
    print_report(report)


def test_webkit_without_h264_in_mse_plays_through_its_own_hls() -> None:
    journey = run_journey("webkit", "webkit-native-hls", "--native-hls", "--only", "playback")
    assert journey.report["path"] == "native", journey.output
    print_report(journey.report)


def print_report(report: dict[str, Any]) -> None:
    steps = ", ".join(f"{s['name'].split(':')[0]} {s['ms']} ms" for s in report["steps"])
    print(f"\n{report['browser']}: first frame {report['ttffMs']} ms on {report['path']}; "
          f"steps {steps}; codecs {report['codecs']}; console errors {report['console']}")
