"""Fault injection and the request log, through the handle and over HTTP."""

from __future__ import annotations

import time

import pytest
import urllib3
from google.genai import errors

from tests.support.emu_helpers import PARENT, call, example_lines, genai, tuning_body, upload

_http = urllib3.PoolManager()


def _post_fault(emu, rule: dict) -> int:
    import orjson

    return _http.request(
        "POST", f"{emu.vertex_url}/emulator/faults", body=orjson.dumps(rule)
    ).status


def test_times_fault_fails_next_calls_then_recovers(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    assert _post_fault(emu, {"method": "tuningJobs.create", "status": 503, "times": 2}) == 200
    body = tuning_body(uri)
    statuses = [call(emu, "POST", f"{PARENT}/tuningJobs", body)[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert emu.requests() == [
        {"method": "tuningJobs.create", "status": 503},
        {"method": "tuningJobs.create", "status": 503},
        {"method": "tuningJobs.create", "status": 200},
    ]
    jobs = call(emu, "GET", f"{PARENT}/tuningJobs")[1]["tuningJobs"]
    assert len(jobs) == 1  # failed calls created nothing


def test_fault_error_envelope_reaches_the_sdk(emu):
    emu.add_fault("publishers.models.generateContent", status=429, times=1)
    client = genai()
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"


def test_rate_fault_fails_a_fraction(emu):
    emu.add_fault("*", status=429, rate=0.5)
    statuses = [call(emu, "GET", f"{PARENT}/tuningJobs")[0] for _ in range(200)]
    failures = statuses.count(429)
    assert 50 < failures < 150 and set(statuses) == {200, 429}


def test_latency_fault(emu):
    emu.add_fault("tuningJobs.list", latency_ms=100)
    started = time.perf_counter()
    assert call(emu, "GET", f"{PARENT}/tuningJobs")[0] == 200
    assert time.perf_counter() - started >= 0.1


def test_after_fault_runs_the_call_then_fails(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    emu.add_fault("tuningJobs.create", status=503, times=1, after=True)
    assert call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[0] == 503
    assert len(call(emu, "GET", f"{PARENT}/tuningJobs")[1]["tuningJobs"]) == 1


def test_clear_faults_over_http(emu):
    emu.add_fault("*", status=500, rate=1.0)
    assert _http.request("DELETE", f"{emu.vertex_url}/emulator/faults").status == 200
    assert call(emu, "GET", f"{PARENT}/tuningJobs")[0] == 200


def test_requests_over_http_and_unknown_fault_field(emu):
    call(emu, "GET", f"{PARENT}/models")
    import orjson

    logged = orjson.loads(_http.request("GET", f"{emu.vertex_url}/emulator/requests").data)
    assert logged == [{"method": "models.list", "status": 200}]
    assert _post_fault(emu, {"method": "x", "status": 500, "bogus": 1}) == 400


def test_simulated_loss_curves(fast, tuned_job):
    import orjson

    response = _http.request("GET", f"{fast.vertex_url}/emulator/metrics/{tuned_job['name']}")
    body = orjson.loads(response.data)
    assert response.status == 200 and body["simulated"] is True
    loss = body["metrics"]["/train_total_loss"]
    steps = int(tuned_job["tuningDataStats"]["supervisedTuningDataStats"]["tuningStepCount"])
    assert [p["step"] for p in loss] == list(range(1, steps + 1))
    assert loss[-1]["value"] < loss[0]["value"]
    assert "/eval_total_loss" not in body["metrics"]  # no validation set
    missing = _http.request("GET", f"{fast.vertex_url}/emulator/metrics/{PARENT}/tuningJobs/9")
    assert missing.status == 404


def test_an_emulator_bug_is_a_500_envelope_and_serving_goes_on(emu, monkeypatch, capsys):
    import gemini_sft_kfp.emulator.common.listing as listing

    def broken(_text):
        raise RuntimeError("boom")

    # list handlers filter through listing.compile_filter (models_api binds its own name)
    monkeypatch.setattr(listing, "compile_filter", broken)
    status, body, _ = call(emu, "GET", f"{PARENT}/tuningJobs")
    assert status == 500 and body["error"]["status"] == "INTERNAL"
    assert "boom" in body["error"]["message"]
    assert call(emu, "GET", f"{PARENT}/models")[0] == 200
    assert emu.requests()[0] == {"method": "tuningJobs.list", "status": 500}


def test_reset_forgets_state_and_restores_settings(emulator):
    emulator.reset()
    initial = emulator.service.tuning_seconds
    uri = upload(example_lines(), "gs://b/t.jsonl")
    assert call(emulator, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[0] == 200
    emulator.service.tuning_seconds = 99.0
    emulator.add_fault("*", status=500, rate=1.0)
    assert _http.request("POST", f"{emulator.vertex_url}/emulator/reset").status == 200
    assert emulator.service.tuning_seconds == initial
    assert emulator.requests() == []
    status, body, _ = call(emulator, "GET", f"{PARENT}/tuningJobs")
    assert status == 200 and body == {}


def test_restore_puts_back_the_snapshots_resources_and_objects(emu):
    uri = upload(example_lines(), "gs://b/t.jsonl")
    assert call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[0] == 200

    def job_names() -> list[str]:
        return [job["name"] for job in call(emu, "GET", f"{PARENT}/tuningJobs")[1]["tuningJobs"]]

    jobs = job_names()
    state = emu.snapshot()
    assert call(emu, "POST", f"{PARENT}/tuningJobs", tuning_body(uri))[0] == 200
    upload(b"changed", "gs://b/t.jsonl")
    upload(b"new", "gs://b/other.jsonl")
    emu.add_fault("*", status=500, rate=1.0)
    for _ in range(2):  # a snapshot is a copy: restoring it twice gives the same state
        emu.restore(state)
        assert emu.requests() == []  # restored from a reset: no faults, an empty log
        assert job_names() == jobs
        assert emu.service.gcs.read(uri) == example_lines()
        with pytest.raises(KeyError):
            emu.service.gcs.read("gs://b/other.jsonl")
        upload(b"changed after the restore", "gs://b/t.jsonl")


def test_verbose_request_log_and_non_object_body(emu):
    status, body, _ = call(emu, "POST", f"{PARENT}/tuningJobs", [1, 2])
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    import orjson

    url = f"{emu.vertex_url}/emulator/requests?verbose=1"
    (entry,) = orjson.loads(_http.request("GET", url).data)
    assert entry["path"] == f"/v1/{PARENT}/tuningJobs" and entry["status"] == 400
    assert emu.requests() == [{"method": "tuningJobs.create", "status": 400}]
    assert emu.requests(verbose=True)[0]["time"] > 0


def test_failed_calls_leave_keep_alive_connections_usable(emu):
    from google.genai import types

    uri = upload(example_lines(), "gs://b/t.jsonl")
    client = genai()
    emu.add_fault("tuningJobs.create", status=503, times=2)
    dataset = types.TuningDataset(gcs_uri=uri)
    for _ in range(2):
        with pytest.raises(errors.ServerError):
            client.tunings.tune(base_model="gemini-2.5-flash", training_dataset=dataset)
    job = client.tunings.tune(base_model="gemini-2.5-flash", training_dataset=dataset)
    assert client.tunings.get(name=job.name).name == job.name
