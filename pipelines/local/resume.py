"""One rule for every resume decision of ``gemini-sft run``: no second billed job.

Every local run has a run key (``new_run_key``), handed to its tasks through
``RESUME_KEY_ENV`` (read by ``jobs.identity.resumed_run_key``): the launch step labels
its tuning job with it and the exit handler finds the job by it. The run records itself
in ``<output dir>/.inflight-<pid>.json`` (key, inputs' fingerprint, start time, runner).
One run at a time holds an output directory (``exclusive``), so a record found at start
is a dead run's, and the rule (``decide``) is:

1. The dead runs' tasks still running are killed first, with no clean-up
   (``local_tasks.end_dead_runs``, the same for task processes and Docker containers):
   none can create or cancel a job behind this run's back. A create whose outcome its
   task never learnt (killed mid-create) left a marker (``jobs.runner.creating_marker``):
   its job is waited for, by label.
2. Each dead run's jobs are found by its key's label, in any state, whatever step was
   killed: nothing depends on what the dead run managed to write down.
3. Same inputs (and no ``--new-job``): its newest RUNNING or SUCCEEDED job is reused:
   this run takes over the dead run's key, its launch step finds the job by label and
   its wait step waits for it (or returns at once: a finished job is not trained again).
4. Otherwise a job still running, or finished with a model this run cannot use, is kept
   for a rerun with the dead run's inputs, and said so; its record stays. A record is
   removed only when its jobs have ended (CANCELLED, FAILED: accounted for) or were
   taken over by this run. A run that ends leaves its own record while a job of its key
   is still running (e.g. a wait that gave up), so the next run resumes that job.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from gemini_sft_kfp.pipelines import tasks

from gemini_sft_kfp.jobs.identity import RESUME_KEY_ENV
from gemini_sft_kfp.jobs.runner import CREATING_SUFFIX
from gemini_sft_kfp.runtime.task import LOCAL_RUN_ENV, local_run_value

log = logging.getLogger(__name__)

LAUNCH_TASK_DIR = tasks.LAUNCH
CREATE_SETTLE_SECONDS = 30.0  # how long a create cut short may take to show its job
SETTLE_POLL_SECONDS = 0.5


def fingerprint(pipeline: str, arguments: dict[str, Any]) -> str:
    """The run's inputs: its arguments, and the size and mtime of local data files."""
    files = {}
    for value in arguments.values():
        if isinstance(value, str) and value.startswith("/") and os.path.isfile(value):
            stat = os.stat(value)
            files[value] = [stat.st_size, stat.st_mtime_ns]
    raw = orjson.dumps([pipeline, arguments, files], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()


def new_run_key() -> str:
    """A fresh run key (a valid label value, so jobs are listed by it as is)."""
    return f"local-{uuid.uuid4().hex[:24]}"


def _dead_runs(output_dir: Path) -> list[dict]:
    """The dead runs' records in ``output_dir``, newest first (read once per decision:
    this run holds the directory, so no record comes or goes meanwhile)."""
    records = []
    for path in output_dir.glob(".inflight-*.json"):
        with contextlib.suppress(OSError, orjson.JSONDecodeError):
            record = orjson.loads(path.read_bytes())
            record["path"] = str(path)
            records.append(record)
    return sorted(records, key=lambda r: float(r.get("started", 0)), reverse=True)


def dead_run_runners(records: list[dict]) -> set[str]:
    """The runners ("subprocess", "docker") of the dead runs' ``records``."""
    return {record.get("runner", "subprocess") for record in records}


# --- a run's jobs, by label -------------------------------------------------------------


def run_jobs(client: Any, run_key: str) -> list:
    """Every tuning job of the run ``run_key`` (any state; filtered again here): labelled
    with it as a local run's (``LOCAL_RUN_LABEL``, any pipeline) or, made before that
    label existed, as the shipped pipelines' idempotency key."""
    from gemini_sft_kfp.core.retry import call_with_retry
    from gemini_sft_kfp.jobs.identity import (
        IDEMPOTENCY_LABEL,
        LOCAL_RUN_LABEL,
        idempotency_value,
        label_filter,
        labelled,
    )
    from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

    found: dict[str, Any] = {}
    value = idempotency_value(idempotency_key=run_key)
    for key, wanted in ((LOCAL_RUN_LABEL, run_key), (IDEMPOTENCY_LABEL, value)):
        jobs = call_with_retry(TUNING_JOBS.list, client, label_filter(wanted, key))
        found |= {job.name: job for job in labelled(jobs, key, wanted)}
    return list(found.values())


def creates_in_flight(output_dir: Path, since: float) -> list[Path]:
    """Markers of creates whose outcome their task never learnt, in runs since ``since``."""
    markers = output_dir.glob(f"*/{CREATING_MARKERS}")
    return [m for m in markers if m.stat().st_mtime >= since - 1]


CREATING_MARKERS = f"{LAUNCH_TASK_DIR}*/gcp_resources{CREATING_SUFFIX}"
"""Where, in one run's directory, a launch step marks a create in flight."""


def settled_jobs(
    client: Any, run_key: str, markers: list[Path], *, settle_seconds: float | None = None
) -> list:
    """``run_jobs``; when a create was in flight (``markers``) and no job shows yet, keep
    looking for up to ``settle_seconds``: the service may still be creating it."""
    settle = CREATE_SETTLE_SECONDS if settle_seconds is None else settle_seconds
    jobs = run_jobs(client, run_key)
    if jobs or not markers:
        return jobs
    log.warning("a create was in flight when the run died: waiting up to %.0fs for it", settle)
    deadline = time.monotonic() + settle
    while not jobs and time.monotonic() < deadline:
        time.sleep(SETTLE_POLL_SECONDS)
        jobs = run_jobs(client, run_key)
    for marker in markers:  # its outcome is known now
        marker.unlink(missing_ok=True)
    return jobs


def _legacy_jobs(client: Any, output_dir: Path, record: dict) -> tuple[list, str]:
    """A record written before runs had keys: the job its newest run dir recorded."""
    from gemini_sft_kfp.core import gcp_resources
    from gemini_sft_kfp.core.retry import call_with_retry
    from gemini_sft_kfp.jobs.identity import IDEMPOTENCY_LABEL
    from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

    started = float(record.get("started", 0))
    for path in output_dir.glob(f"*/{LAUNCH_TASK_DIR}/gcp_resources"):
        if path.stat().st_mtime >= started - 1:
            name = gcp_resources.read(str(path), "TuningJob")
            if name:
                job = call_with_retry(TUNING_JOBS.get, client, name)
                return [job], (job.labels or {}).get(IDEMPOTENCY_LABEL, "")
    return [], ""


# --- the decision -----------------------------------------------------------------------


@dataclass
class Decision:
    """What ``decide`` found: the key this run uses, the job it resumes, what it kept."""

    run_key: str
    resumed: tuple[str, str, int] | None = None  # (job name, its state, the dead run's pid)
    kept: list[str] = field(default_factory=list)  # one line per dead run's job left alone
    not_resumed: list[str] = field(default_factory=list)  # --new-job: names left running
    ended_tasks: int = 0
    taken_over: list[Path] = field(default_factory=list)  # records this run replaces


def _reusable(jobs: list) -> list:
    from gemini_sft_kfp.jobs import states as job_states

    keep = job_states.ACTIVE_STATES | {job_states.SUCCEEDED}
    found = [j for j in jobs if job_states.state_name(j.state) in keep]
    return sorted(found, key=lambda j: str(j.create_time or ""), reverse=True)


def decide(
    output_dir: Path,
    print_fingerprint: str,
    project: str,
    location: str,
    *,
    new_job: bool = False,
    client_factory: Callable[[], Any] | None = None,
) -> Decision:
    """The one rule (module docstring): end the dead runs' tasks, find their jobs by
    label, reuse the one started for the same inputs, keep the others accounted for."""
    from gemini_sft_kfp.pipelines.local import dead_tasks as local_tasks

    decision = Decision(run_key=new_run_key())
    records = _dead_runs(output_dir)
    client: list[Any] = []

    def get_client() -> Any:
        if not client:
            from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

            factory = client_factory or (lambda: TUNING_JOBS.client(project, location))
            client.append(factory())
        return client[0]

    def find() -> local_tasks.Resumable | None:
        _judge_dead_runs(output_dir, records, print_fingerprint, new_job, get_client, decision)
        if decision.resumed is None:
            return None
        return decision.resumed[0], decision.run_key, decision.resumed[2]

    _, decision.ended_tasks = local_tasks.end_dead_runs(_task_sets(records), output_dir, find)
    return decision


def _task_sets(records: list[dict]) -> list:
    from gemini_sft_kfp.pipelines.local.dead_tasks import ProcessTasks

    sets: list = [ProcessTasks()]
    if "docker" in dead_run_runners(records):
        from gemini_sft_kfp.pipelines.local import docker_tasks

        docker = docker_tasks.docker_client()
        if docker is not None:
            sets.append(docker_tasks.DockerTasks(docker))
    return sets


def _judge_dead_runs(
    output_dir: Path,
    records: list[dict],
    print_fingerprint: str,
    new_job: bool,
    get_client: Callable[[], Any],
    decision: Decision,
) -> None:
    from gemini_sft_kfp.jobs.states import state_name

    for record in records:
        path = Path(record["path"])
        key = record.get("run_key", "")
        if not key and not any(output_dir.glob(f"*/{LAUNCH_TASK_DIR}/gcp_resources")):
            path.unlink(missing_ok=True)  # a keyless dead run that never launched
            continue
        if key:
            markers = creates_in_flight(output_dir, float(record.get("started", 0)))
            jobs = settled_jobs(get_client(), key, markers)
        else:
            jobs, key = _legacy_jobs(get_client(), output_dir, record)
        reusable = _reusable(jobs)
        if not reusable or not key:
            path.unlink(missing_ok=True)  # nothing, or every job ended without a result
            continue
        job, pid = reusable[0], int(record.get("pid", 0))
        state = state_name(job.state)
        same_inputs = record.get("fingerprint") == print_fingerprint
        if same_inputs and not new_job and decision.resumed is None:
            decision.run_key = key
            decision.resumed = (job.name, state, pid)
            decision.taken_over.append(path)
        elif same_inputs and new_job:
            decision.not_resumed.append(job.name)
        else:
            decision.kept.append(
                f"tuning job {job.name} ({state.removeprefix('JOB_STATE_')}) of an earlier "
                f"run (process {pid}) that died, with other inputs: kept for a rerun with "
                "those inputs, which reuses it; cancel it (or delete its model) if you do "
                "not need it"
            )


# --- this run's own record --------------------------------------------------------------


@contextlib.contextmanager
def inflight(
    output_dir: Path,
    print_fingerprint: str,
    runner: str = "subprocess",
    *,
    run_key: str = "",
    taken_over: list[Path] | None = None,
    still_pending: Callable[[], bool] | None = None,
) -> Iterator[None]:
    """Record this run as in flight for its duration (a kill -9 leaves the record).

    The records of dead runs this run ``taken_over`` are removed once this one is
    written. At the end the record is removed unless ``still_pending()`` says a job of
    this run is still running (or the check fails): the next run then resumes it.
    """
    path = output_dir / f".inflight-{os.getpid()}.json"
    record = {
        "pid": os.getpid(),
        "started": time.time(),
        "fingerprint": print_fingerprint,
        "runner": runner,
        "run_key": run_key,
    }
    path.write_bytes(orjson.dumps(record))
    for old in taken_over or []:
        old.unlink(missing_ok=True)
    try:
        yield
    finally:
        pending = True
        try:
            pending = bool(still_pending()) if still_pending is not None else False
        except Exception as exc:  # keep the record: the next run looks again
            log.warning("could not check this run's tuning jobs (%s); record kept", exc)
        if not pending:
            path.unlink(missing_ok=True)


def jobs_pending(
    client_factory: Callable[[], Any], run_key: str, *, finished_count: bool
) -> Callable[[], bool]:
    """For ``inflight``: a job of ``run_key`` is still running, or (``finished_count``:
    the run was interrupted, so nothing settled its model) has SUCCEEDED."""
    from gemini_sft_kfp.jobs import states as job_states

    def pending() -> bool:
        states = {job_states.state_name(j.state) for j in run_jobs(client_factory(), run_key)}
        if states & job_states.ACTIVE_STATES:
            return True
        return finished_count and job_states.SUCCEEDED in states

    return pending


@contextlib.contextmanager
def resuming(run_key: str, output_dir: Path | None = None) -> Iterator[None]:
    """Give this run's tasks its key (and, for task processes, this run's pid and output
    directory: ``runtime.task.die_with_parent``, ``local_tasks.ProcessTasks``)."""
    values = {RESUME_KEY_ENV: run_key} if run_key else {}
    if output_dir is not None:
        values[LOCAL_RUN_ENV] = local_run_value(os.getpid(), str(output_dir.resolve()))
    from gemini_sft_kfp.pipelines.local.backend import environment

    with environment(values):
        yield
