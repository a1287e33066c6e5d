"""batchPredictionJobs for Gemini models: create, get, list, cancel (JSONL in, JSONL out).

What google-genai's ``batches.create(model=..., src="gs://...jsonl")`` calls on Vertex.
Each input line is ``{"request": GenerateContentRequest, ...}``; extra fields are kept.
The job runs for ``min(tuning_seconds, 5)``, or ``Service.batch_seconds`` when a test
sets it (PENDING, RUNNING, SUCCEEDED), then writes
``<outputUriPrefix>/prediction-model-<time>/predictions.jsonl``: one line per input
line, in input order, ``{..., "request", "response", "status": ""}``, or a ``status``
error message for a line that is not a valid request.

**Simulated answers**, from the same simulation as ``generateContent``: a tuned model
recalls the closest training example, a base model replies generically. Jobs carry
the label ``emulator-simulated=true`` and every output line ``"simulated": true``.
The input is read when the job completes, as the service reads it while running.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request

import orjson
from gemini_sft_kfp.emulator.common import request_schema as schema
from gemini_sft_kfp.emulator.common.api_errors import ApiError, gs_uri, invalid, not_found
from gemini_sft_kfp.emulator.common.http import Call
from gemini_sft_kfp.emulator.common.label_rules import check_labels
from gemini_sft_kfp.emulator.common.listing import JobRoutes
from gemini_sft_kfp.emulator.common.service import SIMULATED_LABEL, Service
from gemini_sft_kfp.emulator.common.store import rfc3339
from gemini_sft_kfp.emulator.model_registry import model_versions as registry
from gemini_sft_kfp.emulator.serving.generate import (
    _response,
    base_answer,
    check_request,
    prompt_text,
)
from gemini_sft_kfp.emulator.serving.serving_models import publisher_model

P = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
TABLE = "batchPredictionJobs"
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}
MAX_RUN_SECONDS = 5.0
_PUBLISHER = "publishers/google/models/"


def _model(service: Service, call: Call, model: str) -> tuple[str, dict | None]:
    """(model name as the job shows it, the tuned version or None for a base model)."""
    if not model:
        raise invalid("model is required.")
    if _PUBLISHER in model or "/" not in model:
        model_id = model.rsplit("/", 1)[-1]
        if publisher_model(model_id) is None:
            raise not_found(f"Publisher Model `{_PUBLISHER}{model_id}` was not found.")
        return f"{_PUBLISHER}{model_id}", None
    version = registry.find_model_version(service, model)
    if version is None:
        raise not_found(f"Model {model} not found.")
    return model, version


def _run_seconds(service: Service) -> float:
    if service.batch_seconds is not None:
        return service.batch_seconds
    return min(service.tuning_seconds, MAX_RUN_SECONDS)


def _uri(body: dict, *path: str) -> str:
    value = body
    for key in path:
        value = (value or {}).get(key)
    return value[0] if isinstance(value, list) and value else value or ""


def create(service: Service, call: Call) -> dict:
    body = call.body
    if not body.get("displayName"):
        raise invalid("display_name is required.")
    source = gs_uri(_uri(body, "inputConfig", "gcsSource", "uris"), "input_config.gcs_source.uris")
    if (body.get("inputConfig") or {}).get("instancesFormat", "jsonl") != "jsonl":
        raise invalid("Only the jsonl instances format is emulated.")
    prefix = gs_uri(
        _uri(body, "outputConfig", "gcsDestination", "outputUriPrefix"),
        "output_config.gcs_destination.output_uri_prefix",
        needs_object=False,
    )
    labels = dict(body.get("labels") or {})
    check_labels(labels)
    with service.store.lock:
        model, version = _model(service, call, body.get("model", ""))
        if version is not None and call.parent.endswith("/locations/global"):
            # Google's batch inference docs: "The global endpoint isn't supported for
            # batch inference using tuned models."
            raise invalid("Batch prediction of tuned models is not supported in global.")
        job_id = service.store.new_id()
        now = time.time()
        job = {
            "name": f"{call.parent}/{TABLE}/{job_id}",
            "displayName": body["displayName"],
            "model": model,
            "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [source]}},
            "outputConfig": {
                "predictionsFormat": "jsonl",
                "gcsDestination": {"outputUriPrefix": prefix},
            },
            "state": "JOB_STATE_PENDING",
            "createTime": rfc3339(now),
            "updateTime": rfc3339(now),
            "labels": {**labels, SIMULATED_LABEL: "true"},
            "_sim": {
                "created": now,
                "seconds": _run_seconds(service),
                "version": registry.model_key(version) if version else None,
                "training_uris": list(version["_sim"]["training_uris"]) if version else [],
            },
        }
        if version is not None:
            job["modelVersionId"] = version["versionId"]
        service.store.table(TABLE)[job_id] = job
        service.store.save()
        return view(job)


def view(job: dict) -> dict:
    return {k: v for k, v in job.items() if k != "_sim"}


def _answers(service: Service, job: dict, data: bytes) -> tuple[bytes, int, int]:
    """The output JSONL for the input ``data``: (bytes, succeeded, failed)."""
    sim = job["_sim"]
    index = None
    if sim["version"]:
        index = service.knowledge.index(sim["version"], sim["training_uris"])
    lines, ok, failed = [], 0, 0
    for raw in data.splitlines():
        if not raw.strip():
            continue
        record: dict = {}
        try:
            parsed = orjson.loads(raw)
            record = parsed if isinstance(parsed, dict) else {}
            request = record.get("request")
            if not isinstance(request, dict):
                raise invalid('each line needs a "request" object')
            # parsed like a generateContent body, as the service parses each line
            request = schema.check_request("publishers.models.generateContent", "v1", request)
            contents = check_request(request)
        except (orjson.JSONDecodeError, ApiError) as exc:
            message = exc.message if isinstance(exc, ApiError) else f"invalid JSON: {exc}"
            lines.append(orjson.dumps({**record, "status": message, "simulated": True}))
            failed += 1
            continue
        prompt = prompt_text(contents)
        answer = index.answer(prompt) if index is not None else base_answer(prompt)
        response = _response(request, contents, answer, job["model"])
        lines.append(
            orjson.dumps(
                {
                    **record,
                    "response": response,
                    "status": "",
                    "processed_time": rfc3339(),
                    "simulated": True,
                }
            )
        )
        ok += 1
    return b"\n".join(lines) + (b"\n" if lines else b""), ok, failed


def _write(service: Service, uri: str, data: bytes) -> None:
    """Upload through the Cloud Storage emulator's own JSON API (as the service would)."""
    bucket, _, name = uri[len("gs://") :].partition("/")
    query = urllib.parse.urlencode({"uploadType": "media", "name": name})
    url = f"http://127.0.0.1:{service.gcs.port}/upload/storage/v1/b/{bucket}/o?{query}"
    request = urllib.request.Request(
        # (the storage emulator parses any "json" content type as JSON: send bytes)
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def _finish(service: Service, job: dict, done_at: float) -> None:
    """Run the predictions and write them (caller holds the lock)."""
    source = job["inputConfig"]["gcsSource"]["uris"][0]
    job["endTime"] = job["updateTime"] = rfc3339(done_at)
    try:
        data = service.gcs.read(source)
    except (KeyError, ValueError):
        job["state"] = "JOB_STATE_FAILED"
        job["error"] = {"code": 5, "message": f"Input {source} not found."}
        return
    output, ok, failed = _answers(service, job, data)
    prefix = job["outputConfig"]["gcsDestination"]["outputUriPrefix"].rstrip("/")
    directory = f"{prefix}/prediction-model-{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}"
    try:
        _write(service, f"{directory}/predictions.jsonl", output)
    except OSError as exc:
        job["state"] = "JOB_STATE_FAILED"
        job["error"] = {"code": 7, "message": f"Cannot write to {prefix}: {exc}"}
        return
    job["state"] = "JOB_STATE_SUCCEEDED"
    job["outputInfo"] = {"gcsOutputDirectory": directory}
    job["completionStats"] = {"successfulCount": str(ok), "failedCount": str(failed)}


def advance_all(service: Service) -> None:
    """PENDING -> RUNNING at once, SUCCEEDED (output written) after the run time."""
    with service.store.lock:
        changed = False
        now = time.time()
        for job in service.store.table(TABLE).values():
            if job["state"] in TERMINAL:
                continue
            sim = job["_sim"]
            if job["state"] == "JOB_STATE_PENDING":
                job["state"] = "JOB_STATE_RUNNING"
                job["startTime"] = job["updateTime"] = rfc3339(now)
                changed = True
            if now >= sim["created"] + sim["seconds"]:
                _finish(service, job, now)
                changed = True
        if changed:
            service.store.save()


JOBS = JobRoutes(TABLE, "BatchPredictionJob", "batch prediction job", TERMINAL, advance_all, view)
ROUTES = JOBS.routes(P, create)
