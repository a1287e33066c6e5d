"""The GCPC ``gcp_resources`` output: how a task finds (and resumes) the job it started.

Written with GCPC's own ``GcpResources`` proto, so Vertex AI Pipelines' console and
GCPC's launchers read it as theirs; read tolerantly (a missing, empty or foreign file
means "nothing recorded").
"""

from __future__ import annotations

import os
import re

from google.protobuf import json_format
from google_cloud_pipeline_components.proto.gcp_resources_pb2 import GcpResources

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
    """``{"resources": [{"resourceType": ..., "resourceUri": ...}]}``, as GCPC writes it."""
    resources = GcpResources()
    resources.resources.add(resource_type=resource_type, resource_uri=resource_uri(name, location))
    return json_format.MessageToJson(resources)


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
    resources = GcpResources()
    try:
        with open(path, encoding="utf-8") as f:
            json_format.Parse(f.read(), resources, ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError):
        return None
    for resource in resources.resources:
        if resource.resource_type == resource_type and resource.resource_uri:
            return name_from_uri(resource.resource_uri)
    return None


def write_all(path: str, resource_type: str, names: list[str], location: str) -> None:
    """Several jobs of one task (e.g. one batch job per evaluated model) in one file."""
    resources = GcpResources()
    for name in names:
        resources.resources.add(
            resource_type=resource_type, resource_uri=resource_uri(name, location)
        )
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json_format.MessageToJson(resources))
    os.replace(tmp, path)


def read_all(path: str | None, resource_type: str) -> list[str]:
    """Every resource name of ``resource_type`` recorded in ``path``, in order."""
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return []
    resources = GcpResources()
    try:
        with open(path, encoding="utf-8") as f:
            json_format.Parse(f.read(), resources, ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError):
        return []
    return [
        name_from_uri(r.resource_uri)
        for r in resources.resources
        if r.resource_type == resource_type and r.resource_uri
    ]
