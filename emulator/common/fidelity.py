"""Strict mode: check every JSON body against the official aiplatform protos before it
leaves the emulator (``json_format.Parse`` without ignoring unknown fields). A body that
would not parse becomes a 500 naming the field, so a fidelity slip fails loudly in
tests instead of passing silently. On in the pytest session emulator; off by default.
"""

from __future__ import annotations

import functools
from enum import Enum

import orjson

# REST method -> response message (in aiplatform_v1 / aiplatform_v1beta1), or special kinds
_RESPONSE_TYPES = {
    "tuningJobs.create": "TuningJob",
    "tuningJobs.get": "TuningJob",
    "tuningJobs.list": "ListTuningJobsResponse",
    "models.get": "Model",
    "models.patch": "Model",
    "models.mergeVersionAliases": "Model",
    "models.list": "ListModelsResponse",
    "models.listVersions": "ListModelVersionsResponse",
    "endpoints.get": "Endpoint",
    "endpoints.list": "ListEndpointsResponse",
    "endpoints.generateContent": "GenerateContentResponse",
    "publishers.models.generateContent": "GenerateContentResponse",
    "endpoints.countTokens": "CountTokensResponse",
    "publishers.models.countTokens": "CountTokensResponse",
    "publishers.models.get": "PublisherModel",
    "pipelineJobs.create": "PipelineJob",
    "pipelineJobs.get": "PipelineJob",
    "pipelineJobs.list": "ListPipelineJobsResponse",
    "schedules.create": "Schedule",
    "schedules.get": "Schedule",
    "schedules.list": "ListSchedulesResponse",
    "publishers.models.computeTokens": "ComputeTokensResponse",
    "endpoints.computeTokens": "ComputeTokensResponse",
    "metadataStores.contexts.get": "Context",
    "batchPredictionJobs.create": "BatchPredictionJob",
    "batchPredictionJobs.get": "BatchPredictionJob",
    "batchPredictionJobs.list": "ListBatchPredictionJobsResponse",
    "locations.evaluateInstances": "EvaluateInstancesResponse",
}
_OPERATIONS = {
    "models.delete",
    "models.deleteVersion",
    "operations.get",
    "endpoints.delete",
    "endpoints.undeployModel",
    "pipelineJobs.delete",
    "schedules.delete",
}
_EMPTY = {
    "tuningJobs.cancel",
    "pipelineJobs.cancel",
    "schedules.pause",
    "schedules.resume",
    "batchPredictionJobs.cancel",
}


@functools.cache
def message_class(api_version: str, name: str):
    """The protobuf class of aiplatform message ``name`` in ``api_version`` (v1, v1beta1):
    what request and response bodies are checked against."""
    if api_version == "v1beta1":
        from google.cloud import aiplatform_v1beta1 as module
    else:
        from google.cloud import aiplatform_v1 as module
    return getattr(module, name).pb()


# Fields the service returns that the installed aiplatform protos predate: checked
# against google-genai's (``extra="forbid"``) model of the field instead.
_NEWER_THAN_PROTOS = {
    "TuningJob": {
        # google-genai reads it; googleapis tuning_job.proto (v1, v1beta1) lacks it (2026-11)
        "tuningJobState": "TuningJobState",
        # a nested field: "<field>.<subfield>" (TuningDataStats lacks it in the protos)
        "tuningDataStats.preferenceOptimizationDataStats": "PreferenceOptimizationDataStats",
    }
}


# Fields whose message the emulator describes itself (``newer_protos``): checked by
# proto JSON parsing like the rest, per API version (v1beta1 has more fields).
DESCRIBED_HERE = {"TuningJob": {"preferenceOptimizationSpec": "PreferenceOptimizationSpec"}}


def strip_newer_fields(
    message_name: str, body: object, api_version: str = "v1"
) -> tuple[object, str | None]:
    """``body`` without the fields the service has and the installed protos lack
    (``_NEWER_THAN_PROTOS``), and the first problem in those (None when they are valid).

    The installed protos cannot judge such a field, so it is checked against the message
    ``newer_protos`` describes (``DESCRIBED_HERE``, per API version) or google-genai's model
    of it, then taken out: what remains can be checked against the protos. Used for
    responses (strict mode, here) and requests (``schema.check_request``).
    """
    newer = _NEWER_THAN_PROTOS.get(message_name)
    described = DESCRIBED_HERE.get(message_name, {})
    if not (newer or described) or not isinstance(body, dict):
        return body, None
    from gemini_sft_kfp.emulator.common.newer_protos import message_class as described_class
    from google.genai import types
    from google.protobuf import json_format
    from pydantic import ValidationError

    rest = dict(body)
    for field, name in described.items():
        if field in rest:
            value = rest.pop(field)
            try:
                json_format.Parse(orjson.dumps(value), described_class(api_version, name)())
            except json_format.ParseError as exc:
                return rest, f"{field}: {exc}"
    for field, model in (newer or {}).items():
        head, _, tail = field.partition(".")
        if tail and isinstance(rest.get(head), dict) and tail in rest[head]:
            inner = dict(rest[head])
            value = inner.pop(tail)
            rest[head] = inner
        elif not tail and field in rest:
            value = rest.pop(field)
        else:
            continue
        kind = getattr(types, model)
        try:
            if isinstance(kind, type) and issubclass(kind, Enum):
                kind(value)  # an unknown enum value raises ValueError
            else:
                kind.model_validate(value)
        except (ValidationError, ValueError) as exc:
            return rest, f"{field}: {exc}"
    return rest, None


def violation(method: str, api_version: str, body: object) -> str | None:
    """Why ``body`` is not a valid response of ``method`` (None when it is, or unknown)."""
    from google.protobuf import json_format

    if method in _EMPTY:
        return None if body == {} else f"{method} must answer an empty object"
    if method in _OPERATIONS:
        from google.longrunning import operations_pb2

        message = operations_pb2.Operation()
    elif method in _RESPONSE_TYPES:
        message = message_class(api_version, _RESPONSE_TYPES[method])()
        if _RESPONSE_TYPES[method] == "TuningJob":
            body, problem = strip_newer_fields("TuningJob", body, api_version)
        elif _RESPONSE_TYPES[method] == "ListTuningJobsResponse" and isinstance(body, dict):
            jobs = [
                strip_newer_fields("TuningJob", job, api_version)
                for job in body.get("tuningJobs", [])
            ]
            problem = next((p for _, p in jobs if p), None)
            body = {**body, "tuningJobs": [job for job, _ in jobs]} if jobs else body
        else:
            problem = None
        if problem:
            return problem
    else:
        return None
    try:
        json_format.Parse(orjson.dumps(body), message)
    except json_format.ParseError as exc:
        return str(exc)
    return None
