"""Request checks the service's front end does before any handler runs.

Vertex AI parses every JSON body into the request's proto message and every list
call's ``pageSize`` into an int32; what does not parse is a 400 ``INVALID_ARGUMENT``
naming the field, with a ``google.rpc.BadRequest`` detail. ``check_request`` does the
same here for every route listed in ``REQUEST_MESSAGES`` (walking the aiplatform
descriptors), so handlers only ever see well-typed bodies. The wording follows the
service's (``Invalid value at 'tuning_job.supervised_tuning_spec' (type...), "x"``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import orjson
from gemini_sft_kfp.emulator.common.api_errors import ApiError
from gemini_sft_kfp.emulator.common.fidelity import (
    DESCRIBED_HERE,
    message_class,
    strip_newer_fields,
)

# REST method -> (request body message in aiplatform_v1[beta1], body field name or "" for "*")
REQUEST_MESSAGES = {
    "tuningJobs.create": ("TuningJob", "tuning_job"),
    "schedules.create": ("Schedule", "schedule"),
    "pipelineJobs.create": ("PipelineJob", "pipeline_job"),
    "models.patch": ("Model", "model"),
    "models.mergeVersionAliases": ("MergeVersionAliasesRequest", ""),
    "endpoints.undeployModel": ("UndeployModelRequest", ""),
    "endpoints.generateContent": ("GenerateContentRequest", ""),
    "endpoints.streamGenerateContent": ("GenerateContentRequest", ""),
    "endpoints.countTokens": ("CountTokensRequest", ""),
    "publishers.models.generateContent": ("GenerateContentRequest", ""),
    "publishers.models.streamGenerateContent": ("GenerateContentRequest", ""),
    "publishers.models.countTokens": ("CountTokensRequest", ""),
    "batchPredictionJobs.create": ("BatchPredictionJob", "batch_prediction_job"),
    "locations.evaluateInstances": ("EvaluateInstancesRequest", ""),
}
MAX_REQUEST_BYTES = 32 * 1024 * 1024  # the Vertex AI front end's request limit (32 MB)
INT32_MAX = 2**31 - 1
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*=*")  # standard or URL-safe alphabet
_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
_INT_RANGES = {
    "TYPE_INT32": (-(2**31), 2**31 - 1),
    "TYPE_SINT32": (-(2**31), 2**31 - 1),
    "TYPE_SFIXED32": (-(2**31), 2**31 - 1),
    "TYPE_UINT32": (0, 2**32 - 1),
    "TYPE_FIXED32": (0, 2**32 - 1),
    "TYPE_INT64": (-(2**63), 2**63 - 1),
    "TYPE_SINT64": (-(2**63), 2**63 - 1),
    "TYPE_SFIXED64": (-(2**63), 2**63 - 1),
    "TYPE_UINT64": (0, 2**64 - 1),
    "TYPE_FIXED64": (0, 2**64 - 1),
}
_WRAPPERS = {
    "google.protobuf.DoubleValue": "TYPE_DOUBLE",
    "google.protobuf.FloatValue": "TYPE_FLOAT",
    "google.protobuf.Int64Value": "TYPE_INT64",
    "google.protobuf.UInt64Value": "TYPE_UINT64",
    "google.protobuf.Int32Value": "TYPE_INT32",
    "google.protobuf.UInt32Value": "TYPE_UINT32",
    "google.protobuf.BoolValue": "TYPE_BOOL",
    "google.protobuf.StringValue": "TYPE_STRING",
    "google.protobuf.BytesValue": "TYPE_BYTES",
}


def bad_request(violations: list[tuple[str, str]]) -> ApiError:
    """A 400 with the service's envelope: the descriptions joined, one BadRequest detail."""
    error = ApiError(400, "\n".join(text for _, text in violations), "INVALID_ARGUMENT")
    error.details = [
        {
            "@type": _BAD_REQUEST,
            "fieldViolations": [{"field": f, "description": text} for f, text in violations],
        }
    ]
    return error


