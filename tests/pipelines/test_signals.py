"""SIGTERM to ``gemini-sft run`` is handled like Ctrl-C (issue 14, section 2).

Before: ``kill -TERM`` during the wait exited 143 at once with no summary, and the
task's child was reparented and kept polling while the job ran on unobserved.
"""

from __future__ import annotations

import os
import signal
import time

import orjson
import pytest

from gemini_sft_kfp.core.processes import process_alive
from tests.support.pipeline_helpers import needs_components
from tests.support.run_process import children as _children
from tests.support.run_process import start_run as _start_run

pytestmark = needs_components


def _jobs(emu) -> list[dict]:
    return list(orjson.loads(emu.dump_state())["tuningJobs"].values())


def test_sigterm_during_the_wait_cancels_the_job_prints_the_summary_and_exits_nonzero(
    emu, tmp_path
):
    emu.service.tuning_seconds = 120  # the job is still running when the signal comes
    run = _start_run(tmp_path)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any(
            j["state"] == "JOB_STATE_RUNNING" for j in _jobs(emu)
        ):
            assert run.poll() is None, run.communicate()
            time.sleep(0.5)
        time.sleep(2)  # the wait task is polling now
        tasks = _children(run.pid)
        assert tasks, "the wait task should be running"
        started = time.monotonic()
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=90)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode not in (0, -signal.SIGTERM, 143), (run.returncode, err)
    assert time.monotonic() - started < 60
    summary = orjson.loads(out)  # the summary was printed
    assert summary["succeeded"] is False
    (job,) = _jobs(emu)
    assert job["state"] == "JOB_STATE_CANCELLED"
    assert not any(process_alive(pid) for pid in tasks)  # no orphaned task keeps polling
    assert "Traceback" not in err


@pytest.mark.slow  # a kill-and-rerun case
def test_a_rerun_after_kill_9_resumes_the_dead_runs_job(emu, tmp_path):
    emu.service.tuning_seconds = 25
    first = _start_run(tmp_path)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not any(
        j["state"] == "JOB_STATE_RUNNING" for j in _jobs(emu)
    ):
        assert first.poll() is None, first.communicate()
        time.sleep(0.5)
    time.sleep(2)
    for pid in [*_children(first.pid), first.pid]:  # the machine "crashes"
        os.kill(pid, signal.SIGKILL)
    first.communicate()
    (job,) = _jobs(emu)
    assert job["state"] == "JOB_STATE_RUNNING"  # left behind, still billed

    again = _start_run(tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert f"resuming tuning job {job['name']}" in " ".join(err.split())
    assert [j["name"] for j in _jobs(emu)] == [job["name"]]  # no second job
    assert orjson.loads(out)["succeeded"] is True
