"""Execute submitted pipeline jobs with the KFP local runner (opt-in), one subprocess each.

The subprocess runs with the emulator's environment, so the pipeline's components
talk to this same emulator. The job is RUNNING while it runs, then SUCCEEDED or
FAILED with ``error`` and ``jobDetail.taskDetails`` (each failed task's ``error``)
as Vertex reports them; each task's output is kept under the run's ``tasks/``.
Cancelling kills the run.

The subprocess is
``python -m gemini_sft_kfp.emulator.vertex_pipelines.kfp_run SPEC.json PARAMS.json PIPELINE_ROOT``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.vertex_pipelines.pipeline_params import typed_parameter_values

if TYPE_CHECKING:
    from gemini_sft_kfp.emulator.common.service import Service


def parameter_values(job: dict) -> dict:
    """Runtime parameters as Python values typed by the job's spec (``3.0`` for an int
    input is ``3``), as Vertex hands them to the pipeline."""
    runtime = job.get("runtimeConfig") or {}
    values = dict(runtime.get("parameterValues") or {})
    for key, value in (runtime.get("parameters") or {}).items():  # legacy typed form
        values.setdefault(
            key, next(iter(value.values()), None) if isinstance(value, dict) else value
        )
    return typed_parameter_values(job.get("pipelineSpec") or {}, values)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STARTED = re.compile(r"Executing task '(?P<task>[^']+)'")
_FINISHED = re.compile(r"Task '(?P<task>[^']+)' finished with status (?P<status>SUCCESS|FAILURE)")
FAILED_PRECONDITION = 9  # google.rpc.Code of a failed pipeline / task, as Vertex reports it


@dataclass
class TaskRun:
    """One task of a local run, read from the KFP local runner's log."""

    name: str
    state: str = "RUNNING"
    lines: list[str] = field(default_factory=list)

    def error_line(self) -> str:
        """The task's last output line (the exception, for a failed Python component)."""
        text = [line.strip() for line in self.lines if line.strip()]
        return text[-1] if text else f"Task {self.name} failed."


def task_runs(log: str) -> list[TaskRun]:
    """The tasks of a KFP local run in start order, each with its state and its output."""
    tasks: dict[str, TaskRun] = {}
    current: TaskRun | None = None
    for line in _ANSI.sub("", log).splitlines():
        if started := _STARTED.search(line):
            current = tasks.setdefault(started["task"], TaskRun(started["task"]))
        elif finished := _FINISHED.search(line):
            task = tasks.setdefault(finished["task"], TaskRun(finished["task"]))
            task.state = "SUCCEEDED" if finished["status"] == "SUCCESS" else "FAILED"
            current = None
        elif current is not None:
            current.lines.append(line[4:] if line.startswith("    ") else line)
    for task in tasks.values():
        if task.state == "RUNNING":  # the run ended (killed, crashed) while it ran
            task.state = "FAILED"
    return list(tasks.values())


def task_details(log: str, run_dir: Path | None = None) -> list[dict]:
    """``PipelineTaskDetail``s as Vertex reports them: name, state, and a failed task's
    ``error`` ({code, message}). With ``run_dir`` each task's output is written to
    ``run_dir/tasks/NAME.log``, named in ``execution.metadata.emulator_log``."""
    details = []
    for index, task in enumerate(task_runs(log)):
        detail: dict = {"taskId": str(index + 1), "taskName": task.name, "state": task.state}
        if task.state == "FAILED":
            detail["error"] = {"code": FAILED_PRECONDITION, "message": task.error_line()}
        if run_dir is not None:
            path = run_dir / "tasks" / f"{task.name}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(task.lines) + "\n")
            detail["execution"] = {"metadata": {"emulator_log": str(path)}}
        details.append(detail)
    return details


def job_error(job_name: str, details: list[dict], log: str, log_path: Path) -> dict:
    """``PipelineJob.error`` worded as Vertex words it; the emulator adds its log's path."""
    failed = [d["taskName"] for d in details if d["state"] == "FAILED"]
    project = job_name.partition("/locations/")[0].split("/")[-1]
    job_id = job_name.rsplit("/", 1)[-1]
    if failed:
        reason = (
            "The DAG failed because some tasks failed. "
            f"The failed tasks are: [{', '.join(failed)}]."
        )
    else:  # nothing ran: the run failed before its first task (e.g. a bad parameter)
        lines = [line.strip() for line in _ANSI.sub("", log).splitlines() if line.strip()]
        reason = lines[-1] if lines else "The pipeline run failed before its first task."
    return {
        "code": FAILED_PRECONDITION,
        "message": f"{reason}; Job (project_id = {project}, job_id = {job_id}) "
        f"is failed due to the above error. (emulator log: {log_path})",
    }


class PipelineExecutor:
    """Starts, watches and cancels local runs of submitted pipeline jobs."""

    def __init__(self, work_dir: Path, env: dict[str, str]) -> None:
        self.work_dir = work_dir.resolve()  # the run's cwd is its own dir: paths absolute
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
                "gemini_sft_kfp.emulator.vertex_pipelines.kfp_run",
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
            log = (run_dir / "run.log").read_text(errors="replace")
            details = task_details(log, run_dir)
            if details:
                job["jobDetail"] = {"taskDetails": details}
            if code == 0:
                job["state"] = "PIPELINE_STATE_SUCCEEDED"
            else:
                job["state"] = "PIPELINE_STATE_FAILED"
                job["error"] = job_error(job["name"], details, log, run_dir / "run.log")
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
