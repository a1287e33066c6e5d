"""schedules: create, get, list, pause, resume, delete, for ``PipelineJob.create_schedule``.

``nextRunTime`` follows the cron expression. When the emulator executes pipelines
(``run_pipelines=True``) due schedules fire: each run is a new pipeline job with
``scheduleName``, within ``maxConcurrentRunCount`` (a firing that would exceed it is
skipped) and ``maxRunCount``; otherwise schedules are only recorded.
"""

from __future__ import annotations

import datetime as dt

from gemini_sft_kfp.emulator.common.api_errors import invalid
from gemini_sft_kfp.emulator.common.http import Call, route
from gemini_sft_kfp.emulator.common.listing import list_owned, owned_record
from gemini_sft_kfp.emulator.common.operations import new_operation
from gemini_sft_kfp.emulator.common.service import Service
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.vertex_pipelines.pipeline_jobs_api import record_job, start_job
from gemini_sft_kfp.emulator.vertex_pipelines.pipeline_params import type_job_parameters

from gemini_sft_kfp.core.cron import Cron, CronError

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _next_run(schedule: dict, after: dt.datetime) -> str:
    start = _parse_time(schedule["startTime"])
    moment = max(after, start - dt.timedelta(minutes=1))
    try:
        return rfc3339(Cron(schedule["cron"]).next_after(moment).timestamp())
    except CronError as exc:
        raise invalid(str(exc)) from None


def create_schedule(service: Service, call: Call) -> dict:
    body = dict(call.body)
    if not body.get("cron"):
        raise invalid("cron is required.")
    try:
        Cron(body["cron"])
    except CronError as exc:
        raise invalid(str(exc)) from None
    request = body.get("createPipelineJobRequest")
    if not request:
        raise invalid("create_pipeline_job_request is required.")
    if request.get("pipelineJob"):  # typed now: a fractional int is refused at create
        pipeline_job = type_job_parameters(request["pipelineJob"])
        body["createPipelineJobRequest"] = {**request, "pipelineJob": pipeline_job}
    if int(body.get("maxConcurrentRunCount") or 0) < 1:
        raise invalid("max_concurrent_run_count must be at least 1.")
    now = rfc3339()
    with service.store.lock:
        schedule_id = service.store.new_id()
        schedule = {
            **body,
            "name": f"{call.parent}/schedules/{schedule_id}",
            "state": "ACTIVE",
            "createTime": now,
            "updateTime": now,
            "startTime": body.get("startTime") or now,
            "startedRunCount": "0",
        }
        for key in ("maxConcurrentRunCount", "maxRunCount"):
            if key in schedule:
                schedule[key] = str(schedule[key])
        schedule["nextRunTime"] = _next_run(schedule, dt.datetime.now(dt.UTC))
        service.store.table("schedules")[schedule_id] = schedule
        service.store.save()
        return schedule


def _schedule(service: Service, call: Call) -> dict:
    return owned_record(service, call, "schedules", "Schedule")


def get_schedule(service: Service, call: Call) -> dict:
    with service.store.lock:
        return dict(_schedule(service, call))


def list_schedules(service: Service, call: Call) -> dict:
    return list_owned(service, call, "schedules")


def _set_schedule_state(state: str):
    def handler(service: Service, call: Call) -> dict:
        with service.store.lock:
            schedule = _schedule(service, call)
            schedule["state"] = state
            schedule["updateTime"] = rfc3339()
            key = "lastPauseTime" if state == "PAUSED" else "lastResumeTime"
            schedule[key] = schedule["updateTime"]
            if state == "ACTIVE":  # no catch-up: the next run after now
                schedule["nextRunTime"] = _next_run(schedule, dt.datetime.now(dt.UTC))
            service.store.save()
        return {}

    return handler


def delete_schedule(service: Service, call: Call) -> dict:
    with service.store.lock:
        schedule = _schedule(service, call)
        del service.store.table("schedules")[call.params["id"]]
        operation = new_operation(service, call, schedule["name"], "DeleteOperationMetadata")
        service.store.save()
        return operation


def _finished(schedule: dict, now: dt.datetime) -> bool:
    if schedule.get("endTime") and _parse_time(schedule["endTime"]) <= now:
        return True
    limit = int(schedule.get("maxRunCount") or 0)
    return bool(limit) and int(schedule.get("startedRunCount", "0")) >= limit


def _complete(schedule: dict) -> None:
    """No further runs: Vertex shows a COMPLETED schedule without a ``nextRunTime``."""
    schedule["state"] = "COMPLETED"
    schedule.pop("nextRunTime", None)


def fire_due(service: Service) -> list[str]:
    """Start the runs of every ACTIVE schedule that is due; the new job ids."""
    now = dt.datetime.now(dt.UTC)
    started = []
    with service.store.lock:
        jobs = service.store.table("pipelineJobs").values()
        for schedule in service.store.table("schedules").values():
            if schedule["state"] != "ACTIVE" or _parse_time(schedule["nextRunTime"]) > now:
                continue
            if _finished(schedule, now):
                _complete(schedule)
                continue
            running = sum(
                1
                for j in jobs
                if j.get("scheduleName") == schedule["name"]
                and j["state"] == "PIPELINE_STATE_RUNNING"
            )
            if running < int(schedule.get("maxConcurrentRunCount") or 1):
                request = schedule["createPipelineJobRequest"]
                parent = schedule["name"].split("/schedules/")[0]
                job_id = service.store.new_id()
                job = record_job(
                    service,
                    parent,
                    job_id,
                    dict(request.get("pipelineJob") or {}),
                    scheduleName=schedule["name"],
                )
                schedule["startedRunCount"] = str(int(schedule.get("startedRunCount", "0")) + 1)
                schedule["lastScheduledRunResponse"] = {
                    "scheduledRunTime": schedule["nextRunTime"],
                    "runResponse": job["name"],
                }
                started.append(job_id)
            schedule["nextRunTime"] = _next_run(schedule, now)
            schedule["updateTime"] = rfc3339()
            if _finished(schedule, now):  # e.g. maxRunCount reached
                _complete(schedule)
        if started:
            service.store.save()
    for job_id in started:
        start_job(service, job_id)
    return started


SCHEDULE = P + r"/schedules/(?P<id>[^/]+)"
ROUTES = [
    route("POST", P + r"/schedules", "schedules.create", create_schedule),
    route("GET", P + r"/schedules", "schedules.list", list_schedules),
    route("GET", SCHEDULE, "schedules.get", get_schedule),
    route("DELETE", SCHEDULE, "schedules.delete", delete_schedule),
    route("POST", SCHEDULE, "schedules.pause", _set_schedule_state("PAUSED"), "pause"),
    route("POST", SCHEDULE, "schedules.resume", _set_schedule_state("ACTIVE"), "resume"),
]
