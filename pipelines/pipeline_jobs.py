"""Pipeline jobs and schedules on Vertex AI Pipelines (or the emulator): find, list,
cancel, and read what each task did. ``gemini-sft jobs`` only parses and prints.

Records are the service's REST JSON (``PipelineJob``, ``Schedule``): what the Console
and ``curl`` show, so a user can compare them field for field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gemini_sft_kfp.pipelines import vertex
from gemini_sft_kfp.pipelines.vertex import route_sdk_logs

from gemini_sft_kfp.core.errors import UserError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
SCHEDULES, PIPELINE_JOBS = "schedules", "pipelineJobs"
# a task's own log on Vertex: Cloud Logging, by the run's job id
VERTEX_LOG_QUERY = (
    'resource.type="aiplatform.googleapis.com/PipelineJob" '
    'AND labels."ml.googleapis.com/pipeline_job_id"="{job_id}"'
)


@dataclass(frozen=True)
class Where:
    project: str
    location: str

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"


def connect(project: str | None, location: str | None) -> Where:
    """The project and region (checked), with the aiplatform SDK initialised for them."""
    from gemini_sft_kfp.core.clients import init_aiplatform
    from gemini_sft_kfp.core.project import resolve_project_location

    where = Where(*resolve_project_location(project, location))
    init_aiplatform(where.project, where.location)
    import google.cloud.aiplatform  # noqa: F401 (its loggers exist once imported)

    route_sdk_logs()
    return where


def resource_name(where: Where, name: str, *, schedule: bool = False) -> str:
    """A full resource name from a name or a bare id (``--schedule``: a schedule id)."""
    if name.startswith("projects/"):
        return name
    if not _ID.match(name):
        raise UserError(
            f"{name!r} is neither a resource name (projects/.../pipelineJobs/ID) nor an id",
            field="name",
        )
    return f"{where.parent}/{SCHEDULES if schedule else PIPELINE_JOBS}/{name}"


def is_schedule(name: str) -> bool:
    return f"/{SCHEDULES}/" in name


def _as_dict(resource) -> dict:
    from google.protobuf import json_format

    return json_format.MessageToDict(resource.gca_resource._pb)


def _call(what: str, name: str, action):
    """Run an SDK call; the service's 404 / 400 become one line naming the resource."""
    from google.api_core import exceptions

    try:
        return action()
    except exceptions.NotFound:
        raise UserError(f"no such {what}: {name}", field="name") from None
    except (exceptions.BadRequest, exceptions.FailedPrecondition) as exc:
        raise UserError(f"{name}: {_service_message(exc)}", field="name") from None


def _service_message(exc) -> str:
    """The service's own message (REST errors also carry the method and URL)."""
    try:
        return exc.response.json()["error"]["message"]
    except Exception:  # grpc, or no JSON body
        return exc.message


CALL_TIMEOUT_SECONDS = 120.0  # transient errors retried this long; a refused server ~10 s


def _service(name: str):
    """(what, the GAPIC client, its get and its stop method names) for ``name``. The SDK's
    own ``get`` retries a server it cannot reach for minutes; these calls take the one
    retry rule (``core.retry.api_core_retry``)."""
    from gemini_sft_kfp.core import clients

    location = name.split("/locations/", 1)[-1].split("/", 1)[0]
    if is_schedule(name):
        return (
            "schedule",
            clients.schedule_service_client(location),
            "get_schedule",
            "pause_schedule",
        )
    return (
        "pipeline job",
        clients.pipeline_service_client(location),
        "get_pipeline_job",
        "cancel_pipeline_job",
    )


def _retried(method, name: str):
    from gemini_sft_kfp.core.retry import api_core_retry

    return method(name=name, retry=api_core_retry(timeout=CALL_TIMEOUT_SECONDS))


def get(name: str) -> dict:
    """The pipeline job's or schedule's REST JSON."""
    from google.protobuf import json_format

    what, client, getter, _ = _service(name)
    resource = _call(what, name, lambda: _retried(getattr(client, getter), name))
    return json_format.MessageToDict(resource._pb)


