"""``mediad doctor``: the data directory, the database in it, and the recordings' disk.

Nothing here changes what it looks at: the database is opened read-only (a pending
migration is reported, not applied) and writability is tried with a file that is removed
at once.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mediad.config import Config
from mediad.doctor_findings import Finding, fail, gigabytes, ok, warn
from mediad.store.database import load_migrations

_OWN_IT = ("make it the service's: chown -R mediad:mediad {path} (conf/mediad.service's "
           "StateDirectory=mediad does that for /var/lib/mediad), or point {key} elsewhere")


@dataclass(frozen=True, slots=True)
class DiskThresholds:
    warn_bytes: int = 20 * 10**9
    """Less free space than this on the recordings' filesystem is a warning."""
    fail_bytes: int = 2 * 10**9
    """Less than this is a failure: a few minutes of recording fill it."""


def check_data_dir(config: Config) -> list[Finding]:
    key = "storage.data_dir"
    path = Path(config.storage.data_dir)
    findings = []
    if not path.is_absolute():
        findings.append(warn(
            "data dir", f"{key} = {config.storage.data_dir!r} is relative: it is "
                        f"{path.resolve()} from this directory, elsewhere from another",
            "give an absolute path (/var/lib/mediad under systemd, where the unit sets "
            "MEDIAD_STORAGE_DATA_DIR)"))
    findings.append(_writable("data dir", key, path))
    return findings


def check_database(config: Config) -> Finding:
    path = config.storage.database_path
    latest = load_migrations()[-1].version
    if not path.exists():
        return ok("store", f"{path} does not exist yet: it is created (schema {latest}) at "
                           "the first start")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            integrity = str(db.execute("PRAGMA quick_check").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error as exc:
        return fail("store", f"cannot read {path}: {exc}",
                    "check that the file is mediad's database and readable by the service's "
                    "user; restore it from a backup if it is damaged")
    if integrity != "ok":
        return fail("store", f"{path} is damaged: {integrity}",
                    "stop mediad and restore the database from a backup (or recover it: "
                    "sqlite3 mediad.sqlite3 .recover | sqlite3 recovered.sqlite3)")
    if version > latest:
        return fail("store", f"{path} is at schema {version}, newer than this mediad "
                             f"({latest})",
                    "upgrade mediad to the release that wrote it, or restore a backup")
    if version < latest:
        return warn("store", f"{path} is at schema {version}; the next start migrates it "
                             f"to {latest}",
                    f"back up {path.parent} first (the migration cannot be undone)")
    return ok("store", f"{path} opens, schema {version} is current")


def check_recording_disk(config: Config, thresholds: DiskThresholds) -> list[Finding]:
    if not config.recording.enabled:
        return [ok("recordings", "recording.enabled = false: no recordings by default")]
    path = config.recording.directory(config.storage.data_dir)
    key = "recording.dir" if config.recording.dir else "storage.data_dir"
    findings = [] if path == Path(config.storage.data_dir) else [
        _writable("recordings", key, path)]
    usage = shutil.disk_usage(_existing_ancestor(path))
    hours = usage.free * 8 / (config.streams.max_ingest_kbps * 1000 or 6_000_000) / 3600
    said = (f"{path}: {gigabytes(usage.free)} free of {gigabytes(usage.total)} "
            f"(about {hours:.0f} h of one stream's source)")
    cap = ("set recording.max_gb so the oldest recordings go first, lower recording."
           "keep_days, or point recording.dir at a larger disk")
    if usage.free < thresholds.fail_bytes:
        findings.append(fail("disk", said, f"free space on that filesystem; {cap}"))
    elif usage.free < thresholds.warn_bytes:
        findings.append(warn("disk", said, cap if not config.recording.max_gb
                             else f"free space there or lower recording.max_gb "
                                  f"({config.recording.max_gb:g})"))
    else:
        findings.append(ok("disk", said))
    return findings


def _writable(check: str, key: str, path: Path) -> Finding:
    """Whether the daemon, running as this user, can create files in ``path`` (or create
    ``path`` itself where it does not exist yet)."""
    fix = _OWN_IT.format(path=path, key=key)
    if path.exists() and not path.is_dir():
        return fail(check, f"{path} ({key}) is not a directory",
                    f"remove it or point {key} at a directory")
    target = path if path.exists() else _existing_ancestor(path)
    if not target.is_dir():
        return fail(check, f"{target} ({key}'s parent) is not a directory",
                    f"point {key} at a directory")
    try:
        handle, probe = tempfile.mkstemp(prefix=".mediad-doctor-", dir=target)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        return fail(check, f"cannot write in {target} ({key}): {exc.strerror or exc}", fix)
    if target != path:
        return ok(check, f"{path} ({key}) does not exist yet: it is created at start")
    return ok(check, f"{path} ({key}) is writable")


def _existing_ancestor(path: Path) -> Path:
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path
