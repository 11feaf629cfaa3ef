"""The wheel a self-hoster installs: ``python -m build`` (sdist, then the wheel from it) on a
copy of the checkout, ``pip install`` into a clean virtualenv, and the installed ``mediad
serve`` (no Node on its PATH, run from outside the checkout) serves the web app and a live
stream's playlists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import pytest

from mediad import __version__
from mediad.testing import DaemonProcess
from tests.interop.live_publisher_testing import publish
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "mediad" / "static"
SMALL_LADDER = '[transcode]\nladder = [{ name = "144p", height = 144, bitrate_kbps = 200 }]\n'
"""One small rung: PyAV's encoder runs from the wheel's dependencies, at little CPU."""


def fetch(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=15) as response:
        return response.read().decode(), response.headers.get("Content-Type", "")


def copy_checkout(to: Path) -> None:
    """What the repository holds (tracked and new files, as git sees them) and the built
    player, which git ignores: the same tree a fresh clone has after ``make player``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True, timeout=60).stdout.decode().split("\0")
    built = [str(p.relative_to(ROOT)) for p in STATIC.rglob("*") if p.is_file()]
    for name in {*filter(None, listed), *built}:
        source = ROOT / name
        if source.is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / name)


def run(argv: list[str | Path], *, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)
    assert done.returncode == 0, f"{argv}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_wheel_installs_and_serves_without_node(tmp_path: Path) -> None:
    ffmpeg = require_tool("ffmpeg")
    if not (STATIC / "index.html").is_file():
        pytest.fail("mediad/static/index.html is missing: run `make player` (make test does)")
    source, dist = tmp_path / "src", tmp_path / "dist"
    copy_checkout(source)
    run([sys.executable, "-m", "build", "--outdir", dist, source])
    wheel = dist / f"mediad-{__version__}-py3-none-any.whl"
    sdist = dist / f"mediad-{__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in dist.iterdir())

    index = (STATIC / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="/(assets/[^"]+)"', index)
    assert assets, index
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    for name in ["index.html", *assets, "favicon.ico"]:
        assert f"mediad/static/{name}" in packed, name
    assert "mediad/store/migrations/0001_initial.sql" in packed
    with tarfile.open(sdist) as archive:
        carried = set(archive.getnames())
    top = f"mediad-{__version__}"
    for name in ("mediad/static/index.html", "conf/mediad.service", "conf/mediad.toml"):
        assert f"{top}/{name}" in carried, name

    venv = tmp_path / "venv"
    # No --system-site-packages. This pip installs into it (--python): the venv's own copy
    # of pip would cost seconds and play no part in the daemon.
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
         "--no-input", "-q", wheel])
    mediad = venv / "bin" / "mediad"
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()
    path = str(venv / "bin")
    assert shutil.which("node", path=path) is None and shutil.which("npm", path=path) is None
    env = {"PATH": path, "PYTHONPATH": ""}
    assert run([mediad, "--version"], cwd=elsewhere, env=env) == f"mediad {__version__}\n"
    where = run([venv / "bin" / "python", "-c", "import mediad; print(mediad.__file__)"],
                cwd=elsewhere, env=env)
    assert Path(where.strip()).is_relative_to(venv), where

    with DaemonProcess(command=(str(mediad),), cwd=elsewhere, env=env,
                       data_dir=tmp_path / "data", extra_config=SMALL_LADDER) as daemon:
        stream = daemon.banner.stream_id
        page, kind = fetch(f"{daemon.base_url}/watch/{stream}")
        assert page == index and kind.startswith("text/html")
        script, kind = fetch(f"{daemon.base_url}/{assets[0]}")
        assert script == (STATIC / assets[0]).read_text() and "javascript" in kind

        publisher = publish(ffmpeg, daemon.rtmp_url(), 20)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            url = f"{daemon.base_url}/hls/{stream}/index.m3u8"
            multivariant, kind = fetch(url)  # answers once the first segment is ready
            assert kind.startswith("application/vnd.apple.mpegurl"), kind
            renditions = [line for line in multivariant.splitlines()
                          if line and not line.startswith("#")]
            assert len(renditions) == 2, multivariant  # the source and the 144p rung
            for rendition in renditions:
                media, _ = fetch(f"{daemon.base_url}/hls/{stream}/{rendition}")
                assert "#EXT-X-PART:" in media and "#EXTINF:" in media, media
        finally:
            publisher.kill()
            publisher.wait()
    assert daemon.proc is not None and daemon.proc.returncode == 0, daemon.logs
    assert "Traceback" not in daemon.logs
