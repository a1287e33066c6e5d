"""One tuning job per logical run, however ``gemini-sft run`` is killed and rerun (issue 22).

Each case drives the real CLI as a subprocess (the KFP subprocess runner) against the
test emulator and counts the tuning jobs it holds, by state:
(a) ``kill -9`` while the launch step's create is in flight, then an immediate rerun
    (of the whole process group, or of the CLI only: its tasks die with it);
(b) after a crash, a rerun with other (wrong) inputs fails, then the corrected rerun;
(c) ``kill -9`` during evaluation, then a rerun: the finished job is not trained again;
(d) SIGTERM while a slow create is in flight: the job it makes is cancelled;
(e) the same rule for a user's own pipeline (``--pipeline-file``).
"""

from __future__ import annotations

import os
import signal
import time

import orjson
import pytest

from gemini_sft_kfp.core.processes import process_alive
from tests.support.pipeline_helpers import REPO, needs_components
from tests.support.run_process import (
    children,
    create_arrived,
    finish,
    start_run,
    states,
    tuning_jobs,
    wait_until,
)

pytestmark = [needs_components, pytest.mark.e2e, pytest.mark.slow]

SLOW_CREATE_MS = 6000  # longer than a run takes to be killed and rerun, short for a test


def _kill_mid_create(emu, tmp_path, *, whole_group: bool) -> None:
    emu.add_fault("tuningJobs.create", latency_ms=SLOW_CREATE_MS, times=1)
    with create_arrived(emu) as arrived:
        first = start_run(tmp_path, new_session=whole_group)
        wait_until(arrived.is_set, first, timeout=120)
    if whole_group:
        os.killpg(first.pid, signal.SIGKILL)
    else:
        first.kill()  # the CLI only: its launch task is orphaned mid-create
    finish(first)
    assert tuning_jobs(emu) == []  # the create was still in flight


def _rerun_succeeds(tmp_path, *extra: str) -> str:
    again = start_run(tmp_path, *extra)
    out, err = finish(again)
    assert again.returncode == 0, err
    assert orjson.loads(out)["succeeded"] is True
    return " ".join(err.split())


@pytest.mark.parametrize("whole_group", [False, True], ids=["cli-killed", "group-killed"])
def test_a_kill_9_mid_create_then_an_immediate_rerun_trains_one_job(emu, tmp_path, whole_group):
    emu.service.tuning_seconds = 3
    _kill_mid_create(emu, tmp_path, whole_group=whole_group)
    _rerun_succeeds(tmp_path)  # a run takes longer than the slow create: it has landed
    # however it was killed, the rerun resumed the dead run's job: nothing cancelled,
    # nothing trained twice
    assert states(emu) == ["SUCCEEDED"]


def test_a_kill_9_of_the_cli_alone_while_tuning_leaves_the_job_to_the_rerun(emu, tmp_path):
    emu.service.tuning_seconds = 8
    first = start_run(tmp_path)
    wait_until(lambda: "RUNNING" in states(emu), first, timeout=180)
    tasks = children(first.pid)
    first.kill()  # the CLI only: its wait step dies with it, the job is not cancelled
    finish(first)
    wait_until(lambda: not any(process_alive(pid) for pid in tasks), None, timeout=10)
    assert states(emu) == ["RUNNING"]
    (job,) = tuning_jobs(emu)
    err = _rerun_succeeds(tmp_path)
    assert f"tuning job {job['name']}" in err
    assert [(j["name"], j["state"]) for j in tuning_jobs(emu)] == [
        (job["name"], "JOB_STATE_SUCCEEDED")
    ]


def _crash_while_tuning(emu, tmp_path) -> dict:
    first = start_run(tmp_path)
    wait_until(lambda: "RUNNING" in states(emu), first, timeout=180)
    for pid in [*children(first.pid), first.pid]:  # the machine "crashes"
        os.kill(pid, signal.SIGKILL)
    finish(first)
    (job,) = tuning_jobs(emu)
    assert job["state"] == "JOB_STATE_RUNNING"
    return job


