"""Preference tuning through launch -> wait against the emulator: the same create-once /
resume / cancel lifecycle as supervised tuning, only the request block differs."""

from __future__ import annotations

import logging
import signal
import time

import pytest
from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch_tuning_job
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job
from gemini_sft_kfp.components.wait_for_tuning_job.result import render_report

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.errors import UserError
from tests.support.emu_helpers import upload as upload_bytes
from tests.support.job_helpers import (
    BUCKET,
    LOCATION,
    PROJECT,
    all_jobs,
    calls,
    raw_job,
    slow_tuning,
    start_wait_process,
    wait_until_polling,
)
from tests.support.preference_data import jsonl, preference_records

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

FAST_POLL = {"poll_initial_seconds": 0.05, "poll_max_seconds": 0.2}


def upload_preference(name: str = "pref.jsonl", **kwargs) -> str:
    return upload_bytes(jsonl(preference_records(**kwargs)), f"gs://{BUCKET}/{name}")


def launch(train: str, **kwargs) -> str:
    kwargs.setdefault("base_model", "gemini-2.5-flash")
    kwargs.setdefault("pipeline_job_id", "run-1")
    kwargs.setdefault("task_name", "launch-tuning-job")
    kwargs.setdefault("method", "preference")
    return launch_tuning_job(PROJECT, LOCATION, training_dataset_uri=train, **kwargs)


def test_the_job_carries_preference_optimization_spec_with_the_given_beta(emu):
    train = upload_preference()
    validation = upload_bytes(jsonl(preference_records(1, start=50)), f"gs://{BUCKET}/v.jsonl")
    name = launch(
        train,
        validation_dataset_uri=validation,
        beta=0.25,
        epochs=2,
        adapter_size="4",
        learning_rate_multiplier=0.5,
        export_last_checkpoint_only=True,
    )
    job = raw_job(emu, name)
    assert "supervisedTuningSpec" not in job
    spec = job["preferenceOptimizationSpec"]
    assert spec["trainingDatasetUri"] == train
    assert spec["validationDatasetUri"] == validation
    assert spec["exportLastCheckpointOnly"] is True
    hyper = spec["hyperParameters"]
    assert hyper["beta"] == 0.25
    assert hyper["epochCount"] == "2"
    assert hyper["adapterSize"] == "ADAPTER_SIZE_FOUR"
    assert hyper["learningRateMultiplier"] == 0.5

    result = wait_for_tuning_job(PROJECT, LOCATION, name, **FAST_POLL)
    assert result.method == "preference"
    assert result.metrics["beta"] == 0.25
    assert result.metrics["training_examples"] == len(preference_records())
    assert result.metrics["epochs"] == 2
    assert "- method: preference" in render_report(result)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"beta": 0.0}, "beta"),
        ({"beta": -1.0}, "beta"),
        ({"beta": float("nan")}, "beta"),
        ({"method": "reinforcement"}, "method"),
        ({"method": "supervised", "beta": 0.5}, "beta"),
    ],
)
def test_bad_beta_or_method_is_refused_before_any_call(emu, kwargs, field):
    with pytest.raises(UserError) as info:
        launch(f"gs://{BUCKET}/pref.jsonl", **kwargs)
    assert info.value.field == field
    assert emu.requests() == []
    assert all_jobs(emu) == []


def test_a_retried_preference_task_resumes_its_job(emu, tmp_path):
    train = upload_preference()
    resources = str(tmp_path / "gcp_resources")
    first = launch(train, gcp_resources_path=resources)
    assert launch(train, gcp_resources_path=resources) == first  # from gcp_resources
    assert launch(train, gcp_resources_path=str(tmp_path / "lost")) == first  # by label
    assert launch(train, beta=0.3) != first  # other inputs: another job
    assert launch(train, method="supervised") != first  # the method is part of the job
    assert len(calls(emu, "tuningJobs.create")) == 3


def test_a_preference_job_waits_out_the_quota_held_by_a_supervised_one(emu, caplog):
    emu.service.max_running_tuning_jobs, emu.service.quota_mode = 1, "reject"
    train = upload_preference()
    with slow_tuning(emu, 1.5):
        launch(train, method="supervised", pipeline_job_id="sft-run")  # holds the slot
        with caplog.at_level(logging.INFO):
            name = launch(train, quota_timeout_seconds=60)
    statuses = calls(emu, "tuningJobs.create")
    assert 429 in statuses and statuses.count(200) == 2  # refusals created nothing
    assert "no quota to create the tuning job" in caplog.text
    assert wait_for_tuning_job(PROJECT, LOCATION, name, **FAST_POLL).method == "preference"


def test_sigterm_cancels_a_preference_job(emu, tmp_path):
    train = upload_preference()
    with slow_tuning(emu, 60.0):
        name = launch(train)
    resources = str(tmp_path / "gcp_resources")
    process = start_wait_process(emu, name, resources)
    wait_until_polling(emu, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, output
    deadline = time.monotonic() + 5
    while raw_job(emu, name)["state"] != "JOB_STATE_CANCELLED" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert raw_job(emu, name)["state"] == "JOB_STATE_CANCELLED"
    assert gcp_resources.read(resources, "TuningJob") == name


def test_preference_tuning_continues_an_sft_model(emu):
    sft_lines = jsonl(
        [
            {
                "contents": [
                    {"role": "user", "parts": [{"text": f"question {i}"}]},
                    {"role": "model", "parts": [{"text": f"answer {i}"}]},
                ]
            }
            for i in range(8)
        ]
    )
    sft_train = upload_bytes(sft_lines, f"gs://{BUCKET}/sft.jsonl")
    sft = wait_for_tuning_job(
        PROJECT, LOCATION, launch(sft_train, method="supervised", epochs=1), **FAST_POLL
    )
    name = launch(upload_preference(), pre_tuned_model=sft.tuned_model, beta=0.05)
    job = raw_job(emu, name)
    assert job["preTunedModel"]["tunedModelName"] == sft.tuned_model
    assert job["preferenceOptimizationSpec"]["hyperParameters"]["beta"] == 0.05
    result = wait_for_tuning_job(PROJECT, LOCATION, name, **FAST_POLL)
    assert result.tuned_model == sft.tuned_model.replace("@1", "@2")
    assert result.method == "preference"


def test_tuning_time_evaluation_is_refused_for_preference_before_any_call(emu):
    evaluation = {
        "metrics": [{"exactMatchSpec": {}, "aggregationMetrics": ["AVERAGE"]}],
        "outputConfig": {"gcsDestination": {"outputUriPrefix": "gs://evals/pref"}},
    }
    with pytest.raises(UserError, match="not available for preference"):
        launch(f"gs://{BUCKET}/pref.jsonl", evaluation_config=evaluation)
    assert emu.requests() == []
