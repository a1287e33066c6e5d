"""Model Registry and endpoints: tuned models (versions, aliases), their managed endpoints,
and long-running operations (deletes finish at once; the operation can be polled).

Storage: ``models[id] = {"versions": {version_id: Model JSON + "_sim"}, "nextVersion": n}``;
``endpoints[id] = Endpoint JSON + "_sim"`` where ``_sim.managed_by`` names the model
version (``ID@V``) whose tuning created it: deleting that version deletes the endpoint.
"""

from __future__ import annotations

import re
import time

from emulator.errors import ApiError, failed_precondition, invalid, not_found
from emulator.http import Call, Reply, route
from emulator.listing import compile_filter, page
from emulator.service import SIMULATED_LABEL, Service
from emulator.store import rfc3339

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
_MODEL_REF = re.compile(r"^(?:projects/([^/]+)/locations/([^/]+)/models/)?([^/@]+)(?:@([^/]+))?$")
_ALIAS = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9-]$")


def label_value(text: str) -> str:
    """A label-safe form of ``text`` (``gemini-2.5-flash`` -> ``gemini-2_5-flash``)."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]


def model_key(version: dict) -> str:
    return f"{version['name'].rsplit('/', 1)[1]}@{version['versionId']}"


def _resolve(entry: dict, selector: str | None) -> dict | None:
    """The version named by a version id or alias (``None``: the default version)."""
    versions = entry["versions"]
    selector = selector or "default"
    if selector in versions:
        return versions[selector]
    for version in versions.values():
        if selector in version.get("versionAliases", []):
            return version
    return None


def find_model_version(service: Service, name: str, parent: str | None = None) -> dict | None:
    """Look up ``projects/../models/ID[@version|@alias]`` (or a bare ``ID[@...]``)."""
    match = _MODEL_REF.match(name or "")
    if not match:
        return None
    project, location, model_id, selector = match.groups()
    entry = service.store.table("models").get(model_id)
    if entry is None:
        return None
    version = _resolve(entry, selector)
    if version is None:
        return None
    if project and not version["name"].startswith(f"projects/{project}/locations/{location}/"):
        return None
    if parent and not version["name"].startswith(parent + "/"):
        return None
    return version


def view(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "_sim"}


# ---- creation by tuning -------------------------------------------------------------


def _new_endpoint(service: Service, parent: str, display_name: str, version: dict, checkpoint):
    endpoint_id = service.store.new_id()
    now = rfc3339()
    deployed_id = service.store.new_id()[-10:]
    deployed = {
        "id": deployed_id,
        "model": version["name"],
        "modelVersionId": version["versionId"],
        "displayName": display_name,
        "createTime": now,
    }
    if checkpoint:
        deployed["checkpointId"] = checkpoint
    endpoint = {
        "name": f"{parent}/endpoints/{endpoint_id}",
        "displayName": display_name,
        "deployedModels": [deployed],
        "trafficSplit": {deployed_id: 100},
        "createTime": now,
        "updateTime": now,
        "labels": {SIMULATED_LABEL: "true"},
        "_sim": {"managed_by": model_key(version)},
    }
    service.store.table("endpoints")[endpoint_id] = endpoint
    version.setdefault("deployedModels", []).append(
        {"endpoint": endpoint["name"], "deployedModelId": deployed_id}
    )
    return endpoint


def create_tuned_model(service: Service, job: dict) -> dict:
    """Make the model version and endpoints a successful job produces; returns ``tunedModel``."""
    sim = job["_sim"]
    parent = job["name"].split("/tuningJobs/")[0]
    now = rfc3339()
    models = service.store.table("models")
    training = [job["supervisedTuningSpec"]["trainingDatasetUri"]]
    if sim["parent"]:
        model_id, _ = sim["parent"].split("@")
        entry = models[model_id]
        parent_version = _resolve(entry, sim["parent"].split("@")[1])
        training = (
            parent_version["_sim"]["training_uris"] + training if parent_version else training
        )
        version_id = str(entry["nextVersion"])
        entry["nextVersion"] += 1
        for other in entry["versions"].values():
            if "default" in other["versionAliases"]:
                other["versionAliases"].remove("default")
        model_create_time = next(iter(entry["versions"].values()))["createTime"]
    else:
        model_id, version_id = service.store.new_id(), "1"
        entry = models[model_id] = {"versions": {}, "nextVersion": 2}
        model_create_time = now
    epochs = sim["epochs"]
    steps = max(1, int(sim["stats"]["supervisedTuningDataStats"]["tuningStepCount"]) // epochs)
    last_only = job["supervisedTuningSpec"].get("exportLastCheckpointOnly", False)
    epoch_numbers = [epochs] if last_only else list(range(1, epochs + 1))
    checkpoints = [
        {"checkpointId": str(e), "epoch": str(e), "step": str(steps * e)} for e in epoch_numbers
    ]
    labels = {
        **(job.get("labels") or {}),
        "google-vertex-llm-tuning-base-model-id": label_value(sim["base_model"]),
        "google-vertex-llm-tuning-job-id": job["name"].rsplit("/", 1)[1],
        SIMULATED_LABEL: "true",
    }
    version = {
        "name": f"{parent}/models/{model_id}",
        "versionId": version_id,
        "versionAliases": ["default"],
        "versionCreateTime": now,
        "versionUpdateTime": now,
        "displayName": job["tunedModelDisplayName"],
        "description": job.get("description", ""),
        "createTime": model_create_time,
        "updateTime": now,
        "labels": labels,
        "baseModelSource": {"genieSource": {"baseModelUri": sim["base_model"]}},
        "checkpoints": checkpoints,
        "defaultCheckpointId": checkpoints[-1]["checkpointId"],
        "deployedModels": [],
        "_sim": {"base_model": sim["base_model"], "training_uris": training, "job": job["name"]},
    }
    if job.get("encryptionSpec"):
        version["encryptionSpec"] = job["encryptionSpec"]
    entry["versions"][version_id] = version
    display = job["tunedModelDisplayName"]
    main = _new_endpoint(service, parent, display, version, checkpoints[-1]["checkpointId"])
    tuned_checkpoints = []
    for checkpoint in checkpoints:
        if checkpoint is checkpoints[-1]:
            endpoint = main
        else:
            name = f"{display}-checkpoint-{checkpoint['checkpointId']}"
            endpoint = _new_endpoint(service, parent, name, version, checkpoint["checkpointId"])
        tuned_checkpoints.append({**checkpoint, "endpoint": endpoint["name"]})
    return {
        "model": f"{version['name']}@{version_id}",
        "endpoint": main["name"],
        "checkpoints": tuned_checkpoints,
    }


# ---- models --------------------------------------------------------------------------


def _advance(service: Service) -> None:
    from emulator.tuning import advance_all  # tuning imports this module

    advance_all(service)


def _version(service: Service, call: Call) -> dict:
    name = f"{call.parent}/models/{call.params['id']}"
    version = find_model_version(service, name, call.parent)
    if version is None:
        raise not_found(f"Model {name} not found.")
    return version


def _model_view(version: dict) -> dict:
    return view(version)


def get_model(service: Service, call: Call) -> dict:
    _advance(service)
    with service.store.lock:
        return _model_view(_version(service, call))


def list_models(service: Service, call: Call) -> dict:
    _advance(service)
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        found = []
        for entry in service.store.table("models").values():
            default = _resolve(entry, None) or list(entry["versions"].values())[-1]
            if default["name"].startswith(call.parent + "/") and accept(default):
                found.append(_model_view(default))
    found.sort(key=lambda m: m["createTime"], reverse=True)
    return page(call, found, "models")


def list_versions(service: Service, call: Call) -> dict:
    _advance(service)
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        entry = service.store.table("models").get(call.params["id"].split("@")[0])
        if entry is None or not _version(service, call):
            raise not_found(f"Model {call.parent}/models/{call.params['id']} not found.")
        versions = [_model_view(v) for v in entry["versions"].values() if accept(v)]
    versions.sort(key=lambda v: int(v["versionId"]))
    return page(call, versions, "models")


def patch_model(service: Service, call: Call) -> dict:
    from emulator.tuning import _check_labels

    mask = [f.strip() for f in (call.query.get("updateMask") or "").split(",") if f.strip()]
    body = call.body
    if not mask:
        mask = [k for k in ("labels", "description", "displayName") if k in body]
    allowed = {"labels", "description", "displayName", "display_name", "versionDescription"}
    unknown = set(mask) - allowed - {"version_description"}
    if unknown:
        raise invalid(f"Unsupported update_mask paths {sorted(unknown)}")
    with service.store.lock:
        version = _version(service, call)
        entry = service.store.table("models")[call.params["id"].split("@")[0]]
        now = rfc3339()
        for path in mask:
            key = {"display_name": "displayName", "version_description": "versionDescription"}.get(
                path, path
            )
            if key == "labels":
                labels = dict(body.get("labels") or {})
                _check_labels(labels)
                labels[SIMULATED_LABEL] = "true"  # the simulation label stays: honest results
                version["labels"] = labels
            elif key in ("displayName", "description"):
                for other in entry["versions"].values():  # model-level fields
                    other[key] = body.get(key, "")
                    other["updateTime"] = now
            else:
                version[key] = body.get(key, "")
        version["updateTime"] = version["versionUpdateTime"] = now
        service.store.save()
        return _model_view(version)


def merge_version_aliases(service: Service, call: Call) -> dict:
    aliases = call.body.get("versionAliases")
    if not isinstance(aliases, list) or not aliases:
        raise invalid("version_aliases is required.")
    if "@" not in call.params["id"]:
        raise invalid("The model name must include a version id (models/ID@VERSION).")
    with service.store.lock:
        version = _version(service, call)
        entry = service.store.table("models")[call.params["id"].split("@")[0]]
        for alias in aliases:
            remove = alias.startswith("-")
            bare = alias[1:] if remove else alias
            if not _ALIAS.match(bare) or bare.isdigit():
                raise invalid(
                    f"Invalid alias {bare!r}: must match [a-z][a-zA-Z0-9-]{{0,126}}[a-z0-9-]"
                )
            if bare == "default" and remove:
                raise invalid("The 'default' alias cannot be removed; set it on another version.")
        for alias in aliases:
            if alias.startswith("-"):
                if alias[1:] in version["versionAliases"]:
                    version["versionAliases"].remove(alias[1:])
                continue
            for other in entry["versions"].values():  # an alias names one version: move it
                if other is not version and alias in other["versionAliases"]:
                    other["versionAliases"].remove(alias)
            if alias not in version["versionAliases"]:
                version["versionAliases"].append(alias)
        version["versionUpdateTime"] = version["updateTime"] = rfc3339()
        service.store.save()
        return _model_view(version)


def _operation(service: Service, call: Call, target: str, metadata_type: str) -> dict:
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


def _blocking_endpoints(service: Service, versions: list[dict]) -> list[str]:
    keys = {model_key(v) for v in versions}
    blocking = []
    for endpoint in service.store.table("endpoints").values():
        if endpoint["_sim"].get("managed_by") in keys:
            continue
        for deployed in endpoint.get("deployedModels", []):
            ref = f"{deployed['model'].rsplit('/', 1)[1]}@{deployed.get('modelVersionId', '1')}"
            if ref in keys:
                blocking.append(endpoint["name"])
    return blocking


def _drop_versions(service: Service, model_id: str, versions: list[dict]) -> None:
    keys = {model_key(v) for v in versions}
    endpoints = service.store.table("endpoints")
    for endpoint_id, endpoint in list(endpoints.items()):
        if endpoint["_sim"].get("managed_by") in keys:
            del endpoints[endpoint_id]
    entry = service.store.table("models")[model_id]
    for version in versions:
        entry["versions"].pop(version["versionId"], None)
    if not entry["versions"]:
        del service.store.table("models")[model_id]
    service.knowledge.forget(keys)


def delete_model(service: Service, call: Call) -> dict:
    """Whole model (``models/ID``) or one version (``models/ID@V``); managed endpoints go too."""
    _advance(service)
    model_id, _, selector = call.params["id"].partition("@")
    with service.store.lock:
        version = _version(service, call)
        entry = service.store.table("models")[model_id]
        if selector:
            targets = [version]
            others = [v for v in entry["versions"].values() if v is not version]
            if others and "default" in version["versionAliases"]:
                raise failed_precondition(
                    f"Model version {model_key(version)} is the default version and cannot be "
                    "deleted while other versions exist; move the 'default' alias first or "
                    "delete the whole model."
                )
        else:
            targets = list(entry["versions"].values())
        blocking = _blocking_endpoints(service, targets)
        if blocking:
            raise failed_precondition(
                f"Model {version['name']} is still deployed on endpoint(s) {', '.join(blocking)}; "
                "undeploy it first."
            )
        _drop_versions(service, model_id, targets)
        operation = _operation(service, call, version["name"], "DeleteOperationMetadata")
        service.store.save()
        return operation


def get_operation(service: Service, call: Call) -> dict:
    with service.store.lock:
        operation = service.store.table("operations").get(call.params["op"])
    if operation is None:
        raise not_found(f"Operation {call.params['op']} not found.")
    return operation


# ---- endpoints -----------------------------------------------------------------------


def endpoint_record(service: Service, call: Call) -> dict:
    endpoint = service.store.table("endpoints").get(call.params["id"])
    if endpoint is None or not endpoint["name"].startswith(call.parent + "/"):
        raise not_found(f"Endpoint {call.parent}/endpoints/{call.params['id']} not found.")
    return endpoint


def get_endpoint(service: Service, call: Call) -> dict:
    _advance(service)
    with service.store.lock:
        return view(endpoint_record(service, call))


def list_endpoints(service: Service, call: Call) -> dict:
    _advance(service)
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
        operation = _operation(service, call, endpoint["name"], "DeleteOperationMetadata")
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
        operation = _operation(service, call, endpoint["name"], "UndeployModelOperationMetadata")
        operation["response"] = {
            "@type": f"type.googleapis.com/google.cloud.aiplatform.{call.api_version}."
            "UndeployModelResponse"
        }
        service.store.save()
        return operation


MODEL_ID = r"(?P<id>[^/:]+)"
ROUTES = [
    route("GET", P + r"(?:/[^:]+)?/operations/(?P<op>[^/]+)", "operations.get", get_operation),
    route("GET", P + r"/models", "models.list", list_models),
    route("GET", P + r"/models/" + MODEL_ID, "models.get", get_model),
    route("GET", P + r"/models/" + MODEL_ID, "models.listVersions", list_versions, "listVersions"),
    route("PATCH", P + r"/models/" + MODEL_ID, "models.patch", patch_model),
    route("DELETE", P + r"/models/" + MODEL_ID, "models.delete", delete_model),
    route(
        "DELETE", P + r"/models/" + MODEL_ID, "models.deleteVersion", delete_model, "deleteVersion"
    ),
    route(
        "POST",
        P + r"/models/" + MODEL_ID,
        "models.mergeVersionAliases",
        merge_version_aliases,
        "mergeVersionAliases",
    ),
    route("GET", P + r"/endpoints", "endpoints.list", list_endpoints),
    route("GET", P + r"/endpoints/(?P<id>[^/]+)", "endpoints.get", get_endpoint),
    route("DELETE", P + r"/endpoints/(?P<id>[^/]+)", "endpoints.delete", delete_endpoint),
    route(
        "POST",
        P + r"/endpoints/(?P<id>[^/]+)",
        "endpoints.undeployModel",
        undeploy_model,
        "undeployModel",
    ),
]

__all__ = ["ROUTES", "ApiError", "Reply", "find_model_version", "time"]
