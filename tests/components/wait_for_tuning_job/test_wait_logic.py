"""The wait: backoff, state logging, blips survived, outcomes mapped, SIGTERM cancels."""

from __future__ import annotations

import logging
import os
import signal

import orjson
import pytest
from gemini_sft_kfp.components.wait_for_tuning_job.executor import (
    WaitTimeoutError,
    wait_for_job,
)
from gemini_sft_kfp.components.wait_for_tuning_job.result import result_of
from google.genai import types

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.errors import CloudJobError, UserError
from tests.support.job_fakes import Clock, FakeClient, api_error

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

LOCATION = "us-central1"
MODEL = "projects/local-project/locations/us-central1/models/777@1"
ENDPOINT = "projects/local-project/locations/us-central1/endpoints/888"


def succeeded(job: types.TuningJob) -> None:
    job.state = "JOB_STATE_SUCCEEDED"
    job.tuned_model = types.TunedModel(
        model=MODEL,
        endpoint=ENDPOINT,
        checkpoints=[
            types.TunedModelCheckpoint(checkpoint_id="1", epoch="1", step="10", endpoint=ENDPOINT),
            types.TunedModelCheckpoint(checkpoint_id="2", epoch="2", step="20", endpoint=ENDPOINT),
        ],
    )
    job.tuning_data_stats = types.TuningDataStats.model_validate(
        {
            "supervised_tuning_data_stats": {
                "tuning_dataset_example_count": "100",
                "total_billable_token_count": "123456",
                "tuning_step_count": "20",
                "total_truncated_example_count": "2",
            }
        }
    )


def wait(client, name, clock, **kwargs):
    kwargs.setdefault("poll_initial_seconds", 10)
    kwargs.setdefault("poll_max_seconds", 60)
    return wait_for_job(
        lambda: client, name, location=LOCATION, sleep=clock.sleep, clock=clock, **kwargs
    )


def test_success_after_backoff_publishes_outputs(tmp_path, caplog):
    client, clock = FakeClient(), Clock()
    job = client.tunings.add("JOB_STATE_PENDING", base_model="gemini-2.5-flash")
    polls = iter(range(100))

    def advance(j):
        n = next(polls)
        if n == 2:
            j.state = "JOB_STATE_RUNNING"
        if n == 8:
            succeeded(j)

    client.tunings.on_get = advance
    path = str(tmp_path / "gcp_resources")
    with caplog.at_level(logging.INFO):
        result = wait(client, job.name, clock, gcp_resources_path=path)
    assert gcp_resources.read(path, "TuningJob") == job.name
    assert clock.sleeps[:4] == [10, 15, 22.5, 33.75]
    assert max(clock.sleeps) == 60
    assert result.tuned_model == MODEL and result.tuned_endpoint == ENDPOINT
    assert result.base_model == "gemini-2.5-flash"
    assert result.metrics == {
        "billable_tokens": 123456,
        "training_examples": 100,
        "tuning_steps": 20,
        "truncated_examples": 2,
    }
    assert result.checkpoints[1] == {
        "checkpointId": "2",
        "epoch": 2,
        "step": 20,
        "endpoint": ENDPOINT,
    }
    orjson.dumps(result.checkpoints)
    changes = [r.getMessage() for r in caplog.records if "tuning job" in r.getMessage()]
    assert len(changes) == 3  # PENDING, RUNNING, SUCCEEDED: one line per change
    assert "JOB_STATE_RUNNING (after 25s)" in changes[1]


def test_transient_errors_do_not_end_the_wait():
    client, clock = FakeClient(), Clock()
    job = client.tunings.add("JOB_STATE_RUNNING")
    client.tunings.faults["get"] = [api_error(503), None, api_error(429), api_error(502)]
    client.tunings.on_get = lambda j: (
        succeeded(j) if client.tunings.calls.count("get") > 5 else None
    )
    assert (
        wait(client, job.name, clock, poll_initial_seconds=0, poll_max_seconds=0).tuned_model
        == MODEL
    )