def too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        f"Request payload size exceeds the limit: {limit} bytes (got {size}).",
        "INVALID_ARGUMENT",
    )


def check_query(query) -> None:
    """``pageSize`` is an int32 and never negative, wherever it is given."""
    raw = query.get("pageSize")
    if raw is None or raw == "":
        return
    try:
        size = int(raw)
    except ValueError:
        size = None
    if size is None or not -(2**31) <= size <= INT32_MAX:
        text = f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\""
        raise bad_request([("page_size", text)])
    if size < 0:
        raise bad_request([("page_size", f"page_size must not be negative, got {size}.")])


# REST method -> (request message, body field: "" none, "*" the whole message)
QUERY_MESSAGES = {
    "models.get": ("GetModelRequest", ""),
    "models.list": ("ListModelsRequest", ""),
    "models.listVersions": ("ListModelVersionsRequest", ""),
    "models.patch": ("UpdateModelRequest", "model"),
    "models.delete": ("DeleteModelRequest", ""),
    "models.deleteVersion": ("DeleteModelVersionRequest", ""),
    "models.mergeVersionAliases": ("MergeVersionAliasesRequest", "*"),
    "endpoints.list": ("ListEndpointsRequest", ""),
    "endpoints.get": ("GetEndpointRequest", ""),
    "endpoints.delete": ("DeleteEndpointRequest", ""),
    "endpoints.undeployModel": ("UndeployModelRequest", "*"),
    "tuningJobs.create": ("CreateTuningJobRequest", "tuning_job"),
    "tuningJobs.list": ("ListTuningJobsRequest", ""),
    "tuningJobs.get": ("GetTuningJobRequest", ""),
    "tuningJobs.cancel": ("CancelTuningJobRequest", "*"),
    "publishers.models.get": ("GetPublisherModelRequest", ""),
    "endpoints.generateContent": ("GenerateContentRequest", "*"),
    "endpoints.streamGenerateContent": ("GenerateContentRequest", "*"),
    "endpoints.countTokens": ("CountTokensRequest", "*"),
    "endpoints.computeTokens": ("ComputeTokensRequest", "*"),
    "publishers.models.generateContent": ("GenerateContentRequest", "*"),
    "publishers.models.streamGenerateContent": ("GenerateContentRequest", "*"),
    "publishers.models.countTokens": ("CountTokensRequest", "*"),
    "publishers.models.computeTokens": ("ComputeTokensRequest", "*"),
    "locations.evaluateInstances": ("EvaluateInstancesRequest", "*"),
    "batchPredictionJobs.create": ("CreateBatchPredictionJobRequest", "batch_prediction_job"),
    "batchPredictionJobs.list": ("ListBatchPredictionJobsRequest", ""),
    "batchPredictionJobs.get": ("GetBatchPredictionJobRequest", ""),
    "batchPredictionJobs.cancel": ("CancelBatchPredictionJobRequest", "*"),
    "pipelineJobs.create": ("CreatePipelineJobRequest", "pipeline_job"),
    "pipelineJobs.list": ("ListPipelineJobsRequest", ""),
    "pipelineJobs.get": ("GetPipelineJobRequest", ""),
    "pipelineJobs.cancel": ("CancelPipelineJobRequest", "*"),
    "pipelineJobs.delete": ("DeletePipelineJobRequest", ""),
    "schedules.create": ("CreateScheduleRequest", "schedule"),
    "schedules.list": ("ListSchedulesRequest", ""),
    "schedules.get": ("GetScheduleRequest", ""),
    "schedules.delete": ("DeleteScheduleRequest", ""),
    "schedules.pause": ("PauseScheduleRequest", "*"),
    "schedules.resume": ("ResumeScheduleRequest", "*"),
    "metadataStores.contexts.get": ("GetContextRequest", ""),
}
# Google's system parameters (cloud.google.com/apis/docs/system-parameters, and the
# discovery documents' standard parameters): bound by the front end, never refused.
SYSTEM_PARAMETERS = {
    *("alt", "callback", "fields", "key", "prettyPrint", "quotaUser", "userIp", "pp"),
    *("access_token", "oauth_token", "bearer_token", "upload_protocol", "uploadType"),
}


