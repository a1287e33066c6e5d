"""What the exit handler does: stop the spending a failed run left behind, and say so.

A pipeline can fail (or be cancelled) while its tuning job keeps running and billing:
the wait step timed out, its pod was evicted, the run was cancelled before the wait
could react. The launch step labels its job with the run's idempotency key, so the job
is found here by label even when the launch step's outputs never reached the pipeline.
Nothing is deleted: a job that already finished, and its model, are left as they are.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from gemini_sft_kfp.core import cloud_job, job_states
from gemini_sft_kfp.core.clients import genai_client
from gemini_sft_kfp.core.cloud_job import IDEMPOTENCY_LABEL, idempotency_value, resumed_run_key
from gemini_sft_kfp.core.labels import pipeline_run_labels
from gemini_sft_kfp.core.retry import call_with_retry
from gemini_sft_kfp.core.tuning_job import TUNING_JOBS

log = logging.getLogger(__name__)

RUN_BILLING_LABEL = "vertex-ai-pipelines-run-billing-id"
"""Label Vertex Pipelines asks every job of a run to carry (fallback look-up)."""


@dataclass
class RunReport:
    """The exit handler's findings, rendered as the run's Markdown report."""

    state: str
    pipeline_job: str = ""
    error_code: int | None = None
    error_message: str = ""
    active_jobs: list[str] = field(default_factory=list)
    cancelled_jobs: list[str] = field(default_factory=list)
    cancel_errors: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        lines = [f"# Pipeline run: {self.state}", ""]
        if self.pipeline_job:
            lines.append(f"- pipeline job: `{self.pipeline_job}`")
        if self.error_message:
            lines.append(f"- error ({self.error_code}): {self.error_message}")
        for job in self.cancelled_jobs:
            lines.append(f"- cancelled still-running tuning job `{job}`")
        for error in self.cancel_errors:
            lines.append(f"- **could not cancel**: {error}")
        if self.state != "SUCCEEDED" and not (self.cancelled_jobs or self.cancel_errors):
            lines.append("- no running tuning job of this run was found")
        return "\n".join(lines) + "\n"


def run_label(run_key: str) -> tuple[str, str] | None:
    """The (label key, value) that marks this run's tuning jobs, or None if we cannot tell.

    ``run_key`` is what the pipeline passed to the launch step as its idempotency key, so
    the launch step's own rule turns it into the label value.
    """
    if run_key and not run_key.startswith("{{$"):
        return IDEMPOTENCY_LABEL, idempotency_value(idempotency_key=run_key)
    billing_id = pipeline_run_labels().get(RUN_BILLING_LABEL)
    if billing_id:
        return RUN_BILLING_LABEL, billing_id
    return None


def find_active_jobs(client, label: tuple[str, str]) -> list[str]:
    """Names of this run's tuning jobs that are still alive (and maybe billing)."""
    key, value = label
    jobs = call_with_retry(TUNING_JOBS.list, client, f"labels.{key}={value}")
    # Filter again client-side: cancelling another run's job would be far worse.
    mine = cloud_job.labelled(jobs, key, value)
    return [
        job.name for job in mine if job_states.state_name(job.state) in job_states.ACTIVE_STATES
    ]


def cancel_jobs(client, names: list[str], report: RunReport) -> None:
    for name in names:
        try:
            cloud_job.cancel(TUNING_JOBS, client, name)
        except Exception as exc:
            report.cancel_errors.append(f"{name}: {exc}")
            log.error("could not cancel tuning job %s: %s", name, exc)
        else:
            report.cancelled_jobs.append(name)
            log.warning("cancelled tuning job %s left running by the failed run", name)


def run(
    *,
    project: str,
    location: str,
    state: str,
    pipeline_job: str = "",
    error_code: int | None = None,
    error_message: str = "",
    run_key: str = "",
    cancel_running_jobs: bool = True,
    report_path: str | None = None,
) -> str:
    """Cancel this run's running tuning jobs when the run did not succeed; write the report.

    Raises RuntimeError when a job could not be cancelled, so the run shows it.
    """
    report = RunReport(
        state=state, pipeline_job=pipeline_job, error_code=error_code, error_message=error_message
    )
    if state == "SUCCEEDED":
        log.info("pipeline run succeeded")
    else:
        log.error("pipeline run ended %s: %s", state, error_message or "(no message)")
        label = run_label(resumed_run_key(run_key))
        if cancel_running_jobs and label:
            client = genai_client(project, location)
            report.active_jobs = find_active_jobs(client, label)
            cancel_jobs(client, report.active_jobs, report)
    markdown = report.to_markdown()
    print(markdown)
    if report_path:
        os.makedirs(os.path.dirname(report_path) or ".", exist_ok=True)
        with open(report_path, "w", encoding="utf-8") as f:
            f.write(markdown)
    if report.cancel_errors:
        raise RuntimeError("could not cancel: " + "; ".join(report.cancel_errors))
    return state
