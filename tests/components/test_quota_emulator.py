"""One concurrent tuning job per project: a second launch waits its turn, both ways the
service can say so (a 429 on create, or a job held WAITING_FOR_QUOTA), never fails."""

from __future__ import annotations

import logging

import pytest
from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch_tuning_job
from gemini_sft_kfp.components.upload_dataset.executor import run as upload_dataset
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job

from tests.support.job_helpers import BUCKET, DATA, LOCATION, PROJECT, calls, make_bucket

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

FAST_POLL = {"poll_initial_seconds": 0.05, "poll_max_seconds": 0.2}
# The first job holds the only slot this long: the second launch must come while it runs,
# also on a loaded machine (with the session's 1 s, parallel workers sometimes missed it).
FIRST_JOB_SECONDS = 4.0


def two_launches(emu, mode: str, caplog):
    emu.service.max_running_tuning_jobs, emu.service.quota_mode = 1, mode
    make_bucket()
    train = upload_dataset(
        PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET, file_name="t.jsonl"
    ).uri
    common = {"training_dataset_uri": train, "epochs": 1, "quota_timeout_seconds": 120}
    session_seconds, emu.service.tuning_seconds = emu.service.tuning_seconds, FIRST_JOB_SECONDS
    first = launch_tuning_job(PROJECT, LOCATION, pipeline_job_id="a", task_name="t", **common)
    emu.service.tuning_seconds = session_seconds  # the second job: as short as usual
    with caplog.at_level(logging.INFO):
        second = launch_tuning_job(PROJECT, LOCATION, pipeline_job_id="b", task_name="t", **common)
        result = wait_for_tuning_job(PROJECT, LOCATION, second, **FAST_POLL)
    return first, second, result


def test_a_429_on_create_is_waited_out_until_the_slot_frees(emu, caplog):
    first, second, result = two_launches(emu, "reject", caplog)
    assert second != first and result.tuned_model
    statuses = calls(emu, "tuningJobs.create")
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses
    assert statuses.count(200) == 2  # refusals created nothing, and no job was doubled
    assert "no quota to create the tuning job (429 RESOURCE_EXHAUSTED" in caplog.text


def test_a_job_held_waiting_for_quota_is_waited_on_with_its_detailed_state(emu, caplog):
    first, second, result = two_launches(emu, "queue", caplog)
    assert second != first and calls(emu, "tuningJobs.create") == [200, 200]
    assert "JOB_STATE_QUEUED (WAITING_FOR_QUOTA" in caplog.text
    assert result.metrics["seconds_waiting_for_quota"] > 0


def test_quota_is_unlimited_by_default(emu):
    assert emu.service.max_running_tuning_jobs is None
    assert emu.service.quota_mode == "queue"
