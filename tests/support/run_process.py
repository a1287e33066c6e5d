"""``gemini-sft run`` as a real subprocess against the test emulator: start it, find its
task processes, kill it, and count the tuning jobs the emulator holds (its REST list)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

PROJECT = "local-project"
LOCATION = "us-central1"


def start_run(tmp_path: Path, *extra: str, new_session: bool = False) -> subprocess.Popen:
    """``gemini-sft run --output-dir tmp_path/runs --json ...`` (stdout: the summary)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from gemini_sft_kfp.cli import main; main()",
            "run",
            "--output-dir",
            str(tmp_path / "runs"),
            "--json",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=new_session,
    )


def children(pid: int) -> list[int]:
    pids: list[int] = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in path.read_text().split()]
    return pids


def tuning_jobs(emu) -> list[dict]:
    """The emulator's tuning jobs, through its REST list (what a client would see)."""
    url = f"{emu.vertex_url}/v1/projects/{PROJECT}/locations/{LOCATION}/tuningJobs"
    body = httpx.get(url, params={"pageSize": 100}, timeout=10).json()
    return body.get("tuningJobs", [])


def states(emu) -> list[str]:
    return sorted(job["state"].removeprefix("JOB_STATE_") for job in tuning_jobs(emu))


def wait_until(condition: Callable[[], bool], run: subprocess.Popen | None, timeout: float):
    deadline = time.monotonic() + timeout
    while not condition():
        if run is not None:
            assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@contextlib.contextmanager
def create_arrived(emu) -> Iterator[threading.Event]:
    """An event set when a ``tuningJobs.create`` request reaches the emulator (before any
    injected latency): the create is in flight from then until it answers."""
    arrived = threading.Event()
    faults = emu.service.faults
    decide = faults.decide

    def watching(method: str):
        if method == "tuningJobs.create":
            arrived.set()
        return decide(method)

    faults.decide = watching
    try:
        yield arrived
    finally:
        faults.decide = decide


def finish(run: subprocess.Popen, timeout: float = 300) -> tuple[str, str]:
    try:
        return run.communicate(timeout=timeout)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
