"""`gemini-sft run --runner docker` stopped (SIGTERM) or killed (`kill -9`).

Docker, not the CLI, runs the task containers: a signal to the CLI does not reach them,
and killing the CLI leaves them running (the wait step keeps polling the job). A stopped
run must stop its task, which cancels its job, as the subprocess runner's task does; a
rerun after kill -9 must resume the job (no second billed one) and end the dead run's
containers without cancelling the job it resumes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.containers.conftest import wait_for
from tests.support import REPO
from tests.support.run_process import create_arrived

pytestmark = pytest.mark.containers


@pytest.fixture()
def emulator() -> Iterator:
    """The run's backend, outliving the killed CLI (as a real service would); its jobs
    train until the test lets them finish (``finish_soon``)."""
    from gemini_sft_kfp.emulator import Emulator

    with Emulator(tuning_seconds=900) as running:
        yield running


def _jobs(emulator) -> list[dict]:
    return list(orjson.loads(emulator.dump_state())["tuningJobs"].values())


def _finish_soon(emulator, name: str, seconds: float = 3.0) -> None:
    """Let a running emulator job succeed ``seconds`` from now."""
    with emulator.service.store.lock:
        job = emulator.service.store.table("tuningJobs")[name.rsplit("/", 1)[-1]]
        sim = job["_sim"]
        started = sim.get("dequeued", sim["created"])
        sim["tuning_seconds"] = time.time() - started + seconds


def _containers_of(docker_client, out: Path) -> list:
    """Running containers with ``out`` mounted (the runs' tasks: KFP mounts the root)."""
    return [
        c
        for c in docker_client.containers.list()
        if any(m.get("Source") == str(out) for m in c.attrs.get("Mounts", []))
    ]


def _wait_step_polling(emulator, docker_client, out: Path, run: subprocess.Popen) -> dict:
    """The run's job, once it is RUNNING and the wait step's container polls it."""
    wait_for(
        lambda: (
            any(j["state"] == "JOB_STATE_RUNNING" for j in _jobs(emulator))
            or run.poll() is not None
        ),
        300,
        "the run's tuning job",
        interval=0.5,
    )
    assert run.poll() is None, run.communicate()
    (job,) = _jobs(emulator)
    wait_for(lambda: _containers_of(docker_client, out), 60, "the wait step's container")
    time.sleep(2)  # the wait step is polling
    return job


@contextlib.contextmanager
def _run(emulator, image: str, out: Path) -> Iterator[subprocess.Popen]:
    """``gemini-sft run --runner docker --json`` in the background; killed if still
    running when the block ends."""
    env = {**os.environ, **emulator.env, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen(
        [str(Path(sys.executable).parent / "gemini-sft"), "run", "--runner", "docker",
         "--image", image, "--output-dir", str(out), "--json"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield run
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()


@pytest.fixture()
def out(docker_client, tmp_path) -> Iterator[Path]:
    """The runs' output directory; no container of theirs outlives the test."""
    path = (tmp_path / "runs").resolve()
    yield path
    for container in _containers_of(docker_client, path):
        with contextlib.suppress(Exception):  # it may have ended meanwhile
            container.kill()


@pytest.mark.timeout(900)
def test_a_rerun_after_kill_9_resumes_the_job_and_ends_the_dead_runs_containers(
    docker_client, image, emulator, out
):
    with _run(emulator, image, out) as first:
        job = _wait_step_polling(emulator, docker_client, out, first)
        first.send_signal(signal.SIGKILL)  # the CLI dies; Docker keeps its containers
        first.communicate()
    left = _containers_of(docker_client, out)
    assert left, "kill -9 of the CLI leaves the running task's container"
    assert _jobs(emulator)[0]["state"] == "JOB_STATE_RUNNING"

    launched = "*/launch-tuning-job/executor_output.json"
    first_launch = set(out.glob(launched))
    with _run(emulator, image, out) as again:
        # the rerun's launch step resumed the job: let it finish, so the run can end
        wait_for(
            lambda: set(out.glob(launched)) - first_launch or again.poll() is not None,
            300,
            "the rerun's launch step",
            interval=0.5,
        )
        assert [j["name"] for j in _jobs(emulator)] == [job["name"]]  # no second job
        _finish_soon(emulator, job["name"])
        stdout, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-4000:]
    assert f"resuming tuning job {job['name']}" in " ".join(stderr.split())
    assert [j["name"] for j in _jobs(emulator)] == [job["name"]]
    assert _jobs(emulator)[0]["state"] == "JOB_STATE_SUCCEEDED"  # resumed, not cancelled
    assert orjson.loads(stdout)["succeeded"] is True
    running = {c.id for c in _containers_of(docker_client, out)}
    assert not running & {c.id for c in left}, "the dead run's containers were ended"


@pytest.mark.timeout(900)
def test_a_rerun_after_kill_9_mid_create_resumes_the_job_that_create_made(
    docker_client, image, emulator, out
):
    """The CLI dies while its launch container's create is in flight: the rerun kills
    that container (no clean-up), waits for the job the create makes, and resumes it.
    Before, the container was stopped, cancelled the job, and the rerun trained another."""
    emulator.add_fault("tuningJobs.create", latency_ms=8000, times=1)
    with create_arrived(emulator) as arrived, _run(emulator, image, out) as first:
        wait_for(
            lambda: arrived.is_set() or first.poll() is not None,
            300,
            "the launch step's create",
            interval=0.2,
        )
        assert first.poll() is None, first.communicate()
        first.send_signal(signal.SIGKILL)  # the CLI only; the launch container runs on
        first.communicate()
    assert _jobs(emulator) == []  # the create is still in flight
    with _run(emulator, image, out) as again:
        wait_for(lambda: _jobs(emulator) or again.poll() is not None, 120, "the late job")
        (job,) = _jobs(emulator)
        wait_for(
            lambda: list(out.glob("*/wait-for-tuning-job")) or again.poll() is not None,
            300,
            "the rerun's wait step",
            interval=0.5,
        )
        _finish_soon(emulator, job["name"])
        _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr[-4000:]
    assert [(j["name"], j["state"]) for j in _jobs(emulator)] == [
        (job["name"], "JOB_STATE_SUCCEEDED")
    ]  # one job: neither cancelled nor trained twice


@pytest.mark.timeout(600)
def test_sigterm_stops_the_running_task_which_cancels_its_job(docker_client, image, emulator, out):
    with _run(emulator, image, out) as run:
        _wait_step_polling(emulator, docker_client, out, run)
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 1, stderr[-4000:]
    assert orjson.loads(stdout)["succeeded"] is False  # the summary was printed
    assert not _containers_of(docker_client, out)  # stopped with the run, not left polling
    assert _jobs(emulator)[0]["state"] == "JOB_STATE_CANCELLED"
    # the task cancelled its job on SIGTERM; the CLI's own fallback found nothing to cancel
    assert "interrupted: cancelled tuning job" not in stderr
    cancels = [r for r in emulator.requests() if r["method"] == "tuningJobs.cancel"]
    assert len(cancels) == 1, cancels