def is_system_parameter(name: str) -> bool:
    return name.startswith("$") or name in SYSTEM_PARAMETERS


def cannot_bind(names: list[str]) -> ApiError:
    """Google's front end (ESF) on query parameters no field of the request message takes:
    its wording, a ``BadRequest`` detail with descriptions only (observed: People API,
    rapidwebltd/php-google-people-api#25; Analytics Admin, googleapis/google-cloud-node#4593)."""
    texts = [
        f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
        f"Field '{name}' could not be found in request message."
        for name in dict.fromkeys(names)
    ][:10]
    error = ApiError(400, "\n".join(texts), "INVALID_ARGUMENT")
    error.details = [
        {"@type": _BAD_REQUEST, "fieldViolations": [{"description": text} for text in texts]}
    ]
    return error


def check_query_names(method: str, api_version: str, names) -> None:
    """400 for a query parameter that binds to no field of ``method``'s request message
    (snake_case or lowerCamel; ``a.b`` under a message field ``a``), as ESF answers it.
    A method with ``body: "*"`` binds no field from the query; system parameters always
    bind. Unknown methods are not checked."""
    known = QUERY_MESSAGES.get(method)
    if known is None:
        return
    name, body_field = known
    fields = {}
    if body_field != "*":
        for field in message_class(api_version, name).DESCRIPTOR.fields:
            if field.name != body_field:
                fields[field.name] = fields[field.json_name] = field
    unknown = []
    for query_name in names:
        if is_system_parameter(query_name):
            continue
        head, _, rest = query_name.partition(".")
        field = fields.get(head)
        if field is None or (rest and field.message_type is None):
            unknown.append(query_name)
    if unknown:
        raise cannot_bind(unknown)


def check_request(method: str, api_version: str, body: Any) -> Any:
    """400 unless ``body`` parses as the request message of ``method`` (unknown: no check);
    the body as the handlers read it (``transcoded``: what Vertex's JSON transcoding makes
    of it)."""
    known = REQUEST_MESSAGES.get(method)
    if known is None:
        return body
    name, root = known
    message = message_class(api_version, name)
    body = transcoded(message.DESCRIPTOR, body)
    body = _described_here(name, api_version, body, root)
    # fields newer than the installed protos: checked against google-genai's model instead
    checked, problem = strip_newer_fields(name, body, api_version)
    if problem:
        raise bad_request([(root, f"Invalid JSON payload received. {problem}")])
    _check(message, checked, root)
    return body


def _described_here(name: str, api_version: str, body: Any, root: str) -> Any:
    """``body`` with each field of ``fidelity.DESCRIBED_HERE`` read, checked and answered
    as Vertex does any field: either name spelling, Vertex's wording for a bad value, and
    canonical proto JSON (what the service stores and returns)."""
    from gemini_sft_kfp.emulator.common.newer_protos import message_class as described
    from google.protobuf import json_format

    if not isinstance(body, dict):
        return body
    for field, message_name in DESCRIBED_HERE.get(name, {}).items():
        snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), field)
        if snake in body and field not in body:
            body = {(field if key == snake else key): value for key, value in body.items()}
        if body.get(field) is None:
            continue
        kind = described(api_version, message_name)
        value = transcoded(kind.DESCRIPTOR, body[field])
        violations: list[tuple[str, str]] = []
        _check_message(kind.DESCRIPTOR, value, _join(root, snake), violations)
        if violations:
            raise bad_request(violations[:10])
        try:
            parsed = json_format.Parse(orjson.dumps(value), kind())
        except json_format.ParseError as exc:
            text = f"Invalid JSON payload received. {exc}"
            raise bad_request([(_join(root, snake), text)]) from None
        body = {**body, field: json_format.MessageToDict(parsed)}
    return body


