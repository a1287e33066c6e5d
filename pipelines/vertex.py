"""Vertex AI Pipelines: build a ``PipelineJob``, submit it, schedule it, wait for it.

The CLI's ``submit`` and ``schedule`` only parse options and print; everything that
talks to Vertex AI Pipelines is here. Arguments are checked (types, required
parameters, model options) before any call, so a mistake never creates a run.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.gcp_names import MAX_DISPLAY_NAME

TERMINAL_STATES = frozenset(
    {"PIPELINE_STATE_SUCCEEDED", "PIPELINE_STATE_FAILED", "PIPELINE_STATE_CANCELLED"}
)
MAX_CONCURRENT_RUNS = 1  # a scheduled run never overlaps the previous one
SDK_LOGGER = "google.cloud.aiplatform"
CONSOLE_LINK = "console.cloud.google.com"


class _CurrentStderr:
    """A stream that writes to whatever ``sys.stderr`` is when a record is logged."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _NoConsoleLinks(logging.Filter):
    """Drops the SDK's Cloud Console links: an emulator's job has no console page."""

    def filter(self, record: logging.LogRecord) -> bool:
        return CONSOLE_LINK not in record.getMessage()


def _is_stdout(stream: Any) -> bool:
    return (
        stream is sys.stdout
        or stream is sys.__stdout__
        or getattr(stream, "name", "") == "<stdout>"
    )


def route_sdk_logs() -> None:
    """The aiplatform SDK logs "Creating PipelineJob" and console links to *stdout* (a
    StreamHandler per module logger); send them to stderr, so stdout carries only what
    the command prints (one JSON document with --json). On the emulator, no console
    links. Idempotent; call after importing the SDK modules that log."""
    from gemini_sft_kfp.core.clients import vertex_emulator_url

    on_emulator = vertex_emulator_url() is not None
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not (name == SDK_LOGGER or name.startswith(SDK_LOGGER + ".")):
            continue
        if not isinstance(logger, logging.Logger):
            continue
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and _is_stdout(handler.stream):
                handler.setStream(_CurrentStderr())  # type: ignore[arg-type]
            handler.filters = [f for f in handler.filters if not isinstance(f, _NoConsoleLinks)]
            if on_emulator:
                handler.addFilter(_NoConsoleLinks())


@dataclass(frozen=True)
class Template:
    """A compiled pipeline, read and parsed once (a ~80 kB YAML takes ~0.1 s to parse);
    every check, the parameters and the ``PipelineJob`` use this parse."""

    path: Path
    document: dict[str, Any]  # as in the file: a PipelineSpec, or a PipelineJob holding one

    @classmethod
    def load(cls, path: Path | str) -> Template:
        """The template at ``path``, checked (one line naming the file if it is not one)."""
        from gemini_sft_kfp.pipelines.checks import check_template

        return cls(Path(path), check_template(path) or {})

    @property
    def spec(self) -> dict[str, Any]:
        return self.document.get("pipelineSpec", self.document)

    @property
    def name(self) -> str:
        """The pipeline's own name (``pipelineInfo.name``)."""
        return str(self.spec["pipelineInfo"]["name"])


@dataclass(frozen=True)
class CloudRun:
    """One pipeline, its checked arguments and where it runs."""

    pipeline: str
    project: str
    location: str
    pipeline_root: str
    arguments: dict[str, Any]
    template: Template | None = None  # None: compile now
    image: str | None = None
    encryption_key: str | None = None


def cloud_arguments(
    pipeline: str, named: dict[str, Any], extra: list[str], template: Template | None = None
) -> dict[str, Any]:
    """The pipeline's typed arguments from named options and ``NAME=VALUE`` pairs, checked.

    With ``template`` (``submit --template``) the parameters are that compiled pipeline's
    own (its root ``inputDefinitions``), whatever pipeline it is. Local data paths are
    refused: the run reads its data in Google Cloud, never from this machine."""
    from gemini_sft_kfp.pipelines.compile import pipeline_by_name
    from gemini_sft_kfp.pipelines.params import build_arguments, check_required

    if template is not None:
        signature = TemplateSignature.of(template.spec)
        arguments = build_arguments(signature, named, extra)
        check_required(signature, arguments)
        check_no_local_paths(arguments)
        return arguments
    pipeline_func = pipeline_by_name(pipeline)
    arguments = build_arguments(pipeline_func, named, extra)
    check_required(pipeline_func, arguments)
    check_no_local_paths(arguments)
    from gemini_sft_kfp.pipelines.checks import check_run_arguments

    # gs:// data is read by the run's service account: the first task reads it
    check_run_arguments(pipeline_func, arguments, read_remote=False)
    return arguments


