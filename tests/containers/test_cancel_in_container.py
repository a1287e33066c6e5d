"""`docker stop` on a task that owns a tuning job: the job is cancelled within the grace
period, as when a run is cancelled on Vertex AI Pipelines (SIGTERM to PID 1, then kill).

The tasks run exactly as `gemini-sft run --runner docker` runs them: KFP's DockerRunner,
the compiled command, the image built from this checkout, the emulator on the host.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from gemini_sft_kfp.components import launch_tuning_job, wait_for_tuning_job
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from tests.containers.conftest import GRACE_SECONDS, wait_for
from tests.support.emu_helpers import genai, upload_sample

pytestmark = pytest.mark.containers


class TaskInDocker:
    """One component call on KFP's DockerRunner, in a thread; its container by label."""

    def __init__(self, docker_client, image: str, pipeline_root) -> None:
        self.docker = docker_client
        self.image = image
        self.pipeline_root = pipeline_root
        self.label = uuid.uuid4().hex
        self.outcome: dict = {}

    def start(self, component, **arguments) -> None:
        from gemini_sft_kfp.pipelines.docker_runner import runner_arguments
        from kfp import local

        runner = local.DockerRunner(
            **runner_arguments([], emulated=True), labels={"gemini-sft-test": self.label}
        )
        local.init(runner=runner, pipeline_root=str(self.pipeline_root), raise_on_error=False)
        container = component.component_spec.implementation.container
        default_image, container.image = container.image, self.image

        def run() -> None:
            try:
                self.outcome["task"] = component(**arguments)
            except BaseException as exc:
                self.outcome["error"] = exc
            finally:
                container.image = default_image

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def container(self):
        found = self.docker.containers.list(filters={"label": f"gemini-sft-test={self.label}"})
        return found[0] if found else None

    def stop(self) -> float:
        """`docker stop` with Docker's default grace period; returns how long it took."""
        container = wait_for(self.container, 120, "the task's container")
        started = time.monotonic()
        container.stop(timeout=GRACE_SECONDS)
        took = time.monotonic() - started
        self.thread.join(timeout=60)
        return took


_CLIENTS: list = []


def _client():
    """One google-genai client, kept alive (a dropped one closes its connection pool)."""
    if not _CLIENTS:
        _CLIENTS.append(genai())
    return _CLIENTS[0]


def _job_state(name: str) -> str:
    return _client().tunings.get(name=name).state.name


def test_stopping_wait_for_tuning_job_cancels_the_job(
    docker_client, image, slow_emulator, tmp_path
):
    uri = upload_sample()
    job = _client().tunings.tune(base_model="gemini-2.5-flash", training_dataset={"gcs_uri": uri})
    task = TaskInDocker(docker_client, image, tmp_path)
    task.start(
        wait_for_tuning_job,
        project=DEFAULT_PROJECT,
        location=DEFAULT_LOCATION,
        tuning_job=job.name,
        poll_initial_seconds=0.5,
        poll_max_seconds=1.0,
    )
    polls = lambda: [r for r in slow_emulator.requests(verbose=True) if job.name in r["path"]]  # noqa: E731
    wait_for(lambda: len(polls()) >= 2, 120, "the task to poll the job")  # mid-wait
    assert _job_state(job.name) in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING")

    took = task.stop()

    # The task exited by itself after SIGTERM (not killed at the end of the grace) ...
    assert took < GRACE_SECONDS - 1, f"docker stop took {took:.1f}s: SIGTERM was not handled"
    # ... having cancelled the job, which would otherwise train (and bill) for hours.
    assert _job_state(job.name) == "JOB_STATE_CANCELLED"
    assert any(":cancel" in r["path"] for r in polls())
    assert "task" in task.outcome  # the local runner saw the task fail, nothing raised


def test_stopping_launch_tuning_job_mid_create_leaves_no_running_job(
    docker_client, image, slow_emulator, tmp_path
):
    train = upload_sample()
    before = {j.name for j in _client().tunings.list(config={"page_size": 100})}
    # the create takes 4 s to answer: the stop lands while it is in flight
    slow_emulator.add_fault("tuningJobs.create", latency_ms=4000, times=1)
    seen = len(slow_emulator.requests())
    task = TaskInDocker(docker_client, image, tmp_path)
    task.start(
        launch_tuning_job,
        project=DEFAULT_PROJECT,
        location=DEFAULT_LOCATION,
        training_dataset_uri=train,
        base_model="gemini-2.5-flash",
        epochs=1,
    )
    # the label look-up that precedes a create is the last call before it
    wait_for(
        lambda: any(r["method"] == "tuningJobs.list" for r in slow_emulator.requests()[seen:]),
        120,
        "the task to look for its job (just before the create)",
    )
    time.sleep(1.0)
    stopped_at = time.time()
    took = task.stop()

    assert took < GRACE_SECONDS - 1, f"docker stop took {took:.1f}s: SIGTERM was not handled"
    created = [j for j in _client().tunings.list(config={"page_size": 100}) if j.name not in before]
    assert len(created) == 1, "exactly one job: the create in flight, not a second one"
    [create] = [
        r for r in slow_emulator.requests(verbose=True)[seen:] if r["method"] == "tuningJobs.create"
    ]
    assert create["time"] > stopped_at, "the stop must have landed while the create was in flight"
    assert created[0].state.name == "JOB_STATE_CANCELLED", "no orphaned, billing job"
