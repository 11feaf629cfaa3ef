"""The recording benchmark's probes read what they claim: a named thread's CPU (and no
other's), part latency against the playlist the viewers watched, a recording's files as
one fMP4 in journal order, and the wrapped daemon that writes its publication log."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench.recording_daemon import PUBLICATIONS_ENV, os_thread_name
from bench.recording_measures import concatenate, load_recording, part_latencies_ms
from mediad.recording.layout import JOURNAL, MANIFEST
from mediad.recording.model import Recording, RenditionRecord, SegmentEntry
from mediad.testing import DaemonProcess

ROOT = Path(__file__).resolve().parents[2]


def test_named_threads_are_metered_alone() -> None:
    script = textwrap.dedent("""
        import os, threading, time
        from bench.recording_daemon import name_os_threads
        from bench.recording_measures import ThreadMeter

        name_os_threads()
        go, measured = threading.Event(), threading.Event()
        spun = [threading.Event(), threading.Event()]
        def spin(seconds, done):
            go.wait()
            until = time.thread_time() + seconds
            while time.thread_time() < until:
                pass
            done.set()
            measured.wait()  # alive until the meter has read it
        busy = threading.Thread(target=spin, args=(0.3, spun[0]), name="mediad-recorder")
        other = threading.Thread(target=spin, args=(0.6, spun[1]), name="something-else")
        busy.start()
        other.start()
        time.sleep(0.1)
        comm = open(f"/proc/self/task/{busy.native_id}/comm").read().strip()
        meter = ThreadMeter(os.getpid(), "mediad-recorder").start()
        go.set()
        for done in spun:
            done.wait()
        print(comm, meter.stop(), meter.threads, flush=True)
        measured.set()
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    comm, seconds, threads = done.stdout.split()
    assert comm == "mediad-recorder"
    assert threads == "1"
    assert 0.25 <= float(seconds) <= 0.45  # its 0.3 s, not the other thread's 0.6 s


def test_os_thread_names_fit_the_kernel_limit() -> None:
    assert os_thread_name("mediad-recorder_0") == b"mediad-recorder"
    assert len(os_thread_name("é" * 20)) == 15


def test_latency_is_read_against_the_watched_playlist(tmp_path: Path) -> None:
    log = tmp_path / "publications.json"
    log.write_text(json.dumps({"playlists": [
        [[1, 0, 10.0, 9.0, 9.1]],  # another rendition: one part in common by chance
        [[1, 0, 10.0, 9.5, 9.6], [1, 1, 10.2, 9.7, 9.8], [2, 0, 10.4, 9.9, 10.0]],
    ]}))
    latencies = part_latencies_ms(log, [(1, 0, 10.0), (1, 1, 10.25), (2, 0, 10.5), (9, 0, 1.0)])
    assert latencies == pytest.approx([500.0, 550.0, 600.0])


def write_recording(directory: Path, inits: list[int]) -> Recording:
    rendition = RenditionRecord("source", False, "avc1.64001f,mp4a.40.2", 640, 360)
    recording = Recording("AAAAAAAAAAAAAAAA", "s1", "broadcast", "t", 0, directory,
                          state="complete", renditions={"source": rendition})
    folder = directory / "source"
    folder.mkdir(parents=True)
    (directory / MANIFEST).write_bytes(recording.manifest())
    for init in set(inits):
        (folder / f"init{init}.mp4").write_bytes(f"init{init}|".encode())
    with (folder / JOURNAL).open("wb") as journal:
        for number, init in enumerate(inits, start=1):
            (folder / f"seg{number}.m4s").write_bytes(f"seg{number}|".encode())
            journal.write(SegmentEntry(number, init, 1.0, float(number), 5).to_line())
    return recording


def test_a_rendition_concatenates_in_journal_order(tmp_path: Path) -> None:
    write_recording(tmp_path / "rec", [1, 1, 1])
    recording = load_recording(tmp_path / "rec")
    out = concatenate(recording.directory, recording.renditions["source"], tmp_path / "o.mp4")
    assert out.read_bytes() == b"init1|seg1|seg2|seg3|"


def test_two_init_sections_are_refused(tmp_path: Path) -> None:
    write_recording(tmp_path / "rec", [1, 2])
    recording = load_recording(tmp_path / "rec")
    with pytest.raises(ValueError, match="2 init sections"):
        concatenate(recording.directory, recording.renditions["source"], tmp_path / "o.mp4")


def test_the_wrapped_daemon_serves_and_writes_its_log(tmp_path: Path) -> None:
    log = tmp_path / "publications.json"
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n[webrtc]\nenabled = false\n",
                       data_dir=tmp_path / "data", module="bench.recording_daemon",
                       env={PUBLICATIONS_ENV: str(log)}) as daemon:
        assert daemon.banner.stream_id
    assert json.loads(log.read_text()) == {"playlists": []}