def _check(message, body: Any, root: str) -> None:
    descriptor = message.DESCRIPTOR
    violations: list[tuple[str, str]] = []
    _check_message(descriptor, body, root, violations)
    if violations:
        raise bad_request(violations[:10])
    # backstop: anything the walk above does not model still has to parse
    from google.protobuf import json_format

    try:
        json_format.Parse(orjson.dumps(body), message())
    except json_format.ParseError as exc:
        raise bad_request([(root, f"Invalid JSON payload received. {exc}")]) from None


_OPAQUE = {  # well-known types whose JSON is not a message of fields
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
    "google.protobuf.Any",
    "google.protobuf.Empty",
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    *_WRAPPERS,
}


def transcoded(descriptor, value: Any) -> Any:
    """``value`` as Vertex's JSON transcoding reads it into ``descriptor``'s message:
    field names in the original snake_case or lowerCamel (proto3 JSON takes both; handlers
    see lowerCamel), a single object for a repeated message field (one element), enum
    names in any case (Google's documented bodies write ``"role": "USER"``). Anything
    else is left as given for the checks to judge (unknown fields, wrong types)."""
    if not isinstance(value, dict):
        return value
    fields = _fields(descriptor)
    result: dict[str, Any] = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is None or item is None:
            result[key] = item
            continue
        result[field.json_name] = _transcoded_field(field, item)
    return result


def _transcoded_field(field, value: Any) -> Any:
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]
        if not isinstance(value, dict):
            return value
        return {key: _transcoded_single(value_field, item) for key, item in value.items()}
    if field.is_repeated:
        if isinstance(value, dict) and field.message_type is not None:
            value = [value]  # a single object for a repeated field: a list of one
        if isinstance(value, list):
            return [_transcoded_single(field, item) for item in value]
        return value
    return _transcoded_single(field, value)


def _transcoded_single(field, value: Any) -> Any:
    message = field.message_type
    if message is not None:
        return value if message.full_name in _OPAQUE else transcoded(message, value)
    if field.enum_type is not None and isinstance(value, str):
        names = {v.name for v in field.enum_type.values}
        return value.upper() if value not in names and value.upper() in names else value
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fields(descriptor) -> dict[str, Any]:
    by_name = {}
    for field in descriptor.fields:
        by_name[field.name] = field
        by_name[field.json_name] = field
    return by_name


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= 80 else text[:77] + "..."


def _invalid(path: str, type_name: str, value: Any) -> tuple[str, str]:
    return path, f"Invalid value at '{path or 'the request'}' ({type_name}), \"{_show(value)}\""


def _type_name(field) -> str:
    if field.message_type is not None:
        return f"type.googleapis.com/{field.message_type.full_name}"
    if field.enum_type is not None:
        return f"type.googleapis.com/{field.enum_type.full_name}"
    return _TYPE_NAMES[field.type]


def _check_message(descriptor, value: Any, path: str, out: list) -> None:
    where = path or "the request"
    if not isinstance(value, dict):
        out.append(_invalid(path, f"type.googleapis.com/{descriptor.full_name}", value))
        return
    fields = _fields(descriptor)
    oneofs: dict[str, str] = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            out.append(
                (
                    _join(path, key),
                    f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                    "Cannot find field.",
                )
            )
            continue
        if item is None:
            continue  # proto JSON: null is the default value
        oneof = field.containing_oneof
        if oneof is not None and not oneof.name.startswith("_"):
            if oneof.name in oneofs:
                out.append(
                    (
                        _join(path, field.name),
                        f"Invalid JSON payload received. Oneof field '{oneof.name}' is already "
                        f"set. Cannot set '{field.name}' (at '{where}').",
                    )
                )
                continue
            oneofs[oneof.name] = field.name
        _check_field(field, item, _join(path, field.name), out)


