"""A local run killed hard (``kill -9``, a crash) leaves its tuning job running: the next
run with the same inputs resumes that job instead of paying for a second one.

Each local run records itself in ``<output dir>/.inflight-<pid>.json`` (its inputs'
fingerprint, start time, runner) and removes the record when it ends in any ordinary way. One
run at a time holds an output directory (``exclusive``), so a record found at start is
a dead run's. If its inputs match and its launch step named a job that is still active,
this run's launch and exit-handler steps use that job's idempotency key
(``RESUME_KEY_ENV``, read by ``core.cloud_job.resumed_run_key``): the launch step finds
the job by its label and waits for it. ``--new-job`` skips this. With ``--runner
docker`` the key reaches the containers through the runner's environment, and a dead
run's containers, which Docker keeps running, are ended first (``docker_tasks.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from gemini_sft_kfp.core.cloud_job import RESUME_KEY_ENV

LAUNCH_TASK_DIR = "launch-tuning-job"


def fingerprint(pipeline: str, arguments: dict[str, Any]) -> str:
    """The run's inputs: its arguments, and the size and mtime of local data files."""
    files = {}
    for value in arguments.values():
        if isinstance(value, str) and value.startswith("/") and os.path.isfile(value):
            stat = os.stat(value)
            files[value] = [stat.st_size, stat.st_mtime_ns]
    raw = orjson.dumps([pipeline, arguments, files], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()


def _dead_runs(output_dir: Path) -> list[dict]:
    records = []
    for path in sorted(output_dir.glob(".inflight-*.json")):
        with contextlib.suppress(OSError, orjson.JSONDecodeError):
            record = orjson.loads(path.read_bytes())
            record["path"] = str(path)
            records.append(record)
    return records


def dead_run_runners(output_dir: Path) -> set[str]:
    """The runners ("subprocess", "docker") of the dead runs recorded in ``output_dir``."""
    return {record.get("runner", "subprocess") for record in _dead_runs(output_dir)}


def _job_of(run_dir: Path) -> str | None:
    from gemini_sft_kfp.core import gcp_resources

    path = run_dir / LAUNCH_TASK_DIR / "gcp_resources"
    return gcp_resources.read(str(path), "TuningJob") if path.exists() else None


def find_resumable(
    output_dir: Path, pipeline_name: str, print_fingerprint: str, project: str, location: str
) -> tuple[str, str, int] | None:
    """(job name, its idempotency key, the dead run's pid) of an active job a dead run
    with the same inputs started; None when there is none. Stale records are removed."""
    from gemini_sft_kfp.core import job_states
    from gemini_sft_kfp.core.clients import genai_client
    from gemini_sft_kfp.core.cloud_job import IDEMPOTENCY_LABEL
    from gemini_sft_kfp.core.retry import call_with_retry

    found = None
    client = None
    for record in _dead_runs(output_dir):
        if found is None and record.get("fingerprint") == print_fingerprint:
            started = float(record.get("started", 0))
            runs = [
                d
                for d in output_dir.glob(f"{pipeline_name}-*")
                if d.is_dir() and d.stat().st_mtime >= started - 1
            ]
            for run_dir in sorted(runs, key=lambda d: d.stat().st_mtime, reverse=True):
                name = _job_of(run_dir)
                if not name:
                    continue
                client = client or genai_client(project, location)  # kept: it closes when freed
                job = call_with_retry(client.tunings.get, name=name)
                key = (job.labels or {}).get(IDEMPOTENCY_LABEL)
                if job_states.state_name(job.state) in job_states.ACTIVE_STATES and key:
                    found = (name, key, int(record.get("pid", 0)))
                break
        Path(record["path"]).unlink(missing_ok=True)
    return found


def resumable_job(
    output_dir: Path, pipeline_name: str, print_fingerprint: str, project: str, location: str
) -> tuple[tuple[str, str, int] | None, int]:
    """``find_resumable``, after ending what dead ``--runner docker`` runs left running
    (Docker, not the CLI, runs their containers); also returns how many were ended."""

    def find() -> tuple[str, str, int] | None:
        return find_resumable(output_dir, pipeline_name, print_fingerprint, project, location)

    if "docker" not in dead_run_runners(output_dir):
        return find(), 0
    from gemini_sft_kfp.pipelines import docker_tasks

    client = docker_tasks.docker_client()
    if client is None:
        return find(), 0
    return docker_tasks.end_dead_runs(client, output_dir, find)


@contextlib.contextmanager
def inflight(
    output_dir: Path, print_fingerprint: str, runner: str = "subprocess"
) -> Iterator[None]:
    """Record this run as in flight for its duration (a kill -9 leaves the record)."""
    path = output_dir / f".inflight-{os.getpid()}.json"
    record = {
        "pid": os.getpid(),
        "started": time.time(),
        "fingerprint": print_fingerprint,
        "runner": runner,
    }
    path.write_bytes(orjson.dumps(record))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def resuming(run_key: str | None) -> Iterator[None]:
    """Tell this run's task subprocesses to use ``run_key`` (they inherit os.environ)."""
    if not run_key:
        yield
        return
    os.environ[RESUME_KEY_ENV] = run_key
    try:
        yield
    finally:
        os.environ.pop(RESUME_KEY_ENV, None)
