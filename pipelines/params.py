"""Pipeline parameters from the command line: typed from the pipeline's own signature.

``--param epochs=3`` becomes ``{"epochs": 3}`` because the pipeline declares ``epochs: int``;
a misspelt name or a bad value is a UserError before anything runs or is submitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from gemini_sft_kfp.core.errors import UserError

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def parameter_types(pipeline_func) -> dict[str, str]:
    """``{name: KFP type}`` (String, Integer, Float, Boolean, Dict, List) of a pipeline."""
    return {name: spec.type for name, spec in pipeline_func.component_spec.inputs.items()}


def required_parameters(pipeline_func) -> list[str]:
    return [n for n, s in pipeline_func.component_spec.inputs.items() if not s.optional]


def coerce(name: str, kfp_type: str, value: Any) -> Any:
    """Convert a command-line string to the parameter's type (non-strings pass through)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if kfp_type == "Integer":
            return int(text)
        if kfp_type == "Float":
            return float(text)
        if kfp_type == "Boolean":
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError("expected true or false")
        if kfp_type == "Dict":
            data = (
                orjson.loads(text)
                if text.startswith(("{", "["))
                else parse_pairs(text.split(","), what=name)
            )
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object or k=v,k2=v2")
            return data
        if kfp_type == "List":  # every list parameter is a list of names (strings)
            if not text.startswith("["):
                return [item.strip() for item in text.split(",") if item.strip()]
            items = orjson.loads(text)
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ValueError('expected a list of strings: ["a", "b"] or a,b')
            return items
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise UserError(f"bad value {value!r}: {exc}", field=name) from None
    return value


def parse_pairs(pairs: Iterable[str], *, what: str = "label") -> dict[str, str]:
    """``["team=ml", "env=dev"]`` -> ``{"team": "ml", "env": "dev"}``."""
    result: dict[str, str] = {}
    for pair in pairs:
        if not pair.strip():
            continue
        key, sep, val = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"expected KEY=VALUE, got {pair!r}", field=what)
        result[key.strip()] = val.strip()
    return result


def build_arguments(
    pipeline_func, named: dict[str, Any], extra: Iterable[str] = ()
) -> dict[str, Any]:
    """Typed pipeline arguments from explicit options (None = not given) and ``--param``s."""
    types = parameter_types(pipeline_func)
    arguments: dict[str, Any] = {}
    for name, value in named.items():
        if value is None:
            continue
        if name not in types:
            continue  # an option of another pipeline (e.g. --champion-model for sft)
        arguments[name] = coerce(name, types[name], value)
    for name, value in parse_pairs(extra, what="param").items():
        if name not in types:
            raise UserError(
                f"unknown pipeline parameter {name!r}; known: {', '.join(sorted(types))}",
                field="param",
            )
        arguments[name] = coerce(name, types[name], value)
    return arguments


def check_required(pipeline_func, arguments: dict[str, Any]) -> None:
    missing = [name for name in required_parameters(pipeline_func) if name not in arguments]
    if missing:
        raise UserError(
            "missing pipeline parameter(s): "
            + ", ".join(missing)
            + " (give them as options or --param NAME=VALUE)",
            field="param",
        )
