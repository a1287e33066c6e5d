"""`docker stop` on a task that owns a tuning job: the job is cancelled within the grace
period, as when a run is cancelled on Vertex AI Pipelines (SIGTERM to PID 1, then kill).

The tasks run exactly as `gemini-sft run --runner docker` runs them: KFP's DockerRunner,
the compiled command, the image built from this checkout, the emulator on the host.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import pytest
from gemini_sft_kfp.components import evaluate_model, launch_tuning_job, wait_for_tuning_job
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from tests.containers.conftest import GRACE_SECONDS, wait_for
from tests.support.emu_helpers import genai, upload, upload_sample

pytestmark = pytest.mark.containers


class TaskInDocker:
    """One component call on KFP's DockerRunner, in a thread; its container by label."""

    def __init__(self, docker_client, image: str, pipeline_root) -> None:
        self.docker = docker_client
        self.image = image
        self.pipeline_root = pipeline_root
        self.label = uuid.uuid4().hex
        self.outcome: dict = {}

    def start(self, component, *, in_image=None, **arguments) -> None:
        """Call ``component``, or a pipeline around ``in_image`` (the component whose
        task runs in the image under test; the pipeline must be defined under
        ``in_image_under_test``)."""
        from gemini_sft_kfp.pipelines.local.docker_runner import runner_arguments
        from kfp import local

        runner = local.DockerRunner(
            **runner_arguments([], emulated=True), labels={"gemini-sft-test": self.label}
        )
        local.init(runner=runner, pipeline_root=str(self.pipeline_root), raise_on_error=False)
        container = (in_image or component).component_spec.implementation.container
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


@contextlib.contextmanager
def in_image_under_test(component, image: str):
    """Define a pipeline in here: it copies the component's image when it is defined."""
    container = component.component_spec.implementation.container
    default_image, container.image = container.image, image
    try:
        yield
    finally:
        container.image = default_image


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


def test_stopping_a_batch_evaluation_cancels_its_batch_prediction_job(
    docker_client, image, slow_emulator, tmp_path
):
    from google_cloud_pipeline_components.types.artifact_types import VertexEndpoint
    from kfp import dsl

    from tests.support import REPO
    from tests.support.eval_helpers import tuned_endpoint

    slow_emulator.service.tuning_seconds = 1.0  # a tuned endpoint to evaluate, quickly
    try:
        endpoint = tuned_endpoint(str(REPO / "examples/data/train.jsonl"), bucket="batch-cancel")
    finally:
        slow_emulator.service.tuning_seconds = 600.0
    eval_uri = upload(REPO / "examples/data/eval.jsonl", "gs://batch-cancel/eval.jsonl")
    slow_emulator.service.batch_seconds = 600.0  # the job runs until it is cancelled
    seen = len(slow_emulator.requests())

    with in_image_under_test(evaluate_model, image):

        @dsl.pipeline(name="batch-evaluation")
        def batch_evaluation():  # no parameters: this module's annotations are strings
            imported = dsl.importer(
                artifact_uri=f"https://aiplatform.googleapis.com/v1/{endpoint}",
                artifact_class=VertexEndpoint,
                metadata={"resourceName": endpoint},
            )
            evaluate_model(
                project=DEFAULT_PROJECT,
                location=DEFAULT_LOCATION,
                eval_data=eval_uri,
                tuned_endpoint=imported.output,
                base_model="gemini-2.5-flash",
                method="batch",
                staging_uri="gs://batch-cancel/staging",
            )

    task = TaskInDocker(docker_client, image, tmp_path)
    try:
        task.start(batch_evaluation, in_image=evaluate_model)
        calls = slow_emulator.requests
        gets = lambda: [r for r in calls()[seen:] if r["method"] == "batchPredictionJobs.get"]  # noqa: E731
        wait_for(lambda: len(gets()) >= 2, 120, "the task to poll its batch job")  # mid-wait
        took = task.stop()
    finally:
        slow_emulator.service.batch_seconds = None

    assert took < GRACE_SECONDS - 1, f"docker stop took {took:.1f}s: SIGTERM was not handled"
    jobs = list(_client().batches.list(config={"page_size": 100}))
    created = [j for j in jobs if j.display_name == "gemini-sft-eval-tuned"]
    assert len(created) == 1, "one batch job for the tuned model, created once"
    assert created[0].state.name == "JOB_STATE_CANCELLED", "no orphaned, billing batch job"
