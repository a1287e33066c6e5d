"""Build eval JSONL files for tests."""

from __future__ import annotations

import orjson

SYSTEM = {"parts": [{"text": "Answer with the label only."}]}


def example(prompt: str, answer: str, system: dict | None = SYSTEM) -> dict:
    record = {
        "contents": [
            {"role": "user", "parts": [{"text": prompt}]},
            {"role": "model", "parts": [{"text": answer}]},
        ]
    }
    if system:
        record["systemInstruction"] = system
    return record


def write_jsonl(path, records) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return str(path)


def tuned_endpoint(
    train_path: str, *, base_model: str = "gemini-2.5-flash", bucket: str = "eval-tests"
) -> str:
    """Tune on ``train_path`` in the emulator (env already set) and return the endpoint."""
    import time

    from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
    from google.genai import types

    from gemini_sft_kfp.core.clients import genai_client, storage_client

    storage = storage_client(DEFAULT_PROJECT)
    storage.create_bucket(bucket).blob("train.jsonl").upload_from_filename(train_path)
    client = genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)
    job = client.tunings.tune(
        base_model=base_model,
        training_dataset=types.TuningDataset(gcs_uri=f"gs://{bucket}/train.jsonl"),
    )
    deadline = time.monotonic() + 30
    while not job.has_ended and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.tunings.get(name=job.name)
    assert job.has_succeeded, (job.state, job.error)
    return job.tuned_model.endpoint
