"""Create a tuning job at most once per pipeline task.

The tuning API has no request id: the server never deduplicates creates, so a blind
retry after a timeout can start a second billed job. Before each create we therefore
look, in this order, for (1) the job this task already recorded in ``gcp_resources``,
(2) a job carrying this task's idempotency label. A create that fails ambiguously
(5xx, 429, timeout, dropped connection) is followed by another label look-up before
the next attempt, never by a blind retry.

Reuse policy: a job found that is still active, or SUCCEEDED, or CANCELLED (a person
cancelled it: respected, the wait fails) is reused. A job that ended FAILED or EXPIRED
produced nothing, so a retried task may start a fresh one; that one carries the same
label.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
import uuid
import warnings
from collections.abc import Callable

from gemini_sft_kfp.components.launch_tuning_job.request import TuningRequest

from gemini_sft_kfp.core import gcp_resources
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.job_states import EXPIRED, FAILED, state_name
from gemini_sft_kfp.core.retry import call_with_retry, http_status, is_transient

log = logging.getLogger(__name__)

IDEMPOTENCY_LABEL = "gemini_sft_task"  # an identifier: no "-" for filters to misparse
RESOURCE_TYPE = "TuningJob"
CREATE_ATTEMPTS = 5
CREATE_TIMEOUT_MS = 120_000
READ_TIMEOUT_MS = 60_000  # a hung get/list times out and is retried, never blocks forever
CREATE_BACKOFF_SECONDS = (2.0, 30.0)  # initial, maximum wait between create attempts
_NOT_REUSABLE = frozenset({FAILED, EXPIRED})


def _unresolved(value: str) -> bool:
    """A KFP placeholder left as text (outside a pipeline, or not resolved by the runner)."""
    return not value or value.startswith("{{$")


def idempotency_value(
    *,
    idempotency_key: str = "",
    pipeline_job_id: str = "",
    task_name: str = "",
    fingerprint: str = "",
) -> str:
    """The label value that identifies "this task's job" (a valid label value, <= 63 chars).

    Given key: used as is (hashed if it is not a valid label value). Inside a pipeline:
    run id + task name + what the job does, so loop iterations with different inputs
    get different jobs while retries of one task find theirs. Otherwise: random, which
    still makes an ambiguous create safe within this call.
    """
    key = (idempotency_key or "").strip()
    if key:
        valid = len(key) <= 63 and all(c.islower() or c.isdigit() or c in "-_" for c in key)
        return key if valid else hashlib.sha256(key.encode()).hexdigest()[:40]
    if not _unresolved(pipeline_job_id) and not _unresolved(task_name):
        raw = f"{pipeline_job_id}\n{task_name}\n{fingerprint}"
        return hashlib.sha256(raw.encode()).hexdigest()[:40]
    return f"adhoc-{uuid.uuid4().hex}"


def _reusable(job) -> bool:
    return state_name(job.state) not in _NOT_REUSABLE


def _list_jobs(client, filter_text: str) -> list:
    def _list():
        config = {"page_size": 100, **({"filter": filter_text} if filter_text else {})}
        return list(client.tunings.list(config=config))

    return call_with_retry(_list)


def find_task_job(client, label_value: str):
    """The newest reusable job carrying this task's label, or None (lists are retried)."""
    try:
        jobs = _list_jobs(client, f'labels.{IDEMPOTENCY_LABEL}="{label_value}"')
    except Exception as exc:
        if http_status(exc) != 400:
            raise
        # A service that rejects the filter must not lead to a duplicate: scan all jobs.
        log.warning("label filter rejected (%s); listing all tuning jobs instead", exc)
        jobs = _list_jobs(client, "")
    # Filter again client-side: never trust that the server applied the filter.
    mine = [j for j in jobs if (j.labels or {}).get(IDEMPOTENCY_LABEL) == label_value]
    reusable = [j for j in mine if _reusable(j)]
    if len(reusable) > 1:
        log.warning("%d jobs carry task label %s; reusing the newest", len(reusable), label_value)
    reusable.sort(key=lambda j: str(j.create_time or ""), reverse=True)
    return reusable[0] if reusable else None


def _recorded_job(client, path: str | None):
    """The job a previous attempt of this task wrote to ``gcp_resources``, if reusable."""
    name = gcp_resources.read(path, RESOURCE_TYPE)
    if not name:
        return None
    try:
        job = call_with_retry(client.tunings.get, name=name)
    except Exception as exc:
        if http_status(exc) != 404:
            raise
        log.warning("recorded job %s no longer exists; looking further", name)
        return None
    if _reusable(job):
        return job
    log.info("recorded job %s ended %s; looking further", name, state_name(job.state))
    return None


