"""Malformed requests get the service's 400 / 404 / 413 with a Google error body, never a
500 with Python text (issue 14, section 6): one schema check of request bodies and
query parameters in front of every handler, and name checks in Cloud Storage."""

from __future__ import annotations

import httpx
import pytest
from gemini_sft_kfp.emulator import Emulator

from tests.support.emu_helpers import PARENT, example_lines, upload

GOOD_SPEC = {"trainingDatasetUri": "gs://b/t.jsonl"}
BASE = "gemini-2.5-flash"
BATCH = {
    "displayName": "x",
    "model": f"publishers/google/models/{BASE}",
    "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://b/r.jsonl"]}},
    "outputConfig": {
        "predictionsFormat": "jsonl",
        "gcsDestination": {"outputUriPrefix": "gs://b/o"},
    },
}
BAD_BODIES = [
    ("tuningJobs", {"baseModel": BASE, "supervisedTuningSpec": "x"}, "supervised_tuning_spec"),
    (
        "tuningJobs",
        {"baseModel": BASE, "supervisedTuningSpec": {**GOOD_SPEC, "hyperParameters": [1]}},
        "hyper_parameters",
    ),
    (
        "tuningJobs",
        {
            "baseModel": BASE,
            "supervisedTuningSpec": {
                **GOOD_SPEC,
                "hyperParameters": {"learningRateMultiplier": "abc"},
            },
        },
        "learning_rate_multiplier",
    ),
    (
        "tuningJobs",
        {
            "baseModel": BASE,
            "supervisedTuningSpec": {**GOOD_SPEC, "hyperParameters": {"adapterSize": ["x"]}},
        },
        "adapter_size",
    ),
    (
        "tuningJobs",
        {
            "baseModel": BASE,
            "supervisedTuningSpec": {**GOOD_SPEC, "hyperParameters": {"adapterSize": "HUGE"}},
        },
        "adapter_size",
    ),
    ("tuningJobs", {"supervisedTuningSpec": GOOD_SPEC, "preTunedModel": "x"}, "pre_tuned_model"),
    ("tuningJobs", {"baseModel": BASE, "supervisedTuningSpec": GOOD_SPEC, "x": 1}, "x"),
    ("tuningJobs", {"baseModel": 7, "supervisedTuningSpec": GOOD_SPEC}, "base_model"),
    ("tuningJobs", {"baseModel": BASE, "supervisedTuningSpec": GOOD_SPEC, "labels": []}, "labels"),
    (
        "tuningJobs",
        {
            "baseModel": BASE,
            "supervisedTuningSpec": {**GOOD_SPEC, "hyperParameters": {"epochCount": "many"}},
        },
        "epoch_count",
    ),
    ("schedules", {"cron": 5}, "cron"),
    ("schedules", {"cron": "0 3 * * *", "maxRunCount": "lots"}, "max_run_count"),
    ("pipelineJobs", {"pipelineSpec": "x"}, "pipeline_spec"),
    (
        "batchPredictionJobs",
        {**BATCH, "inputConfig": {"gcsSource": "gs://b/r.jsonl"}},
        "gcs_source",
    ),
    ("batchPredictionJobs", {**BATCH, "outputConfg": {}}, "outputConfg"),
]


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == status and error["message"]
    assert "Traceback" not in error["message"] and "Error(" not in error["message"]
    return error


@pytest.mark.parametrize(("collection", "body", "field"), BAD_BODIES)
def test_malformed_bodies_are_400_naming_the_field(emu, collection, body, field):
    created = httpx.post(f"{emu.vertex_url}/v1/{PARENT}/{collection}", json=body)
    error = _error(created, 400)
    assert error["status"] == "INVALID_ARGUMENT"
    (violations,) = [d["fieldViolations"] for d in error["details"]]
    assert violations[0]["field"].endswith(field), violations
    assert emu.requests()[-1]["status"] == 400
    assert httpx.get(f"{emu.vertex_url}/v1/{PARENT}/{collection}").json() == {}  # nothing made


def test_snake_case_and_string_numbers_still_parse_like_proto_json(emu):
    uri = upload(example_lines(16), "gs://b/t.jsonl")
    body = {
        "base_model": BASE,
        "supervised_tuning_spec": {
            "training_dataset_uri": uri,
            "hyper_parameters": {"epoch_count": "2", "learning_rate_multiplier": "1.5"},
        },
    }
    created = httpx.post(f"{emu.vertex_url}/v1/{PARENT}/tuningJobs", json=body)
    assert created.status_code == 200, created.text


