"""The tuning experiment: ``metadataStores/default/contexts/tuning-experiment-<job id>``.

A tuning job names it in ``experiment`` once it runs; ``vertexai.tuning.sft`` reads it
on ``job.refresh()``. Served as a Vertex ML Metadata ``Context`` (``system.Experiment``)
derived from the job; the loss curves themselves are the simulated ones under
``/emulator/metrics/`` (Vertex keeps real ones in the experiment's runs).
"""

from __future__ import annotations

from gemini_sft_kfp.emulator.common.api_errors import not_found
from gemini_sft_kfp.emulator.common.http import Call, route
from gemini_sft_kfp.emulator.common.service import SIMULATED_LABEL, Service
from gemini_sft_kfp.emulator.tuning.tuning_jobs import advance_all

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
PREFIX = "tuning-experiment-"


def get_context(service: Service, call: Call) -> dict:
    advance_all(service)
    context_id = call.params["context"]
    name = f"{call.parent}/metadataStores/default/contexts/{context_id}"
    with service.store.lock:
        job = service.store.table("tuningJobs").get(context_id.removeprefix(PREFIX))
        if job is None or job.get("experiment") != name:
            raise not_found(f"Context {name} not found.")
        return {
            "name": name,
            "displayName": context_id,
            "etag": job["updateTime"],
            "labels": {SIMULATED_LABEL: "true"},
            "createTime": job["startTime"],
            "updateTime": job["updateTime"],
            "schemaTitle": "system.Experiment",
            "schemaVersion": "0.0.1",
            "metadata": {"experiment_deleted": False},
            "description": f"Tuning experiment of {job['name']} (simulated metrics)",
        }


ROUTES = [
    route(
        "GET",
        P + r"/metadataStores/default/contexts/(?P<context>[^/:]+)",
        "metadataStores.contexts.get",
        get_context,
    ),
]
