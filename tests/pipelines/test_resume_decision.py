"""The resume rule's parts without a pipeline run: the decision on dead runs' records,
the run's own record, a dead run's task processes, and a task dying with its run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest
from gemini_sft_kfp.pipelines.local import resume as local_resume
from gemini_sft_kfp.pipelines.local.dead_tasks import ProcessTasks

from gemini_sft_kfp.core.processes import process_alive
from gemini_sft_kfp.jobs.identity import IDEMPOTENCY_LABEL
from gemini_sft_kfp.jobs.runner import CREATING_SUFFIX
from gemini_sft_kfp.runtime.task import LOCAL_RUN_ENV
from tests.support.job_fakes import FakeClient

INPUTS = "fingerprint-of-the-inputs"
DEAD_KEY = "local-deadrun"


def _record(output_dir, *, fingerprint=INPUTS, key=DEAD_KEY, pid=4242, started=None):
    path = output_dir / f".inflight-{pid}.json"
    record = {
        "pid": pid,
        "started": time.time() if started is None else started,
        "fingerprint": fingerprint,
        "runner": "subprocess",
        "run_key": key,
    }
    path.write_bytes(orjson.dumps(record))
    return path


def _decide(output_dir, client, **options):
    return local_resume.decide(
        output_dir, INPUTS, "p", "us-central1", client_factory=lambda: client, **options
    )


@pytest.mark.parametrize("state", ["JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"])
def test_the_same_inputs_reuse_the_dead_runs_running_or_finished_job(tmp_path, state):
    client = FakeClient()
    job = client.tunings.add(state, labels={IDEMPOTENCY_LABEL: DEAD_KEY})
    path = _record(tmp_path)
    decision = _decide(tmp_path, client)
    assert decision.run_key == DEAD_KEY  # the launch step finds the job by this label
    assert decision.resumed == (job.name, state, 4242)
    assert decision.taken_over == [path]
    assert "create" not in client.tunings.calls


def test_a_decision_reads_each_dead_runs_record_once(tmp_path, monkeypatch):
    from pathlib import Path

    client = FakeClient()
    client.tunings.add("JOB_STATE_RUNNING", labels={IDEMPOTENCY_LABEL: DEAD_KEY})
    records = {_record(tmp_path), _record(tmp_path, key="local-other", pid=4343)}
    real_read = Path.read_bytes
    read: list[Path] = []

    def counting_read(path):
        read.append(path)
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", counting_read)
    assert _decide(tmp_path, client).resumed is not None
    assert sorted(p for p in read if p in records) == sorted(records)  # was each twice


def test_other_inputs_keep_a_running_job_and_its_record_for_the_corrected_rerun(tmp_path):
    client = FakeClient()
    job = client.tunings.add("JOB_STATE_RUNNING", labels={IDEMPOTENCY_LABEL: DEAD_KEY})
    path = _record(tmp_path, fingerprint="a typo")
    decision = _decide(tmp_path, client)
    assert decision.resumed is None and decision.run_key != DEAD_KEY
    assert path.exists()
    assert job.name in decision.kept[0]
    assert _decide(tmp_path, client, new_job=False).kept  # still there for the next run


def test_new_job_leaves_the_dead_runs_job_and_record_alone(tmp_path):
    client = FakeClient()
    job = client.tunings.add("JOB_STATE_RUNNING", labels={IDEMPOTENCY_LABEL: DEAD_KEY})
    path = _record(tmp_path)
    decision = _decide(tmp_path, client, new_job=True)
    assert decision.resumed is None and decision.not_resumed == [job.name]
    assert path.exists()


@pytest.mark.parametrize("state", ["JOB_STATE_CANCELLED", "JOB_STATE_FAILED", None])
def test_a_record_whose_jobs_ended_without_a_result_is_removed(tmp_path, state):
    client = FakeClient()
    if state:
        client.tunings.add(state, labels={IDEMPOTENCY_LABEL: DEAD_KEY})
    path = _record(tmp_path)
    decision = _decide(tmp_path, client)
    assert decision.resumed is None and not decision.kept
    assert not path.exists()


def test_a_create_in_flight_when_the_run_died_is_waited_for(tmp_path, monkeypatch):
    """The dead run's launch was killed mid-create: the job shows up a moment later."""
    monkeypatch.setattr(local_resume, "SETTLE_POLL_SECONDS", 0.01)
    client = FakeClient()
    started = time.time()
    _record(tmp_path, started=started)
    marker = tmp_path / "run-1" / "launch-tuning-job" / f"gcp_resources{CREATING_SUFFIX}"
    marker.parent.mkdir(parents=True)
    marker.write_text(f"{started}\n")
    lists = client.tunings.list

    def late(**kwargs):
        if client.tunings.calls.count("list") == 3:
            client.tunings.add("JOB_STATE_PENDING", labels={IDEMPOTENCY_LABEL: DEAD_KEY})
        return lists(**kwargs)

    client.tunings.list = late
    decision = _decide(tmp_path, client)
    assert decision.resumed is not None and decision.run_key == DEAD_KEY
    assert not marker.exists()  # its outcome is known now