def _create(client, request: TuningRequest, labels: dict[str, str]):
    from google.genai import types

    http_options = types.HttpOptions(timeout=CREATE_TIMEOUT_MS)
    if request.extra_body:
        http_options.extra_body = request.extra_body
    config = types.CreateTuningJobConfig(
        **{**request.config, "labels": labels}, http_options=http_options
    )
    with warnings.catch_warnings():  # tunings.tune is stable on Vertex; the SDK warns anyway
        warnings.filterwarnings("ignore", message=".*tuning implementation is experimental")
        return client.tunings.tune(
            base_model=request.base_model,
            training_dataset=types.TuningDataset(gcs_uri=request.training_dataset_uri),
            config=config,
        )


def _user_error_for(exc: BaseException) -> UserError | None:
    """Rejections the user must fix (bad argument, permission, missing model or data)."""
    status = http_status(exc)
    if status not in (400, 403, 404, 409):
        return None
    message = getattr(exc, "message", None) or str(exc)
    hint = {
        403: " (check that the caller, and the service account if given, may create "
        "tuning jobs and read the dataset)",
        404: " (check project, location, the base or pre-tuned model and the dataset URIs)",
    }.get(status, "")
    return UserError(
        f"the tuning service rejected the job: {status} {message}{hint}", code=str(status)
    )


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
) -> str:
    """Resume, find or create this task's tuning job; record it; return its resource name.

    ``preflight`` runs only when a job is about to be created.
    """
    job = _recorded_job(client, gcp_resources_path)
    if job is not None:
        log.info("resuming tuning job %s (recorded by an earlier attempt)", job.name)
    else:
        job = find_task_job(client, label_value)
        if job is not None:
            log.info(
                "reusing tuning job %s (label %s=%s, state %s)",
                job.name,
                IDEMPOTENCY_LABEL,
                label_value,
                state_name(job.state),
            )
    if job is None:
        if preflight is not None:
            preflight()
        labels = {**request.config.get("labels", {}), IDEMPOTENCY_LABEL: label_value}
        job = _create_once(client, request, labels, label_value, create_attempts, sleep)
    if gcp_resources_path:
        gcp_resources.write(gcp_resources_path, RESOURCE_TYPE, job.name, location)
    return job.name


def _create_once(client, request, labels, label_value, attempts, sleep):
    """Create; after any failure that is not a clear rejection, look for the job first.

    Ambiguous failures (5xx, 429, timeouts, dropped connections) are tried again with
    backoff; anything else unexpected (e.g. a response that cannot be parsed) is raised,
    unless the look-up shows the job was created after all.
    """
    for attempt in range(1, attempts + 1):
        try:
            job = _create(client, request, labels)
            options = {k: v for k, v in request.config.items() if k != "labels"}
            log.info(
                "created tuning job %s: base %s, training %s, options %s",
                job.name,
                request.base_model,
                request.training_dataset_uri,
                options or "defaults",
            )
            return job
        except Exception as exc:
            user_error = _user_error_for(exc)
            if user_error is not None:
                raise user_error from exc
            again = is_transient(exc) and attempt < attempts
            log.warning(
                "create attempt %d failed (%s); checking whether the job exists%s",
                attempt,
                exc,
                " before trying again" if again else "",
            )
            if again:
                sleep(backoff_seconds(attempt))
            found = find_task_job(client, label_value)
            if found is not None:
                log.info("the job was created after all: %s", found.name)
                return found
            if not again:
                raise
    raise AssertionError("unreachable")


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter between create attempts (1-based ``attempt``)."""
    initial, maximum = CREATE_BACKOFF_SECONDS
    return min(maximum, initial * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


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
    **request_inputs,
) -> str:
    """Check the inputs, then resume / find / create the job (the component's whole body).

    Before a create (not on a resume), the dataset objects are checked to exist and the
    pre-tuned model to be readable: a typo costs a second, not a failed job.
    """
    from gemini_sft_kfp.components.launch_tuning_job.request import build_request

    request = build_request(location=location, **request_inputs)  # before any API call
    label_value = idempotency_value(
        idempotency_key=idempotency_key,
        pipeline_job_id=pipeline_job_id,
        task_name=task_name,
        fingerprint=request.fingerprint(),
    )
    if client is None:
        from gemini_sft_kfp.core.clients import genai_client

        client = genai_client(project, location, timeout_ms=READ_TIMEOUT_MS)

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
    )
