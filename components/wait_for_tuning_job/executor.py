"""Wait for a tuning job and turn the finished job into the component's outputs.

The wait itself (poll with backoff, survive blips, cancel on SIGTERM, timeout policy)
is ``gemini_sft_kfp.jobs.runner``; it logs the service's detailed state
(``WAITING_FOR_QUOTA``, ``WAITING_FOR_CAPACITY``, ``TUNING``, ...) and the time spent in
each becomes a metric. A restarted wait (task retry, pod rescheduled)
polls the same job: it is given the job name, and records it in ``gcp_resources`` at
once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gemini_sft_kfp.components.wait_for_tuning_job.result import TuningResult, result_of

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.jobs.runner import CloudJob, WaitTimeoutError
from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

__all__ = ["WaitTimeoutError", "run", "wait_for_job"]


def wait_for_job(
    client_factory: Callable[[], object],
    name: str,
    *,
    location: str,
    gcp_resources_path: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    **wait_options: float | bool,
) -> TuningResult:
    """Poll ``name`` until it ends; the result of a SUCCEEDED job, ``CloudJobError`` otherwise.

    ``wait_options`` are ``CloudJob.wait``'s: poll interval bounds, timeout, cancel on timeout.
    """
    job = CloudJob(
        TUNING_JOBS,
        client_factory,
        location=location,
        gcp_resources_path=gcp_resources_path,
        sleep=sleep,
        clock=clock,
    )
    job.record(name)
    result = result_of(job.wait(name, **wait_options))
    # time the service held the job (WAITING_FOR_QUOTA / _CAPACITY) and in each other
    # detailed state: seconds_waiting_for_quota, seconds_tuning, ...
    for detail, seconds in job.detail_seconds.items():
        result.metrics[f"seconds_{detail.lower()}"] = round(seconds, 1)
    return result


def run(
    project: str,
    location: str,
    tuning_job: str,
    **options,
) -> TuningResult:
    """The component's body: wait with clients from the shared factory."""
    name = tuning_job.strip()
    if not name.startswith("projects/") or "/tuningJobs/" not in name:
        raise UserError(
            f"tuning_job {tuning_job!r} is not a tuning job resource name "
            "(projects/P/locations/L/tuningJobs/ID)",
            field="tuning_job",
        )
    return wait_for_job(
        lambda: TUNING_JOBS.client(project, location), name, location=location, **options
    )
