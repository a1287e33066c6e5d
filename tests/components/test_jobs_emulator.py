"""Upload -> launch -> wait against the emulator, with the failures that cost money."""

from __future__ import annotations

import signal
import time

import pytest
from gemini_sft_kfp.components.launch_tuning_job.executor import (
    IDEMPOTENCY_LABEL,
)
from gemini_sft_kfp.components.launch_tuning_job.executor import (
    run as launch_tuning_job,
)
from gemini_sft_kfp.components.upload_dataset import executor as uploader
from gemini_sft_kfp.components.upload_dataset.executor import run as upload_dataset
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job
from google.cloud.storage import blob as blob_module

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.errors import CloudJobError, UserError
from tests.support.emu_helpers import SERVED_PARENT
from tests.support.job_helpers import (
    BUCKET,
    DATA,
    LOCATION,
    PROJECT,
    all_jobs,
    calls,
    make_bucket,
    object_names,
    raw_job,
    slow_tuning,
    start_wait_process,
    wait_until_polling,
)

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

FAST_POLL = {"poll_initial_seconds": 0.05, "poll_max_seconds": 0.2}


def upload(name: str = "train.jsonl") -> str:
    return upload_dataset(PROJECT, source_uri=str(DATA / name), bucket=BUCKET, file_name=name).uri


def launch(train: str, **kwargs) -> str:
    kwargs.setdefault("base_model", "gemini-2.5-flash")  # a model with published limits
    kwargs.setdefault("pipeline_job_id", "run-1")
    kwargs.setdefault("task_name", "launch-tuning-job")
    return launch_tuning_job(PROJECT, LOCATION, training_dataset_uri=train, **kwargs)


