"""A launch stopped by SIGTERM (the run was cancelled) leaves no job running behind it."""

from __future__ import annotations

import os
import signal
import time

import pytest
from gemini_sft_kfp.components.launch_tuning_job.executor import IDEMPOTENCY_LABEL, launch
from gemini_sft_kfp.components.launch_tuning_job.request import build_request

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.jobs import runner as cloud_job
from gemini_sft_kfp.jobs.stop import Terminated, exit_on_sigterm
from tests.support.job_fakes import FakeClient, api_error

LOCATION = "us-central1"


@pytest.fixture(autouse=True)
def task_handler():
    previous = signal.getsignal(signal.SIGTERM)
    exit_on_sigterm()  # what runtime.task.load installs in every task
    yield
    signal.signal(signal.SIGTERM, previous)


def _launch(client, path):
    request = build_request(location=LOCATION, training_dataset_uri="gs://b/t.jsonl")
    return launch(client, request, location=LOCATION, label_value="task-1", gcp_resources_path=path)


def _states(client):
    return {name: job.state for name, job in client.tunings.jobs.items()}


def test_stopped_mid_create_waits_for_the_answer_then_cancels_the_job(tmp_path):
    client = FakeClient()
    tune = client.tunings.tune

    def slow_create(**kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # the run is cancelled while the call is out
        time.sleep(0.3)  # ... and the service answers a moment later
        return tune(**kwargs)

    client.tunings.tune = slow_create
    with pytest.raises(Terminated) as stop:
        _launch(client, str(tmp_path / "gcp_resources"))
    assert stop.value.code == 128 + signal.SIGTERM and not stop.value.cut_short
    [(name, state)] = _states(client).items()
    assert state == "JOB_STATE_CANCELLED"
    assert client.tunings.calls == ["list", "create", "list", "cancel"]
    assert client.tunings.jobs[name].labels[IDEMPOTENCY_LABEL] == "task-1"
    assert not (tmp_path / f"gcp_resources{cloud_job.CREATING_SUFFIX}").exists()  # known


def test_stopped_mid_create_that_then_fails_ambiguously_still_cancels_its_job(tmp_path):
    """A 503 after the job was made, while the stop was held: the stop is not lost (the
    task used to go on retrying and waiting), and the job is found by label."""
    client = FakeClient()
    tune = client.tunings.tune
    client.tunings.create_then_fail = [api_error(503)]

    def stopped_then_failed(**kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return tune(**kwargs)

    client.tunings.tune = stopped_then_failed
    with pytest.raises(Terminated) as stop:
        _launch(client, str(tmp_path / "gcp_resources"))
    assert stop.value.cut_short
    assert list(_states(client).values()) == ["JOB_STATE_CANCELLED"]
    assert client.tunings.calls.count("create") == 1


def test_a_create_cut_short_whose_job_never_shows_leaves_its_marker(tmp_path, monkeypatch):
    """Whoever decides next (the run's clean-up, a rerun) must look for a late job."""
    monkeypatch.setattr(cloud_job, "CREATE_HOLD_SECONDS", 0.2)
    monkeypatch.setattr(cloud_job, "ORPHAN_LOOKUP_SECONDS", 0.2)
    client = FakeClient()

    def hung_create(**kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # cut short by the hold's deadline

    client.tunings.tune = hung_create
    with pytest.raises(Terminated) as stop:
        _launch(client, str(tmp_path / "gcp_resources"))
    assert stop.value.cut_short
    assert (tmp_path / f"gcp_resources{cloud_job.CREATING_SUFFIX}").exists()


def test_a_launch_that_created_its_job_leaves_no_marker(tmp_path):
    client = FakeClient()
    name = _launch(client, str(tmp_path / "gcp_resources"))
    assert gcp_resources.read(str(tmp_path / "gcp_resources"), "TuningJob") == name
    assert not (tmp_path / f"gcp_resources{cloud_job.CREATING_SUFFIX}").exists()


def test_a_create_that_never_answers_is_cut_short_and_its_late_job_cancelled(tmp_path, monkeypatch):
    monkeypatch.setattr(cloud_job, "CREATE_HOLD_SECONDS", 0.2)
    client = FakeClient()

    def hung_create(**kwargs):
        client.tunings.calls.append("create")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # cut short by the hold's deadline
        raise AssertionError("not reached")

    real_list = client.tunings.list
    listings = []

    def listing(**kwargs):
        listings.append(kwargs)
        if len(listings) == 3:  # the server finishes the create after the client gave up
            client.tunings.add("JOB_STATE_PENDING", labels={IDEMPOTENCY_LABEL: "task-1"})
        return real_list(**kwargs)

    client.tunings.tune = hung_create
    client.tunings.list = listing
    started = time.monotonic()
    with pytest.raises(Terminated) as stop:
        _launch(client, str(tmp_path / "gcp_resources"))
    assert stop.value.cut_short
    assert time.monotonic() - started < 5
    assert len(listings) == 3  # before the create, right after the cut (nothing), again
    assert [job.state for job in client.tunings.jobs.values()] == ["JOB_STATE_CANCELLED"]


def test_stopped_before_creating_cancels_the_job_it_resumed(tmp_path):
    client = FakeClient()
    earlier = client.tunings.add("JOB_STATE_RUNNING", labels={IDEMPOTENCY_LABEL: "task-1"})
    path = str(tmp_path / "gcp_resources")
    gcp_resources.write(path, "TuningJob", earlier.name, LOCATION)
    get = client.tunings.get

    def get_then_stopped(**kwargs):
        job = get(**kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        return job

    client.tunings.get = get_then_stopped
    with pytest.raises(Terminated):
        _launch(client, path)
    assert _states(client) == {earlier.name: "JOB_STATE_CANCELLED"}
    assert "create" not in client.tunings.calls
