"""Checks of a submission before anything is created on Vertex AI: the compiled template,
the schedule's cron and times. Each failure is a one-line ``UserError`` naming the option.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.gcp_names import MAX_DISPLAY_NAME


def check_template(path: Path | str | None) -> dict | None:
    """``--template``: a readable KFP pipeline spec (YAML or JSON with ``pipelineInfo``).
    Returns the document as parsed (a PipelineSpec, or a PipelineJob holding one), so a
    caller never reads the file again."""
    if path is None:
        return None
    import yaml

    from gemini_sft_kfp.core.inputs import check_input_file

    template = Path(path)
    check_input_file(template, field="template")  # a directory, FIFO, loop or missing file
    try:
        text = template.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError("not a text file (compiled YAML expected)", file=str(path)) from None
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=str(path),
            line=mark.line + 1 if mark else None,
        ) from None
    document = spec
    if isinstance(spec, dict) and "pipelineSpec" in spec:
        spec = spec["pipelineSpec"]
    if not isinstance(spec, dict) or "pipelineInfo" not in spec or "root" not in spec:
        raise UserError(
            "not a compiled KFP pipeline (no pipelineInfo/root); compile one with "
            "'gemini-sft compile'",
            file=str(path),
            field="template",
        )
    return document


def check_cron(cron: str) -> None:
    """A 5-field cron with an optional ``TZ=Zone`` prefix, as Vertex AI schedules take."""
    from gemini_sft_kfp.core.cron import Cron, CronError

    if not isinstance(cron, str) or not cron.strip():
        raise UserError(
            '--cron is empty; e.g. "0 3 * * 1" or "TZ=Europe/Paris 0 3 * * *"', field="cron"
        )
    try:
        Cron(cron)
    except CronError as exc:
        raise UserError(
            f"{exc} (minute hour day-of-month month day-of-week)", field="cron"
        ) from None


def parse_time(text: str, *, field: str) -> dt.datetime:
    """An RFC 3339 time with an offset (``2026-01-31T03:00:00Z``)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UserError(
            f"{text!r} is not an RFC 3339 time with an offset, e.g. 2026-01-31T03:00:00Z",
            field=field,
        )
    return moment


def check_schedule(
    cron: str,
    *,
    start_time: str | None = None,
    end_time: str | None = None,
    max_run_count: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Everything ``schedule`` sends besides the pipeline: cron, times, run count."""
    check_cron(cron)
    start = parse_time(start_time, field="start-time") if start_time else None
    end = parse_time(end_time, field="end-time") if end_time else None
    moment = now or dt.datetime.now(dt.UTC)
    if end is not None and end <= (start or moment):
        raise UserError(
            f"--end-time {end_time} is not after {'--start-time' if start else 'now'}",
            field="end-time",
        )
    if start is not None or end is not None:  # a first run past year 9999 is none
        from gemini_sft_kfp.core.cron import Cron, CronError

        try:
            Cron(cron).next_after(start or moment)
        except CronError as exc:
            raise UserError(f"{exc} (from --start-time {start_time})", field="start-time") from None
    if max_run_count is not None and not 1 <= max_run_count <= MAX_INT64:
        raise UserError(
            f"--max-run-count must be from 1 to {MAX_INT64} (leave it out for no limit), "
            f"got {max_run_count}",
            field="max-run-count",
        )


def check_run_arguments(pipeline_func, arguments: dict, *, read_remote: bool) -> None:
    """The pipeline's first-task check (``check_run_inputs``) on ``arguments`` plus the
    pipeline's defaults, before ``run``/``submit``/``schedule`` create anything."""
    from gemini_sft_kfp.components.check_run_inputs.executor import check_arguments

    inputs = pipeline_func.component_spec.inputs
    complete = {name: spec.default for name, spec in inputs.items() if spec.optional} | arguments
    check_arguments(complete, read_remote=read_remote)


MAX_INT64 = 2**63 - 1  # Vertex AI's int64 fields (max_run_count)
JOB_ID = re.compile(r"^[a-z][-a-z0-9]{0,127}$")  # the Vertex AI SDK's rule for a job id
NETWORK = re.compile(r"^projects/[^/\s]+/global/networks/[^/\s]+$")


def check_submission(
    *,
    pipeline_root: str,
    job_id: str | None = None,
    display_name: str | None = None,
    service_account: str | None = None,
    network: str | None = None,
    name_field: str = "run-name",
) -> None:
    """What ``submit``/``schedule`` pass to Vertex AI besides the pipeline's parameters,
    by the rules the SDK or the service applies: a one-line error naming the option, not
    the SDK's ValueError traceback nor a job created with a root it cannot write."""
    from gemini_sft_kfp.components.check_run_inputs.executor import SERVICE_ACCOUNT

    from gemini_sft_kfp.core.gcp_names import check_gcs_prefix

    check_gcs_prefix(pipeline_root, field="pipeline-root")
    if job_id is not None and not JOB_ID.match(job_id):
        raise UserError(
            f"invalid pipeline job id {job_id!r}: 1-128 characters, a lowercase letter "
            "first, then lowercase letters, digits or '-'",
            field="job-id",
        )
    if display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
        raise UserError(
            f"at most {MAX_DISPLAY_NAME} characters, got {len(display_name)}", field=name_field
        )
    if service_account is not None and not SERVICE_ACCOUNT.match(service_account):
        raise UserError(
            f"expected a service account email (NAME@PROJECT.iam.gserviceaccount.com), "
            f"got {service_account!r}",
            field="service-account",
        )
    if network is not None and not NETWORK.match(network):
        raise UserError(
            f"expected projects/PROJECT_NUMBER/global/networks/NETWORK, got {network!r}",
            field="network",
        )