def test_happy_path_upload_launch_wait(emu, tmp_path, monkeypatch):
    monkeypatch.setenv(
        "VERTEX_AI_PIPELINES_RUN_LABELS", '{"vertex-ai-pipelines-run-billing-id": "42"}'
    )
    make_bucket()
    train, validation = upload("train.jsonl"), upload("validation.jsonl")
    launch_resources = str(tmp_path / "launch_gcp_resources")
    name = launch(
        train,
        validation_dataset_uri=validation,
        epochs=2,
        adapter_size="4",
        learning_rate_multiplier=0.5,
        tuned_model_display_name="faq-bot",
        description="happy path",
        labels={"Team": "MLOps"},
        service_account="tuner@local-project.iam.gserviceaccount.com",
        gcp_resources_path=launch_resources,
    )
    assert gcp_resources.read(launch_resources, "TuningJob") == name

    job = raw_job(emu, name)
    assert job["serviceAccount"] == "tuner@local-project.iam.gserviceaccount.com"
    assert job["labels"]["team"] == "mlops"
    assert job["labels"]["vertex-ai-pipelines-run-billing-id"] == "42"
    assert IDEMPOTENCY_LABEL in job["labels"]
    spec = job["supervisedTuningSpec"]
    assert spec["validationDatasetUri"] == validation
    assert spec["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_FOUR"
    assert float(spec["hyperParameters"]["learningRateMultiplier"]) == 0.5

    wait_resources = str(tmp_path / "wait_gcp_resources")
    result = wait_for_tuning_job(
        PROJECT, LOCATION, name, gcp_resources_path=wait_resources, **FAST_POLL
    )
    assert gcp_resources.read(wait_resources, "TuningJob") == name
    # the service names the project by number (SERVED_PARENT), whatever the request wrote
    assert result.tuned_model.startswith(f"{SERVED_PARENT}/models/")
    assert result.tuned_model.endswith("@1")
    assert "/endpoints/" in result.tuned_endpoint
    assert result.base_model == "gemini-2.5-flash"
    assert result.metrics["training_examples"] == 240
    assert result.metrics["billable_tokens"] > 0
    assert result.metrics["epochs"] == 2
    assert [c["epoch"] for c in result.checkpoints] == [1, 2]
    assert calls(emu, "tuningJobs.create") == [200]


def test_failing_creates_and_flaky_gets_still_make_exactly_one_job(emu):
    make_bucket()
    train = upload()
    emu.add_fault(method="tuningJobs.create", status=503, times=2)
    emu.add_fault(method="tuningJobs.get", status=429, rate=0.3)
    emu.add_fault(method="tuningJobs.list", status=429, rate=0.3)
    name = launch(train)
    result = wait_for_tuning_job(PROJECT, LOCATION, name, **FAST_POLL)
    emu.clear_faults()
    assert [j["name"] for j in all_jobs(emu)] == [name]
    assert calls(emu, "tuningJobs.create") == [503, 503, 200]
    assert result.tuned_model


def test_create_whose_response_is_lost_is_found_not_repeated(emu):
    make_bucket()
    train = upload()
    emu.add_fault(method="tuningJobs.create", status=503, times=1, after=True)
    name = launch(train)
    emu.clear_faults()
    assert [j["name"] for j in all_jobs(emu)] == [name]
    assert len(calls(emu, "tuningJobs.create")) == 1


def test_retried_task_reuses_its_job(emu, tmp_path):
    make_bucket()
    train = upload()
    first = launch(train)
    # a retry whose gcp_resources was lost still finds the job by its label
    assert launch(train, gcp_resources_path=str(tmp_path / "fresh")) == first
    # another loop iteration (different inputs) of the same task gets its own job
    assert launch(train, epochs=3) != first
    assert len(calls(emu, "tuningJobs.create")) == 2


def test_adapter_size_16_on_pro_is_refused_before_any_call(emu):
    with pytest.raises(UserError, match="adapter size 16 is not available for gemini-2.5-pro"):
        launch("gs://bucket/train.jsonl", base_model="gemini-2.5-pro", adapter_size="16")
    assert emu.requests() == []


def test_failed_job_reports_the_service_message(emu):
    make_bucket()
    from gemini_sft_kfp.core.clients import storage_client

    bad = storage_client(PROJECT).bucket(BUCKET).blob("bad.jsonl")
    bad.upload_from_string(b'{"messages": [{"role": "user", "content": "hi"}]}\n' * 20)
    name = launch(f"gs://{BUCKET}/bad.jsonl")
    with pytest.raises(CloudJobError, match="contents") as info:
        wait_for_tuning_job(PROJECT, LOCATION, name, **FAST_POLL)
    assert info.value.state == "JOB_STATE_FAILED"
    assert info.value.code


def test_killed_wait_restarts_on_the_same_job(emu, tmp_path):
    make_bucket()
    train = upload()
    resources = str(tmp_path / "gcp_resources")
    with slow_tuning(emu, 8.0):
        name = launch(train)
    process = start_wait_process(emu, name, resources)
    wait_until_polling(emu, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert raw_job(emu, name)["state"] in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING")
    assert gcp_resources.read(resources, "TuningJob") == name

    # the restarted task: launch resumes from gcp_resources, the wait polls that job
    assert launch(train, gcp_resources_path=resources) == name
    result = wait_for_tuning_job(PROJECT, LOCATION, name, gcp_resources_path=resources, **FAST_POLL)
    assert result.tuned_model
    assert len(all_jobs(emu)) == 1
    assert len(calls(emu, "tuningJobs.create")) == 1


def test_sigterm_cancels_the_job(emu, tmp_path):
    make_bucket()
    train = upload()
    with slow_tuning(emu, 60.0):
        name = launch(train)
    process = start_wait_process(emu, name, str(tmp_path / "gcp_resources"))
    wait_until_polling(emu, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, output
    assert "cancelling tuning job" in output
    deadline = time.monotonic() + 5
    while raw_job(emu, name)["state"] != "JOB_STATE_CANCELLED" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert raw_job(emu, name)["state"] == "JOB_STATE_CANCELLED"
    assert calls(emu, "tuningJobs.cancel") == [200]


def test_same_file_twice_is_one_object_and_the_second_run_skips(emu, monkeypatch):
    make_bucket()
    first = upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    # the re-run: one hashing pass, one metadata read, no upload (not a wall-clock bound)
    passes, sent = [], []
    real_digest = uploader.digest_file
    monkeypatch.setattr(
        uploader, "digest_file", lambda *a, **k: passes.append(k) or real_digest(*a, **k)
    )
    real_upload = blob_module.Blob.upload_from_filename
    monkeypatch.setattr(
        blob_module.Blob,
        "upload_from_filename",
        lambda self, *a, **k: sent.append(self.name) or real_upload(self, *a, **k),
    )
    second = upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    assert first.uploaded and not second.uploaded
    assert first.uri == second.uri
    assert first.uri == f"gs://{BUCKET}/gemini-sft/datasets/{first.sha256}/train.jsonl"
    assert (first.examples, first.size_bytes) == (240, (DATA / "train.jsonl").stat().st_size)
    assert second.examples == 240  # from the object's metadata, not a second pass
    assert object_names() == [first.uri.removeprefix(f"gs://{BUCKET}/")]
    assert sent == []
    assert len(passes) == 1  # the sha256 pass only: no line count, no md5


def test_continuous_tuning_makes_a_new_version_of_the_tuned_model(emu):
    make_bucket()
    train = upload()
    first = wait_for_tuning_job(PROJECT, LOCATION, launch(train, epochs=2), **FAST_POLL)
    kms = f"projects/{PROJECT}/locations/{LOCATION}/keyRings/ring/cryptoKeys/key"
    name = launch(
        train,
        pre_tuned_model=first.tuned_model,  # the versioned name the wait published
        checkpoint_id=first.checkpoints[0]["checkpointId"],
        export_last_checkpoint_only=True,
        kms_key_name=kms,
    )
    job = raw_job(emu, name)
    assert job["preTunedModel"]["tunedModelName"] == first.tuned_model
    assert job["preTunedModel"]["checkpointId"] == "1"
    assert job["supervisedTuningSpec"]["exportLastCheckpointOnly"] is True
    assert job["encryptionSpec"] == {"kmsKeyName": kms}
    second = wait_for_tuning_job(PROJECT, LOCATION, name, **FAST_POLL)
    assert second.tuned_model == first.tuned_model.replace("@1", "@2")
    assert second.base_model == "gemini-2.5-flash"


def test_continuous_tuning_checks_the_tuned_models_own_family(emu):
    make_bucket()
    train = upload()
    pro = wait_for_tuning_job(
        PROJECT, LOCATION, launch(train, base_model="gemini-2.5-pro", epochs=1), **FAST_POLL
    )
    creates = len(calls(emu, "tuningJobs.create"))
    # base_model left at its default (flash, which offers 16): the tuned model is pro
    with pytest.raises(UserError, match="not available for gemini-2.5-pro"):
        launch(train, pre_tuned_model=pro.tuned_model, adapter_size="16")
    with pytest.raises(UserError, match="cannot be read"):
        launch(train, pre_tuned_model=f"projects/{PROJECT}/locations/{LOCATION}/models/404")
    assert len(calls(emu, "tuningJobs.create")) == creates


def test_missing_or_empty_dataset_is_refused_before_any_create(emu):
    make_bucket()
    from gemini_sft_kfp.core.clients import storage_client

    storage_client(PROJECT).bucket(BUCKET).blob("empty.jsonl").upload_from_string(b"")
    with pytest.raises(UserError, match="not found") as info:
        launch(f"gs://{BUCKET}/typo/train.jsonl")
    assert info.value.file == f"gs://{BUCKET}/typo/train.jsonl"
    train = upload()
    with pytest.raises(UserError, match="empty"):
        launch(train, validation_dataset_uri=f"gs://{BUCKET}/empty.jsonl")
    assert calls(emu, "tuningJobs.create") == []
