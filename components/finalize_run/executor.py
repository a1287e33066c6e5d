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

from gemini_sft_kfp.core.clients import genai_client
from gemini_sft_kfp.core.labels import pipeline_run_labels
from gemini_sft_kfp.core.retry import call_with_retry
from gemini_sft_kfp.jobs import runner as cloud_job
from gemini_sft_kfp.jobs import states as job_states
from gemini_sft_kfp.jobs.identity import (
    IDEMPOTENCY_LABEL,
    idempotency_value,
    labelled,
    resumed_run_key,
)
from gemini_sft_kfp.jobs.tuning import TUNING_JOBS

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
    model_fates: list[str] = field(default_factory=list)  # tuned models the run left

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
        lines.extend(f"- {fate}" for fate in self.model_fates)
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


def run_jobs(client, label: tuple[str, str]) -> list:
    """This run's tuning jobs (listed by label, filtered again client-side: touching
    another run's job would be far worse)."""
    key, value = label
    jobs = call_with_retry(TUNING_JOBS.list, client, f"labels.{key}={value}")
    return list(labelled(jobs, key, value))


def find_active_jobs(client, label: tuple[str, str], jobs: list | None = None) -> list[str]:
    """Names of this run's tuning jobs that are still alive (and maybe billing)."""
    mine = run_jobs(client, label) if jobs is None else jobs
    return [
        job.name for job in mine if job_states.state_name(job.state) in job_states.ACTIVE_STATES
    ]


OUTCOME_LABEL = "gemini_sft_outcome"
KEPT_AFTER_FAILURE = "kept-run-failed"


def settle_tuned_models(
    jobs: list, report: RunReport, *, project: str, location: str, keep_on_fail: bool
) -> None:
    """A run that failed after tuning (evaluation crashed, the run was cancelled during
    it...) never reached register or delete: its tuned model would be left in no stated
    place. Keep it with a label saying why (``keep_on_fail``), or delete it, and report
    which. A version holding an alias other than ``default`` (registered) is left alone."""
    from gemini_sft_kfp.components.delete_model.executor import run as delete_model

    from gemini_sft_kfp.core.registry import Registry, find_version

    succeeded = [
        job
        for job in jobs
        if job_states.state_name(job.state) == job_states.SUCCEEDED
        and getattr(getattr(job, "tuned_model", None), "model", None)
    ]
    if not succeeded:
        return
    registry = Registry(project, location)
    for job in succeeded:
        name = job.tuned_model.model
        try:
            version = find_version(registry, name)
            if version is None:
                report.model_fates.append(f"tuned model `{name}` is deleted")
                continue
            if set(version.aliases) - {"default"}:
                continue  # registered: in a stated place already
            if keep_on_fail:
                labels = {**version.labels, OUTCOME_LABEL: KEPT_AFTER_FAILURE}
                registry.update_version(version, labels=labels, version_description="")
                report.model_fates.append(
                    f"tuned model `{name}` kept (keep_on_fail), labelled "
                    f"{OUTCOME_LABEL}={KEPT_AFTER_FAILURE}: the run failed after tuning"
                )
            else:
                delete_model(registry, name)
                report.model_fates.append(
                    f"tuned model `{name}` deleted: the run failed after tuning "
                    "(keep_on_fail=false)"
                )
        except Exception as exc:  # report it; the run has failed already
            report.model_fates.append(f"**could not settle** tuned model `{name}`: {exc}")
            log.error("could not settle tuned model %s: %s", name, exc)


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
    keep_on_fail: bool = False,
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
        if label:
            client = genai_client(project, location)
            jobs = run_jobs(client, label)
            if cancel_running_jobs:
                report.active_jobs = find_active_jobs(client, label, jobs)
                cancel_jobs(client, report.active_jobs, report)
            settle_tuned_models(
                jobs,
                report,
                project=project,
                location=location,
                keep_on_fail=keep_on_fail,
            )
    markdown = report.to_markdown()
    print(markdown)
    if report_path:
        os.makedirs(os.path.dirname(report_path) or ".", exist_ok=True)
        with open(report_path, "w", encoding="utf-8") as f:
            f.write(markdown)
    if report.cancel_errors:
        raise RuntimeError("could not cancel: " + "; ".join(report.cancel_errors))
    return state
