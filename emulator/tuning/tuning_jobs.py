"""tuningJobs: create (checked like the service), get, list, cancel, and the job lifecycle.

The lifecycle is computed lazily from timestamps: PENDING for a short while, then
RUNNING (or FAILED when the data is unusable), then SUCCEEDED at ``tuning_seconds``
after creation, when the tuned model and its endpoints appear. Training is simulated.
"""

from __future__ import annotations

import re
import time

from gemini_sft_kfp.emulator.common.api_errors import ApiError, gs_uri, invalid
from gemini_sft_kfp.emulator.common.http import Call
from gemini_sft_kfp.emulator.common.label_rules import check_labels
from gemini_sft_kfp.emulator.common.listing import JobRoutes
from gemini_sft_kfp.emulator.common.service import Service
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.gen_ai_evaluation.evaluation_runs import (
    check_evaluation_config,
    simulated_runs,
)
from gemini_sft_kfp.emulator.model_registry import model_versions as registry
from gemini_sft_kfp.emulator.tuning.data_checks import check_data
from gemini_sft_kfp.emulator.tuning.preference_tuning import (
    SPEC_KEYS,
    preference_data_stats,
    tuning_spec,
)

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import (
    ADAPTER_SIZE_ENUMS,
    check_adapter_size,
    get_model_spec,
)

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
MAX_EPOCHS = 100
MAX_LEARNING_RATE_MULTIPLIER = 10.0
_KMS_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_SERVICE_ACCOUNT = re.compile(r"^[^@\s]+@[^@\s]+$")


def _source_model(service: Service, body: dict) -> tuple[str, dict | None]:
    """(base model id, pre-tuned model record) after the service's checks."""
    pre_tuned = body.get("preTunedModel")
    if pre_tuned and body.get("baseModel"):
        raise invalid("Only one of base_model and pre_tuned_model may be set.")
    if pre_tuned:
        # proto JSON accepts snake_case too (google-genai sends tuned_model_name)
        name = pre_tuned.get("tunedModelName") or pre_tuned.get("tuned_model_name", "")
        version = registry.find_model_version(service, name)
        if version is None:
            raise invalid(f"Pre-tuned model {name!r} was not found.")
        checkpoint = str(pre_tuned.get("checkpointId") or pre_tuned.get("checkpoint_id") or "")
        known = {c["checkpointId"] for c in version.get("checkpoints", [])}
        if checkpoint and checkpoint not in known:
            raise invalid(
                f"Checkpoint {checkpoint!r} does not exist in {name!r}; "
                f"available: {sorted(known, key=int)}"
            )
        return version["_sim"]["base_model"], version
    base = body.get("baseModel")
    if not base:
        raise invalid("base_model or pre_tuned_model is required.")
    try:
        spec = get_model_spec(base)
    except UserError as exc:
        raise invalid(f"Base model {base!r} is not supported for tuning: {exc}") from None
    return spec.id, None


def _hyper_parameters(base_model: str, spec: dict) -> dict:
    params = dict(spec.get("hyperParameters") or {})
    epochs = params.get("epochCount")
    if epochs not in (None, "", 0, "0"):
        try:
            epochs = int(epochs)
        except (TypeError, ValueError):
            raise invalid(f"epoch_count must be an integer, got {epochs!r}") from None
        if not 1 <= epochs <= MAX_EPOCHS:
            raise invalid(f"epoch_count must be between 1 and {MAX_EPOCHS}, got {epochs}")
        params["epochCount"] = str(epochs)
    else:
        params.pop("epochCount", None)
    multiplier = params.get("learningRateMultiplier")
    if multiplier not in (None, 0, 0.0):
        multiplier = float(multiplier)
        if not 0 < multiplier <= MAX_LEARNING_RATE_MULTIPLIER:
            raise invalid(
                f"learning_rate_multiplier must be in (0, {MAX_LEARNING_RATE_MULTIPLIER}], "
                f"got {multiplier}"
            )
    params["learningRateMultiplier"] = float(multiplier or 1.0)
    adapter = params.get("adapterSize")
    try:
        enum = check_adapter_size(base_model, adapter)
    except UserError as exc:
        raise invalid(str(exc)) from None
    if enum is None:
        sizes = get_model_spec(base_model).adapter_sizes
        enum = ADAPTER_SIZE_ENUMS[4 if 4 in sizes else sizes[0]]
    params["adapterSize"] = enum
    return params


