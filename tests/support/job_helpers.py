"""Helpers for the emulator tests of upload, launch and wait."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import httpx

from tests.support import REPO

PROJECT = "local-project"
LOCATION = "us-central1"
BUCKET = "sft-test-bucket"
DATA = REPO / "examples" / "data"


def make_bucket(name: str = BUCKET):
    from gemini_sft_kfp.core.clients import storage_client

    return storage_client(PROJECT).create_bucket(name)


def object_names(bucket: str = BUCKET) -> list[str]:
    from gemini_sft_kfp.core.clients import storage_client

    return [b.name for b in storage_client(PROJECT).list_blobs(bucket)]


def raw_job(emu, name: str) -> dict:
    """The job as the REST API returns it (fields the SDK may not model)."""
    return httpx.get(f"{emu.vertex_url}/v1/{name}").json()


def all_jobs(emu) -> list[dict]:
    url = f"{emu.vertex_url}/v1/projects/{PROJECT}/locations/{LOCATION}/tuningJobs"
    return httpx.get(url, params={"pageSize": 1000}).json().get("tuningJobs", [])


def calls(emu, method: str) -> list[int]:
    """Statuses of the served calls of one REST method, in order."""
    return [r["status"] for r in emu.requests() if r["method"] == method]


@contextlib.contextmanager
def slow_tuning(emu, seconds: float = 60.0):
    """Jobs created inside run this long, so a test can interrupt a wait mid-poll."""
    service = emu.service
    before = service.tuning_seconds
    service.tuning_seconds = seconds
    try:
        yield
    finally:
        service.tuning_seconds = before


WAIT_SCRIPT = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job
wait_for_tuning_job(sys.argv[1], sys.argv[2], sys.argv[3], poll_initial_seconds=0.1,
                    poll_max_seconds=0.2, gcp_resources_path=sys.argv[4])
"""


def start_wait_process(emu, name: str, gcp_resources_path: str) -> subprocess.Popen:
    env = {**os.environ, **emu.env, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", WAIT_SCRIPT, PROJECT, LOCATION, name, gcp_resources_path],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_polling(emu, process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Block until the wait process has polled the job at least twice."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(calls(emu, "tuningJobs.get")) >= 2:
            return
        if process.poll() is not None:
            raise AssertionError(f"wait exited early: {process.stdout.read()}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError("wait process never polled")
