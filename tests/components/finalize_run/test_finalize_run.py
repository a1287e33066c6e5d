"""The exit handler cancels only this run's still-running jobs, and only when it failed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gemini_sft_kfp.components.finalize_run import executor as finalize_module
from gemini_sft_kfp.components.launch_tuning_job.executor import (
    IDEMPOTENCY_LABEL,
    idempotency_value,
)

RUN_KEY = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
LABEL = idempotency_value(idempotency_key=RUN_KEY)


def _job(name: str, state: str, label: str = LABEL):
    return SimpleNamespace(name=name, state=state, labels={IDEMPOTENCY_LABEL: label})


class FakeTunings:
    def __init__(self, jobs):
        self.jobs, self.filters, self.cancelled = jobs, [], []

    def list(self, config):
        self.filters.append(config["filter"])
        return iter(self.jobs)

    def cancel(self, name):
        self.cancelled.append(name)


@pytest.fixture
def tunings(monkeypatch):
    fake = FakeTunings(
        [
            _job("jobs/running", "JOB_STATE_RUNNING"),
            _job("jobs/done", "JOB_STATE_SUCCEEDED"),
            _job("jobs/other-run", "JOB_STATE_RUNNING", label="someone-else"),
        ]
    )
    monkeypatch.setattr(
        finalize_module, "genai_client", lambda project, location: SimpleNamespace(tunings=fake)
    )
    return fake


def test_failed_run_cancels_its_running_job_only(tunings, tmp_path):
    report = tmp_path / "report.md"
    state = finalize_module.run(
        project="p",
        location="us-central1",
        state="FAILED",
        error_message="Task wait-for-tuning-job failed.",
        run_key=RUN_KEY,
        report_path=str(report),
    )
    assert state == "FAILED"
    assert tunings.filters == [f"labels.{IDEMPOTENCY_LABEL}={LABEL}"]
    assert tunings.cancelled == ["jobs/running"]
    text = report.read_text()
    assert "cancelled still-running tuning job `jobs/running`" in text
    assert "wait-for-tuning-job failed" in text


def test_succeeded_run_touches_nothing(tunings):
    assert (
        finalize_module.run(project="p", location="l", state="SUCCEEDED", run_key=RUN_KEY)
        == "SUCCEEDED"
    )
    assert tunings.filters == [] and tunings.cancelled == []


def test_cancelling_can_be_turned_off(tunings):
    finalize_module.run(
        project="p", location="l", state="FAILED", run_key=RUN_KEY, cancel_running_jobs=False
    )
    assert tunings.cancelled == []


def test_unresolved_run_key_without_run_labels_cancels_nothing(tunings, monkeypatch):
    monkeypatch.delenv("VERTEX_AI_PIPELINES_RUN_LABELS", raising=False)
    finalize_module.run(
        project="p", location="l", state="FAILED", run_key="{{$.pipeline_job_uuid}}"
    )
    assert tunings.filters == [] and tunings.cancelled == []


def test_a_job_that_cannot_be_cancelled_fails_the_task(tunings, monkeypatch):
    def refuse(name):
        raise PermissionError("403 denied")

    monkeypatch.setattr(tunings, "cancel", refuse)
    with pytest.raises(RuntimeError, match="could not cancel: jobs/running"):
        finalize_module.run(project="p", location="l", state="FAILED", run_key=RUN_KEY)