@pytest.mark.parametrize("size", ["abc", "-5", "99999999999"])
def test_bad_page_size_is_400_not_an_endless_page_chain(emu, size):
    listed = httpx.get(f"{emu.vertex_url}/v1/{PARENT}/tuningJobs", params={"pageSize": size})
    error = _error(listed, 400)
    assert error["details"][0]["fieldViolations"][0]["field"] == "page_size"


def test_bad_page_token_is_400(emu):
    listed = httpx.get(f"{emu.vertex_url}/v1/{PARENT}/tuningJobs", params={"pageToken": "-10"})
    _error(listed, 400)


@pytest.mark.parametrize(
    "rule",
    [
        {"method": "tuningJobs.create", "status": "abc"},
        {"method": "tuningJobs.create", "status": 503, "times": "2"},
        {"method": "tuningJobs.create", "status": 503, "rate": "x"},
        {"method": "tuningJobs.create", "latency_ms": [1]},
        {"method": "tuningJobs.create", "status": True},
        {"method": "tuningJobs.create", "status": 503, "times": 0},
        [1, 2],
        "x",
    ],
)
def test_bad_fault_rules_are_400_json(emu, rule):
    added = httpx.post(f"{emu.vertex_url}/emulator/faults", json=rule)
    _error(added, 400)
    assert emu.service.faults.rules() == []


@pytest.mark.parametrize(
    "path",
    [
        "tuningJobs/..",
        "tuningJobs/%2e%2e",
        "tuningJobs/..%2F..%2Fx",
        "../../../../etc/passwd",
        "models/..%2F..",
    ],
)
def test_traversal_attempts_are_404_json(emu, path):
    _error(httpx.get(f"{emu.vertex_url}/v1/{PARENT}/{path}"), 404)


def test_oversized_body_is_413_and_not_kept(emu):
    too_big = b"{" + b" " * (32 * 1024 * 1024) + b"}"
    response = httpx.post(f"{emu.vertex_url}/v1/{PARENT}/tuningJobs", content=too_big)
    error = _error(response, 413)
    assert "exceeds the limit" in error["message"]
    # the emulator keeps serving on new connections
    assert httpx.get(f"{emu.vertex_url}/v1/{PARENT}/tuningJobs").status_code == 200


def test_request_limit_applies_to_chunked_bodies_too():
    with Emulator(tuning_seconds=0.2, max_request_bytes=1024) as small:
        url = f"{small.vertex_url}/v1/{PARENT}/tuningJobs"

        def chunks(total: int):
            for _ in range(total // 256):
                yield b" " * 256

        _error(httpx.post(url, content=chunks(4096)), 413)
        fits = httpx.post(url, content=(c for c in [b"{}"]))
        assert fits.status_code == 400  # parsed: supervised_tuning_spec is required


@pytest.mark.parametrize("name", ["a/b", "PWN ED", "UPPER", "-dash", "x" * 64, "googlebucket"])
def test_invalid_bucket_names_are_refused(emu, name):
    created = httpx.post(
        f"{emu.gcs_url}/storage/v1/b", params={"project": "p"}, json={"name": name}
    )
    error = _error(created, 400)
    assert error["errors"][0]["reason"] == "invalid"
    assert "Invalid bucket name" in error["message"]


@pytest.mark.parametrize(
    "name", [".", "..", "../../escape", "a/../../b", ".well-known/acme-challenge/x"]
)
def test_invalid_object_names_are_refused(emu, name):
    upload(b"x", "gs://okbucket/seed.txt")
    uploaded = httpx.post(
        f"{emu.gcs_url}/upload/storage/v1/b/okbucket/o",
        params={"uploadType": "media", "name": name},
        content=b"hi",
    )
    _error(uploaded, 400)


def test_object_traversal_on_read_is_400(emu):
    upload(b"x", "gs://okbucket/seed.txt")
    for path in (
        "/storage/v1/b/okbucket/o/..%2F..%2Fvertex.json",
        "/download/storage/v1/b/okbucket/o/..%2F..%2Fvertex.json?alt=media",
    ):
        response = httpx.get(emu.gcs_url + path)
        assert response.status_code in (400, 404), response.text
        assert response.status_code != 500


def test_evaluate_instances_bodies_are_parsed_like_the_service(emu):
    """A misspelt field is a 400 on Vertex (the proto parse), not a silent judge score."""
    instance = {"jsonInstance": '{"response": "a"}'}
    spec = {"metricPromptTemplate": "Rate {response}."}
    body = {"pointwiseMetricInput": {"metricSpec": spec, "instanse": instance}}
    response = httpx.post(f"{emu.vertex_url}/v1/{PARENT}:evaluateInstances", json=body)
    error = _error(response, 400)
    (violations,) = [d["fieldViolations"] for d in error["details"]]
    assert violations[0]["field"].endswith("instanse"), violations
