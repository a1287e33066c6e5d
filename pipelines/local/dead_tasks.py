"""The tasks a dead ``gemini-sft run`` left running, ended the same way whatever runs them.

A run killed hard (``kill -9``, a crash) cannot stop its tasks: Docker keeps running its
containers, and a task process whose death-with-the-run could not be arranged
(``runtime.task.die_with_parent``: on Linux a dead run's task processes are killed with
it) is orphaned. The next run in the same output directory must not decide
anything while one of them could still create or cancel a job behind its back, so
``end_dead_runs`` ends them around the resume decision (``local_resume.decide``) with one
rule for both runners; ``TaskSet`` is what differs: Docker containers found by label
(``docker_tasks.DockerTasks``) or task processes found by their environment
(``ProcessTasks``, here).
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
from gemini_sft_kfp.runtime.task import LOCAL_RUN_ENV

WAIT_FUNCTION = "wait_for_tuning_job"  # the task that cancels its job on SIGTERM
STOP_GRACE_SECONDS = 30  # a launch holds a create up to 20 s, then looks for its job 5 s

Resumable = tuple[str, str, int]  # (job name, the run key, the dead run's pid)


class TaskSet(Protocol):
    """The running tasks of one runner kind, and how to end them."""

    def running(self, output_dir: Path) -> list[Any]: ...

    def function(self, task: Any) -> str:
        """The component the task runs (e.g. ``wait_for_tuning_job``)."""
        ...

    def run_pid(self, task: Any) -> int: ...

    def stop(self, tasks: Iterable[Any]) -> None:
        """SIGTERM, then SIGKILL after the grace: each task runs its own clean-up."""
        ...

    def kill(self, tasks: Iterable[Any]) -> None:
        """SIGKILL: no clean-up, so the job a wait step polls carries on."""
        ...


def end_dead_runs(
    task_sets: Iterable[TaskSet], output_dir: Path, find: Callable[[], Resumable | None]
) -> tuple[Resumable | None, int]:
    """End the still-running tasks of dead runs in ``output_dir`` around the decision to
    resume; returns what ``find`` found and how many tasks were ended.

    The caller holds the output directory (one run at a time), so every running task of
    it is a dead run's. In this order:
    1. every task but a wait step is stopped (SIGTERM) and waited for: a launch step
       mid-create waits for the answer and cancels the job it made;
    2. ``find()``, now that no launch step can create a job behind its back;
    3. the wait steps of the run whose job was found are killed (SIGKILL), so the job
       carries on; the others are stopped, so they cancel a job nobody will resume.
    """
    dead = [
        (tasks, task)
        for tasks in task_sets
        for task in tasks.running(output_dir)
        if tasks.run_pid(task) != os.getpid()
    ]
    waits = [(s, t) for s, t in dead if s.function(t) == WAIT_FUNCTION]
    _each_set(lambda s, ts: s.stop(ts), [(s, t) for s, t in dead if (s, t) not in waits])
    found = find()
    pid = found[2] if found else None
    _each_set(lambda s, ts: s.kill(ts), [(s, t) for s, t in waits if s.run_pid(t) == pid])
    _each_set(lambda s, ts: s.stop(ts), [(s, t) for s, t in waits if s.run_pid(t) != pid])
    return found, len(dead)


def _each_set(action: Callable[[TaskSet, list], None], pairs: list[tuple[TaskSet, Any]]) -> None:
    groups: dict[int, tuple[TaskSet, list]] = {}
    for tasks, task in pairs:
        groups.setdefault(id(tasks), (tasks, []))[1].append(task)
    for tasks, members in groups.values():
        action(tasks, members)


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
    run_pid, _, directory = value.partition(":")
    if directory != output_dir or not run_pid.isdigit():
        return None
    function = ""
    with contextlib.suppress(ValueError, IndexError):
        function = args[args.index("--function_to_execute") + 1]
    return TaskProcess(pid, int(run_pid), function)


class ProcessTasks:
    """The subprocess runner's tasks: processes whose environment names the output
    directory (``runtime.task.LOCAL_RUN_ENV``). Linux ``/proc``; elsewhere none are found."""

    def __init__(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        self.grace_seconds = grace_seconds

    def running(self, output_dir: Path) -> list[TaskProcess]:
        directory = str(output_dir.resolve())
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            pid = int(entry.name)
            task = _task_process(pid, directory) if pid != os.getpid() else None
            if task is not None and process_alive(pid):
                found.append(task)
        return found

    def function(self, task: TaskProcess) -> str:
        return task.function

    def run_pid(self, task: TaskProcess) -> int:
        return task.run_pid

    def stop(self, tasks: Iterable[TaskProcess]) -> None:
        pending = list(tasks)
        self._signal(pending, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline:
            pending = [t for t in pending if process_alive(t.pid)]
            if not pending:
                return
            time.sleep(0.1)
        self.kill(pending)

    def kill(self, tasks: Iterable[TaskProcess]) -> None:
        self._signal(tasks, signal.SIGKILL)

    @staticmethod
    def _signal(tasks: Iterable[TaskProcess], signum: int) -> None:
        for task in tasks:
            with contextlib.suppress(OSError):
                os.kill(task.pid, signum)
