"""Where a local run sends its cloud calls: an emulator (given or started here), or the cloud.

``gemini-sft run`` is free by default: without ``--project`` it never reaches Google
Cloud. It uses the emulator named by ``VERTEX_AI_EMULATOR_HOST`` /
``STORAGE_EMULATOR_HOST`` when both are set, else starts one in this process for the
duration of the run (the task subprocesses inherit its variables).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gemini_sft_kfp.core.clients import (
    STORAGE_EMULATOR_ENV,
    VERTEX_EMULATOR_ENV,
    storage_emulator_url,
    vertex_emulator_url,
)
from gemini_sft_kfp.core.errors import UserError

LOCAL_BUCKET = "gemini-sft-local"


@dataclass(frozen=True)
class Backend:
    """What the run talks to; ``simulated`` means training and answers are simulated."""

    kind: str  # "emulator (in-process)" | "emulator" | "Google Cloud"
    vertex_url: str
    storage_url: str

    @property
    def simulated(self) -> bool:
        return self.kind.startswith("emulator")


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` for the block (task processes inherit them),
    each variable restored, or removed, afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def local_backend(
    *, use_cloud: bool, tuning_seconds: float, state_dir: Path | None = None
) -> Iterator[Backend]:
    """The backend of one local run (an in-process emulator lives as long as the block).

    ``state_dir`` keeps the in-process emulator's jobs, models and buckets between runs,
    so a later ``--pipeline continuous`` run finds the champion an earlier run registered.
    """
    vertex, storage = vertex_emulator_url(), storage_emulator_url()
    if vertex and storage:
        yield Backend("emulator", vertex, storage)
        return
    if vertex or storage:
        missing = STORAGE_EMULATOR_ENV if vertex else VERTEX_EMULATOR_ENV
        raise UserError(
            f"{missing} is not set while the other emulator variable is: set both "
            "(gemini-sft emulator prints them) or neither",
            field=missing,
        )
    if use_cloud:
        yield Backend("Google Cloud", "", "")
        return
    emulator = _own_or_shared_emulator(state_dir, tuning_seconds)
    if isinstance(emulator, dict):  # a standalone emulator owns the state: use it
        vertex, storage = emulator["vertex_url"], emulator["gcs_url"]
        with environment({VERTEX_EMULATOR_ENV: vertex, STORAGE_EMULATOR_ENV: storage}):
            yield Backend("emulator", vertex, storage)
        return
    with emulator as emu, environment(dict(emu.env)):
        yield Backend("emulator (in-process)", emu.vertex_url, emu.gcs_url)


def _own_or_shared_emulator(state_dir: Path | None, tuning_seconds: float, poll: float = 0.5):
    """A new in-process emulator on ``state_dir``, or (a dict) the addresses of the
    standalone ``gemini-sft emulator`` that owns it. One writer per state directory:
    while another run's in-process emulator owns it, wait for that run to finish."""
    import sys
    import time

    from gemini_sft_kfp.emulator import Emulator
    from gemini_sft_kfp.emulator.common.state_lock import StateDirInUse

    announced = False
    while True:
        try:
            return Emulator(
                host="127.0.0.1",
                port=0,
                gcs_port=0,
                tuning_seconds=tuning_seconds,
                state_dir=state_dir,
            )
        except StateDirInUse as busy:
            owner = busy.owner or {}
            if owner.get("joinable") and _answers(owner.get("vertex_url", "")):
                print(
                    f"emulator state {state_dir} is served by process {owner['pid']} "
                    f"({owner['vertex_url']}): using it",
                    file=sys.stderr,
                )
                return owner
            if not announced:
                print(
                    f"waiting for process {owner.get('pid', '?')}, which is using the emulator "
                    f"state {state_dir} (one run at a time per state directory)...",
                    file=sys.stderr,
                )
                announced = True
            time.sleep(poll)


def _answers(vertex_url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{vertex_url}/emulator/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def bucket_name(bucket: str) -> str:
    """``gs://name/`` or ``name`` -> ``name``."""
    return bucket.removeprefix("gs://").strip("/").split("/", 1)[0]


def ensure_bucket(project: str, bucket: str) -> None:
    """Create the bucket in the emulator if it is missing (never on the real cloud)."""
    from gemini_sft_kfp.core.clients import storage_client, storage_retry

    client = storage_client(project)
    name = bucket_name(bucket)
    if client.lookup_bucket(name, retry=storage_retry()) is None:
        client.create_bucket(name, retry=storage_retry())
