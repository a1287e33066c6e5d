"""One emulator per state directory.

Two emulators writing one ``--state-dir`` each keep their own copy in memory and the
last save wins: the other's jobs and models are lost. The emulator that owns a state
directory holds an exclusive ``flock`` on ``emulator.lock`` there (released by the
kernel even after ``kill -9``) and publishes its addresses in ``emulator.json``, so a
second process can join a standalone emulator (``gemini-sft emulator``) or wait for a
run's in-process one to finish.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

import orjson

from gemini_sft_kfp.core.errors import UserError

LOCK_FILE = "emulator.lock"
OWNER_FILE = "emulator.json"


class StateDirInUse(UserError):
    """Another live emulator owns the state directory; ``owner`` is what it published."""

    def __init__(self, state_dir: Path, owner: dict | None) -> None:
        who = f"process {owner['pid']}" if owner else "another process"
        where = f" at {owner['vertex_url']}" if owner and owner.get("vertex_url") else ""
        super().__init__(
            f"emulator state directory is in use by the emulator of {who}{where}; use that "
            "emulator (export the variables it printed), wait for it, or pick another "
            "state directory",
            file=str(state_dir),
        )
        self.owner = owner


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file and a rename: a reader
    (or a crash) sees the old content or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_owner(state_dir: Path) -> dict | None:
    """What the owning emulator published (None when nothing readable is there)."""
    try:
        owner = orjson.loads((state_dir / OWNER_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return owner if isinstance(owner, dict) else None


class StateLock:
    """The exclusive lock on one state directory (``acquire`` raises ``StateDirInUse``)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._handle = None

    def acquire(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.state_dir / LOCK_FILE, "a+b")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StateDirInUse(self.state_dir, read_owner(self.state_dir)) from None
        self._handle = handle
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / OWNER_FILE).unlink()  # left by an owner that was killed

    def publish(self, **info) -> None:
        """Tell other processes who owns the directory and where it serves."""
        write_atomically(self.state_dir / OWNER_FILE, orjson.dumps({"pid": os.getpid(), **info}))

    def release(self) -> None:
        if self._handle is None:
            return
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / OWNER_FILE).unlink()
        self._handle.close()  # closing drops the flock
        self._handle = None
