"""Tuned models in the emulator: real tuning jobs (simulated training) through google-genai."""

from __future__ import annotations

import time
import warnings

from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.core.clients import genai_client, storage_client
from tests.support import REPO

TRAIN = REPO / "examples" / "data" / "train.jsonl"
BUCKET = "models-tests"
DISPLAY_NAME = "support-bot"


def upload_training_data() -> str:
    client = storage_client(DEFAULT_PROJECT)
    bucket = client.lookup_bucket(BUCKET) or client.create_bucket(BUCKET)
    bucket.blob("train.jsonl").upload_from_filename(str(TRAIN))
    return f"gs://{BUCKET}/train.jsonl"


def tune(base_model: str, training_uri: str, display_name: str = DISPLAY_NAME) -> str:
    """Run one tuning job to the end; the tuned version's resource name (``ID@V``)."""
    from google.genai import types

    client = genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)
    with warnings.catch_warnings():  # "the SDK's tuning implementation is experimental"
        warnings.simplefilter("ignore")
        job = client.tunings.tune(
            base_model=base_model,
            training_dataset=types.TuningDataset(gcs_uri=training_uri),
            config=types.CreateTuningJobConfig(
                tuned_model_display_name=display_name, epoch_count=1
            ),
        )
    deadline = time.monotonic() + 60
    while not job.has_ended and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.tunings.get(name=job.name)
    assert job.tuned_model and job.tuned_model.model, job.error
    return job.tuned_model.model


def tuned_versions(count: int, display_name: str = DISPLAY_NAME) -> list[str]:
    """``count`` versions of one tuned model: ``ID@1`` from the base model, then
    continuous tuning (``preTunedModel``) for ``ID@2``..."""
    uri = upload_training_data()
    versions = [tune("gemini-2.5-flash", uri, display_name)]
    while len(versions) < count:
        versions.append(tune(versions[0].partition("@")[0], uri, display_name))
    return versions


def tune_for_run(run_key: str) -> str:
    """A finished tuning job labelled as run ``run_key``'s (``jobs.identity``): its tuned
    version's resource name."""
    from google.genai import types

    from gemini_sft_kfp.jobs.identity import IDEMPOTENCY_LABEL

    client = genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = client.tunings.tune(
            base_model="gemini-2.5-flash",
            training_dataset=types.TuningDataset(gcs_uri=upload_training_data()),
            config=types.CreateTuningJobConfig(epoch_count=1, labels={IDEMPOTENCY_LABEL: run_key}),
        )
    deadline = time.monotonic() + 60
    while not job.has_ended and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.tunings.get(name=job.name)
    return job.tuned_model.model
