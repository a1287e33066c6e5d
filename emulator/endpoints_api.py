"""endpoints: get, list, delete, undeployModel (generation lives in generate.py)."""

from __future__ import annotations

from emulator.errors import failed_precondition, not_found
from emulator.http import Call, route
from emulator.listing import compile_filter, page
from emulator.operations import new_operation
from emulator.registry import find_model_version, view
from emulator.service import Service
from emulator.tuning import advance_all

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
ENDPOINT = P + r"/endpoints/(?P<id>[^/]+)"


def endpoint_record(service: Service, call: Call) -> dict:
    endpoint = service.store.table("endpoints").get(call.params["id"])
    if endpoint is None or not endpoint["name"].startswith(call.parent + "/"):
        raise not_found(f"Endpoint {call.parent}/endpoints/{call.params['id']} not found.")
    return endpoint


def get_endpoint(service: Service, call: Call) -> dict:
    advance_all(service)
    with service.store.lock:
        return view(endpoint_record(service, call))


def list_endpoints(service: Service, call: Call) -> dict:
    advance_all(service)
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        found = [
            view(e)
            for e in service.store.table("endpoints").values()
            if e["name"].startswith(call.parent + "/") and accept(e)
        ]
    found.sort(key=lambda e: e["createTime"], reverse=True)
    return page(call, found, "endpoints")


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


def undeploy_model(service: Service, call: Call) -> dict:
    deployed_id = call.body.get("deployedModelId")
    with service.store.lock:
        endpoint = endpoint_record(service, call)
        kept = [d for d in endpoint.get("deployedModels", []) if d["id"] != deployed_id]
        if len(kept) == len(endpoint.get("deployedModels", [])):
            raise not_found(f"Deployed model {deployed_id} not found on {endpoint['name']}.")
        gone = next(d for d in endpoint["deployedModels"] if d["id"] == deployed_id)
        endpoint["deployedModels"] = kept
        endpoint["trafficSplit"] = {d["id"]: 100 // max(1, len(kept)) for d in kept}
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