def _canonical(spec_key: str, spec: dict, api_version: str) -> dict:
    """The spec as the service stores and answers it: proto3 JSON, where a field holding
    its default (``"exportLastCheckpointOnly": false``) is left out
    (protobuf.dev/programming-guides/json) and int64 values are strings."""
    import orjson
    from gemini_sft_kfp.emulator.common import newer_protos
    from gemini_sft_kfp.emulator.common.fidelity import message_class
    from google.protobuf import json_format

    if spec_key == "supervisedTuningSpec":
        kind = message_class(api_version, "SupervisedTuningSpec")
    else:
        kind = newer_protos.message_class(api_version, "PreferenceOptimizationSpec")
    return json_format.MessageToDict(json_format.Parse(orjson.dumps(spec), kind()))


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _camel_keys(obj: dict | None) -> dict:
    """Proto JSON accepts ``snake_case`` field names too; responses use lowerCamel."""
    return {_camel(k): v for k, v in (obj or {}).items()} if isinstance(obj, dict) else obj


def normalized_request(body: dict) -> dict:
    """The create body with lowerCamel field names (map keys such as labels untouched)."""
    body = _camel_keys(body)
    for key in SPEC_KEYS:
        spec = _camel_keys(body.get(key))
        if spec:
            spec["hyperParameters"] = _camel_keys(spec.get("hyperParameters"))
            body[key] = {k: v for k, v in spec.items() if v is not None}
    for key in ("preTunedModel", "encryptionSpec"):
        if body.get(key):
            body[key] = _camel_keys(body[key])
    return body


def create(service: Service, call: Call) -> dict:
    body = normalized_request(call.body)
    methods = [key for key in SPEC_KEYS if body.get(key)]
    if len(methods) > 1:
        raise invalid("Only one of supervised_tuning_spec and preference_optimization_spec.")
    if not methods:
        raise invalid("supervised_tuning_spec or preference_optimization_spec is required.")
    spec_key = methods[0]
    spec = dict(body[spec_key])
    gs_uri(spec.get("trainingDatasetUri", ""), "training_dataset_uri")
    if spec.get("validationDatasetUri"):
        gs_uri(spec["validationDatasetUri"], "validation_dataset_uri")
    labels = body.get("labels") or {}
    check_labels(labels)
    kms = (body.get("encryptionSpec") or {}).get("kmsKeyName")
    if kms is not None and not _KMS_KEY.match(kms):
        raise invalid(f"Invalid KMS key name {kms!r}")
    account = body.get("serviceAccount")
    if account is not None and not _SERVICE_ACCOUNT.match(account):
        raise invalid(f"Invalid service account {account!r}")
    if spec.get("evaluationConfig"):
        spec["evaluationConfig"] = check_evaluation_config(spec["evaluationConfig"])
    display_name = body.get("tunedModelDisplayName") or ""
    if len(display_name) > 128:
        raise invalid("tuned_model_display_name must be at most 128 characters")

    advance_all(service)
    with service.store.lock:
        base_model, parent = _source_model(service, body)
        spec["hyperParameters"] = _hyper_parameters(base_model, spec)
        requested_epochs = spec["hyperParameters"].get("epochCount")
        verdict = check_data(
            service,
            spec,
            base_model,
            int(requested_epochs) if requested_epochs else None,
            preference=spec_key == "preferenceOptimizationSpec",
        )
        epochs = verdict.epochs
        spec["hyperParameters"]["epochCount"] = str(epochs)
        if service.quota_mode == "reject" and _quota_full(service):
            raise ApiError(  # like Vertex: nothing is created
                429,
                "Quota exceeded for aiplatform.googleapis.com/"
                f"concurrent_tuning_jobs with base model {base_model}: "
                f"{service.max_running_tuning_jobs} running. Wait for a job to finish.",
            )
        job_id = service.store.new_id()
        now = time.time()
        job = {
            "name": f"{call.parent}/tuningJobs/{job_id}",
            "tunedModelDisplayName": display_name or f"{base_model}-tuned-{job_id[-6:]}",
            "state": "JOB_STATE_QUEUED" if _quota_full(service) else "JOB_STATE_PENDING",
            "createTime": rfc3339(now),
            "updateTime": rfc3339(now),
            spec_key: _canonical(spec_key, spec, call.api_version),
        }
        if parent is not None:
            # responses use lowerCamel names even when the request used snake_case
            pre = body["preTunedModel"]
            job["preTunedModel"] = {
                "tunedModelName": pre.get("tunedModelName") or pre.get("tuned_model_name", ""),
                "checkpointId": str(
                    pre.get("checkpointId")
                    or pre.get("checkpoint_id")
                    or parent.get("defaultCheckpointId", "")
                ),
                "baseModel": base_model,
            }
        else:
            job["baseModel"] = body["baseModel"]
        for key in ("description", "encryptionSpec", "serviceAccount"):
            if body.get(key):
                job[key] = body[key]
        if labels:
            job["labels"] = dict(labels)
        job["_sim"] = {
            "created": now,
            "tuning_seconds": service.tuning_seconds,
            "base_model": base_model,
            "epochs": epochs,
            "problem": verdict.problem,
            "parent": registry.model_key(parent) if parent is not None else None,
            "stats": verdict.stats,
            "examples": verdict.examples,
        }
        service.store.table("tuningJobs")[job_id] = job
        service.store.save()
        return view(job)


