"""The emulator's state: plain JSON-able dicts behind one re-entrant lock.

In memory by default; with a state directory every change is written (atomically:
fsynced temporary file, then a rename) to ``vertex.json`` there, so jobs, models and
endpoints survive a restart. The ``Emulator`` holds the directory's lock (state_lock.py):
one writer per directory.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import logging
import os
import threading
import time
from pathlib import Path

import orjson
from gemini_sft_kfp.emulator.common.state_lock import write_atomically

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.outputs import is_disk_error

log = logging.getLogger(__name__)

COLLECTIONS = (
    "tuningJobs",
    "models",
    "endpoints",
    "operations",
    "pipelineJobs",
    "schedules",
    "batchPredictionJobs",
)


def rfc3339(epoch: float | None = None) -> str:
    """A timestamp the way Google APIs write it (UTC, microseconds, ``Z``)."""
    moment = dt.datetime.fromtimestamp(time.time() if epoch is None else epoch, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _load(path: Path) -> dict:
    try:
        loaded = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        loaded = exc
    if not isinstance(loaded, dict):
        raise UserError(
            f"not a valid emulator state file ({loaded}); move it away or pick another --state-dir",
            file=str(path),
        )
    return loaded


def _empty() -> dict:
    return {name: {} for name in COLLECTIONS}


class Store:
    """All resources, keyed by collection then id. Hold ``lock`` while reading or changing."""

    def __init__(self, state_dir: str | os.PathLike | None = None) -> None:
        self.lock = threading.RLock()
        self.data: dict = _empty()
        self._path = Path(state_dir) / "vertex.json" if state_dir else None
        self._unsaved = False  # the last save failed for want of disk
        # ids look like the service's (large decimal numbers) and never repeat, even after reset
        self._ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)
        if self._path and self._path.exists():
            loaded = _load(self._path)
            self.data = {**_empty(), **loaded.get("collections", {})}
            self._ids = itertools.count(int(loaded.get("next_id", next(self._ids))))

    def new_id(self) -> str:
        with self.lock:
            return str(1_000_000_000_000_000_000 + next(self._ids))

    def table(self, collection: str) -> dict:
        return self.data[collection]

    def save(self) -> None:
        """Persist (no-op in memory). Call after every change, still holding the lock.

        A state directory on a full (or read-only) disk does not fail the request: the
        cloud this stands in for does not share the user's disk. The change is kept in
        memory, said once, and persisted with the next change that fits.
        """
        if self._path is None:
            return
        with self.lock:
            payload = {"collections": self.data, "next_id": next(self._ids)}
            try:
                write_atomically(self._path, orjson.dumps(payload))
            except OSError as exc:
                if not is_disk_error(exc):
                    raise
                if not self._unsaved:
                    log.warning(
                        "emulator: cannot save its state to %s (%s): going on in memory; "
                        "it is saved again once there is room",
                        self._path,
                        exc.strerror,
                    )
                self._unsaved = True
            else:
                if self._unsaved:
                    log.warning("emulator: state saved to %s again", self._path)
                self._unsaved = False

    def reset(self) -> None:
        with self.lock:
            self.data = _empty()
            self.save()

    def snapshot(self) -> dict:
        """A copy of every resource (``restore`` puts it back; ids are not rewound)."""
        with self.lock:
            return copy.deepcopy(self.data)

    def restore(self, data: dict) -> None:
        with self.lock:
            self.data = copy.deepcopy(data)
            self.save()
