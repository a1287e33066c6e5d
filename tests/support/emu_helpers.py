"""Helpers for emulator tests: upload sample data, wait for a job, call the HTTP API."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import urllib3
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.clients import EMULATOR_PROJECT_NUMBER
from tests.support import REPO

SAMPLE_DATA = REPO / "examples" / "data"
PARENT = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}"  # as requests write it
# as the service answers: the project *number* (the emulator's for local-project)
SERVED_PARENT = f"projects/{EMULATOR_PROJECT_NUMBER}/locations/{DEFAULT_LOCATION}"
_http = urllib3.PoolManager()


def upload(data: bytes | str | Path, uri: str) -> str:
    """Put ``data`` (bytes, text or a local file) at ``gs://bucket/name``; make the bucket."""
    from gemini_sft_kfp.core.clients import storage_client

    client = storage_client(DEFAULT_PROJECT)
    bucket_name, _, name = uri[5:].partition("/")
    bucket = client.bucket(bucket_name)
    if not bucket.exists():
        bucket = client.create_bucket(bucket_name)
    blob = bucket.blob(name)
    if isinstance(data, Path):
        blob.upload_from_filename(str(data))
    else:
        blob.upload_from_string(data)
    return uri


def upload_sample(split: str = "train", bucket: str = "sft-data") -> str:
    return upload(SAMPLE_DATA / f"{split}.jsonl", f"gs://{bucket}/{split}.jsonl")


def example_lines(n: int = 20) -> bytes:
    lines = []
    for i in range(n):
        record = {
            "contents": [
                {"role": "user", "parts": [{"text": f"ticket {i}: my invoice {i} is wrong"}]},
                {"role": "model", "parts": [{"text": "queue: billing"}]},
            ]
        }
        lines.append(orjson.dumps(record))
    return b"\n".join(lines) + b"\n"


def genai():
    from gemini_sft_kfp.core.clients import genai_client

    return genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)


def wait_terminal(client, name: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        job = client.tunings.get(name=name)
        if job.has_ended or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def call(emu, method: str, path: str, body: dict | None = None, version: str = "v1"):
    """Raw REST call: returns (status, parsed JSON, headers)."""
    url = f"{emu.vertex_url}/{version}/{path}"
    payload = orjson.dumps(body) if body is not None else None
    response = _http.request(
        method, url, body=payload, headers={"Content-Type": "application/json"}
    )
    data = orjson.loads(response.data) if response.data else None
    return response.status, data, response.headers


def tuning_body(uri: str, **overrides) -> dict:
    body = {
        "baseModel": "gemini-2.5-flash",
        "supervisedTuningSpec": {"trainingDatasetUri": uri, "hyperParameters": {"epochCount": 2}},
    }
    body.update(overrides)
    return body
