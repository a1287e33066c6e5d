"""Every JSON body the emulator returns parses with the official aiplatform protos, strictly
(``json_format.Parse`` without ``ignore_unknown_fields``): no invented or misspelt fields."""

from __future__ import annotations

import time

import orjson
import pytest
from google.cloud import aiplatform_v1, aiplatform_v1beta1
from google.longrunning import operations_pb2
from google.protobuf import json_format

from tests.emulator.emu_helpers import PARENT, call, example_lines, tuning_body, upload


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


def test_failed_and_cancelled_jobs(emu):
    _, failed, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body("gs://x/missing.jsonl"))
    call(emu, "POST", f"{failed['name']}:cancel", {})
    strict_parse(call(emu, "GET", failed["name"])[1], aiplatform_v1.TuningJob)


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
    assert body == {
        "error": {"code": 404, "message": body["error"]["message"], "status": "NOT_FOUND"}
    }


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
    import emulator.tuning

    original = emulator.tuning.view
    monkeypatch.setattr(emulator.tuning, "view", lambda job: {**original(job), "bogus": 1})
    status, body, _ = call(emu, "GET", f"{PARENT}/tuningJobs/1")
    assert status == 404  # errors are not checked against the resource type
    uri = upload(example_lines(), "gs://b/t.jsonl")
    status, body, _ = call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))
    assert status == 500 and "bogus" in body["error"]["message"]
