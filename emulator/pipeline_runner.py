"""Execute submitted pipeline jobs with the KFP local runner (opt-in), one subprocess each.

The subprocess runs with the emulator's environment, so the pipeline's components
talk to this same emulator. The job is RUNNING while it runs, then SUCCEEDED or
FAILED (the log path is in ``error.message``); cancelling kills the run.

The subprocess is ``python -m gemini_sft_kfp.emulator.kfp_run SPEC.json PARAMS.json PIPELINE_ROOT``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from gemini_sft_kfp.emulator.store import rfc3339

if TYPE_CHECKING:
    from gemini_sft_kfp.emulator.service import Service


def parameter_values(job: dict) -> dict:
    """Runtime parameters as Python values (``parameterValues`` is already plain JSON)."""
    runtime = job.get("runtimeConfig") or {}
    values = dict(runtime.get("parameterValues") or {})
    for key, value in (runtime.get("parameters") or {}).items():  # legacy typed form
        values.setdefault(
            key, next(iter(value.values()), None) if isinstance(value, dict) else value
        )
    return values


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STARTED = re.compile(r"Executing task '(?P<task>[^']+)'")
_FINISHED = re.compile(r"Task '(?P<task>[^']+)' finished with status (?P<status>SUCCESS|FAILURE)")


def task_details(log: str) -> list[dict]:
    """``PipelineTaskDetail``s (name, state) read from the KFP local runner's log."""
    states: dict[str, str] = {}
    for line in _ANSI.sub("", log).splitlines():
        if started := _STARTED.search(line):
            states.setdefault(started["task"], "RUNNING")
        elif finished := _FINISHED.search(line):
            states[finished["task"]] = "SUCCEEDED" if finished["status"] == "SUCCESS" else "FAILED"
    return [
        {
            "taskId": str(index + 1),
            "taskName": task,
            "state": "FAILED" if state == "RUNNING" else state,
        }
        for index, (task, state) in enumerate(states.items())
    ]


class PipelineExecutor:
    """Starts, watches and cancels local runs of submitted pipeline jobs."""

    def __init__(self, work_dir: Path, env: dict[str, str]) -> None:
        self.work_dir = work_dir
        self.env = env
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}

    def __call__(self, service: Service, job_id: str) -> None:
        with service.store.lock:
            job = service.store.table("pipelineJobs")[job_id]
            spec, params = job["pipelineSpec"], parameter_values(job)
        run_dir = self.work_dir / job_id
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "spec.json").write_bytes(orjson.dumps(spec))
        (run_dir / "params.json").write_bytes(orjson.dumps(params))
        log = (run_dir / "run.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gemini_sft_kfp.emulator.kfp_run",
                str(run_dir / "spec.json"),
                str(run_dir / "params.json"),
                str(run_dir / "root"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,
            cwd=run_dir,  # never a directory where a folder could shadow a package
        )
        log.close()
        with self._lock:
            self._processes[job_id] = process
        threading.Thread(
            target=self._watch, args=(service, job_id, process, run_dir), daemon=True
        ).start()

    def _watch(self, service: Service, job_id: str, process: subprocess.Popen, run_dir: Path):
        code = process.wait()
        with self._lock:
            self._processes.pop(job_id, None)
        with service.store.lock:
            job = service.store.table("pipelineJobs").get(job_id)
            if job is None or job["state"] != "PIPELINE_STATE_RUNNING":
                return
            now = rfc3339()
            job.update(endTime=now, updateTime=now)
            details = task_details((run_dir / "run.log").read_text(errors="replace"))
            if details:
                job["jobDetail"] = {"taskDetails": details}
            if code == 0:
                job["state"] = "PIPELINE_STATE_SUCCEEDED"
            else:
                job["state"] = "PIPELINE_STATE_FAILED"
                job["error"] = {
                    "code": 9,
                    "message": f"The local run failed (exit {code}); log: {run_dir / 'run.log'}",
                }
            service.store.save()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            process = self._processes.get(job_id)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)

    def stop(self) -> None:
        with self._lock:
            running = list(self._processes)
        for job_id in running:
            self.cancel(job_id)
