"""models: get (``ID``, ``ID@version``, ``ID@alias``), list, listVersions, patch,
mergeVersionAliases, delete / deleteVersion (a finished long-running operation).

Deleting a tuned model also deletes the endpoints its tuning created; it fails with
FAILED_PRECONDITION while the model is deployed on any other endpoint.
"""

from __future__ import annotations

import re

from gemini_sft_kfp.emulator.common.api_errors import failed_precondition, invalid, not_found
from gemini_sft_kfp.emulator.common.http import Call, route
from gemini_sft_kfp.emulator.common.label_rules import check_labels
from gemini_sft_kfp.emulator.common.listing import compile_filter, page
from gemini_sft_kfp.emulator.common.operations import new_operation
from gemini_sft_kfp.emulator.common.service import SIMULATED_LABEL, Service
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.model_registry.model_versions import (
    find_model_version,
    model_key,
    resolve_version,
    view,
)
from gemini_sft_kfp.emulator.tuning.tuning_jobs import advance_all

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
MODEL_ID = r"(?P<id>[^/:]+)"
_ALIAS = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9-]$")


def _version(service: Service, call: Call) -> dict:
    name = f"{call.parent}/models/{call.params['id']}"
    version = find_model_version(service, name, call.parent)
    if version is None:
        raise not_found(f"Model {name} not found.")
    return version


def _model_view(version: dict) -> dict:
    return view(version)


def get_model(service: Service, call: Call) -> dict:
    advance_all(service)
    with service.store.lock:
        return _model_view(_version(service, call))


def list_models(service: Service, call: Call) -> dict:
    advance_all(service)
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        found = []
        for entry in service.store.table("models").values():
            default = resolve_version(entry, None) or list(entry["versions"].values())[-1]
            if default["name"].startswith(call.parent + "/") and accept(default):
                found.append(_model_view(default))
    found.sort(key=lambda m: m["createTime"], reverse=True)
    return page(call, found, "models")


def list_versions(service: Service, call: Call) -> dict:
    advance_all(service)
    accept = compile_filter(call.query.get("filter", ""))
    with service.store.lock:
        entry = service.store.table("models").get(call.params["id"].split("@")[0])
        if entry is None or not _version(service, call):
            raise not_found(f"Model {call.parent}/models/{call.params['id']} not found.")
        versions = [_model_view(v) for v in entry["versions"].values() if accept(v)]
    versions.sort(key=lambda v: int(v["versionId"]))
    return page(call, versions, "models")


PATCHABLE = ("labels", "description", "displayName", "versionDescription", "defaultCheckpointId")
_SNAKE = {
    "display_name": "displayName",
    "version_description": "versionDescription",
    "default_checkpoint_id": "defaultCheckpointId",
}


def update_paths(call: Call) -> list[str]:
    """AIP-134: the ``updateMask`` paths, or without a mask every patchable field present
    in the body (google-genai sends ``{"defaultCheckpointId": "2"}`` and no mask)."""
    raw = call.query.get("updateMask") or call.query.get("update_mask") or ""
    mask = [_SNAKE.get(f.strip(), f.strip()) for f in raw.split(",") if f.strip()]
    if not mask:
        return [key for key in PATCHABLE if key in {_SNAKE.get(k, k) for k in call.body}]
    unknown = sorted(set(mask) - set(PATCHABLE))
    if unknown:
        raise invalid(f"Unsupported update_mask paths {unknown}")
    return mask


def _set_default_checkpoint(service: Service, version: dict, checkpoint_id) -> None:
    """The default checkpoint is the one the tuned model's main endpoint serves."""
    checkpoint_id = str(checkpoint_id or "")
    known = [c["checkpointId"] for c in version.get("checkpoints", [])]
    if checkpoint_id not in known:
        raise invalid(f"Checkpoint {checkpoint_id!r} does not exist; available: {known}")
    version["defaultCheckpointId"] = checkpoint_id
    job = service.store.table("tuningJobs").get(version["_sim"]["job"].rsplit("/", 1)[1], {})
    main = (job.get("tunedModel") or {}).get("endpoint", "")
    endpoint = service.store.table("endpoints").get(main.rsplit("/", 1)[-1])
    for deployed in (endpoint or {}).get("deployedModels", []):
        if deployed.get("modelVersionId") == version["versionId"]:
            deployed["checkpointId"] = checkpoint_id


def patch_model(service: Service, call: Call) -> dict:
    body = {_SNAKE.get(k, k): v for k, v in call.body.items()}
    paths = update_paths(call)
    with service.store.lock:
        version = _version(service, call)
        entry = service.store.table("models")[call.params["id"].split("@")[0]]
        now = rfc3339()
        for key in paths:
            if key == "labels":
                labels = dict(body.get("labels") or {})
                check_labels(labels)
                labels[SIMULATED_LABEL] = "true"  # the simulation label stays: honest results
                version["labels"] = labels
            elif key in ("displayName", "description"):
                for other in entry["versions"].values():  # model-level fields
                    other[key] = body.get(key, "")
                    other["updateTime"] = now
            elif key == "defaultCheckpointId":
                _set_default_checkpoint(service, version, body.get(key))
            else:
                version[key] = body.get(key, "")
        version["updateTime"] = version["versionUpdateTime"] = now
        service.store.save()
        return _model_view(version)


def merge_version_aliases(service: Service, call: Call) -> dict:
    aliases = call.body.get("versionAliases")
    if not isinstance(aliases, list) or not aliases or not all(isinstance(a, str) for a in aliases):
        raise invalid("version_aliases is required: a list of alias strings.")
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
    advance_all(service)
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
        operation = new_operation(service, call, version["name"], "DeleteOperationMetadata")
        service.store.save()
        return operation


ROUTES = [
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
]
