"""Vertex AI Pipelines: build a ``PipelineJob``, submit it, schedule it, wait for it.

The CLI's ``submit`` and ``schedule`` only parse options and print; everything that
talks to Vertex AI Pipelines is here. Arguments are checked (types, required
parameters, model options) before any call, so a mistake never creates a run.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_sft_kfp.core.errors import UserError

TERMINAL_STATES = frozenset(
    {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}
)
MAX_CONCURRENT_RUNS = 1  # a scheduled run never overlaps the previous one


@dataclass(frozen=True)
class CloudRun:
    """One pipeline, its checked arguments and where it runs."""

    pipeline: str
    project: str
    location: str
    pipeline_root: str
    arguments: dict[str, Any]
    template: Path | None = None  # None: compile now
    image: str | None = None
    encryption_key: str | None = None


def cloud_arguments(pipeline: str, named: dict[str, Any], extra: list[str]) -> dict[str, Any]:
    """The pipeline's typed arguments from named options and ``NAME=VALUE`` pairs, checked."""
    from gemini_sft_kfp.pipelines.compile import pipeline_by_name
    from gemini_sft_kfp.pipelines.params import build_arguments, check_required

    pipeline_func = pipeline_by_name(pipeline)
    arguments = build_arguments(pipeline_func, named, extra)
    check_required(pipeline_func, arguments)
    from gemini_sft_kfp.pipelines.checks import check_run_arguments

    # gs:// data is read by the run's service account: the first task reads it
    check_run_arguments(pipeline_func, arguments, read_remote=False)
    return arguments


def pipeline_job(
    run: CloudRun, workdir: Path, *, display_name: str | None = None, job_id: str | None = None
):
    """A configured ``aiplatform.PipelineJob`` (not yet submitted)."""
    from gemini_sft_kfp.pipelines.compile import template_for
    from google.cloud import aiplatform

    from gemini_sft_kfp.core.clients import init_aiplatform
    from gemini_sft_kfp.core.labels import merge_labels

    if not run.pipeline_root.startswith("gs://"):
        raise UserError("must be a gs:// URI", field="pipeline-root")
    init_aiplatform(run.project, run.location)
    template_path = run.template or template_for(run.pipeline, workdir, run.image)
    check_image(template_path)
    labels = run.arguments.get("labels", {})
    return aiplatform.PipelineJob(
        display_name=display_name or f"gemini-{run.pipeline}",
        template_path=str(template_path),
        job_id=job_id,
        pipeline_root=run.pipeline_root,
        parameter_values=run.arguments,
        enable_caching=False,
        encryption_spec_key_name=run.encryption_key,
        labels=merge_labels(labels) or None,  # Vertex rejects invalid label keys/values
        project=run.project,
        location=run.location,
    )


def check_image(template: Path) -> None:
    """Refuse a template whose tasks name the placeholder image (Vertex AI cannot pull
    it; the run would fail at its first task); against the emulator, only warn."""
    import warnings

    from gemini_sft_kfp.pipelines.compile import executor_images

    from gemini_sft_kfp.core.clients import vertex_emulator_url
    from gemini_sft_kfp.core.image import IMAGE_FIX, PlaceholderImageWarning, is_placeholder

    placeholders = sorted(
        i for i in executor_images(Path(template).read_text()) if is_placeholder(i)
    )
    if not placeholders:
        return
    message = f"names the placeholder image {placeholders[0]}, which nobody can pull: {IMAGE_FIX}"
    if vertex_emulator_url():
        warnings.warn(f"{template}: {message}", PlaceholderImageWarning, stacklevel=2)
        return
    raise UserError(message, file=str(template), field="image")


def submit(
    run: CloudRun,
    *,
    display_name: str | None = None,
    job_id: str | None = None,
    service_account: str | None = None,
    network: str | None = None,
):
    """Create the run on Vertex AI Pipelines; returns the submitted ``PipelineJob``."""
    from gemini_sft_kfp.pipelines.checks import check_template

    check_template(run.template)
    with tempfile.TemporaryDirectory() as workdir:
        job = pipeline_job(run, Path(workdir), display_name=display_name, job_id=job_id)
        job.submit(service_account=service_account, network=network)
    return job


def schedule(
    run: CloudRun,
    *,
    cron: str,
    display_name: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    max_run_count: int | None = None,
    service_account: str | None = None,
    network: str | None = None,
):
    """Schedule recurring runs, one at a time; returns the ``PipelineJobSchedule``."""
    from gemini_sft_kfp.pipelines.checks import check_schedule, check_template

    check_schedule(cron, start_time=start_time, end_time=end_time, max_run_count=max_run_count)
    check_template(run.template)
    with tempfile.TemporaryDirectory() as workdir:
        job = pipeline_job(run, Path(workdir))
        return job.create_schedule(
            cron=cron,
            display_name=display_name or f"gemini-{run.pipeline}-schedule",
            start_time=start_time,
            end_time=end_time,
            max_run_count=max_run_count,
            max_concurrent_run_count=MAX_CONCURRENT_RUNS,
            service_account=service_account,
            network=network,
        )


def wait_for_pipeline_job(job, *, initial: float = 2.0, maximum: float = 60.0) -> str:
    """Poll the run (backoff, transient errors retried) until it ends; its final state."""
    import time

    from gemini_sft_kfp.core.retry import backoff, call_with_retry

    for delay in backoff(initial, maximum):
        state = call_with_retry(lambda: job.state.name)
        if state in TERMINAL_STATES:
            return state
        time.sleep(delay)
    raise AssertionError("unreachable")
