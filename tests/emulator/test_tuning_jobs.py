"""tuningJobs through google-genai exactly as the project's client factory builds it."""

from __future__ import annotations

import pytest
from google.genai import errors, types

from gemini_sft_kfp.core.clients import genai_client
from tests.support.emu_helpers import (
    PARENT,
    SERVED_PARENT,
    call,
    example_lines,
    genai,
    tuning_body,
    upload,
    upload_sample,
    wait_terminal,
)


def _tune(client, uri: str, **config):
    return client.tunings.tune(
        base_model=config.pop("base_model", "gemini-2.5-flash"),
        training_dataset=types.TuningDataset(gcs_uri=uri),
        config=types.CreateTuningJobConfig(**config),
    )


def test_lifecycle_pending_running_succeeded(emu):
    uri = upload(example_lines(20), "gs://b/train.jsonl")
    client = genai()
    job = _tune(client, uri, epoch_count=3, tuned_model_display_name="router", labels={"team": "x"})
    assert job.state == types.JobState.JOB_STATE_PENDING
    assert job.name.startswith(f"{SERVED_PARENT}/tuningJobs/")
    done = wait_terminal(client, job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.tuned_model.model.endswith("@1")
    assert done.tuned_model.endpoint.startswith(f"{SERVED_PARENT}/endpoints/")
    assert [c.epoch for c in done.tuned_model.checkpoints] == [1, 2, 3]
    assert done.tuned_model.checkpoints[-1].endpoint == done.tuned_model.endpoint
    stats = done.tuning_data_stats.supervised_tuning_data_stats
    assert stats.tuning_dataset_example_count == 20
    assert stats.total_billable_token_count > 0
    assert done.experiment and done.labels == {"team": "x"}
    assert done.start_time and done.end_time


def test_service_account_via_extra_body_and_encryption_kept(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    client = genai_client(
        "local-project",
        "us-central1",
        extra_body={"serviceAccount": "sa@p.iam.gserviceaccount.com"},
    )
    kms = "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"
    job = _tune(client, uri, encryption_spec=types.EncryptionSpec(kms_key_name=kms))
    fetched = client.tunings.get(name=job.name)
    assert fetched.service_account == "sa@p.iam.gserviceaccount.com"
    assert fetched.encryption_spec.kms_key_name == kms


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"baseModel": "gemini-9-ultra"}, "not supported"),
        ({"baseModel": "gemini-1.5-pro-002"}, "not supported"),
        (
            {
                "baseModel": "gemini-2.5-pro",
                "supervisedTuningSpec": {
                    "trainingDatasetUri": "gs://b/t.jsonl",
                    "hyperParameters": {"adapterSize": "ADAPTER_SIZE_SIXTEEN"},
                },
            },
            "adapter size 16",
        ),
        (
            {
                "supervisedTuningSpec": {
                    "trainingDatasetUri": "gs://b/t.jsonl",
                    "hyperParameters": {"epochCount": 0.5},
                }
            },
            "epoch_count",
        ),
        (
            {
                "supervisedTuningSpec": {
                    "trainingDatasetUri": "gs://b/t.jsonl",
                    "hyperParameters": {"learningRateMultiplier": -1},
                }
            },
            "learning_rate_multiplier",
        ),
        ({"supervisedTuningSpec": {"trainingDatasetUri": "/local/file.jsonl"}}, "gs://"),
        ({"labels": {"Team": "X"}}, "label"),
    ],
)
def test_create_rejects_like_the_service(emu, overrides, message):
    status, body, _ = call(
        emu, "POST", f"{PARENT}/tuningJobs", tuning_body("gs://b/t.jsonl", **overrides)
    )
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT" and body["error"]["code"] == 400
    assert message in body["error"]["message"]
    assert call(emu, "GET", f"{PARENT}/tuningJobs")[1] == {}  # nothing was created


def test_sdk_surfaces_400_as_client_error(emu):
    client = genai()
    with pytest.raises(errors.ClientError) as caught:
        _tune(client, "gs://b/t.jsonl", base_model="gemini-9-ultra")
    assert caught.value.code == 400


def test_missing_data_fails_the_job_not_the_request(emu):
    client = genai()
    job = _tune(client, "gs://nowhere/missing.jsonl")
    done = wait_terminal(client, job.name)
    assert done.state == types.JobState.JOB_STATE_FAILED
    assert "not found" in done.error.message and done.error.code == 3
    assert done.tuned_model is None


