"""Long-running operations. Deletes finish at once; the operation stays pollable."""

from __future__ import annotations

from gemini_sft_kfp.emulator.common.api_errors import not_found
from gemini_sft_kfp.emulator.common.http import Call, route
from gemini_sft_kfp.emulator.common.service import Service
from gemini_sft_kfp.emulator.common.store import rfc3339

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"


def new_operation(service: Service, call: Call, target: str, metadata_type: str) -> dict:
    op_id = service.store.new_id()
    now = rfc3339()
    api = "v1beta1" if call.api_version == "v1beta1" else "v1"
    operation = {
        "name": f"{target}/operations/{op_id}",
        "metadata": {
            "@type": f"type.googleapis.com/google.cloud.aiplatform.{api}.{metadata_type}",
            "genericMetadata": {"createTime": now, "updateTime": now},
        },
        "done": True,
        "response": {"@type": "type.googleapis.com/google.protobuf.Empty"},
    }
    service.store.table("operations")[op_id] = operation
    return operation


def get_operation(service: Service, call: Call) -> dict:
    with service.store.lock:
        operation = service.store.table("operations").get(call.params["op"])
    if operation is None:
        raise not_found(f"Operation {call.params['op']} not found.")
    return operation


ROUTES = [
    route("GET", P + r"(?:/[^:]+)?/operations/(?P<op>[^/]+)", "operations.get", get_operation),
]