def test_b_a_failed_rerun_with_other_inputs_keeps_the_dead_runs_job_for_the_corrected_one(
    emu, tmp_path
):
    emu.service.tuning_seconds = 12  # running or finished by the corrected rerun: either
    job = _crash_while_tuning(emu, tmp_path)  # way it is reused
    typo = tmp_path / "typo.jsonl"  # "usr": a typo the validate step rejects
    typo.write_text('{"contents": [{"role": "usr", "parts": [{"text": "hi"}]}]}\n' * 20)
    wrong = start_run(tmp_path, "--train", str(typo))
    out, err = finish(wrong)
    assert wrong.returncode != 0, out
    assert [j["name"] for j in tuning_jobs(emu)] == [job["name"]]
    err = _rerun_succeeds(tmp_path)  # the default (original) inputs again
    assert f"tuning job {job['name']}, started for the same inputs" in err
    assert [(j["name"], j["state"]) for j in tuning_jobs(emu)] == [
        (job["name"], "JOB_STATE_SUCCEEDED")
    ]


def test_c_a_rerun_after_kill_9_during_evaluation_reuses_the_finished_job(emu, tmp_path):
    emu.service.tuning_seconds = 1
    emu.add_fault("*generateContent", latency_ms=1500)  # evaluation takes a while
    evaluated = []

    def evaluating() -> bool:
        evaluated[:] = [r for r in emu.requests() if r["method"].endswith("generateContent")]
        return bool(evaluated) and states(emu) == ["SUCCEEDED"]

    first = start_run(tmp_path)
    wait_until(evaluating, first, timeout=180)
    for pid in [*children(first.pid), first.pid]:
        os.kill(pid, signal.SIGKILL)
    finish(first)
    emu.clear_faults()
    (job,) = tuning_jobs(emu)
    err = _rerun_succeeds(tmp_path)
    assert f"reusing the tuned model of tuning job {job['name']}" in err
    assert [j["name"] for j in tuning_jobs(emu)] == [job["name"]]  # not trained again
    models = orjson.loads(emu.dump_state())["models"]
    assert len(models) <= 1  # one tuned model, registered or deleted: never a second one


def test_d_sigterm_while_a_slow_create_is_in_flight_cancels_the_job_it_made(emu, tmp_path):
    emu.service.tuning_seconds = 60
    emu.add_fault("tuningJobs.create", latency_ms=9000, times=1)  # > the old 5 s + 3 s
    with create_arrived(emu) as arrived:
        run = start_run(tmp_path)
        wait_until(arrived.is_set, run, timeout=120)
    run.send_signal(signal.SIGTERM)
    out, err = finish(run, timeout=120)
    assert run.returncode != 0
    assert orjson.loads(out)["succeeded"] is False
    wait_until(lambda: bool(tuning_jobs(emu)), None, timeout=15)  # the create has landed
    time.sleep(1)
    assert states(emu) == ["CANCELLED"], err


def test_e_a_users_own_pipeline_killed_while_tuning_is_resumed_by_the_rerun(emu, tmp_path):
    """The rule holds for any pipeline: a user's own labels its job with a hash of the run
    key, so the dead run's jobs are found by the run's own label (``LOCAL_RUN_LABEL``)."""
    emu.service.tuning_seconds = 8
    data = REPO / "examples" / "data"
    own = (
        *("--pipeline-file", str(REPO / "examples" / "own_pipeline.py")),
        *("--param", f"training_data={data / 'train.jsonl'}"),
        *("--param", f"eval_data={data / 'eval.jsonl'}"),
    )
    first = start_run(tmp_path, *own)
    wait_until(lambda: "RUNNING" in states(emu), first, timeout=180)
    for pid in [*children(first.pid), first.pid]:
        os.kill(pid, signal.SIGKILL)
    finish(first)
    (job,) = tuning_jobs(emu)
    err = _rerun_succeeds(tmp_path, *own)
    assert f"resuming tuning job {job['name']}" in err
    assert [(j["name"], j["state"]) for j in tuning_jobs(emu)] == [
        (job["name"], "JOB_STATE_SUCCEEDED")
    ]
