"""What a successful tuning job leaves behind (model versions, managed endpoints) and
how resource names find them. The REST handlers are in models_api.py / endpoints_api.py.

Storage: ``models[id] = {"versions": {version_id: Model JSON + "_sim"}, "nextVersion": n}``;
``endpoints[id] = Endpoint JSON + "_sim"`` where ``_sim.managed_by`` names the model
version (``ID@V``) whose tuning created it: deleting that version deletes the endpoint.
"""

from __future__ import annotations

import re

from gemini_sft_kfp.emulator.common.label_rules import label_value
from gemini_sft_kfp.emulator.common.service import SIMULATED_LABEL, Service
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.tuning.preference_tuning import tuning_spec

_MODEL_REF = re.compile(r"^(?:projects/([^/]+)/locations/([^/]+)/models/)?([^/@]+)(?:@([^/]+))?$")


def model_key(version: dict) -> str:
    return f"{version['name'].rsplit('/', 1)[1]}@{version['versionId']}"


def resolve_version(entry: dict, selector: str | None) -> dict | None:
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
    version = resolve_version(entry, selector)
    if version is None:
        return None
    project = service.projects.number(project) if project else project
    if project and not version["name"].startswith(f"projects/{project}/locations/{location}/"):
        return None
    if parent and not version["name"].startswith(service.projects.canonical(parent) + "/"):
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
    training = [tuning_spec(job)["trainingDatasetUri"]]
    if sim["parent"]:
        model_id, _ = sim["parent"].split("@")
        entry = models[model_id]
        parent_version = resolve_version(entry, sim["parent"].split("@")[1])
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
    last_only = tuning_spec(job).get("exportLastCheckpointOnly", False)
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
