"""The task containers of ``gemini-sft run --runner docker``, found by label and ended
the way each needs.

Docker, not the CLI, runs them: Ctrl-C or SIGTERM of the CLI does not reach them, and a
CLI killed hard (``kill -9``, a crash) leaves them running. So every container carries
its output directory and its run's process id (``run_labels``), and:

- a stopped run stops its own running task with SIGTERM (``docker stop``), as Vertex AI
  Pipelines does on a cancel: the task cancels the cloud job it owns
  (``stop_run_tasks``), like the subprocess runner's task gets SIGTERM;
- the next run in the same output directory kills a dead run's containers before it
  decides anything (``dead_tasks.end_dead_runs``, the rule shared with the subprocess
  runner's task processes): otherwise a launch step could still create a job behind its
  back, or cancel the job the rerun resumes.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gemini_sft_kfp.pipelines.local import dead_tasks as local_tasks

log = logging.getLogger(__name__)

OUTPUT_DIR_LABEL = "gemini-sft-kfp.output-dir"
RUN_PID_LABEL = "gemini-sft-kfp.run-pid"
STOP_GRACE_SECONDS = 30  # a launch holds a create up to 20 s, then looks for its job 5 s


def run_labels(output_dir: Path, pid: int | None = None) -> dict[str, str]:
    """The labels of this run's containers (``DockerRunner(labels=...)``)."""
    return {
        OUTPUT_DIR_LABEL: str(output_dir.resolve()),
        RUN_PID_LABEL: str(pid or os.getpid()),
    }


def running_tasks(client: Any, output_dir: Path, pid: int | None = None) -> list[Any]:
    """Running containers of runs in ``output_dir`` (of the run ``pid`` only, if given)."""
    labels = [f"{OUTPUT_DIR_LABEL}={output_dir.resolve()}"]
    if pid is not None:
        labels.append(f"{RUN_PID_LABEL}={pid}")
    return client.containers.list(filters={"label": labels, "status": "running"})


def run_pid(container: Any) -> int:
    return int(container.labels.get(RUN_PID_LABEL, "0") or 0)


def _each(action: Callable[[Any], None], containers: Iterable[Any]) -> None:
    """``action`` on every container at once (each ``docker stop`` may take its grace)."""
    containers = list(containers)
    if not containers:
        return

    def safely(container: Any) -> None:
        try:
            action(container)
        except Exception as exc:  # gone already (auto-removed), or Docker refused
            log.warning("container %s: %s", container.short_id, exc)

    with ThreadPoolExecutor(max_workers=len(containers)) as pool:
        list(pool.map(safely, containers))


def stop(containers: Iterable[Any]) -> None:
    """SIGTERM, then SIGKILL after the grace: each task runs its own clean-up."""
    _each(lambda c: c.stop(timeout=STOP_GRACE_SECONDS), containers)


def kill(containers: Iterable[Any]) -> None:
    """SIGKILL, and wait until each is gone: no clean-up, their jobs carry on."""

    def kill_one(container: Any) -> None:
        container.kill()
        with contextlib.suppress(Exception):  # gone already: auto-removed
            container.wait(timeout=local_tasks.KILL_WAIT_SECONDS)

    _each(kill_one, containers)


def docker_client() -> Any | None:
    """A client of the local Docker engine, or None when there is none (logged)."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:
        log.warning("no Docker engine answers (%s): containers of runs were not checked", exc)
        return None
    return client


def stop_run_tasks(output_dir: Path) -> None:
    """This run was stopped (Ctrl-C, SIGTERM): stop its running task containers."""
    client = docker_client()
    if client is not None:
        stop(running_tasks(client, output_dir, os.getpid()))


class DockerTasks:
    """A dead run's containers as ``local_tasks.TaskSet``: Docker keeps them running, so
    nothing has ended them yet."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def running(self, output_dir: Path) -> list[Any]:
        return running_tasks(self.client, output_dir)

    run_pid = staticmethod(run_pid)
    kill = staticmethod(kill)
