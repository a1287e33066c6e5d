"""`gemini-sft jobs`: list, get, cancel and read the logs of pipeline jobs and schedules.

Against Vertex AI Pipelines, or the emulator when ``VERTEX_AI_EMULATOR_HOST`` is set. NAME
is a resource name (``projects/.../pipelineJobs/ID`` or ``.../schedules/ID``) or a bare
id (``--schedule`` for a schedule id). With ``--json`` stdout carries exactly one JSON
document. The SDK is imported inside the commands (``gemini-sft --help`` stays fast).
"""

from __future__ import annotations

import typer

jobs_app = typer.Typer(
    no_args_is_help=True,
    help="List, inspect, cancel and read the logs of pipeline jobs and schedules.",
)

ProjectOption = typer.Option(
    None, "--project", envvar="GOOGLE_CLOUD_PROJECT", help="Google Cloud project."
)
LocationOption = typer.Option(
    None, "--location", envvar="GOOGLE_CLOUD_LOCATION", help="Vertex AI region."
)
JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")
ScheduleOption = typer.Option(False, "--schedule", help="NAME is a schedule id.")
NameArgument = typer.Argument(..., help="Resource name or id.")


def _echo_json(payload) -> None:
    import orjson

    from gemini_sft_kfp.cli.output import json_text

    typer.echo(json_text(payload, option=orjson.OPT_INDENT_2))


def _resolve(name: str, schedule: bool, project: str | None, location: str | None) -> str:
    from gemini_sft_kfp.pipelines import pipeline_jobs

    return pipeline_jobs.resource_name(
        pipeline_jobs.connect(project, location), name, schedule=schedule
    )


@jobs_app.command("list")
def list_command(
    schedules: bool = typer.Option(False, "--schedules", help="List schedules instead."),
    state: str | None = typer.Option(
        None, "--state", help="Only this state, e.g. FAILED, RUNNING, ACTIVE."
    ),
    limit: int = typer.Option(20, "--limit", min=0, help="At most this many (0: all)."),
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """Pipeline jobs (or schedules), newest first."""
    from gemini_sft_kfp.pipelines import pipeline_jobs

    pipeline_jobs.connect(project, location)
    records = pipeline_jobs.list_records(schedules=schedules, state=state, limit=limit)
    rows = [pipeline_jobs.summary(record) for record in records]
    if as_json:
        _echo_json({"schedules" if schedules else "pipeline_jobs": rows})
        return
    for row in rows:
        extra = row.get("cron") or row.get("createTime", "")
        typer.echo(
            f"{row.get('state', '?'):28} {row['name']}  {row.get('displayName', '')}  {extra}"
        )
    if not rows:
        typer.echo(f"no {'schedules' if schedules else 'pipeline jobs'}", err=True)


@jobs_app.command("get")
def get_command(
    name: str = NameArgument,
    schedule: bool = ScheduleOption,
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """One pipeline job or schedule: its state and, for a failed run, what failed."""
    from gemini_sft_kfp.pipelines import pipeline_jobs

    record = pipeline_jobs.get(_resolve(name, schedule, project, location))
    if as_json:
        _echo_json(record)
        return
    for key, value in pipeline_jobs.summary(record).items():
        typer.echo(f"{key}: {value}")
    failure = pipeline_jobs.first_failure(record)
    if failure:
        typer.echo(f"error: {failure}")


@jobs_app.command("cancel")
def cancel_command(
    name: str = NameArgument,
    schedule: bool = ScheduleOption,
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel a pipeline job; a schedule is paused (no further runs)."""
    from gemini_sft_kfp.pipelines import pipeline_jobs

    resolved = _resolve(name, schedule, project, location)
    outcome = pipeline_jobs.cancel(resolved)
    if as_json:
        _echo_json({"name": resolved, "outcome": outcome})
    else:
        typer.echo(f"{resolved}: {outcome}")


@jobs_app.command("logs")
def logs_command(
    name: str = NameArgument,
    tail: int = typer.Option(
        40, "--tail", min=0, help="Emulator: last lines of each task's log (0: all)."
    ),
    project: str | None = ProjectOption,
    location: str | None = LocationOption,
    as_json: bool = JsonOption,
) -> None:
    """Each task's state and error, and where its logs are (on the emulator: shown)."""
    from pathlib import Path

    from gemini_sft_kfp.pipelines import pipeline_jobs

    record = pipeline_jobs.get(_resolve(name, False, project, location))
    tasks = pipeline_jobs.task_logs(record)
    query = pipeline_jobs.cloud_logging_query(record)
    if as_json:
        _echo_json(
            {
                "name": record.get("name"),
                "state": record.get("state"),
                "error": pipeline_jobs.first_failure(record),
                "tasks": [vars(task) for task in tasks],
                "cloud_logging_filter": query,
            }
        )
        return
    typer.echo(f"{record.get('name')} {record.get('state')}")
    for task in tasks:
        typer.echo(f"  {task.name}: {task.state}" + (f": {task.error}" if task.error else ""))
        path = Path(task.log_path) if task.log_path else None
        if path is not None and path.is_file():
            lines = path.read_text(errors="replace").splitlines()
            for line in lines[-tail:] if tail else lines:
                typer.echo(f"    | {line}")
    if not tasks:
        typer.echo("  no task has run yet")
    if not any(task.log_path for task in tasks):
        typer.echo(f"task logs (Cloud Logging): gcloud logging read '{query}'")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the CLI."""
    app.add_typer(jobs_app, name="jobs")
