"""Every JSON body the emulator returns parses with the official aiplatform protos, strictly
(``json_format.Parse`` without ``ignore_unknown_fields``): no invented or misspelt fields."""

from __future__ import annotations

import time

import orjson
import pytest
import urllib3
from google.cloud import aiplatform_v1, aiplatform_v1beta1
from google.longrunning import operations_pb2
from google.protobuf import json_format

from tests.support.emu_helpers import (
    PARENT,
    SERVED_PARENT,
    call,
    example_lines,
    tuning_body,
    upload,
)

_http = urllib3.PoolManager()


def stream_events(emu, path: str, body: dict) -> list[dict]:
    """The JSON payloads of a ``text/event-stream`` answer (``data: {...}`` lines)."""
    response = _http.request(
        "POST",
        f"{emu.vertex_url}/v1/{path}",
        body=orjson.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200, response.data
    assert response.headers["Content-Type"].startswith("text/event-stream")
    lines = response.data.decode().splitlines()
    return [orjson.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]


def strict_parse(body: dict, message_class) -> None:
    message = message_class.pb() if hasattr(message_class, "pb") else message_class
    instance = message() if isinstance(message, type) else message
    json_format.Parse(orjson.dumps(body), instance)


@pytest.fixture
def finished(emu):
    uri = upload(example_lines(12), "gs://b/t.jsonl")
    validation = upload(example_lines(4), "gs://b/v.jsonl")
    body = tuning_body(
        uri,
        labels={"a": "b"},
        description="d",
        tunedModelDisplayName="n",
        encryptionSpec={"kmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
        serviceAccount="sa@p.iam.gserviceaccount.com",
    )
    body["supervisedTuningSpec"]["validationDatasetUri"] = validation
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body)
    assert status == 200
    strict_parse(created, aiplatform_v1.TuningJob)
    time.sleep(emu.service.tuning_seconds + 0.05)
    return call(emu, "GET", created["name"])[1]


@pytest.mark.parametrize("module", [aiplatform_v1, aiplatform_v1beta1])
def test_tuning_job_and_list(finished, emu, module):
    assert finished["state"] == "JOB_STATE_SUCCEEDED"
    strict_parse(finished, module.TuningJob)
    strict_parse(call(emu, "GET", f"{PARENT}/tuningJobs")[1], module.ListTuningJobsResponse)


@pytest.mark.parametrize("module", [aiplatform_v1, aiplatform_v1beta1])
def test_failed_and_cancelled_jobs(emu, module):
    version = "v1beta1" if module is aiplatform_v1beta1 else "v1"
    pending = min(1.0, 0.1 * emu.service.tuning_seconds)  # then the missing data fails it
    _, failed, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body("gs://x/missing.jsonl"))
    emu.service.tuning_seconds = 60.0  # still running when it is cancelled (fixture restores)
    uri = upload(example_lines(4), "gs://b/t.jsonl")
    _, running, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))
    assert call(emu, "POST", f"{running['name']}:cancel", {})[0] == 200
    time.sleep(pending + 0.05)
    states = {}
    for job in (failed, running):
        status, body, _ = call(emu, "GET", job["name"], version=version)
        assert status == 200, body
        strict_parse(body, module.TuningJob)
        states[body["state"]] = body["error"]
    assert set(states) == {"JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}
    assert states["JOB_STATE_FAILED"]["code"] == 3 and states["JOB_STATE_CANCELLED"]["code"] == 1
    listing = call(emu, "GET", f"{PARENT}/tuningJobs", version=version)[1]
    assert len(listing["tuningJobs"]) == 2
    strict_parse(listing, module.ListTuningJobsResponse)


@pytest.mark.parametrize("module", [aiplatform_v1, aiplatform_v1beta1])
def test_model_endpoint_and_lists(finished, emu, module):
    model = finished["tunedModel"]["model"]
    strict_parse(call(emu, "GET", model)[1], module.Model)
    strict_parse(call(emu, "GET", f"{PARENT}/models")[1], module.ListModelsResponse)
    strict_parse(
        call(emu, "GET", model.split("@")[0] + ":listVersions")[1], module.ListModelVersionsResponse
    )
    endpoint = finished["tunedModel"]["endpoint"]
    strict_parse(call(emu, "GET", endpoint)[1], module.Endpoint)
    strict_parse(call(emu, "GET", f"{PARENT}/endpoints")[1], module.ListEndpointsResponse)
    merged = call(emu, "POST", f"{model}:mergeVersionAliases", {"versionAliases": ["champion"]})
    strict_parse(merged[1], module.Model)


@pytest.mark.parametrize("module", [aiplatform_v1, aiplatform_v1beta1])
def test_generate_and_count_tokens(finished, emu, module):
    request = {
        "contents": [{"role": "user", "parts": [{"text": "my invoice is wrong"}]}],
        "generationConfig": {"maxOutputTokens": 20, "candidateCount": 2},
    }
    for target in (
        finished["tunedModel"]["endpoint"],
        f"{PARENT}/publishers/google/models/gemini-2.5-flash",
    ):
        strict_parse(
            call(emu, "POST", f"{target}:generateContent", request)[1],
            module.GenerateContentResponse,
        )
        counted = call(emu, "POST", f"{target}:countTokens", {"contents": request["contents"]})[1]
        strict_parse(counted, module.CountTokensResponse)
        # streaming (not covered by strict mode): a JSON array, or server-sent events
        status, chunks, _ = call(emu, "POST", f"{target}:streamGenerateContent", request)
        assert status == 200 and isinstance(chunks, list) and chunks, chunks
        for chunk in chunks:
            strict_parse(chunk, module.GenerateContentResponse)
        events = stream_events(emu, f"{target}:streamGenerateContent?alt=sse", request)
        assert events
        for event in events:
            strict_parse(event, module.GenerateContentResponse)


def test_delete_operation(finished, emu):
    model = finished["tunedModel"]["model"].split("@")[0]
    status, operation, _ = call(emu, "DELETE", model)
    assert status == 200 and operation["done"]
    json_format.Parse(orjson.dumps(operation), operations_pb2.Operation())
    polled = call(emu, "GET", operation["name"])[1]
    json_format.Parse(orjson.dumps(polled), operations_pb2.Operation())
    _, beta, _ = call(emu, "GET", f"{PARENT}/models", version="v1beta1")
    assert beta == {}


def test_errors_use_the_google_rest_envelope(emu):
    status, body, _ = call(emu, "GET", f"{PARENT}/tuningJobs/1")
    assert status == 404
    message = body["error"]["message"]
    assert f"{SERVED_PARENT}/tuningJobs/1" in message  # names what was not found (by number)
    assert body == {"error": {"code": 404, "message": message, "status": "NOT_FOUND"}}


@pytest.mark.parametrize("module", [aiplatform_v1, aiplatform_v1beta1])
def test_continuous_job_undeploy_and_beta_operations(finished, emu, module):
    version = "v1beta1" if module is aiplatform_v1beta1 else "v1"
    model = finished["tunedModel"]["model"].split("@")[0]
    body = {
        "preTunedModel": {"tunedModelName": model, "checkpointId": "1"},
        "supervisedTuningSpec": {
            "trainingDatasetUri": finished["supervisedTuningSpec"]["trainingDatasetUri"]
        },
    }
    status, created, _ = call(emu, "POST", f"{PARENT}/tuningJobs", body, version=version)
    assert status == 200
    time.sleep(emu.service.tuning_seconds + 0.05)
    strict_parse(call(emu, "GET", created["name"], version=version)[1], module.TuningJob)
    endpoint = finished["tunedModel"]["endpoint"]
    deployed = call(emu, "GET", endpoint)[1]["deployedModels"][0]["id"]
    status, operation, _ = call(
        emu, "POST", f"{endpoint}:undeployModel", {"deployedModelId": deployed}, version=version
    )
    assert status == 200
    json_format.Parse(orjson.dumps(operation), operations_pb2.Operation())
    strict_parse(call(emu, "GET", endpoint, version=version)[1], module.Endpoint)
    status, deleted, _ = call(emu, "DELETE", endpoint, version=version)
    assert status == 200
    json_format.Parse(orjson.dumps(deleted), operations_pb2.Operation())
    patched = call(emu, "PATCH", f"{model}?updateMask=labels", {"labels": {"x": "y"}})[1]
    strict_parse(patched, module.Model)


def test_strict_mode_turns_an_invalid_body_into_a_500(emu, monkeypatch):
    import gemini_sft_kfp.emulator.tuning.tuning_jobs as tuning

    original = tuning.view
    monkeypatch.setattr(tuning, "view", lambda job: {**original(job), "bogus": 1})
    status, body, _ = call(emu, "GET", f"{PARENT}/tuningJobs/1")
    assert status == 404  # errors are not checked against the resource type
    uri = upload(example_lines(), "gs://b/t.jsonl")
    status, body, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))
    assert status == 500 and "bogus" in body["error"]["message"]


