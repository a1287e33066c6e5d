"""upload -> launch -> wait as KFP components on the local runner, against the emulator."""

from typing import NamedTuple

import orjson
import pytest
from gemini_sft_kfp.components.launch_tuning_job.component import launch_tuning_job
from gemini_sft_kfp.components.launch_tuning_job.executor import IDEMPOTENCY_LABEL
from gemini_sft_kfp.components.upload_dataset.component import upload_dataset
from gemini_sft_kfp.components.wait_for_tuning_job.component import wait_for_tuning_job
from kfp import dsl, local

from tests.support.job_helpers import (
    BUCKET,
    DATA,
    LOCATION,
    PROJECT,
    all_jobs,
    make_bucket,
    object_names,
    raw_job,
)


@pytest.fixture
def local_runner(tmp_path):
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))


@dsl.pipeline
def tune_pipeline(train: str, bucket: str) -> str:
    uploaded = upload_dataset(project=PROJECT, bucket=bucket, source_uri=train)
    launched = launch_tuning_job(
        project=PROJECT,
        location=LOCATION,
        training_dataset_uri=uploaded.outputs["Output"],
        epochs=2,
        labels={"Stage": "Test"},
    )
    waited = wait_for_tuning_job(
        project=PROJECT,
        location=LOCATION,
        tuning_job=launched.outputs["Output"],
        poll_initial_seconds=0.2,
        poll_max_seconds=0.5,
    )
    return waited.outputs["tuned_model"]


@pytest.mark.e2e
def test_pipeline_runs_on_the_local_runner(emu, local_runner):
    make_bucket()
    run = tune_pipeline(train=str(DATA / "train.jsonl"), bucket=BUCKET)
    tuned_model = run.output
    assert tuned_model.endswith("@1")
    jobs = all_jobs(emu)
    assert len(jobs) == 1
    # the run and task placeholders were resolved: the label is derived, not ad hoc
    assert not jobs[0]["labels"][IDEMPOTENCY_LABEL].startswith("adhoc-")
    assert jobs[0]["labels"]["stage"] == "test"


@pytest.mark.e2e
def test_components_outputs_on_the_local_runner(emu, local_runner):
    make_bucket()
    uploaded = upload_dataset(project=PROJECT, bucket=BUCKET, source_uri=str(DATA / "train.jsonl"))
    dataset = uploaded.outputs["gcs_dataset"]
    assert dataset.uri == uploaded.outputs["Output"]
    assert dataset.metadata["examples"] == 240 and len(dataset.metadata["sha256"]) == 64

    launched = launch_tuning_job(
        project=PROJECT,
        location=LOCATION,
        training_dataset_uri=dataset.uri,
        epochs=2,
        base_model="gemini-2.5-flash",
    )
    name = launched.outputs["Output"]
    resources = orjson.loads(launched.outputs["gcp_resources"])["resources"][0]
    assert resources["resourceType"] == "TuningJob"
    assert resources["resourceUri"].endswith(f"/v1/{name}")

    waited = wait_for_tuning_job(
        project=PROJECT,
        location=LOCATION,
        tuning_job=name,
        poll_initial_seconds=0.2,
        poll_max_seconds=0.5,
    )
    model, endpoint = waited.outputs["model"], waited.outputs["endpoint"]
    assert model.metadata["resourceName"] == waited.outputs["tuned_model"]
    assert model.metadata["resourceName"] == raw_job(emu, name)["tunedModel"]["model"]
    assert endpoint.metadata["resourceName"] == waited.outputs["tuned_endpoint"]
    # the local runner hands back plain Artifacts; the declared types are Google's
    declared = wait_for_tuning_job.component_spec.outputs
    assert declared["model"].type.startswith("google.VertexModel@")
    assert declared["endpoint"].type.startswith("google.VertexEndpoint@")
    assert waited.outputs["metrics"].metadata["training_examples"] == 240
    assert waited.outputs["base_model"] == "gemini-2.5-flash"
    assert len(orjson.loads(waited.outputs["checkpoints"])) == 2


class UploadOutputs(NamedTuple):
    train_uri: str
    empty_uri: str


@dsl.pipeline
def upload_artifact_pipeline(train: str, empty: str, bucket: str) -> UploadOutputs:
    train_artifact = dsl.importer(artifact_uri=train, artifact_class=dsl.Dataset)
    empty_artifact = dsl.importer(artifact_uri=empty, artifact_class=dsl.Dataset)
    uploaded = upload_dataset(project=PROJECT, bucket=bucket, dataset=train_artifact.output)
    skipped = upload_dataset(project=PROJECT, bucket=bucket, dataset=empty_artifact.output)
    return UploadOutputs(train_uri=uploaded.outputs["Output"], empty_uri=skipped.outputs["Output"])


@pytest.mark.e2e
def test_dataset_artifacts_upload_and_empty_one_is_skipped(emu, local_runner, tmp_path):
    make_bucket()
    empty = tmp_path / "validation.jsonl"
    empty.write_bytes(b"")
    run = upload_artifact_pipeline(train=str(DATA / "train.jsonl"), empty=str(empty), bucket=BUCKET)
    assert run.outputs["train_uri"].startswith(f"gs://{BUCKET}/gemini-sft/datasets/")
    assert run.outputs["empty_uri"] == ""
    assert len(object_names()) == 1


@pytest.mark.e2e
def test_a_preference_job_as_kfp_components(emu, local_runner):
    from tests.support.emu_helpers import upload
    from tests.support.preference_data import jsonl, preference_records

    train = upload(jsonl(preference_records()), f"gs://{BUCKET}/pref.jsonl")
    launched = launch_tuning_job(
        project=PROJECT,
        location=LOCATION,
        training_dataset_uri=train,
        epochs=1,
        method="preference",
        beta=0.2,
    )
    name = launched.outputs["Output"]
    assert raw_job(emu, name)["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.2
    waited = wait_for_tuning_job(
        project=PROJECT,
        location=LOCATION,
        tuning_job=name,
        poll_initial_seconds=0.2,
        poll_max_seconds=0.5,
    )
    assert waited.outputs["model"].metadata["tuningMethod"] == "preference"
    assert waited.outputs["metrics"].metadata["beta"] == 0.2
