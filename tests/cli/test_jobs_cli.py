"""`gemini-sft jobs list|get|cancel|logs` on the emulator's Vertex AI Pipelines, and the
last line of a failed `submit --wait`: the failed task's name and error."""

from __future__ import annotations

import pytest

from gemini_sft_kfp.core.errors import UserError
from tests.support.pipeline_helpers import CLOUD_OPTIONS, needs_components

pytestmark = needs_components


def _submit(run_cli, *options: str) -> str:
    code, out, text = run_cli("submit", *CLOUD_OPTIONS, *options, "--json")
    assert code == 0, text
    return out["pipeline_job"]


def _fail(emu, name: str, log_dir) -> None:
    """Make the stored job FAILED as Vertex reports a failed run (a task's error)."""
    log = log_dir / "launch.log"
    log.write_text("starting\nCloudJobError: tuning job failed: quota exceeded\n")
    job_id = name.rsplit("/", 1)[1]
    with emu.service.store.lock:
        job = emu.service.store.table("pipelineJobs")[job_id]
        job["state"] = "PIPELINE_STATE_FAILED"
        job["error"] = {"code": 9, "message": "The DAG failed because some tasks failed."}
        job["jobDetail"] = {
            "taskDetails": [
                {
                    "taskId": "1",
                    "taskName": "gemini-sft",
                    "state": "FAILED",
                    "error": {"code": 9, "message": "The DAG failed because some tasks failed."},
                },
                {"taskId": "2", "taskName": "validate-dataset", "state": "SUCCEEDED"},
                {
                    "taskId": "3",
                    "taskName": "launch-tuning-job",
                    "state": "FAILED",
                    "error": {"code": 9, "message": "tuning job failed: quota exceeded"},
                    "execution": {"metadata": {"emulator_log": str(log)}},
                },
            ]
        }
        emu.service.store.save()


def test_list_get_cancel_a_pipeline_job(emu, run_cli):
    name = _submit(run_cli)
    code, listed, _ = run_cli("jobs", "list", "--json")
    assert code == 0 and [row["name"] for row in listed["pipeline_jobs"]] == [name]
    job_id = name.rsplit("/", 1)[1]
    code, got, _ = run_cli("jobs", "get", job_id, "--json")  # a bare id works
    assert code == 0 and got["name"] == name and got["state"] == "PIPELINE_STATE_RUNNING"
    code, cancelled, _ = run_cli("jobs", "cancel", name, "--json")
    assert code == 0 and cancelled["outcome"] == "cancel requested"
    assert run_cli("jobs", "get", name, "--json")[1]["state"] == "PIPELINE_STATE_CANCELLED"
    code, failed, _ = run_cli("jobs", "list", "--state", "RUNNING", "--json")
    assert failed["pipeline_jobs"] == []
    with pytest.raises(UserError, match="already"):  # the service's 400, as one line
        run_cli("jobs", "cancel", name)


@pytest.fixture
def list_filters(monkeypatch):
    """The ``filter`` of every list request the SDK sends (the call goes through)."""
    from google.cloud import aiplatform

    sent = []
    for kind in (aiplatform.PipelineJob, aiplatform.PipelineJobSchedule):
        real = kind.list.__func__

        def recording(cls, *args, _real=real, **kwargs):
            sent.append(kwargs.get("filter"))
            return _real(cls, *args, **kwargs)

        monkeypatch.setattr(kind, "list", classmethod(recording))
    return sent


def test_list_state_is_filtered_by_the_service(emu, run_cli, list_filters, tmp_path):
    failed, running = _submit(run_cli, "--job-id", "one"), _submit(run_cli, "--job-id", "two")
    _fail(emu, failed, tmp_path)
    code, listed, _ = run_cli("jobs", "list", "--state", "failed", "--json")
    assert code == 0 and [row["name"] for row in listed["pipeline_jobs"]] == [failed]
    assert list_filters == ['state="PIPELINE_STATE_FAILED"']  # was None: all, then filtered
    code, listed, _ = run_cli("jobs", "list", "--state", "PIPELINE_STATE_RUNNING", "--json")
    assert [row["name"] for row in listed["pipeline_jobs"]] == [running]


def test_list_schedules_state_is_filtered_by_the_service(emu, run_cli, list_filters):
    code, out, text = run_cli(
        "schedule", "--cron", "0 3 * * *", *CLOUD_OPTIONS, "--pipeline", "sft", "--json"
    )
    assert code == 0, text
    code, listed, _ = run_cli("jobs", "list", "--schedules", "--state", "PAUSED", "--json")
    assert listed["schedules"] == [] and list_filters == ['state="PAUSED"']
    code, listed, _ = run_cli("jobs", "list", "--schedules", "--state", "active", "--json")
    assert [row["name"] for row in listed["schedules"]] == [out["schedule"]]


def test_an_unknown_state_is_one_line_before_any_listing(emu, run_cli, list_filters):
    with pytest.raises(UserError, match=r"unknown state 'ED'; one of: QUEUED, .*SUCCEEDED"):
        run_cli("jobs", "list", "--state", "ED")  # was: every state ending in ED
    assert list_filters == []


def test_unknown_job_is_one_line(emu, run_cli):
    with pytest.raises(UserError, match="no such pipeline job"):
        run_cli("jobs", "get", "424242")


def test_schedules_are_listed_and_cancel_pauses_them(emu, run_cli):
    code, out, text = run_cli(
        "schedule", "--cron", "0 3 * * *", *CLOUD_OPTIONS, "--pipeline", "sft", "--json"
    )
    assert code == 0, text
    code, listed, _ = run_cli("jobs", "list", "--schedules", "--json")
    assert [row["name"] for row in listed["schedules"]] == [out["schedule"]]
    schedule_id = out["schedule"].rsplit("/", 1)[1]
    code, paused, _ = run_cli("jobs", "cancel", schedule_id, "--schedule", "--json")
    assert code == 0 and "paused" in paused["outcome"]
    assert run_cli("jobs", "get", out["schedule"], "--json")[1]["state"] == "PAUSED"


def test_logs_and_get_name_the_failed_task_and_show_its_emulator_log(emu, run_cli, tmp_path):
    name = _submit(run_cli)
    _fail(emu, name, tmp_path)
    code, _, text = run_cli("jobs", "logs", name)
    assert code == 0
    assert "launch-tuning-job: FAILED: tuning job failed: quota exceeded" in text
    assert "| CloudJobError: tuning job failed: quota exceeded" in text  # the task's log
    code, logs, _ = run_cli("jobs", "logs", name, "--json")
    assert logs["error"] == "task launch-tuning-job failed: tuning job failed: quota exceeded"
    assert "pipeline_job_id" in logs["cloud_logging_filter"]
    code, _, text = run_cli("jobs", "get", name)
    assert "error: task launch-tuning-job failed: tuning job failed: quota exceeded" in text


def test_submit_wait_ends_with_the_failed_task(emu, run_cli, tmp_path):
    from gemini_sft_kfp.pipelines import vertex
    from google.cloud import aiplatform

    name = _submit(run_cli)
    _fail(emu, name, tmp_path)
    job = aiplatform.PipelineJob.get(name)
    state = vertex.wait_for_pipeline_job(job)
    assert vertex.end_line(job, state) == (
        f"{name} ended PIPELINE_STATE_FAILED: "
        "task launch-tuning-job failed: tuning job failed: quota exceeded"
    )
