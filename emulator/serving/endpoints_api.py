"""endpoints: get, list, delete, undeployModel (generation lives in generate.py)."""

from __future__ import annotations

from gemini_sft_kfp.emulator.common.api_errors import failed_precondition, invalid, not_found
from gemini_sft_kfp.emulator.common.http import Call, route
from gemini_sft_kfp.emulator.common.listing import list_owned, owned_record
from gemini_sft_kfp.emulator.common.operations import new_operation
from gemini_sft_kfp.emulator.common.service import Service
from gemini_sft_kfp.emulator.model_registry.model_versions import find_model_version, view
from gemini_sft_kfp.emulator.tuning.tuning_jobs import advance_all

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
ENDPOINT = P + r"/endpoints/(?P<id>[^/]+)"


def endpoint_record(service: Service, call: Call) -> dict:
    return owned_record(service, call, "endpoints", "Endpoint")


def get_endpoint(service: Service, call: Call) -> dict:
    advance_all(service)
    with service.store.lock:
        return view(endpoint_record(service, call))


def list_endpoints(service: Service, call: Call) -> dict:
    advance_all(service)
    return list_owned(service, call, "endpoints", view)


def delete_endpoint(service: Service, call: Call) -> dict:
    with service.store.lock:
        endpoint = endpoint_record(service, call)
        if endpoint.get("deployedModels"):
            raise failed_precondition(
                f"Endpoint {endpoint['name']} still has deployed models; undeploy them first."
            )
        del service.store.table("endpoints")[call.params["id"]]
        operation = new_operation(service, call, endpoint["name"], "DeleteOperationMetadata")
        service.store.save()
        return operation


def split_after_undeploy(
    endpoint: dict, deployed_id: str, kept: list[dict], requested: dict | None
) -> dict[str, int]:
    """Vertex's rule: a request ``trafficSplit`` replaces the endpoint's; without one, the
    model leaving must carry no traffic (unless it is the last one), and the rest keep
    their shares."""
    kept_ids = {d["id"] for d in kept}
    if requested:
        split = {key: int(value) for key, value in requested.items()}
        unknown = sorted(set(split) - kept_ids)
        if unknown:
            raise invalid(f"trafficSplit names models not deployed after the undeploy: {unknown}")
        if sum(split.values()) != 100:
            raise invalid(f"trafficSplit must add up to 100, not {sum(split.values())}.")
        return split
    current = {key: int(value) for key, value in endpoint.get("trafficSplit", {}).items()}
    if kept and current.get(deployed_id, 0) > 0:
        raise failed_precondition(
            f"Deployed model {deployed_id} still receives {current[deployed_id]}% of the "
            "traffic of the endpoint; pass trafficSplit to move it to the other models."
        )
    return {key: current.get(key, 0) for key in kept_ids}


def undeploy_model(service: Service, call: Call) -> dict:
    deployed_id = call.body.get("deployedModelId")
    with service.store.lock:
        endpoint = endpoint_record(service, call)
        kept = [d for d in endpoint.get("deployedModels", []) if d["id"] != deployed_id]
        if len(kept) == len(endpoint.get("deployedModels", [])):
            raise not_found(f"Deployed model {deployed_id} not found on {endpoint['name']}.")
        gone = next(d for d in endpoint["deployedModels"] if d["id"] == deployed_id)
        split = split_after_undeploy(endpoint, deployed_id, kept, call.body.get("trafficSplit"))
        endpoint["deployedModels"] = kept
        endpoint["trafficSplit"] = split
        if not kept:
            endpoint.pop("trafficSplit")
        version = find_model_version(service, f"{gone['model']}@{gone.get('modelVersionId', '1')}")
        if version is not None:
            version["deployedModels"] = [
                r for r in version.get("deployedModels", []) if r["deployedModelId"] != deployed_id
            ]
        operation = new_operation(service, call, endpoint["name"], "UndeployModelOperationMetadata")
        operation["response"] = {
            "@type": f"type.googleapis.com/google.cloud.aiplatform.{call.api_version}."
            "UndeployModelResponse"
        }
        service.store.save()
        return operation


ROUTES = [
    route("GET", P + r"/endpoints", "endpoints.list", list_endpoints),
    route("GET", ENDPOINT, "endpoints.get", get_endpoint),
    route("DELETE", ENDPOINT, "endpoints.delete", delete_endpoint),
    route("POST", ENDPOINT, "endpoints.undeployModel", undeploy_model, "undeployModel"),
]
