"""The GCPC ``gcp_resources`` output: how a task finds (and resumes) the job it started."""

from __future__ import annotations

import os
import re

import orjson

from gemini_sft_kfp.core.clients import vertex_base_url

_URI_NAME = re.compile(r"^https?://[^/]+/v1(?:beta1)?/(?P<name>projects/.+)$")


def resource_uri(name: str, location: str) -> str:
    """Full https URI of a Vertex resource, as GCPC writes it (``.../v1/projects/...``)."""
    base = vertex_base_url(location)
    return f"{base}/v1/{name}"


def name_from_uri(uri: str) -> str:
    """``https://r-aiplatform.googleapis.com/v1/projects/...`` -> ``projects/...``."""
    match = _URI_NAME.match(uri)
    if not match:
        raise ValueError(f"not a Vertex AI resource URI: {uri!r}")
    return match["name"]


def dumps(resource_type: str, name: str, location: str) -> str:
    resource = {"resourceType": resource_type, "resourceUri": resource_uri(name, location)}
    return orjson.dumps({"resources": [resource]}).decode()


def write(path: str, resource_type: str, name: str, location: str) -> None:
    """Write ``gcp_resources`` at once, before waiting on anything, so a restart can resume."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(dumps(resource_type, name, location))
    os.replace(tmp, path)


def read(path: str | None, resource_type: str) -> str | None:
    """The resource name a previous attempt of this task recorded, if any."""
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    try:
        with open(path, "rb") as f:
            data = orjson.loads(f.read())
    except orjson.JSONDecodeError:
        return None
    for resource in data.get("resources", []):
        if resource.get("resourceType") == resource_type and resource.get("resourceUri"):
            return name_from_uri(resource["resourceUri"])
    return None
