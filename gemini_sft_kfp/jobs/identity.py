"""Which job is "this task's": the idempotency label, the local run's resume key, and
which found job is worth reusing.

The server does not deduplicate creates, so a task finds its job by a label it puts on
it (``IDEMPOTENCY_LABEL``); a local run that resumes a dead run's job hands its tasks
that run's key (``RESUME_KEY_ENV``, set by ``pipelines/local/resume.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterable
from typing import Any

from gemini_sft_kfp.core.labels import is_valid_value
from gemini_sft_kfp.jobs.states import CANCELLED, EXPIRED, FAILED, state_name

log = logging.getLogger(__name__)

IDEMPOTENCY_LABEL = "gemini_sft_task"  # an identifier: no "-" for filters to misparse


def label_filter(value: str, key: str = IDEMPOTENCY_LABEL) -> str:
    """The list filter of the jobs carrying this task's (or run's) idempotency label, or
    another label ``key``."""
    return f'labels.{key}="{value}"'


_NOT_REUSABLE = frozenset({FAILED, EXPIRED})


RESUME_KEY_ENV = "GEMINI_SFT_RESUME_RUN_KEY"
LOCAL_RUN_LABEL = "gemini_sft_local_run"
"""On every job a local run's task creates, the run's key: how a rerun finds a dead run's
jobs whatever pipeline made them (ours pass the key as their idempotency key; a user's
own pipeline labels its jobs with a hash of it)."""


def local_run_labels() -> dict[str, str]:
    """``{LOCAL_RUN_LABEL: key}`` in a task of a local run (``RESUME_KEY_ENV``), else {}."""
    key = os.environ.get(RESUME_KEY_ENV, "")
    return {LOCAL_RUN_LABEL: key} if key and is_valid_value(key) else {}


def resumed_run_key(key: str, pipeline_job_id: str | None = None) -> str:
    """``key``, or the key a local run gave its tasks: its own, or that of the dead earlier
    run whose job it resumes (set by ``pipelines/local/resume.py`` for the local runner's
    tasks only; never on Vertex).

    Given the ``pipeline_job_id``, only a key that is the run's id is replaced (what the
    shipped pipelines pass): a key of a user's own, e.g. one per ParallelFor iteration,
    stays as it is.
    """
    local = os.environ.get(RESUME_KEY_ENV)
    if not local or (pipeline_job_id is not None and key != pipeline_job_id):
        return key
    return local


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
        return key if is_valid_value(key) else hashlib.sha256(key.encode()).hexdigest()[:40]
    if in_pipeline(pipeline_job_id, task_name):
        raw = f"{pipeline_job_id}\n{task_name}\n{fingerprint}"
        return hashlib.sha256(raw.encode()).hexdigest()[:40]
    return f"adhoc-{uuid.uuid4().hex}"


def in_pipeline(pipeline_job_id: str, task_name: str) -> bool:
    """Both the run id and the task name were resolved by a pipeline runner."""
    return not _unresolved(pipeline_job_id) and not _unresolved(task_name)


def _unresolved(value: str) -> bool:
    """A KFP placeholder left as text (outside a pipeline, or not resolved by the runner)."""
    return not value or value.startswith("{{$")


def is_reusable(job: Any, *, cancelled: bool = True) -> bool:
    """Worth resuming: not FAILED or EXPIRED (nor CANCELLED, with ``cancelled=False``)."""
    state = state_name(job.state)
    return state not in _NOT_REUSABLE and (cancelled or state != CANCELLED)


def labelled(jobs: Iterable[Any], key: str, value: str) -> list[Any]:
    """The jobs carrying ``key=value``: never trust that the server applied a filter."""
    return [job for job in jobs if (job.labels or {}).get(key) == value]


def newest_reusable(jobs: list[Any], label_value: str, *, cancelled: bool = True) -> Any | None:
    reusable = [job for job in jobs if is_reusable(job, cancelled=cancelled)]
    if len(reusable) > 1:
        log.warning("%d jobs carry task label %s; reusing the newest", len(reusable), label_value)
    reusable.sort(key=lambda job: str(job.create_time or ""), reverse=True)
    return reusable[0] if reusable else None
