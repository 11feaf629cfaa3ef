"""Run a real mediad in a subprocess on free ports, for tests and benchmarks.

The daemon is driven only through what a self-hoster sees: a config file, the first-start
banner on stdout, ``/healthz`` and signals.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """CPU time of a live process, all its threads (Linux). The scheduler's nanosecond
    counters, not the 10 ms ticks of ``/proc/PID/stat``: an efficient server's idle minute
    is a handful of ticks."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended between listing and reading
    return total / 1e9


@dataclass
class Banner:
    """What the first start printed: the streamer's settings."""

    rtmp_server: str = ""
    primary_key: str = ""
    backup_key: str = ""
    srt_url: str = ""
    srt_passphrase: str = ""
    player_url: str = ""
    hls_url: str = ""
    admin_password: str = ""

    @property
    def stream_id(self) -> str:
        return self.player_url.rsplit("/", 1)[-1]


_BANNER_LINES = {
    "Server:": "rtmp_server",
    "Stream key:": "primary_key",
    "Backup key:": "backup_key",
    "URL:": "srt_url",
    "Passphrase:": "srt_passphrase",
    "Player:": "player_url",
    "HLS playlist:": "hls_url",
}


@dataclass
class DaemonProcess:
    """``with DaemonProcess() as d:`` starts mediad and waits until ``/healthz`` answers."""

    extra_config: str = ""
    env: dict[str, str] = field(default_factory=dict)
    data_dir: Path | None = None
    http_port: int = field(default_factory=free_port)
    rtmp_port: int = field(default_factory=free_port)
    srt_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    startup_timeout: float = 20.0
    preexec_fn: Callable[[], object] | None = None
    """Run in the child before mediad starts (e.g. a lower ``RLIMIT_NOFILE``)."""
    module: str = "mediad"
    """What ``python -m`` runs: mediad, or a benchmark's wrapper that runs mediad's CLI."""
    command: tuple[str, ...] = ()
    """The program to run instead of ``python -m MODULE`` (a ``mediad`` installed
    elsewhere, such as a wheel's in a virtualenv of its own)."""
    cwd: Path | None = None
    """The daemon's working directory (default: this process's)."""
    _banner: Banner | None = None
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def client(self) -> ssl.SSLContext | None:
        """What a client checks the daemon's certificate with (None: plain HTTP)."""
        return None

    def rtmp_url(self, key: str | None = None) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key or self.banner.primary_key}"

    def config_text(self) -> str:
        assert self.data_dir is not None
        return (
            f'[server]\nhost = "127.0.0.1"\nhttp_port = {self.http_port}\n'
            f'public_host = "127.0.0.1"\nshutdown_timeout_sec = 3.0\n'
            f"[rtmp]\nport = {self.rtmp_port}\n[srt]\nport = {self.srt_port}\n"
            f'[storage]\ndata_dir = "{self.data_dir}"\n' + self.extra_config
        )

    def start(self) -> DaemonProcess:
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mediad-")
            self.data_dir = Path(self._tmp.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.data_dir / "mediad.toml"
        config_path.write_text(self.config_text())
        env = {**os.environ, **self.env}
        program = list(self.command) or [sys.executable, "-m", self.module]
        self.proc = subprocess.Popen(
            [*program, "--config", str(config_path), "serve"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=self.preexec_fn, cwd=self.cwd,
        )
        self._pump(self.proc.stdout, self.stdout_lines)
        self._pump(self.proc.stderr, self.stderr_lines)
        self._wait_healthy()
        return self

    def _pump(self, stream: IO[str] | None, sink: list[str]) -> None:
        def run() -> None:
            assert stream is not None
            for line in stream:
                sink.append(line.rstrip("\n"))

        threading.Thread(target=run, daemon=True).start()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"mediad exited with {self.proc.returncode}:\n{self.logs}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1,
                                            context=self.client) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mediad did not become healthy:\n{self.logs}")

    @property
    def banner(self) -> Banner:
        """The first-start banner (waits for it: it is printed once the listeners are up)."""
        if self._banner is None:
            deadline = time.monotonic() + 10.0
            while not any("Admin sign-in" in s for s in self.stdout_lines):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no first-start banner:\n{self.logs}")
                time.sleep(0.02)
            self._banner = self._parse_banner()
        return self._banner

    def _parse_banner(self) -> Banner:
        banner = Banner()
        for line in self.stdout_lines:
            text = line.strip()
            for label, attr in _BANNER_LINES.items():
                if text.startswith(label):
                    setattr(banner, attr, text[len(label):].strip())
            if text.startswith("Admin sign-in:"):
                banner.admin_password = text.rsplit(" / ", 1)[-1]
        return banner

    @property
    def logs(self) -> str:
        return "\n".join(self.stdout_lines + self.stderr_lines)

    def wait_for_log(self, pattern: str, timeout: float = 10.0, *, after: int = 0) -> str:
        """The first log line matching ``pattern`` past the first ``after`` such lines."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matching = [line for line in list(self.stderr_lines) if regex.search(line)]
            if len(matching) > after:
                return matching[after]
            time.sleep(0.02)
        raise TimeoutError(f"no log line matching {pattern!r}:\n{self.logs}")

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        return process_cpu_seconds(self.proc.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def restart(self, sig: int = signal.SIGKILL) -> DaemonProcess:
        """Stops the daemon with ``sig`` (a crash, by default) and starts it again on the
        same data directory and ports; the first start's banner is kept, the logs are the
        new process's."""
        banner = self.banner
        self.stop(sig)
        self.stdout_lines.clear()
        self.stderr_lines.clear()
        self.start()
        self._banner = banner
        return self

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
