"""Checks of a submission before anything is created on Vertex AI: the compiled template,
the schedule's cron and times. Each failure is a one-line ``UserError`` naming the option.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError


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
    if max_run_count is not None and max_run_count < 1:
        raise UserError(
            f"--max-run-count must be at least 1 (leave it out for no limit), got {max_run_count}",
            field="max-run-count",
        )


def check_run_arguments(pipeline_func, arguments: dict, *, read_remote: bool) -> None:
    """The pipeline's first-task check (``check_run_inputs``) on ``arguments`` plus the
    pipeline's defaults, before ``run``/``submit``/``schedule`` create anything."""
    from gemini_sft_kfp.components.check_run_inputs.executor import check_arguments

    inputs = pipeline_func.component_spec.inputs
    complete = {name: spec.default for name, spec in inputs.items() if spec.optional} | arguments
    check_arguments(complete, read_remote=read_remote)
