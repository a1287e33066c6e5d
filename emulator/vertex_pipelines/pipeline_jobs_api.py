"""pipelineJobs: enough for ``aiplatform.PipelineJob(...).submit()`` / ``.run()``. Jobs are
recorded, not executed (state stays RUNNING until cancelled), unless the emulator runs
them (``Emulator(run_pipelines=True)``, see ``pipeline_runner.py``).
"""

from __future__ import annotations

import re

from gemini_sft_kfp.emulator.common.api_errors import ApiError, failed_precondition, invalid
from gemini_sft_kfp.emulator.common.http import Call, route
from gemini_sft_kfp.emulator.common.listing import list_owned, mark_cancelled, owned_record
from gemini_sft_kfp.emulator.common.operations import new_operation
from gemini_sft_kfp.emulator.common.service import SIMULATED_LABEL, Service
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.vertex_pipelines.pipeline_params import type_job_parameters

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


def record_job(service: Service, parent: str, job_id: str, body: dict, **extra) -> dict:
    """Store a new RUNNING pipeline job (caller holds the lock; ``extra``: e.g. scheduleName)."""
    jobs = service.store.table("pipelineJobs")
    if job_id in jobs:
        raise ApiError(409, f"PipelineJob {parent}/pipelineJobs/{job_id} already exists.")
    now = rfc3339()
    job = {
        **body,
        **extra,
        "name": f"{parent}/pipelineJobs/{job_id}",
        "displayName": body.get("displayName") or job_id,
        "state": "PIPELINE_STATE_RUNNING",
        "createTime": now,
        "startTime": now,
        "updateTime": now,
        "labels": {**(body.get("labels") or {}), SIMULATED_LABEL: "true"},
    }
    jobs[job_id] = job
    service.store.save()
    return job


def start_job(service: Service, job_id: str) -> None:
    """Run it on the KFP local runner when the emulator executes pipelines."""
    if service.pipeline_executor is not None:
        service.pipeline_executor(service, job_id)


def create_pipeline_job(service: Service, call: Call) -> dict:
    body = dict(call.body)
    if not body.get("pipelineSpec"):
        raise invalid("pipeline_spec is required.")
    body = type_job_parameters(body)  # 3.0 for an int input is 3; 2.5 is refused here
    job_id = _job_id(service, call)
    with service.store.lock:
        job = record_job(service, call.parent, job_id, body)
    start_job(service, job_id)
    return job


def _pipeline_job(service: Service, call: Call) -> dict:
    return owned_record(service, call, "pipelineJobs", "PipelineJob")


def get_pipeline_job(service: Service, call: Call) -> dict:
    with service.store.lock:
        return dict(_pipeline_job(service, call))


def list_pipeline_jobs(service: Service, call: Call) -> dict:
    return list_owned(service, call, "pipelineJobs")


def cancel_pipeline_job(service: Service, call: Call) -> dict:
    with service.store.lock:
        job = _pipeline_job(service, call)
        if job["state"] in PIPELINE_TERMINAL:
            raise failed_precondition(f"PipelineJob {job['name']} is already {job['state']}.")
        now = rfc3339()
        if service.pipeline_executor is not None:
            service.pipeline_executor.cancel(call.params["id"])
        mark_cancelled(job, "PIPELINE_STATE_CANCELLED", now)
        service.store.save()
    return {}


def delete_pipeline_job(service: Service, call: Call) -> dict:
    with service.store.lock:
        job = _pipeline_job(service, call)
        del service.store.table("pipelineJobs")[call.params["id"]]
        operation = new_operation(service, call, job["name"], "DeleteOperationMetadata")
        service.store.save()
        return operation


JOB = P + r"/pipelineJobs/(?P<id>[^/]+)"
ROUTES = [
    route("POST", P + r"/pipelineJobs", "pipelineJobs.create", create_pipeline_job),
    route("GET", P + r"/pipelineJobs", "pipelineJobs.list", list_pipeline_jobs),
    route("GET", JOB, "pipelineJobs.get", get_pipeline_job),
    route("POST", JOB, "pipelineJobs.cancel", cancel_pipeline_job, "cancel"),
    route("DELETE", JOB, "pipelineJobs.delete", delete_pipeline_job),
]
