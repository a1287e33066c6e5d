"""pipelineJobs and schedules: enough for ``aiplatform.PipelineJob(...).submit()`` and
``.create_schedule(...)``. Jobs are recorded, not executed (state stays RUNNING until
cancelled), unless the emulator runs them (``Emulator(run_pipelines=True)``, see
``pipeline_runner.py``).
"""

from __future__ import annotations

import re

from emulator.errors import ApiError, failed_precondition, invalid, not_found
from emulator.http import Call, route
from emulator.listing import compile_filter, page
from emulator.operations import new_operation
from emulator.service import SIMULATED_LABEL, Service
from emulator.store import rfc3339

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
_JOB_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")
PIPELINE_TERMINAL = {
    "PIPELINE_STATE_SUCCEEDED",
    "PIPELINE_STATE_FAILED",
    "PIPELINE_STATE_CANCELLED",
}


def _job_id(service: Service, call: Call) -> str:
    """The client's ``pipelineJobId``, else a service-made numeric id (always unique)."""
    requested = call.query.get("pipelineJobId")
    if requested:
        if not _JOB_ID.match(requested):
            raise invalid(f"Invalid pipeline job id {requested!r}")
        return requested
    return service.store.new_id()


def create_pipeline_job(service: Service, call: Call) -> dict:
    body = dict(call.body)
    if not body.get("pipelineSpec"):
        raise invalid("pipeline_spec is required.")
    job_id = _job_id(service, call)
    now = rfc3339()
    with service.store.lock:
        jobs = service.store.table("pipelineJobs")
        if job_id in jobs:
            raise ApiError(409, f"PipelineJob {call.parent}/pipelineJobs/{job_id} already exists.")
        job = {
            **body,
            "name": f"{call.parent}/pipelineJobs/{job_id}",
            "displayName": body.get("displayName") or job_id,
            "state": "PIPELINE_STATE_RUNNING",
            "createTime": now,
            "startTime": now,
            "updateTime": now,
            "labels": {**(body.get("labels") or {}), SIMULATED_LABEL: "true"},
        }
        jobs[job_id] = job
        service.store.save()
    executor = getattr(service, "pipeline_executor", None)
    if executor is not None:
        executor(service, job_id)
    return job


def _pipeline_job(service: Service, call: Call) -> dict:
    job = service.store.table("pipelineJobs").get(call.params["id"])
    if job is None or not job["name"].startswith(call.parent + "/"):
        raise not_found(f"PipelineJob {call.parent}/pipelineJobs/{call.params['id']} not found.")
    return job


def get_pipeline_job(service: Service, call: Call) -> dict:
    with service.store.lock:
        return dict(_pipeline_job(service, call))


def list_pipeline_jobs(service: Service, call: Call) -> dict:
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        jobs = [
            dict(j)
            for j in service.store.table("pipelineJobs").values()
            if j["name"].startswith(call.parent + "/") and accept(j)
        ]
    jobs.sort(key=lambda j: j["createTime"], reverse=True)
    return page(call, jobs, "pipelineJobs")


def cancel_pipeline_job(service: Service, call: Call) -> dict:
    with service.store.lock:
        job = _pipeline_job(service, call)
        if job["state"] in PIPELINE_TERMINAL:
            raise failed_precondition(f"PipelineJob {job['name']} is already {job['state']}.")
        now = rfc3339()
        executor = getattr(service, "pipeline_executor", None)
        if executor is not None:
            executor.cancel(call.params["id"])
        job.update(
            state="PIPELINE_STATE_CANCELLED",
            endTime=now,
            updateTime=now,
            error={"code": 1, "message": "CANCELED"},
        )
        service.store.save()
    return {}


def delete_pipeline_job(service: Service, call: Call) -> dict:
    with service.store.lock:
        job = _pipeline_job(service, call)
        del service.store.table("pipelineJobs")[call.params["id"]]
        operation = new_operation(service, call, job["name"], "DeleteOperationMetadata")
        service.store.save()
        return operation


# ---- schedules -----------------------------------------------------------------------


def create_schedule(service: Service, call: Call) -> dict:
    body = dict(call.body)
    if not body.get("cron"):
        raise invalid("cron is required.")
    if len(body["cron"].split()) not in (5, 6) and not body["cron"].startswith("TZ="):
        raise invalid(f"Invalid cron expression {body['cron']!r}")
    if not body.get("createPipelineJobRequest"):
        raise invalid("create_pipeline_job_request is required.")
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
        service.store.table("schedules")[schedule_id] = schedule
        service.store.save()
        return schedule


def _schedule(service: Service, call: Call) -> dict:
    schedule = service.store.table("schedules").get(call.params["id"])
    if schedule is None or not schedule["name"].startswith(call.parent + "/"):
        raise not_found(f"Schedule {call.parent}/schedules/{call.params['id']} not found.")
    return schedule


def get_schedule(service: Service, call: Call) -> dict:
    with service.store.lock:
        return dict(_schedule(service, call))


def list_schedules(service: Service, call: Call) -> dict:
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        found = [
            dict(s)
            for s in service.store.table("schedules").values()
            if s["name"].startswith(call.parent + "/") and accept(s)
        ]
    found.sort(key=lambda s: s["createTime"], reverse=True)
    return page(call, found, "schedules")


def _set_schedule_state(state: str):
    def handler(service: Service, call: Call) -> dict:
        with service.store.lock:
            schedule = _schedule(service, call)
            schedule["state"] = state
            schedule["updateTime"] = rfc3339()
            key = "lastPauseTime" if state == "PAUSED" else "lastResumeTime"
            schedule[key] = schedule["updateTime"]
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


JOB = P + r"/pipelineJobs/(?P<id>[^/]+)"
SCHEDULE = P + r"/schedules/(?P<id>[^/]+)"
ROUTES = [
    route("POST", P + r"/pipelineJobs", "pipelineJobs.create", create_pipeline_job),
    route("GET", P + r"/pipelineJobs", "pipelineJobs.list", list_pipeline_jobs),
    route("GET", JOB, "pipelineJobs.get", get_pipeline_job),
    route("POST", JOB, "pipelineJobs.cancel", cancel_pipeline_job, "cancel"),
    route("DELETE", JOB, "pipelineJobs.delete", delete_pipeline_job),
    route("POST", P + r"/schedules", "schedules.create", create_schedule),
    route("GET", P + r"/schedules", "schedules.list", list_schedules),
    route("GET", SCHEDULE, "schedules.get", get_schedule),
    route("DELETE", SCHEDULE, "schedules.delete", delete_schedule),
    route("POST", SCHEDULE, "schedules.pause", _set_schedule_state("PAUSED"), "pause"),
    route("POST", SCHEDULE, "schedules.resume", _set_schedule_state("ACTIVE"), "resume"),
]
