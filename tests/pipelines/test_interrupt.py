"""Ctrl-C during a local run: the tuning job it started is cancelled, a finished one is not."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gemini_sft_kfp.pipelines.local import cleanup
from gemini_sft_kfp.pipelines.local.kfp_runner import RunResult

from gemini_sft_kfp.core import gcp_resources

JOB = "projects/p/locations/us-central1/tuningJobs/42"


class FakeTunings:
    def __init__(self, state: str):
        self.state, self.cancelled = state, []

    def get(self, name):
        return SimpleNamespace(name=name, state=self.state)

    def cancel(self, name):
        self.cancelled.append(name)


@pytest.fixture
def run_dir(tmp_path):
    gcp_resources.write(
        str(tmp_path / "launch-tuning-job" / "gcp_resources"), "TuningJob", JOB, "us-central1"
    )
    return tmp_path


def _patch(monkeypatch, tunings):
    import gemini_sft_kfp.core.clients as clients

    monkeypatch.setattr(
        clients, "genai_client", lambda project, location, **_: SimpleNamespace(tunings=tunings)
    )


def _result(run_dir):
    return RunResult(False, run_dir, run_dir / "run.log", 1.0, interrupted=True)


def test_interrupted_run_cancels_its_active_job(run_dir, monkeypatch):
    tunings = FakeTunings("JOB_STATE_RUNNING")
    _patch(monkeypatch, tunings)
    assert cleanup.cancel_left_running(_result(run_dir), "p", "us-central1") == JOB
    assert tunings.cancelled == [JOB]


def test_finished_job_is_left_alone(run_dir, monkeypatch):
    tunings = FakeTunings("JOB_STATE_SUCCEEDED")
    _patch(monkeypatch, tunings)
    assert cleanup.cancel_left_running(_result(run_dir), "p", "us-central1") is None
    assert tunings.cancelled == []


def test_no_launch_yet_means_nothing_to_cancel(tmp_path, monkeypatch):
    tunings = FakeTunings("JOB_STATE_RUNNING")
    _patch(monkeypatch, tunings)
    assert cleanup.cancel_left_running(_result(tmp_path), "p", "us-central1") is None


def test_a_create_in_flight_when_interrupted_is_waited_for_and_its_job_cancelled(
    tmp_path, monkeypatch
):
    """The launch step's marker is in the run's own directory: the clean-up looked one
    level too deep, found none, and did not wait for the late job."""
    from gemini_sft_kfp.pipelines.local import resume

    from gemini_sft_kfp.jobs.identity import LOCAL_RUN_LABEL

    key = "local-abc"
    marker = tmp_path / "launch-tuning-job" / "gcp_resources.creating"
    marker.parent.mkdir()
    marker.write_text("1\n")
    late = SimpleNamespace(name=JOB, state="JOB_STATE_RUNNING", labels={LOCAL_RUN_LABEL: key})
    tunings = FakeTunings("JOB_STATE_RUNNING")
    lists = []

    def listing(config=None):
        lists.append(config)
        return [late] if len(lists) > 2 else []  # the job shows on the second look

    tunings.list = listing
    _patch(monkeypatch, tunings)
    monkeypatch.setattr(resume, "SETTLE_POLL_SECONDS", 0.01)
    result = RunResult(False, tmp_path, tmp_path / "run.log", 1.0, interrupted=True)
    assert cleanup.cancel_left_running(result, "p", "us-central1", key) == JOB
    assert tunings.cancelled == [JOB]
    assert not marker.exists()  # its outcome is known now
