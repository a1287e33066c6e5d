"""Runtime parameter values typed by the compiled spec, as Vertex AI Pipelines types them.

A REST client sends ``runtimeConfig.parameterValues`` as ``google.protobuf.Value``s, and a
protobuf Value has one number kind (a double): ``--epochs 3`` arrives as ``3.0``. Vertex
types each value by the root ``inputDefinitions`` of the pipeline spec, so ``3.0`` for a
``NUMBER_INTEGER`` input is the integer 3, and ``2.5`` is refused when the job is created.
"""

from __future__ import annotations

from typing import Any

from gemini_sft_kfp.emulator.common.api_errors import invalid

# parameterType -> (python types accepted, the name Vertex's messages use)
_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "NUMBER_INTEGER": ((int, float), "number_value"),
    "NUMBER_DOUBLE": ((int, float), "number_value"),
    "BOOLEAN": ((bool,), "bool_value"),
    "STRING": ((str,), "string_value"),
    "LIST": ((list,), "list_value"),
    "STRUCT": ((dict,), "struct_value"),
}


def input_types(spec: dict) -> dict[str, str]:
    """``{name: parameterType}`` of the pipeline's own (root) inputs."""
    root = (spec.get("root") or {}).get("inputDefinitions") or {}
    return {name: d.get("parameterType", "") for name, d in (root.get("parameters") or {}).items()}


def typed_value(name: str, kind: str, value: Any) -> Any:
    """One value as the spec types it; ApiError 400 (INVALID_ARGUMENT) when it cannot be."""
    accepted = _KINDS.get(kind)
    if accepted is None or value is None:
        return value
    types, proto_kind = accepted
    is_bool = isinstance(value, bool)
    if (is_bool and bool not in types) or not isinstance(value, types):
        raise invalid(
            f"The value of input parameter {name} is incompatible with its type {kind}: "
            f"expected a {proto_kind}, got {value!r}."
        )
    if kind == "NUMBER_INTEGER":
        if isinstance(value, float) and not value.is_integer():
            raise invalid(
                f"The value of input parameter {name} is {value!r}, which is not an integer; "
                f"its type is NUMBER_INTEGER."
            )
        return int(value)
    if kind == "NUMBER_DOUBLE":
        return float(value)
    return value


def typed_parameter_values(spec: dict, values: dict[str, Any]) -> dict[str, Any]:
    """Every value typed by ``spec`` (names the spec does not declare are left as given)."""
    kinds = input_types(spec)
    return {name: typed_value(name, kinds.get(name, ""), v) for name, v in values.items()}


def type_job_parameters(job: dict) -> dict:
    """``job`` (a PipelineJob body) with its ``parameterValues`` typed; 400 if they can't be."""
    runtime = job.get("runtimeConfig")
    if not runtime or not runtime.get("parameterValues"):
        return job
    values = typed_parameter_values(job.get("pipelineSpec") or {}, runtime["parameterValues"])
    return {**job, "runtimeConfig": {**runtime, "parameterValues": values}}