def test_strict_mode_checks_every_route():
    """Strict mode knows a response type for each route (streaming is parsed above)."""
    from gemini_sft_kfp.emulator.common.fidelity import violation
    from gemini_sft_kfp.emulator.server import ROUTES

    streamed = {"endpoints.streamGenerateContent", "publishers.models.streamGenerateContent"}
    assert streamed <= {r.name for r in ROUTES}
    unchecked = [
        r.name
        for r in ROUTES
        if r.name not in streamed and violation(r.name, "v1", {"bogusField": 1}) is None
    ]
    assert not unchecked, f"no response type in emulator/common/fidelity.py for {unchecked}"


def test_fields_newer_than_the_protos_are_checked_then_stripped():
    from gemini_sft_kfp.emulator.common.fidelity import strip_newer_fields

    job = {"name": "projects/1/locations/l/tuningJobs/2", "state": "JOB_STATE_RUNNING"}
    detailed = {**job, "tuningJobState": "TUNING_JOB_STATE_WAITING_FOR_QUOTA"}
    assert strip_newer_fields("TuningJob", detailed) == (job, None)
    spec = {"trainingDatasetUri": "gs://b/t.jsonl", "noSuchField": 1}
    rest, problem = strip_newer_fields("TuningJob", {**job, "preferenceOptimizationSpec": spec})
    assert rest == job and problem.startswith("preferenceOptimizationSpec: ")
    assert strip_newer_fields("Model", detailed) == (detailed, None)  # none newer: as is