PIPELINE_STATE_PREFIX = "PIPELINE_STATE_"


def state_filter(state: str, *, schedules: bool) -> str:
    """The service's list ``filter`` for one state: ``state="PIPELINE_STATE_FAILED"`` from
    ``failed`` (a pipeline job's), ``state="ACTIVE"`` (a schedule's); an unknown state is
    one line naming the known ones, before any call."""
    from google.cloud.aiplatform.compat.types import pipeline_state, schedule

    if schedules:
        known = [s.name for s in schedule.Schedule.State if s.value]
        wanted = state.strip().upper()
    else:
        known = [s.name for s in pipeline_state.PipelineState if s.value]
        wanted = state.strip().upper().removeprefix(PIPELINE_STATE_PREFIX)
        wanted = PIPELINE_STATE_PREFIX + wanted
    if wanted not in known:
        shown = ", ".join(name.removeprefix(PIPELINE_STATE_PREFIX) for name in known)
        raise UserError(f"unknown state {state!r}; one of: {shown}", field="state")
    return f'state="{wanted}"'


def list_records(*, schedules: bool, state: str | None, limit: int) -> list[dict]:
    """Newest first: pipeline jobs (or schedules), optionally in one ``state`` (filtered
    by the service: only those are sent)."""
    from google.cloud import aiplatform

    kind = aiplatform.PipelineJobSchedule if schedules else aiplatform.PipelineJob
    where = state_filter(state, schedules=schedules) if state else None
    found = _call(
        "listing", kind.__name__, lambda: kind.list(filter=where, order_by="create_time desc")
    )
    records = [_as_dict(item) for item in found]
    records.sort(key=lambda r: r.get("createTime", ""), reverse=True)
    return records[:limit] if limit else records


def cancel(name: str) -> str:
    """Cancel a pipeline job, or pause a schedule (no further runs; a schedule has no
    cancel). What happened, in a few words."""
    what, client, _, stop = _service(name)
    _call(what, name, lambda: _retried(getattr(client, stop), name))  # a 404 said as such
    return "paused (no further runs)" if is_schedule(name) else "cancel requested"


@dataclass(frozen=True)
class TaskLog:
    """One task as ``jobs logs`` shows it."""

    name: str
    state: str
    error: str
    log_path: str  # the emulator's copy of the task's output ("" on Vertex)


def task_logs(job: dict) -> list[TaskLog]:
    """Each task of a pipeline job's REST JSON: state, error and (emulator) log file."""
    tasks = []
    for task in (job.get("jobDetail") or {}).get("taskDetails") or []:
        metadata = (task.get("execution") or {}).get("metadata") or {}
        tasks.append(
            TaskLog(
                name=task.get("taskName", "?"),
                state=task.get("state", "STATE_UNSPECIFIED"),
                error=(task.get("error") or {}).get("message", ""),
                log_path=str(metadata.get("emulator_log", "")),
            )
        )
    return tasks


def first_failure(job: dict) -> str:
    """``task NAME failed: MESSAGE`` for a failed run, else the run's error, else ""."""
    error = (job.get("error") or {}).get("message", "")
    return vertex.first_failure(job.get("jobDetail") or {}, error)


def cloud_logging_query(job: dict) -> str:
    """The ``gcloud logging read`` filter of a Vertex run's task logs."""
    return VERTEX_LOG_QUERY.format(job_id=job.get("name", "").rsplit("/", 1)[-1])


def summary(record: dict) -> dict[str, Any]:
    """The fields a listing shows of a pipeline job or schedule."""
    keys = ("name", "displayName", "state", "createTime", "endTime", "scheduleName")
    if is_schedule(record.get("name", "")):
        keys = ("name", "displayName", "state", "cron", "nextRunTime", "startedRunCount")
    return {key: record[key] for key in keys if key in record}
