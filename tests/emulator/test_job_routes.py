"""The get / list / cancel that tuningJobs and batchPredictionJobs share (``JobRoutes``):
each collection keeps its own REST names, 404 type and refused-cancel wording."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.emulator.serving import batch_prediction
from gemini_sft_kfp.emulator.tuning import tuning_jobs as tuning

from tests.support.emu_helpers import PARENT, call, example_lines, tuning_body, upload

BATCH_BODY = {
    "displayName": "batch",
    "model": "publishers/google/models/gemini-2.5-flash",
    "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": ["gs://b/in.jsonl"]}},
    "outputConfig": {
        "predictionsFormat": "jsonl",
        "gcsDestination": {"outputUriPrefix": "gs://b/out"},
    },
}


@pytest.mark.parametrize(
    ("table", "kind", "noun"),
    [
        ("tuningJobs", "TuningJob", "tuning job"),
        ("batchPredictionJobs", "BatchPredictionJob", "batch prediction job"),
    ],
)
def test_each_collection_keeps_its_names_and_messages(emu, table, kind, noun):
    emu.service.tuning_seconds = 30  # both kinds of job still running when cancelled
    uri = upload(example_lines(), "gs://b/in.jsonl")
    body = tuning_body(uri) if table == "tuningJobs" else BATCH_BODY
    status, job, _ = call(emu, "POST", f"{PARENT}/{table}", body)
    assert status == 200, job
    assert call(emu, "GET", job["name"])[1]["name"] == job["name"]
    assert [j["name"] for j in call(emu, "GET", f"{PARENT}/{table}")[1][table]] == [job["name"]]
    assert call(emu, "POST", f"{job['name']}:cancel", {})[:2] == (200, {})
    cancelled = call(emu, "GET", job["name"])[1]
    assert cancelled["state"] == "JOB_STATE_CANCELLED"
    assert cancelled["error"] == {"code": 1, "message": "CANCELED"}
    assert cancelled["endTime"] == cancelled["updateTime"]

    status, refused, _ = call(emu, "POST", f"{job['name']}:cancel", {})
    assert status == 400
    assert refused["error"]["message"] == (
        f"Cannot cancel {noun} {job['name']} in state JOB_STATE_CANCELLED."
    )
    status, missing, _ = call(emu, "GET", f"{PARENT}/{table}/nope")
    assert status == 404
    parent = job["name"].rsplit("/", 2)[0]  # with the project number, as the service says
    assert missing["error"]["message"] == f"{kind} {parent}/{table}/nope not found."
    methods = [r["method"] for r in emu.requests()]
    assert f"{table}.cancel" in methods and f"{table}.list" in methods


@pytest.mark.parametrize(
    ("module", "table"), [(tuning, "tuningJobs"), (batch_prediction, "batchPredictionJobs")]
)
def test_the_routes_keep_their_rest_names_paths_and_verbs(module, table):
    job = rf"{tuning.P}/{table}/(?P<id>[^/]+)"
    assert [(r.http_method, r.pattern.pattern, r.verb, r.name) for r in module.ROUTES] == [
        ("POST", f"{tuning.P}/{table}", None, f"{table}.create"),
        ("GET", f"{tuning.P}/{table}", None, f"{table}.list"),
        ("GET", job, None, f"{table}.get"),
        ("POST", job, "cancel", f"{table}.cancel"),
    ]