@pytest.mark.parametrize(("state", "pending"), [("JOB_STATE_RUNNING", True), (None, False)])
def test_a_run_keeps_its_own_record_while_its_job_still_runs(tmp_path, state, pending):
    client = FakeClient()
    if state:
        client.tunings.add(state, labels={IDEMPOTENCY_LABEL: "local-mine"})
    check = local_resume.jobs_pending(lambda: client, "local-mine", finished_count=False)
    with local_resume.inflight(tmp_path, INPUTS, run_key="local-mine", still_pending=check):
        (path,) = tmp_path.glob(".inflight-*.json")
        assert orjson.loads(path.read_bytes())["run_key"] == "local-mine"
    assert path.exists() is pending


def _sleeper(env: dict[str, str], function: str) -> subprocess.Popen:
    code = "import time; time.sleep(60)"
    args = [sys.executable, "-c", code, "--function_to_execute", function]
    return subprocess.Popen(args, env={**os.environ, **env})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_dead_runs_task_processes_are_found_by_their_environment_and_killed(tmp_path):
    mine = _sleeper({LOCAL_RUN_ENV: f"4242:{tmp_path.resolve()}"}, "launch_tuning_job")
    other = _sleeper({LOCAL_RUN_ENV: f"4242:{tmp_path.resolve()}-other"}, "launch_tuning_job")
    try:
        tasks = ProcessTasks()
        (found,) = tasks.running(tmp_path)
        assert (found.pid, found.run_pid, found.function) == (mine.pid, 4242, "launch_tuning_job")
        tasks.kill([found])  # a crash: no clean-up, whatever the task was doing
        assert mine.wait(timeout=5) == -signal.SIGKILL
        assert other.poll() is None  # another output directory's task is not touched
    finally:
        for process in (mine, other):
            process.kill()
            process.wait()


MIDDLE = """
import os, subprocess, sys
env = {**os.environ, "GEMINI_SFT_LOCAL_RUN": f"{os.getpid()}:/nowhere"}
task = subprocess.Popen([sys.executable, "-c", sys.argv[1]], env=env, stdout=subprocess.PIPE)
print(task.pid, task.stdout.readline().decode().strip(), flush=True)
task.wait()
"""
TASK = """
import time
from gemini_sft_kfp.runtime.task import die_with_parent
from gemini_sft_kfp.jobs.stop import exit_on_sigterm
exit_on_sigterm()
die_with_parent()
print("ready", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")
def test_a_task_of_a_local_run_stops_when_the_run_is_killed():
    run = subprocess.Popen([sys.executable, "-c", MIDDLE, TASK], stdout=subprocess.PIPE, text=True)
    task_pid, ready = run.stdout.readline().split()
    assert ready == "ready"
    run.kill()  # kill -9 of the run: the task is orphaned
    run.wait()
    deadline = time.monotonic() + 10
    while process_alive(int(task_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(int(task_pid))