REMOTE_PREFIXES = ("gs://", "https://")
DATA_SUFFIXES = ("_data", "_uri", "_path", "_file")  # of a parameter's name
FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".txt", ".parquet", ".tfrecord", ".yaml")


def _names_local_data(name: str, value: str) -> bool:
    import os

    if name.endswith(DATA_SUFFIXES):
        return True  # a data parameter: the run can read only gs:// or https://
    if "://" in value:
        return False
    return value.lower().endswith(FILE_SUFFIXES) or (os.sep in value and os.path.exists(value))


def check_no_local_paths(arguments: dict[str, Any]) -> None:
    """A data parameter (``training_data``, any ``*_data``/``*_uri``/``*_path``/``*_file``),
    a value naming a data file (``x.jsonl``) or a path that exists here must be gs:// or
    https://: Vertex cannot read this machine. One line naming the parameter."""
    for name, value in arguments.items():
        if not isinstance(value, str) or not value or value.startswith(REMOTE_PREFIXES):
            continue
        if _names_local_data(name, value):
            raise UserError(
                "is a local path, not gs:// or https://; Vertex AI cannot read this machine: "
                "upload it (gcloud storage cp FILE gs://BUCKET/...) and pass the gs:// URI",
                file=value,
                field=name,
            )


_KFP_TYPES = {
    "NUMBER_INTEGER": "Integer",
    "NUMBER_DOUBLE": "Float",
    "BOOLEAN": "Boolean",
    "STRING": "String",
    "LIST": "List",
    "STRUCT": "Dict",
}


@dataclass(frozen=True)
class TemplateInput:
    type: str
    optional: bool
    default: Any = None


@dataclass(frozen=True)
class TemplateSignature:
    """A compiled pipeline's parameters, shaped like a KFP pipeline function's
    ``component_spec.inputs`` so ``pipelines.params`` types and checks them alike."""

    inputs: dict[str, TemplateInput]

    @property
    def component_spec(self) -> TemplateSignature:
        return self

    @classmethod
    def of(cls, spec: dict[str, Any]) -> TemplateSignature:
        """The parameters of a parsed pipeline spec (``Template.spec``)."""
        declared = ((spec.get("root") or {}).get("inputDefinitions") or {}).get("parameters")
        inputs = {}
        for name, definition in (declared or {}).items():
            kind = definition.get("parameterType", "STRING")
            has_default = "defaultValue" in definition
            inputs[name] = TemplateInput(
                type=_KFP_TYPES.get(kind, "String"),
                optional=has_default or bool(definition.get("isOptional")),
                default=definition.get("defaultValue"),
            )
        return cls(inputs)


def pipeline_job(
    run: CloudRun, workdir: Path, *, display_name: str | None = None, job_id: str | None = None
):
    """A configured ``aiplatform.PipelineJob`` (not yet submitted), named ``display_name``
    or else as ``default_display_name`` says. Its options were checked by
    ``checks.check_submission`` (``submit``, ``schedule``)."""
    from gemini_sft_kfp.pipelines.compile import template_for

    from gemini_sft_kfp.core.clients import init_aiplatform
    from gemini_sft_kfp.core.labels import merge_labels

    init_aiplatform(run.project, run.location)
    route_sdk_logs()
    template = run.template or Template.load(template_for(run.pipeline, workdir, run.image))
    check_image(template)
    labels = run.arguments.get("labels", {})
    return _sdk_pipeline_job(
        template,
        display_name=display_name or default_display_name(run),
        job_id=job_id,
        pipeline_root=run.pipeline_root,
        parameter_values=run.arguments,
        enable_caching=False,
        encryption_spec_key_name=run.encryption_key,
        labels=merge_labels(labels) or None,  # Vertex rejects invalid label keys/values
        project=run.project,
        location=run.location,
    )


def default_display_name(run: CloudRun, suffix: str = "") -> str:
    """A ``--template`` run: the template's own pipeline name (not ours: it may be any
    pipeline); a shipped pipeline's: ``gemini-PIPELINE`` (``gemini-sft``). Then ``suffix``,
    within Vertex AI's limit."""
    name = run.template.name if run.template is not None else f"gemini-{run.pipeline}"
    return name[: MAX_DISPLAY_NAME - len(suffix)] + suffix