@pytest.mark.parametrize("state", ["JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"])
def test_bad_endings_raise_with_service_code_and_message(state):
    client, clock = FakeClient(), Clock()
    job = client.tunings.add(state, error=types.GoogleRpcStatus(code=3, message="Row: 0. bad row"))
    with pytest.raises(CloudJobError, match="Row: 0. bad row") as info:
        wait(client, job.name, clock)
    assert info.value.code == 3
    assert info.value.state == state


def test_timeout_leaves_the_job_running_and_says_so():
    client, clock = FakeClient(), Clock()
    job = client.tunings.add("JOB_STATE_RUNNING")
    with pytest.raises(WaitTimeoutError, match="NOT cancelled"):
        wait(client, job.name, clock, timeout_seconds=100)
    assert client.tunings.jobs[job.name].state == "JOB_STATE_RUNNING"
    assert "cancel" not in client.tunings.calls
    assert clock.now == pytest.approx(100)


def test_timeout_cancels_when_asked():
    client, clock = FakeClient(), Clock()
    job = client.tunings.add("JOB_STATE_RUNNING")
    with pytest.raises(WaitTimeoutError, match="cancelled"):
        wait(client, job.name, clock, timeout_seconds=50, cancel_on_timeout=True)
    assert client.tunings.jobs[job.name].state == "JOB_STATE_CANCELLED"


def test_sigterm_cancels_the_job_and_exits_nonzero():
    client, clock = FakeClient(), Clock()
    job = client.tunings.add("JOB_STATE_RUNNING")
    client.tunings.faults["cancel"] = [api_error(503)]  # the cancel itself is retried

    def sleep(seconds):
        os.kill(os.getpid(), signal.SIGTERM)

    clock.sleep = sleep
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info:
        wait(client, job.name, clock)
    assert info.value.code == 128 + signal.SIGTERM
    assert client.tunings.jobs[job.name].state == "JOB_STATE_CANCELLED"
    assert signal.getsignal(signal.SIGTERM) == before


def test_succeeded_without_model_is_an_error():
    job = types.TuningJob(name="projects/p/locations/l/tuningJobs/1", state="JOB_STATE_SUCCEEDED")
    with pytest.raises(CloudJobError, match="no tuned model"):
        result_of(job)


def test_unknown_job_is_a_user_error():
    client, clock = FakeClient(), Clock()
    with pytest.raises(UserError, match="cannot read tuning job") as info:
        wait(client, "projects/p/locations/us-central1/tuningJobs/404", clock)
    assert info.value.code == "404"


def test_long_unchanged_state_is_still_logged(caplog):
    client, clock = FakeClient(), Clock()
    job = client.tunings.add("JOB_STATE_RUNNING")
    with caplog.at_level(logging.INFO), pytest.raises(WaitTimeoutError):
        wait(client, job.name, clock, timeout_seconds=1800)
    lines = [r.getMessage() for r in caplog.records if "JOB_STATE_RUNNING (after" in r.getMessage()]
    assert 3 <= len(lines) <= 4  # at start, then about every 10 minutes


def test_a_wait_on_a_stopped_emulator_fails_with_the_reason_instead_of_polling_48h(
    monkeypatch, tmp_path
):
    """An orphaned wait task whose emulator is gone: the real google-genai client against
    a port nobody listens on fails the wait after the poll bound, naming the refusal."""
    import socket

    from gemini_sft_kfp.core import retry
    from gemini_sft_kfp.jobs import runner as cloud_job
    from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("VERTEX_AI_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(cloud_job, "POLL_UNREACHABLE_SECONDS", 30.0)  # waits stubbed out
    name = "projects/local-project/locations/us-central1/tuningJobs/1"
    with pytest.raises(retry.Unreachable, match="tried"):
        wait_for_job(
            lambda: TUNING_JOBS.client("local-project", LOCATION),
            name,
            location=LOCATION,
            gcp_resources_path=str(tmp_path / "gcp_resources"),
            sleep=Clock().sleep,
            clock=Clock(),
            timeout_seconds=172800.0,
        )
