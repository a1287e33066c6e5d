"""batchPredictionJobs through google-genai's ``batches`` (simulated answers, faults)."""

from __future__ import annotations

import time

import orjson
import pytest
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
from google.genai import errors, types

from gemini_sft_kfp.core.clients import genai_client, storage_client
from tests.support import REPO
from tests.support.eval_helpers import tuned_endpoint

DATA = REPO / "examples" / "data"


def request_lines(n: int) -> bytes:
    lines = (DATA / "eval.jsonl").read_bytes().splitlines()[:n]
    out = []
    for i, raw in enumerate(lines):
        record = orjson.loads(raw)
        prompt = [turn for turn in record["contents"] if turn["role"] == "user"]
        out.append(orjson.dumps({"key": str(i), "request": {"contents": prompt}}))
    out.append(b'{"key": "bad", "request": {"contents": []}}')
    return b"\n".join(out) + b"\n"


def wait(client, name: str):
    deadline = time.monotonic() + 30
    job = client.batches.get(name=name)
    while not job.done and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.batches.get(name=name)
    return job


@pytest.fixture
def setup(emu):
    endpoint = tuned_endpoint(str(DATA / "train.jsonl"))
    client = genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)
    bucket = storage_client(DEFAULT_PROJECT).bucket("eval-tests")
    bucket.blob("batch/requests.jsonl").upload_from_string(request_lines(10))
    return client, bucket, endpoint


def tuned_model_name(endpoint: str) -> str:
    from gemini_sft_kfp.core.clients import endpoint_service_client

    info = endpoint_service_client(DEFAULT_PROJECT, DEFAULT_LOCATION).get_endpoint(name=endpoint)
    return info.deployed_models[0].model


def test_tuned_and_base_model_batches_answer_in_order_and_say_simulated(emu, setup):
    client, bucket, endpoint = setup
    results = {}
    for name, model in (("tuned", tuned_model_name(endpoint)), ("base", "gemini-2.5-flash")):
        job = client.batches.create(
            model=model,
            src="gs://eval-tests/batch/requests.jsonl",
            config=types.CreateBatchJobConfig(
                display_name=f"eval-{name}", dest=f"gs://eval-tests/batch/out-{name}"
            ),
        )
        assert job.state.name in ("JOB_STATE_PENDING", "JOB_STATE_RUNNING")
        job = wait(client, job.name)
        assert job.state.name == "JOB_STATE_SUCCEEDED", job.error
        directory = job.dest.gcs_uri
        prefix = directory[len("gs://eval-tests/") :]
        [blob] = list(bucket.client.list_blobs("eval-tests", prefix=prefix))
        rows = [orjson.loads(line) for line in blob.download_as_bytes().splitlines()]
        assert [r["key"] for r in rows] == [str(i) for i in range(10)] + ["bad"]
        assert all(r["simulated"] is True for r in rows)
        assert rows[-1]["status"] and "response" not in rows[-1]
        results[name] = [
            r["response"]["candidates"][0]["content"]["parts"][0]["text"] for r in rows[:-1]
        ]
    references = [
        orjson.loads(line)["contents"][-1]["parts"][0]["text"]
        for line in (DATA / "eval.jsonl").read_bytes().splitlines()[:10]
    ]
    tuned_right = sum(a == r for a, r in zip(results["tuned"], references, strict=True))
    base_right = sum(a == r for a, r in zip(results["base"], references, strict=True))
    assert tuned_right > base_right  # the same simulation as generateContent
    listed = [j.name for j in client.batches.list()]
    assert len(listed) == 2


def test_cancel_list_get_and_fault_hooks(emu, setup):
    client, _, _ = setup
    emu.service.tuning_seconds = 30  # keep the job running
    emu.add_fault(method="batchPredictionJobs.create", status=503, times=1)
    with pytest.raises(errors.ServerError):
        client.batches.create(
            model="gemini-2.5-flash",
            src="gs://eval-tests/batch/requests.jsonl",
            config=types.CreateBatchJobConfig(dest="gs://eval-tests/out"),
        )
    job = client.batches.create(
        model="gemini-2.5-flash",
        src="gs://eval-tests/batch/requests.jsonl",
        config=types.CreateBatchJobConfig(dest="gs://eval-tests/out"),
    )
    client.batches.cancel(name=job.name)
    assert client.batches.get(name=job.name).state.name == "JOB_STATE_CANCELLED"
    with pytest.raises(errors.ClientError) as info:
        client.batches.cancel(name=job.name)
    assert info.value.code == 400
    with pytest.raises(errors.ClientError) as info:
        client.batches.create(
            model="gemini-0-nonexistent",
            src="gs://eval-tests/batch/requests.jsonl",
            config=types.CreateBatchJobConfig(dest="gs://eval-tests/out"),
        )
    assert info.value.code == 404
    created = [r for r in emu.requests() if r["method"] == "batchPredictionJobs.create"]
    assert [r["status"] for r in created] == [503, 200, 404]


def test_tuned_models_get_no_batch_job_in_global_but_base_models_do(emu, setup):
    """Google's batch docs: "The global endpoint isn't supported for batch inference
    using tuned models." (The tuned model lives in its region; the request names global.)"""
    _, _, endpoint = setup
    client = genai_client(DEFAULT_PROJECT, "global")
    config = types.CreateBatchJobConfig(display_name="g", dest="gs://eval-tests/batch/g")
    with pytest.raises(errors.ClientError) as refused:
        client.batches.create(
            model=tuned_model_name(endpoint), src="gs://eval-tests/batch/requests.jsonl",
            config=config,
        )  # fmt: skip
    assert refused.value.code == 400 and "global" in str(refused.value)
    job = client.batches.create(
        model="gemini-2.5-flash", src="gs://eval-tests/batch/requests.jsonl", config=config
    )
    assert "/locations/global/" in job.name


def test_a_line_that_is_not_a_generate_content_request_fails_alone(emu, setup):
    """Each line is parsed like a generateContent body (as the service does): a wrong
    type is that line's status, not a crash that leaves the job answering 500 forever."""
    client, bucket, _ = setup
    lines = [
        {"key": "0", "request": {"contents": [{"role": "user", "parts": [{"text": 5}]}]}},
        {"key": "1", "request": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}},
        {"key": "2", "request": {"contents": [{"role": "user", "parts": [{"txt": "hi"}]}]}},
    ]
    bucket.blob("batch/typed.jsonl").upload_from_string(b"\n".join(map(orjson.dumps, lines)))
    job = client.batches.create(
        model="gemini-2.5-flash",
        src="gs://eval-tests/batch/typed.jsonl",
        config=types.CreateBatchJobConfig(display_name="typed", dest="gs://eval-tests/typed"),
    )
    job = wait(client, job.name)
    assert job.state.name == "JOB_STATE_SUCCEEDED", job.error
    [blob] = list(bucket.client.list_blobs("eval-tests", prefix="typed/"))
    rows = {r["key"]: r for r in map(orjson.loads, blob.download_as_bytes().splitlines())}
    assert "text" in rows["0"]["status"] and "response" not in rows["0"]
    assert rows["1"]["status"] == "" and rows["1"]["response"]["candidates"]
    assert "txt" in rows["2"]["status"]
