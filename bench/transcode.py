"""Transcoding throughput: mediad's ladder beside the ffmpeg CLI doing the identical ladder.

The same pre-encoded 1080p30 H.264 file goes (a) through ``packager.transcode.VideoLadder``
(decode once, scale and encode 720p + 480p + 360p with libx264, each rung in its thread,
lossless queues so that nothing is dropped and throughput is what is measured) and (b)
through ``ffmpeg -filter_complex split=3,scale`` with the same encoder settings (preset,
zerolatency, no B-frames, no lookahead, VBV at the rung's bitrate, keyframes where the
source has them). Both as fast as they can; frames per second of source processed.
Targets: mediad >= 0.95x ffmpeg; real time (>= 30 fps) with veryfast, else the fastest preset
that is real time is reported.

    python -m bench.transcode [--quick]
Last line: RESULT mediad_fps=<n> ffmpeg_fps=<n> ratio=<n> ...
"""

from __future__ import annotations

import resource
import subprocess
import time
from fractions import Fraction
from pathlib import Path

from bench.harness import encode_test_file, parse_args, print_comparison, print_result, require

CACHE = Path(__file__).resolve().parent / "out"
RUNGS = (("720p", 1280, 720, 2800), ("480p", 854, 480, 1200), ("360p", 640, 360, 700))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def source_frames(path: Path, seconds: float) -> list[object]:
    """The file's video as our media model: avcC track, millisecond timestamps."""
    import av

    from ingest.media import Frame, TrackInfo

    frames: list[object] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        track = TrackInfo(0, "video", "h264", 1000, bytes(ctx.extradata or b""), "avc1.640028",
                          ctx.width, ctx.height)
        tb = stream.time_base or Fraction(1, 1000)
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            pts = round(packet.pts * tb * 1000)
            if pts >= seconds * 1000:
                break
            dts = round((packet.dts if packet.dts is not None else packet.pts) * tb * 1000)
            frames.append(Frame(track, dts, pts, packet.is_keyframe, bytes(packet)))
    return frames


def mediad_fps(frames: list[object], preset: str) -> tuple[float, float]:
    """(source frames per second, CPU cores used) through our ladder."""
    from ingest.media import Frame
    from packager.transcode import RungSpec, VideoLadder

    video = [f for f in frames if isinstance(f, Frame)]
    specs = [RungSpec(name, w, h, kbps, 30, preset) for name, w, h, kbps in RUNGS]
    encoded = {name: 0 for name, *_ in RUNGS}

    def deliver(name: str, frame: Frame) -> None:
        encoded[name] += 1

    ladder = VideoLadder(video[0].track, specs, deliver, lossless=True)
    cpu0, t0 = own_cpu(), time.perf_counter()
    ladder.start()
    for frame in video:
        ladder.push(frame)
    ladder.stop()
    wall = time.perf_counter() - t0
    assert all(n == len(video) for n in encoded.values()), encoded
    return len(video) / wall, (own_cpu() - cpu0) / wall


def ffmpeg_fps(path: Path, frames: int, seconds: float, preset: str) -> tuple[float, float]:
    """The same ladder with the ffmpeg CLI: one decode, split, scale, three libx264."""
    graph = "[0:v]split=3" + "".join(f"[s{i}]" for i in range(len(RUNGS))) + ";" + ";".join(
        f"[s{i}]scale={w}:{h}[o{i}]" for i, (_, w, h, _) in enumerate(RUNGS))
    args = [require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-t", str(seconds), "-i", str(path), "-filter_complex", graph]
    for i, (_, _, _, kbps) in enumerate(RUNGS):
        args += ["-map", f"[o{i}]", "-c:v", "libx264", "-preset", preset, "-tune", "zerolatency",
                 "-bf", "0", "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k",
                 "-force_key_frames", "source", "-g", "100000",
                 "-x264-params", "scenecut=0:rc-lookahead=0", "-pix_fmt", "yuv420p",
                 "-f", "null", "-"]
    cpu0, t0 = children_cpu(), time.perf_counter()
    subprocess.run(args, check=True)
    wall = time.perf_counter() - t0
    return frames / wall, (children_cpu() - cpu0) / wall


def main() -> None:
    args = parse_args(__doc__ or "")
    seconds = 10.0 if args.quick else 20.0
    CACHE.mkdir(exist_ok=True)
    print("encoding the test file (cached in bench/out/) ...", flush=True)
    source = encode_test_file(CACHE / "1080p30_6M.flv", 20, width=1920, height=1080, fps=30,
                              bitrate_kbps=6000)
    frames = source_frames(source, seconds)
    count = len(frames)
    print(f"{count} frames of 1080p30 through 720p + 480p + 360p (libx264, zerolatency)")
    figures: dict[str, tuple[float, float]] = {}
    presets = ["veryfast", "superfast", "ultrafast"]
    realtime = ""
    for preset in presets:
        ours, our_cpu = mediad_fps(frames, preset)
        theirs, their_cpu = ffmpeg_fps(source, count, seconds, preset)
        figures[preset] = (ours, theirs)
        print_comparison(f"fps, preset {preset}", ours, theirs, "ffmpeg CLI")
        print(f"{'':40} CPU cores: mediad {our_cpu:.2f}, ffmpeg CLI {their_cpu:.2f}")
        if ours >= 30 and not realtime:
            realtime = preset
        if realtime and (args.quick or preset != "veryfast"):
            break
    ours, theirs = figures["veryfast"]
    print(f"fastest real-time preset for mediad: {realtime or 'none'}")
    print_result(mediad_fps=ours, ffmpeg_fps=theirs, ratio=ours / theirs,
                 realtime_preset=realtime or "none",
                 **{f"mediad_fps_{p}": f[0] for p, f in figures.items() if p != "veryfast"},
                 **{f"ffmpeg_fps_{p}": f[1] for p, f in figures.items() if p != "veryfast"})


if __name__ == "__main__":
    main()
