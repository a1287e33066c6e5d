"""The tasks a dead ``gemini-sft run`` left running, ended the same way whatever runs them.

A run killed hard (``kill -9``, a crash) cannot stop its tasks: Docker keeps running its
containers, and a task process whose death-with-the-run could not be arranged
(``runtime.task.die_with_parent``: on Linux a dead run's task processes are killed with
it) is orphaned. The next run in the same output directory must not decide anything
while one of them could still create or cancel a job behind its back, so
``end_dead_runs`` kills them first (``local_resume.decide``), with one rule for both
runners: a dead run is a crash, its tasks get no clean-up, the same as when the whole
run was killed at once. Its jobs are then decided by label (a create cut short left a
marker), never cancelled by a task nobody is listening to. ``TaskSet`` is what differs:
Docker containers found by label (``docker_tasks.DockerTasks``) or task processes found
by their environment (``ProcessTasks``, here).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gemini_sft_kfp.core.processes import process_alive
from gemini_sft_kfp.runtime.task import LOCAL_RUN_ENV, parse_local_run

KILL_WAIT_SECONDS = 10.0  # a killed task is gone in well under this

Resumable = tuple[str, str, int]  # (job name, the run key, the dead run's pid)


class TaskSet(Protocol):
    """The running tasks of one runner kind, and how to kill them."""

    def running(self, output_dir: Path) -> list[Any]: ...

    def run_pid(self, task: Any) -> int: ...

    def kill(self, tasks: Iterable[Any]) -> None:
        """SIGKILL, and wait until they are gone: no clean-up, their jobs carry on."""
        ...


def end_dead_runs(
    task_sets: Iterable[TaskSet], output_dir: Path, find: Callable[[], Resumable | None]
) -> tuple[Resumable | None, int]:
    """Kill the still-running tasks of dead runs in ``output_dir``, then decide
    (``find()``) with none of them left to create or cancel a job; returns what ``find``
    found and how many tasks were killed.

    The caller holds the output directory (one run at a time), so every running task of
    it is a dead run's.
    """
    killed = 0
    for tasks in task_sets:
        dead = [t for t in tasks.running(output_dir) if tasks.run_pid(t) != os.getpid()]
        if dead:
            tasks.kill(dead)
            killed += len(dead)
    return find(), killed


@dataclass(frozen=True)
class TaskProcess:
    pid: int
    run_pid: int
    function: str


def _task_process(pid: int, output_dir: str) -> TaskProcess | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:  # gone, or another user's
        return None
    prefix = f"{LOCAL_RUN_ENV}=".encode()
    value = next((e[len(prefix) :].decode() for e in environ if e.startswith(prefix)), "")
    run_pid, directory = parse_local_run(value)
    if not run_pid or directory != output_dir:
        return None
    function = ""
    with contextlib.suppress(ValueError, IndexError):
        function = args[args.index("--function_to_execute") + 1]
    return TaskProcess(pid, run_pid, function)


class ProcessTasks:
    """The subprocess runner's tasks: processes whose environment names the output
    directory (``runtime.task.LOCAL_RUN_ENV``). Linux ``/proc``; elsewhere none are found."""

    def running(self, output_dir: Path) -> list[TaskProcess]:
        directory = str(output_dir.resolve())
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            pid = int(entry.name)
            task = _task_process(pid, directory) if pid != os.getpid() else None
            if task is not None and process_alive(pid):
                found.append(task)
        return found

    def run_pid(self, task: TaskProcess) -> int:
        return task.run_pid

    def kill(self, tasks: Iterable[TaskProcess]) -> None:
        pending = list(tasks)
        for task in pending:
            with contextlib.suppress(OSError):
                os.kill(task.pid, signal.SIGKILL)
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while pending and time.monotonic() < deadline:
            pending = [t for t in pending if process_alive(t.pid)]
            if pending:
                time.sleep(0.05)
