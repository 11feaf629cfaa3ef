"""Recording a 6 Mbit/s broadcast while 200 LL-HLS viewers watch, and downloading it.

Two daemons run side by side in one run (``bench/recording_daemon.py``: mediad's own CLI
with the part-publication probe of ``bench/llhls_latency.py`` and named OS threads), each
with the same ffmpeg publish (the 1080p30 6 Mbit/s test file, copied over RTMP, no
transcode) and the same viewers (``bench/llhls_clients.py``: blocking playlist request +
part fetch, in their own process). One records (the default), the other's stream has
``record`` turned off through ``PATCH /api/streams/{s}/settings``.

- part latency: from a part's first frame arriving at ingest to each viewer's blocking
  answer listing it, p99, recording on against off (the issue: within 10 ms);
- the recorder's disk writes: bytes in its directory over the window against the ingest
  rate, and against this disk's own sequential write rate;
- the recorder's CPU: its writer threads (OS name ``mediad-recorder``) against the whole
  daemon's, and the recording daemon's CPU against the other's;
- the broadcast ended through the API, ``GET /vod/{id}/download.mp4`` (curl, to a file)
  against ``ffmpeg -c copy`` remuxing the same recording (its init + segments concatenated
  per rendition) to MP4, MB/s of output, best of three each (the issue: ours at least as
  fast).

    python -m bench.recording [--quick] [--viewers N] [--seconds S]
Last line: RESULT part_p99_ms_rec_on=<n> part_p99_ms_rec_off=<n> download_mb_s=<n>
           ffmpeg_remux_mb_s=<n> ...
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    CpuMeter,
    DaemonProcess,
    api_request,
    encode_test_file,
    ffmpeg_publish,
    media_playlist_url,
    parse_args,
    print_comparison,
    print_result,
    raise_open_files_limit,
    require,
)
from bench.llhls_latency import percentile
from bench.recording_daemon import PUBLICATIONS_ENV
from bench.recording_measures import (
    Receipt,
    ThreadMeter,
    bytes_under,
    load_recording,
    part_latencies_ms,
    remux_inputs,
)

CACHE = Path(__file__).resolve().parent / "out"
RECORDER_THREAD = "mediad-recorder"
LATENCY_LIMIT_MS = 10.0
SOURCE_SECONDS = 20
ATTEMPTS = 3
MB = 1e6


@dataclass
class Side:
    """One daemon of the pair, its stream and what was measured on it."""

    name: str
    daemon: DaemonProcess
    publications: Path
    token: str = ""
    media_url: str = ""
    viewers: subprocess.Popen[bytes] | None = None
    report: Path | None = None
    receipts: list[Receipt] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def stream(self) -> str:
        return self.daemon.banner.stream_id

    def api(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        return api_request(self.daemon.base_url, method, path, body, self.token)

    def sign_in(self) -> None:
        status, body = self.api("POST", "/api/auth/login", {
            "handle": "admin", "password": self.daemon.banner.admin_password})
        if status != 200:
            sys.exit(f"{self.name}: sign-in answered {status}: {body}")
        self.token = body["accessToken"]


CONFIG = "[transcode]\nenabled = false\n[webrtc]\nenabled = false\n[recording]\nenabled = true\n"


def daemon_env(viewers: int, publications: Path) -> dict[str, str]:
    """Every viewer from 127.0.0.1 admitted (``[server]`` is the harness's own section)."""
    return {"MEDIAD_SERVER_MAX_CONNECTIONS_PER_ADDRESS": str(2 * viewers + 64),
            PUBLICATIONS_ENV: str(publications)}


def wait_media_url(side: Side, within: float = 30.0) -> str:
    url = media_playlist_url(side.daemon, within)
    if url is None:
        sys.exit(f"{side.name}: the stream never listed a media playlist")
    return url


def start_viewers(side: Side, clients: int, seconds: float, work: Path) -> None:
    side.report = work / f"{side.name}-viewers.json"
    side.viewers = subprocess.Popen([
        sys.executable, "-m", "bench.llhls_clients", side.media_url, "--clients", str(clients),
        "--seconds", str(seconds), "--out", str(side.report)])


def finish_viewers(side: Side, within: float) -> list[Receipt]:
    assert side.viewers is not None and side.report is not None
    if side.viewers.wait(within) != 0:
        sys.exit(f"{side.name}: the viewer process failed with {side.viewers.returncode}")
    report = json.loads(side.report.read_text())
    side.errors = int(report["errors"])
    if side.errors:
        print(f"  {side.name}: {side.errors} viewer errors, first {report['first_errors']}")
    return [(int(m), int(p), float(at)) for m, p, at in report["received"]]


def completed_recording(side: Side, within: float = 30.0) -> dict[str, Any]:
    """The stream's newest broadcast recording once it is complete."""
    deadline = time.monotonic() + within
    listed: Any = None
    while time.monotonic() < deadline:
        status, listed = side.api("GET", f"/api/streams/{side.stream}/recordings")
        if status == 200 and listed["recordings"] and \
                listed["recordings"][0]["state"] == "complete":
            return dict(listed["recordings"][0])
        time.sleep(0.25)
    sys.exit(f"{side.name}: no complete recording listed within {within:.0f} s: {listed}")


def disk_write_rate(directory: Path, size_mb: int = 128) -> float:
    """This disk's sequential write rate (MB/s): 1 MB writes, one fsync at the end."""
    chunk = os.urandom(1 << 20)
    path = directory / "disk-probe.bin"
    started = time.monotonic()
    with path.open("wb") as file:
        for _ in range(size_mb):
            file.write(chunk)
        file.flush()
        os.fsync(file.fileno())
    rate = size_mb * (1 << 20) / MB / (time.monotonic() - started)
    path.unlink()
    return rate


def timed_download(url: str, out: Path) -> tuple[float, int]:
    """MB/s and bytes of ``url`` fetched by curl to ``out``."""
    curl = require("curl")
    done = subprocess.run([curl, "-sS", "-o", str(out), "-w", "%{http_code} %{time_total}", url],
                          capture_output=True, text=True, check=False, timeout=300)
    status, seconds = done.stdout.split()
    if done.returncode != 0 or status != "200":
        sys.exit(f"download.mp4 answered {status}: {done.stderr}")
    size = out.stat().st_size
    return size / MB / float(seconds), size


def timed_remux(inputs: list[Path], out: Path) -> tuple[float, int]:
    """MB/s and bytes of ``ffmpeg -c copy`` from the concatenated fragments to ``out``."""
    args = [require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    for path in inputs:
        args += ["-i", str(path)]
    for index in range(len(inputs)):
        args += ["-map", str(index)]
    started = time.monotonic()
    subprocess.run([*args, "-c", "copy", "-f", "mp4", str(out)], check=True, timeout=300)
    seconds = time.monotonic() - started
    size = out.stat().st_size
    return size / MB / seconds, size


def probed_duration(path: Path) -> float:
    out = subprocess.run([require("ffprobe"), "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return float(out.strip() or "nan")


@dataclass
class Figures:
    window_s: float = 0.0
    recorder_cpu_s: float = 0.0
    recorder_threads: int = 0
    cpu_on: float = 0.0
    cpu_off: float = 0.0
    written_bytes: int = 0
    recording: dict[str, Any] = field(default_factory=dict)
    skipped_segments: int = 0
    download: list[tuple[float, int]] = field(default_factory=list)
    remux: list[tuple[float, int]] = field(default_factory=list)
    durations: tuple[float, float] = (0.0, 0.0)


def measure(on: Side, off: Side, args: argparse.Namespace, source: Path, work: Path
            ) -> Figures:
    figures = Figures()
    for side in (on, off):
        side.sign_in()
    status, body = off.api("PATCH", f"/api/streams/{off.stream}/settings", {"record": False})
    if status != 200 or body.get("record") is not False:
        sys.exit(f"PATCH settings {{record: false}} answered {status}: {body}")
    publish_s = args.seconds + 60
    publishers = [ffmpeg_publish(side.daemon.rtmp_url(), publish_s, source=source)
                  for side in (on, off)]
    try:
        for side in (on, off):
            side.daemon.wait_for_log("publisher attached", timeout=30)
            side.media_url = wait_media_url(side)
        time.sleep(3.0)  # a few segments recorded and listed, as for a show under way
        assert on.daemon.proc is not None and off.daemon.proc is not None
        assert on.daemon.data_dir is not None
        root = on.daemon.data_dir / "recordings"
        written0 = bytes_under(root)
        recorder = ThreadMeter(on.daemon.proc.pid, RECORDER_THREAD).start()
        cpu_on = CpuMeter(on.daemon.proc.pid).start()
        cpu_off = CpuMeter(off.daemon.proc.pid).start()
        started = time.monotonic()
        try:
            for side in (on, off):
                start_viewers(side, args.viewers, args.seconds, work)
            for side in (on, off):
                side.receipts = finish_viewers(side, args.seconds + 60)
        finally:
            for side in (on, off):
                if side.viewers is not None and side.viewers.poll() is None:
                    side.viewers.kill()
                    side.viewers.wait()
        figures.window_s = time.monotonic() - started
        figures.cpu_on, figures.cpu_off = cpu_on.stop(), cpu_off.stop()
        figures.recorder_cpu_s = recorder.stop()
        figures.recorder_threads = recorder.threads
        figures.written_bytes = bytes_under(root) - written0
    finally:  # stopped first: ffmpeg would report the API's disconnect as a broken pipe
        for publisher in publishers:
            publisher.kill()
            publisher.wait()
    for side in (on, off):
        status, body = side.api("PUT", f"/api/streams/{side.stream}/state", {"state": "ended"})
        if status != 200:
            sys.exit(f"{side.name}: PUT state ended answered {status}: {body}")
    figures.recording = completed_recording(on)
    status, listed = off.api("GET", f"/api/streams/{off.stream}/recordings")
    if status != 200 or listed["recordings"]:
        sys.exit(f"the stream with record off was recorded anyway ({status}): {listed}")
    directory = root / on.stream / str(figures.recording["id"])
    recording = load_recording(directory)
    figures.skipped_segments = recording.skipped_segments
    inputs = remux_inputs(recording, work)
    url = on.daemon.base_url + str(figures.recording["downloadUrl"])
    for attempt in range(ATTEMPTS):  # alternated: neither always finds a warm page cache
        figures.download.append(timed_download(url, work / f"download{attempt}.mp4"))
        figures.remux.append(timed_remux(inputs, work / f"remux{attempt}.mp4"))
    figures.durations = (probed_duration(work / "download0.mp4"),
                         probed_duration(work / "remux0.mp4"))
    return figures


def report(on: Side, off: Side, figures: Figures, args: argparse.Namespace,
           source: Path, disk_mb_s: float) -> None:
    p99_on, p99_off = percentile(on.latencies, 99), percentile(off.latencies, 99)
    p50_on, p50_off = percentile(on.latencies, 50), percentile(off.latencies, 50)
    print(f"part latency over {len(on.latencies)} / {len(off.latencies)} receipts "
          f"({args.viewers} viewers each, {figures.window_s:.0f} s): p50 {p50_on:.1f} / "
          f"{p50_off:.1f} ms, p99 {p99_on:.1f} / {p99_off:.1f} ms (recording on / off); "
          f"viewer errors {on.errors} / {off.errors}")
    print_comparison("part latency p99, recording on (ms)", p99_on, p99_off, "rec off")
    print(f"{'':<40} difference {p99_on - p99_off:+.1f} ms (limit {LATENCY_LIMIT_MS:.0f} ms)")
    ingest_mb_s = source.stat().st_size / MB / SOURCE_SECONDS
    write_mb_s = figures.written_bytes / MB / figures.window_s
    print_comparison("recorder disk writes (MB/s)", write_mb_s, ingest_mb_s, "ingest")
    print_comparison("recorder disk writes vs the disk (MB/s)", write_mb_s, disk_mb_s,
                     "disk seq")
    if figures.recorder_threads == 0:
        print(f"no thread named {RECORDER_THREAD!r} in the recording daemon: its CPU is 0")
    per_min = 60.0 / figures.window_s
    print_comparison("recorder threads CPU (s/min)", figures.recorder_cpu_s * per_min,
                     figures.cpu_on * per_min, "daemon")
    print_comparison("daemon CPU, recording on (s/min)", figures.cpu_on * per_min,
                     figures.cpu_off * per_min, "rec off")
    recording = figures.recording
    print(f"recording {recording['id']}: {recording['durationSec']:.1f} s, "
          f"{recording['sizeBytes'] / MB:.1f} MB, {figures.skipped_segments} segments skipped")
    download = max(rate for rate, _ in figures.download)
    remux = max(rate for rate, _ in figures.remux)
    print(f"download.mp4 {figures.download[0][1] / MB:.1f} MB ({figures.durations[0]:.2f} s), "
          f"ffmpeg's {figures.remux[0][1] / MB:.1f} MB ({figures.durations[1]:.2f} s); "
          f"runs: ours {[round(r, 1) for r, _ in figures.download]}, "
          f"ffmpeg {[round(r, 1) for r, _ in figures.remux]} MB/s")
    print_comparison("download.mp4 (MB/s of output)", download, remux, "ffmpeg -c copy")
    print_result(part_p99_ms_rec_on=p99_on, part_p99_ms_rec_off=p99_off,
                 download_mb_s=download, ffmpeg_remux_mb_s=remux,
                 part_p50_ms_rec_on=p50_on, part_p50_ms_rec_off=p50_off,
                 disk_write_mb_s=write_mb_s, recorder_cpu_s_per_min=figures.recorder_cpu_s
                 * per_min, daemon_cpu_s_per_min_rec_on=figures.cpu_on * per_min,
                 daemon_cpu_s_per_min_rec_off=figures.cpu_off * per_min,
                 skipped_segments=figures.skipped_segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=200, help="LL-HLS viewers per daemon")
    parser.add_argument("--seconds", type=float, help="viewing window (default 120, quick 30)")
    args = parse_args(__doc__ or "", parser=parser)
    args.seconds = args.seconds or (30.0 if args.quick else 120.0)
    raise_open_files_limit()
    CACHE.mkdir(exist_ok=True)
    print("encoding the test file (cached in bench/out/) ...", flush=True)
    source = encode_test_file(CACHE / "1080p30_6M.flv", SOURCE_SECONDS, width=1920,
                              height=1080, fps=30, bitrate_kbps=6000)
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as tmp:
        work = Path(tmp)
        disk_mb_s = disk_write_rate(work)
        sides = []
        for name in ("rec-on", "rec-off"):
            publications = work / f"{name}-publications.json"
            sides.append(Side(name, DaemonProcess(
                extra_config=CONFIG, data_dir=work / name, module="bench.recording_daemon",
                env=daemon_env(args.viewers, publications)), publications))
        on, off = sides
        with on.daemon, off.daemon:
            figures = measure(on, off, args, source, work)
        for side in (on, off):  # the daemons wrote their publication logs as they stopped
            side.latencies = part_latencies_ms(side.publications, side.receipts)
        report(on, off, figures, args, source, disk_mb_s)


if __name__ == "__main__":
    main()