# JobState -> google-genai's detailed ``tuningJobState``. Only the quota hold carries it:
# the field is not in the public protos yet (googleapis tuning_job.proto, 2026-11), so
# every other response stays strictly proto-shaped.
DETAILED_STATES = {"JOB_STATE_QUEUED": "TUNING_JOB_STATE_WAITING_FOR_QUOTA"}


def view(job: dict) -> dict:
    shown = {k: v for k, v in job.items() if k != "_sim"}
    if job["state"] in DETAILED_STATES:
        shown["tuningJobState"] = DETAILED_STATES[job["state"]]
    return shown


def advance(service: Service, job: dict) -> bool:
    """Move ``job`` along its timeline; True when it changed. Caller holds the lock."""
    if job["state"] in TERMINAL:
        return False
    if job["state"] == "JOB_STATE_QUEUED":
        return False  # waits for a slot: see advance_all
    sim = job["_sim"]
    now = time.time()
    started = sim.get("dequeued", sim["created"])
    pending_until = started + min(1.0, 0.1 * sim["tuning_seconds"])
    done_at = started + sim["tuning_seconds"]
    changed = False
    if job["state"] == "JOB_STATE_PENDING" and now >= pending_until:
        job_id = job["name"].rsplit("/", 1)[1]
        job["startTime"] = rfc3339(pending_until)
        job["updateTime"] = rfc3339(pending_until)
        if sim["problem"]:
            job["state"] = "JOB_STATE_FAILED"
            job["endTime"] = job["updateTime"]
            job["error"] = {"code": 3, "message": sim["problem"]}
            return True
        job["state"] = "JOB_STATE_RUNNING"
        parent = job["name"].split("/tuningJobs/")[0]
        job["experiment"] = f"{parent}/metadataStores/default/contexts/tuning-experiment-{job_id}"
        if sim["stats"]:
            stats = sim["stats"]
            supervised = "supervisedTuningSpec" in job
            job["tuningDataStats"] = stats if supervised else preference_data_stats(stats)
        changed = True
    if job["state"] == "JOB_STATE_RUNNING" and now >= done_at:
        parent = sim["parent"]
        if parent and registry.find_model_version(service, parent) is None:
            job["state"] = "JOB_STATE_FAILED"
            job["endTime"] = job["updateTime"] = rfc3339(done_at)
            job["error"] = {"code": 5, "message": f"Pre-tuned model {parent} was deleted."}
            return True
        job["tunedModel"] = registry.create_tuned_model(service, job)
        if tuning_spec(job).get("evaluationConfig"):
            from gemini_sft_kfp.emulator.serving.generate import checkpoint_skill  # (imports us)

            version = registry.find_model_version(service, job["tunedModel"]["model"])
            job["evaluateDatasetRuns"] = simulated_runs(
                job,
                job["tunedModel"]["checkpoints"],
                lambda checkpoint: checkpoint_skill(version, checkpoint),
            )
        job["state"] = "JOB_STATE_SUCCEEDED"
        job["endTime"] = job["updateTime"] = rfc3339(done_at)
        changed = True
    return changed


ACTIVE = {"JOB_STATE_PENDING", "JOB_STATE_RUNNING"}


def _quota_full(service: Service) -> bool:
    """True when ``max_running_tuning_jobs`` jobs already hold a slot (caller holds the lock)."""
    limit = service.max_running_tuning_jobs
    if not limit:
        return False
    active = sum(1 for j in service.store.table("tuningJobs").values() if j["state"] in ACTIVE)
    return active >= limit


def advance_all(service: Service) -> None:
    """Bring every unfinished job up to date; queued jobs take slots as they free up."""
    with service.store.lock:
        jobs = service.store.table("tuningJobs").values()
        changed = False
        for job in jobs:
            if job["state"] not in TERMINAL:
                changed = advance(service, job) or changed
        for job in sorted(
            (j for j in jobs if j["state"] == "JOB_STATE_QUEUED"), key=lambda j: j["createTime"]
        ):
            if _quota_full(service):
                break
            job["state"] = "JOB_STATE_PENDING"
            job["_sim"]["dequeued"] = time.time()
            job["updateTime"] = rfc3339()
            changed = True
        if changed:
            service.store.save()


JOBS = JobRoutes("tuningJobs", "TuningJob", "tuning job", TERMINAL, advance_all, view)
ROUTES = JOBS.routes(P, create)