def test_unconverted_data_fails_the_job(emu):
    uri = upload(b'{"messages": [{"role": "user", "content": "hi"}]}\n', "gs://b/openai.jsonl")
    client = genai()
    done = wait_terminal(client, _tune(client, uri).name)
    assert done.state == types.JobState.JOB_STATE_FAILED
    assert "Missing required 'contents' field" in done.error.message


def test_cancel_keeps_the_job_with_code_1(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    client = genai()
    job = _tune(client, uri)
    client.tunings.cancel(name=job.name)
    cancelled = client.tunings.get(name=job.name)
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED
    assert cancelled.error.code == 1
    status, body, _ = call(emu, "POST", f"{job.name}:cancel", {})
    assert status == 400 and body["error"]["status"] == "FAILED_PRECONDITION"


def test_list_filters_by_label_and_pages(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    client = genai()
    names = [_tune(client, uri, labels={"run": "r1"}).name for _ in range(3)]
    _tune(client, uri, labels={"run": "r2"})
    page = call(emu, "GET", f"{PARENT}/tuningJobs?filter=labels.run%3Dr1&pageSize=2")[1]
    assert len(page["tuningJobs"]) == 2 and page["nextPageToken"]
    found = [
        j.name for j in client.tunings.list(config={"filter": "labels.run=r1", "page_size": 2})
    ]
    assert sorted(found) == sorted(names)


def test_get_unknown_job_is_404(emu):
    client = genai()  # keep a reference: a collected genai client closes its connection
    with pytest.raises(errors.ClientError) as caught:
        client.tunings.get(name=f"{PARENT}/tuningJobs/123")
    assert caught.value.code == 404


def test_continuous_tuning_creates_next_version(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    client = genai()
    first = wait_terminal(client, _tune(client, uri, epoch_count=2).name)
    model = first.tuned_model.model.split("@")[0]
    body = {
        "preTunedModel": {"tunedModelName": model, "checkpointId": "1"},
        "supervisedTuningSpec": {"trainingDatasetUri": uri},
    }
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200, created
    assert created["preTunedModel"]["baseModel"] == "gemini-2.5-flash"
    second = wait_terminal(client, created["name"])
    assert second.tuned_model.model == f"{model}@2"
    bad = {**body, "preTunedModel": {"tunedModelName": model, "checkpointId": "99"}}
    assert call(emu, "POST", f"{PARENT}/tuningJobs", bad)[0] == 400
    missing = {**body, "preTunedModel": {"tunedModelName": f"{PARENT}/models/42"}}
    assert call(emu, "POST", f"{PARENT}/tuningJobs", missing)[0] == 400


def test_data_the_project_validator_rejects_fails_the_job(emu):
    record = {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "assistant", "parts": [{"text": "queue: billing"}]},
        ]
    }
    import orjson

    uri = upload(orjson.dumps(record) + b"\n", "gs://b/bad-role.jsonl")
    client = genai()
    done = wait_terminal(client, _tune(client, uri).name)
    assert done.state == types.JobState.JOB_STATE_FAILED
    assert "Row: 0." in done.error.message and "assistant" in done.error.message
    assert uri in done.error.message


def test_continuous_tuning_fails_when_parent_model_is_deleted(emu, tuned_job):
    model = tuned_job["tunedModel"]["model"].split("@")[0]
    body = {
        "preTunedModel": {"tunedModelName": model},
        "supervisedTuningSpec": {
            "trainingDatasetUri": tuned_job["supervisedTuningSpec"]["trainingDatasetUri"]
        },
    }
    created = call(emu, "POST", f"{PARENT}/tuningJobs", body)[1]
    assert call(emu, "DELETE", model)[0] == 200
    client = genai()
    done = wait_terminal(client, created["name"])
    assert done.state == types.JobState.JOB_STATE_FAILED and done.error.code == 5
    assert call(emu, "GET", f"{PARENT}/tuningJobs")[0] == 200  # the emulator keeps serving


def test_quota_queues_jobs_until_a_slot_frees(emu):
    emu.service.max_running_tuning_jobs = 1
    emu.service.tuning_seconds = 5.0  # the first job still runs on a loaded machine
    uri = upload(example_lines(), "gs://b/t.jsonl")
    first = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[1]
    second = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[1]
    third = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[1]
    assert (first["state"], second["state"]) == ("JOB_STATE_PENDING", "JOB_STATE_QUEUED")
    call(emu, "POST", f"{third['name']}:cancel", {})
    client = genai()
    assert wait_terminal(client, first["name"]).state == types.JobState.JOB_STATE_SUCCEEDED
    done = wait_terminal(client, second["name"])
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.start_time >= wait_terminal(client, first["name"]).end_time
    assert call(emu, "GET", third["name"])[1]["state"] == "JOB_STATE_CANCELLED"
    emu.reset()
    assert emu.service.max_running_tuning_jobs is None


def test_snake_case_request_fields_are_accepted(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    body = {
        "base_model": "gemini-2.5-flash",
        "supervised_tuning_spec": {
            "training_dataset_uri": uri,
            "hyper_parameters": {"epoch_count": 2, "adapter_size": "ADAPTER_SIZE_TWO"},
        },
        "tuned_model_display_name": "snake",
        "labels": {"team_name": "a_b"},
        "encryption_spec": {"kms_key_name": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
    }
    status, job, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200, job
    assert job["supervisedTuningSpec"]["hyperParameters"]["epochCount"] == "2"
    assert job["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == "ADAPTER_SIZE_TWO"
    assert job["tunedModelDisplayName"] == "snake" and job["labels"] == {"team_name": "a_b"}
    assert job["encryptionSpec"]["kmsKeyName"].endswith("/cryptoKeys/k")


@pytest.mark.parametrize(
    "line",
    [b'{"contents": {"role": "user"}}', b'{"contents": [{"role": 5, "parts": []}]}', b"[1, 2]"],
)
def test_malformed_contents_fail_the_job_not_the_emulator(emu, line):
    uri = upload(line + b"\n", "gs://b/odd.jsonl")
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))
    assert status == 200, created
    client = genai()
    done = wait_terminal(client, created["name"])
    assert done.state == types.JobState.JOB_STATE_FAILED and "Row: 0." in done.error.message


def test_quota_queue_mode_reports_the_detailed_state(emu):
    emu.service.max_running_tuning_jobs = 1
    emu.service.tuning_seconds = 60.0  # the first job holds the slot (reset restores it)
    uri = upload(example_lines(), "gs://b/t.jsonl")
    first = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[1]
    second = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[1]
    assert second["tuningJobState"] == "TUNING_JOB_STATE_WAITING_FOR_QUOTA"
    client = genai()  # kept referenced: a collected client closes its connection
    held = client.tunings.get(name=second["name"])
    assert held.tuning_job_state == types.TuningJobState.TUNING_JOB_STATE_WAITING_FOR_QUOTA
    assert "tuningJobState" not in first  # only the quota hold carries the detail
    call(emu, "POST", f"{first['name']}:cancel", {})
    done = client.tunings.get(name=first["name"])
    assert done.tuning_job_state is None  # detail only while the job is not over


def test_quota_reject_mode_answers_429_and_creates_nothing(emu):
    emu.service.max_running_tuning_jobs, emu.service.quota_mode = 1, "reject"
    uri = upload(example_lines(), "gs://b/t.jsonl")
    assert call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[0] == 200
    status, body, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))
    assert status == 429 and body["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert "Quota exceeded" in body["error"]["message"]
    assert len(call(emu, "GET", f"{PARENT}/tuningJobs")[1]["tuningJobs"]) == 1
    emu.reset()
    assert emu.service.quota_mode == "queue"


def test_the_spec_is_answered_in_proto3_json_defaults_left_out(emu):
    """Vertex answers proto3 JSON: a field holding its default is not printed
    (protobuf.dev/programming-guides/json), int64 as a string, enums by name."""
    spec = {
        "trainingDatasetUri": upload_sample(),
        "exportLastCheckpointOnly": False,
        "hyperParameters": {"epochCount": 2, "learningRateMultiplier": "1.5"},
    }
    body = tuning_body(spec["trainingDatasetUri"], supervisedTuningSpec=spec)
    status, job, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200, job
    answered = job["supervisedTuningSpec"]
    assert "exportLastCheckpointOnly" not in answered
    assert answered["hyperParameters"]["epochCount"] == "2"
    assert answered["hyperParameters"]["learningRateMultiplier"] == 1.5