def _is_map(field) -> bool:
    message = field.message_type
    return message is not None and message.GetOptions().map_entry


def _check_field(field, value: Any, path: str, out: list) -> None:
    if _is_map(field):
        if not isinstance(value, dict):
            out.append(_invalid(path, "map", value))
            return
        value_field = field.message_type.fields_by_name["value"]
        for key, item in value.items():
            _check_single(value_field, item, f"{path}[{key}]", out)
        return
    if field.is_repeated:
        if not isinstance(value, list):
            out.append(_invalid(path, _type_name(field), value))
            return
        for index, item in enumerate(value):
            _check_single(field, item, f"{path}[{index}]", out)
        return
    if isinstance(value, list):
        out.append(
            (
                path,
                f"Invalid JSON payload received. Proto field '{path}' is not repeating, "
                "cannot start list.",
            )
        )
        return
    _check_single(field, value, path, out)


def _check_single(field, value: Any, path: str, out: list) -> None:
    message = field.message_type
    if message is not None:
        _check_message_value(message, value, path, out)
    elif field.enum_type is not None:
        names = {v.name for v in field.enum_type.values}
        ok = (isinstance(value, str) and value in names) or (
            isinstance(value, int) and not isinstance(value, bool)
        )
        if not ok:
            out.append(_invalid(path, _type_name(field), value))
    elif not _scalar_ok(_TYPE_NAMES[field.type], value):
        out.append(_invalid(path, _TYPE_NAMES[field.type], value))


def _check_message_value(message, value: Any, path: str, out: list) -> None:
    full = message.full_name
    if full == "google.protobuf.Value":
        return
    if full in ("google.protobuf.Struct", "google.protobuf.Any", "google.protobuf.Empty"):
        ok = isinstance(value, dict)
    elif full == "google.protobuf.ListValue":
        ok = isinstance(value, list)
    elif full == "google.protobuf.Timestamp":
        ok = isinstance(value, str) and _is_timestamp(value)
    elif full == "google.protobuf.Duration":
        ok = isinstance(value, str) and bool(_DURATION.match(value))
    elif full == "google.protobuf.FieldMask":
        ok = isinstance(value, str)
    elif full in _WRAPPERS:
        ok = _scalar_ok(_WRAPPERS[full], value)
    else:
        _check_message(message, value, path, out)
        return
    if not ok:
        out.append(_invalid(path, f"type.googleapis.com/{full}", value))


def _is_timestamp(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _scalar_ok(kind: str, value: Any) -> bool:
    if kind == "TYPE_STRING":
        return isinstance(value, str)
    if kind == "TYPE_BOOL":
        return isinstance(value, bool)
    if kind == "TYPE_BYTES":
        return isinstance(value, str) and bool(_BASE64.fullmatch(value))
    if isinstance(value, bool):
        return False
    if kind in ("TYPE_DOUBLE", "TYPE_FLOAT"):
        if isinstance(value, int | float):
            return True
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return False
            return True
        return False
    low, high = _INT_RANGES[kind]
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return False
        value = int(value)
    elif isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return False
    if not isinstance(value, int):
        return False
    return low <= value <= high


_TYPE_NAMES = {
    1: "TYPE_DOUBLE",
    2: "TYPE_FLOAT",
    3: "TYPE_INT64",
    4: "TYPE_UINT64",
    5: "TYPE_INT32",
    6: "TYPE_FIXED64",
    7: "TYPE_FIXED32",
    8: "TYPE_BOOL",
    9: "TYPE_STRING",
    12: "TYPE_BYTES",
    13: "TYPE_UINT32",
    15: "TYPE_SFIXED32",
    16: "TYPE_SFIXED64",
    17: "TYPE_SINT32",
    18: "TYPE_SINT64",
}