def _sdk_pipeline_job(template: Template, **options: Any):
    """``aiplatform.PipelineJob`` from ``template``'s parse. The SDK takes only a
    ``template_path``, which it would read and parse once more; for the constructor's
    duration its loader returns our parse (a copy: the SDK edits it) for that path. An SDK
    that loads templates some other way reads the file itself: slower, not wrong."""
    import copy

    from google.cloud import aiplatform
    from google.cloud.aiplatform.utils import yaml_utils

    path = str(template.path)
    sdk_load = yaml_utils.load_yaml

    def load(location: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if location == path:
            return copy.deepcopy(template.document)
        return sdk_load(location, *args, **kwargs)

    yaml_utils.load_yaml = load
    try:
        return aiplatform.PipelineJob(template_path=path, **options)
    finally:
        yaml_utils.load_yaml = sdk_load


def check_image(template: Template) -> None:
    """Refuse a template whose tasks name the placeholder image (Vertex AI cannot pull
    it; the run would fail at its first task); against the emulator, only warn."""
    import warnings

    from gemini_sft_kfp.pipelines.compile import spec_images

    from gemini_sft_kfp.core.clients import vertex_emulator_url
    from gemini_sft_kfp.runtime.image import IMAGE_FIX, PlaceholderImageWarning, is_placeholder

    placeholders = sorted(i for i in spec_images(template.spec) if is_placeholder(i))
    if not placeholders:
        return
    message = f"names the placeholder image {placeholders[0]}, which nobody can pull: {IMAGE_FIX}"
    if vertex_emulator_url():
        warnings.warn(f"{template.path}: {message}", PlaceholderImageWarning, stacklevel=2)
        return
    raise UserError(message, file=str(template.path), field="image")


def submit(
    run: CloudRun,
    *,
    display_name: str | None = None,
    job_id: str | None = None,
    service_account: str | None = None,
    network: str | None = None,
):
    """Create the run on Vertex AI Pipelines; returns the submitted ``PipelineJob``."""
    from gemini_sft_kfp.pipelines.checks import check_submission

    check_submission(
        pipeline_root=run.pipeline_root,
        job_id=job_id,
        display_name=display_name,
        service_account=service_account,
        network=network,
    )
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
    from gemini_sft_kfp.pipelines.checks import check_schedule, check_submission

    check_schedule(cron, start_time=start_time, end_time=end_time, max_run_count=max_run_count)
    check_submission(
        pipeline_root=run.pipeline_root,
        display_name=display_name,
        service_account=service_account,
        network=network,
        name_field="schedule-name",
    )
    with tempfile.TemporaryDirectory() as workdir:
        job = pipeline_job(run, Path(workdir))
        return job.create_schedule(
            cron=cron,
            display_name=display_name or default_display_name(run, "-schedule"),
            start_time=start_time,
            end_time=end_time,
            max_run_count=max_run_count,
            max_concurrent_run_count=MAX_CONCURRENT_RUNS,
            service_account=service_account,
            network=network,
        )


@dataclass(frozen=True)
class FailedTask:
    """The task a failed run failed in, and its error, as Vertex reports them."""

    name: str
    message: str


def failed_tasks(job_detail: Any) -> list[FailedTask]:
    """The failed tasks of a ``PipelineJob``'s ``job_detail`` (proto or REST dict), the
    innermost first: Vertex also marks each enclosing DAG (the root, a condition) FAILED
    with "The DAG failed because ..."; those come last."""
    details = _field(job_detail, "task_details", "taskDetails") or []
    failed = []
    for task in details:
        state = _field(task, "state")
        if getattr(state, "name", state) != "FAILED":
            continue
        error = _field(task, "error")
        message = (_field(error, "message") if error is not None else "") or ""
        failed.append(FailedTask(_field(task, "task_name", "taskName") or "?", message))
    return sorted(failed, key=lambda task: task.message.startswith("The DAG failed"))


def _field(message: Any, snake: str, camel: str | None = None) -> Any:
    if isinstance(message, dict):
        return message.get(camel or snake, message.get(snake))
    return getattr(message, snake, None)


def end_line(job, state: str) -> str:
    """``NAME ended STATE``, and for a failed run its failed task's name and error (or the
    run's own error when no task failed): what ``submit --wait`` prints last."""
    line = f"{job.resource_name} ended {state}"
    if state == "PIPELINE_STATE_SUCCEEDED":
        return line
    resource = job.gca_resource
    failure = first_failure(resource.job_detail, resource.error.message if resource.error else "")
    return f"{line}: {failure}" if failure else line


def first_failure(job_detail: Any, error: str = "") -> str:
    """``task NAME failed: MESSAGE`` for the first failed task of a run (its ``jobDetail``,
    proto or REST JSON), else the run's own ``error`` message, else ""."""
    tasks = [t for t in failed_tasks(job_detail) if t.message]
    return f"task {tasks[0].name} failed: {tasks[0].message}" if tasks else error


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
