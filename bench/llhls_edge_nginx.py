"""The nginx edge of ``bench/llhls_edge.py``: mediad's edge configuration (what ``mediad
edge-config`` writes, from ``mediad.edge_config``) started in a scratch prefix, with a log
of the requests it passed to the origin, and its CPU (master and every worker).

The origin requests are counted by nginx itself: an ``access_log`` written only for
requests that reached an upstream (``$upstream_addr`` set), buffered, so the 40,000 cache
hits a second at 4,000 viewers cost it no log writes. Each line: the time the response
ended (``$msec``, wall clock), ``$upstream_cache_status``, ``$upstream_status`` and the URI.
"""

from __future__ import annotations

import os
import pwd
import re
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from bench.harness import free_port, require
from mediad.edge_config import render_edge_config
from mediad.testing import process_cpu_seconds

ORIGIN_LOG = "origin.log"
LOG_FORMAT = "mediad_origin"
_LOCK_TIMEOUT = re.compile(r"proxy_cache_lock_timeout\s+[^;]+;")
_WORKER_CONNECTIONS = re.compile(r"worker_connections\s+\d+;")
_RLIMIT_NOFILE = re.compile(r"worker_rlimit_nofile\s+\d+;")


def origin_log_directives(log: Path) -> str:
    """http-level directives: the conditional, buffered log of upstream requests."""
    return (
        "map $upstream_addr $mediad_to_origin { \"\" 0; default 1; }\n"
        f"log_format {LOG_FORMAT} '$msec $upstream_cache_status $upstream_status "
        "$request_uri';\n"
        f"access_log {log} {LOG_FORMAT} buffer=64k flush=1s if=$mediad_to_origin;\n"
    )


def edge_config(origin: str, listen: int, cache_dir: Path) -> str:
    """mediad's edge configuration for one origin; started as root (a container), its
    workers run as the user who owns the scratch directory."""
    return render_edge_config([origin], listen=f"127.0.0.1:{listen}", cache_dir=cache_dir,
                              user=pwd.getpwuid(os.geteuid()).pw_name)


def with_origin_log(config: str, log: Path) -> str:
    """``config`` with the origin-request log as the first directives of its http block."""
    head, brace, rest = config.partition("http {")
    if not brace:
        raise ValueError("the edge configuration has no `http {` block")
    return f"{head}http {{\n{origin_log_directives(log)}{rest}"


def with_lock_timeout(config: str, timeout_ms: int) -> str:
    """``config`` with every ``proxy_cache_lock_timeout`` set to ``timeout_ms``."""
    changed, count = _LOCK_TIMEOUT.subn(f"proxy_cache_lock_timeout {timeout_ms}ms;", config)
    if not count:
        raise ValueError("the edge configuration sets no proxy_cache_lock_timeout")
    return changed


def with_worker_connections(config: str, at_least: int) -> str:
    """Enough connections per worker for every viewer plus its upstream connections."""
    def raised(match: re.Match[str]) -> str:
        return f"worker_connections {max(at_least, int(match[0].split()[1].rstrip(';')))};"

    return _WORKER_CONNECTIONS.sub(raised, config)


def within_open_files_limit(config: str, hard: int) -> str:
    """An unprivileged nginx cannot raise its descriptors past the hard limit: asked to,
    each worker logs an alert and keeps the limit it inherited."""
    return _RLIMIT_NOFILE.sub(f"worker_rlimit_nofile {hard};", config)


@dataclass(frozen=True)
class OriginRequest:
    at: float
    """When nginx finished the response (wall clock, seconds)."""
    cache_status: str
    upstream_status: str
    uri: str


def parse_origin_log(text: str) -> list[OriginRequest]:
    requests = []
    for line in text.splitlines():
        fields = line.split(" ", 3)
        if len(fields) == 4:
            requests.append(OriginRequest(float(fields[0]), fields[1], fields[2], fields[3]))
    return requests


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its children (nginx's master, workers, cache manager and loader)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(int(child) for child in children)]


def tree_cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += process_cpu_seconds(pid)
        except OSError:
            continue  # a cache loader that has done its work and exited
    return total


@dataclass
class EdgeNginx:
    """``with EdgeNginx(origin, prefix) as edge:`` an nginx edge on a free port."""

    origin: str
    prefix: Path
    cache_dir: Path
    worker_connections: int = 16384
    lock_timeout_ms: int | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.prefix / ORIGIN_LOG

    def config_text(self) -> str:
        config = edge_config(self.origin, self.port, self.cache_dir)
        config = with_worker_connections(with_origin_log(config, self.log),
                                         self.worker_connections)
        config = within_open_files_limit(config, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        if self.lock_timeout_ms is not None:
            config = with_lock_timeout(config, self.lock_timeout_ms)
        return config

    def start(self) -> EdgeNginx:
        nginx = require("nginx")
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        (self.prefix / "logs").mkdir(exist_ok=True)
        conf = self.prefix / "nginx.conf"
        text = self.config_text()
        conf.write_text(text)
        self.proc = subprocess.Popen(
            [nginx, "-p", str(self.prefix), "-c", str(conf), "-g",
             f"daemon off; pid {self.prefix / 'nginx.pid'}; error_log stderr warn;"],
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}; config:\n"
                                   f"{conf.read_text()}")
            if len(tree_pids(self.proc.pid)) > 1:
                return self
            time.sleep(0.05)
        raise RuntimeError("nginx did not start its workers")

    def pids(self) -> list[int]:
        assert self.proc is not None
        return tree_pids(self.proc.pid)

    def origin_requests(self) -> list[OriginRequest]:
        """What the edge passed to the origin so far (the log is flushed within 1 s)."""
        return parse_origin_log(self.log.read_text()) if self.log.exists() else []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # a fast shutdown: the log buffer is written out
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> EdgeNginx:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
