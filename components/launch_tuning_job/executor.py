"""Create a tuning job at most once per pipeline task.

The lifecycle (resume from ``gcp_resources``, find by idempotency label, create once,
reuse policy) is ``gemini_sft_kfp.jobs.runner``; this module builds the request,
the task's label and the checks that run before anything is billed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gemini_sft_kfp.components.launch_tuning_job.request import TuningRequest

from gemini_sft_kfp.jobs.identity import IDEMPOTENCY_LABEL, idempotency_value, resumed_run_key
from gemini_sft_kfp.jobs.runner import CREATE_ATTEMPTS, DEFAULT_QUOTA_TIMEOUT_SECONDS, CloudJob
from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

log = logging.getLogger(__name__)

__all__ = ["IDEMPOTENCY_LABEL", "check_quota_timeout", "idempotency_value", "launch", "run"]

MAX_QUOTA_TIMEOUT_SECONDS = 7 * 86_400  # a week of waiting for quota is surely a mistake


def check_quota_timeout(seconds: object) -> float:
    """``quota_timeout_seconds``: a number from 0 (a 429 is an ordinary transient error) to
    a week; NaN or a negative number is refused before anything runs, not inside the wait."""
    import math

    from gemini_sft_kfp.core.errors import UserError

    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise UserError(f"must be a number, got {seconds!r}", field="quota_timeout_seconds")
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_QUOTA_TIMEOUT_SECONDS:
        raise UserError(
            f"must be between 0 and {MAX_QUOTA_TIMEOUT_SECONDS} seconds, got {seconds}",
            field="quota_timeout_seconds",
        )
    return float(seconds)


def launch(
    client,
    request: TuningRequest,
    *,
    location: str,
    label_value: str,
    gcp_resources_path: str | None = None,
    create_attempts: int = CREATE_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    preflight: Callable[[], None] | None = None,
    quota_timeout_seconds: float = DEFAULT_QUOTA_TIMEOUT_SECONDS,
) -> str:
    """Resume, find or create this task's tuning job; record it; return its resource name.

    ``preflight`` runs only when a job is about to be created. A create refused for
    quota (429) is tried again, with a long backoff, for up to ``quota_timeout_seconds``.
    """

    def create(client, labels: dict[str, str]):
        job = TUNING_JOBS.create(
            client,
            base_model=request.base_model,
            training_dataset_uri=request.training_dataset_uri,
            config=request.config,
            labels=labels,
            extra_body=request.extra_body,
        )
        options = {k: v for k, v in request.config.items() if k != "labels"}
        log.info(
            "created tuning job %s: base %s, training %s, options %s",
            job.name,
            request.base_model,
            request.training_dataset_uri,
            options or "defaults",
        )
        return job

    job = CloudJob(
        TUNING_JOBS,
        lambda: client,
        location=location,
        gcp_resources_path=gcp_resources_path,
        sleep=sleep,
    )
    return job.start(
        create,
        label_value,
        labels=request.config.get("labels", {}),
        preflight=preflight,
        attempts=create_attempts,
        quota_timeout_seconds=quota_timeout_seconds,
    )


def run(
    project: str,
    location: str,
    *,
    gcp_resources_path: str | None = None,
    idempotency_key: str = "",
    pipeline_job_id: str = "",
    task_name: str = "",
    client=None,
    check_data: bool = True,
    quota_timeout_seconds: float = DEFAULT_QUOTA_TIMEOUT_SECONDS,
    **request_inputs,
) -> str:
    """Check the inputs, then resume / find / create the job (the component's whole body).

    Before a create (not on a resume), the dataset objects are checked to exist and the
    pre-tuned model to be readable: a typo costs a second, not a failed job.
    """
    from gemini_sft_kfp.components.launch_tuning_job.request import build_request

    check_quota_timeout(quota_timeout_seconds)
    request = build_request(location=location, **request_inputs)  # before any API call
    label_value = idempotency_value(
        idempotency_key=resumed_run_key(idempotency_key, pipeline_job_id),
        pipeline_job_id=resumed_run_key(pipeline_job_id, pipeline_job_id),
        task_name=task_name,
        fingerprint=request.fingerprint(),
    )
    if client is None:
        client = TUNING_JOBS.client(project, location)

    def preflight() -> None:
        from gemini_sft_kfp.components.launch_tuning_job import preflight as checks

        if request.base_model.startswith("projects/"):
            checks.check_pre_tuned_model(client, request.base_model, adapter_size)
        if check_data:
            checks.check_datasets_exist(project, request.dataset_uris())

    adapter_size = request_inputs.get("adapter_size")
    return launch(
        client,
        request,
        location=location,
        label_value=label_value,
        gcp_resources_path=gcp_resources_path,
        preflight=preflight,
        quota_timeout_seconds=quota_timeout_seconds,
    )
