"""Project ids and Vertex AI locations, checked the way the service and SDK would.

Checked before any client is built, so ``--project "a b/../c"`` or ``--location ../../``
is a one-line error instead of a malformed URL, and ``--location "us central1"`` fails
before a tuning job starts rather than at ``register-model`` after it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError

# Project ids: lowercase letters, digits and hyphens, a letter first, no trailing hyphen;
# domain-scoped ids (example.com:my-project) too; or a project number. Google also wants
# 6-30 characters: not enforced, short ids ("p") stand in for real ones in tests.
MAX_DISPLAY_NAME = 128  # characters: Vertex AI's limit on a resource's display name
_PROJECT_ID = re.compile(r"^(?:[a-z0-9.-]+:)?[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PROJECT_NUMBER = re.compile(r"^\d{1,20}$")


def check_project(project: str, *, field: str = "project") -> str:
    """``project`` unchanged if it is a project id or number; ``UserError`` otherwise."""
    if not isinstance(project, str) or not (
        _PROJECT_ID.match(project) or _PROJECT_NUMBER.match(project)
    ):
        raise UserError(
            f"invalid Google Cloud project {project!r}: a project id is lowercase letters, "
            "digits and hyphens, starting with a letter (or give the project number)",
            field=field,
        )
    return project


# The regions the Vertex AI SDK serves, as data (vertex_locations.json, a copy of its
# SUPPORTED_REGIONS: importing the SDK costs ~200 MB and seconds in every task).
# tests/core/test_gcp_names.py fails when the locked SDK's list differs.
VERTEX_AI_LOCATIONS: frozenset[str] = frozenset(
    json.loads((Path(__file__).with_name("vertex_locations.json")).read_text(encoding="utf-8"))[
        "locations"
    ]
)


_LOCATION = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def check_location(location: str, *, field: str = "location", known_only: bool = False) -> str:
    """``location`` unchanged if it can be a region (``known_only``: one the Vertex AI SDK
    serves, what runs that start billable jobs use); ``UserError`` otherwise."""
    if not isinstance(location, str) or not _LOCATION.match(location):
        raise UserError(
            f"invalid Vertex AI location {location!r}: a region such as us-central1", field=field
        )
    if known_only and location not in VERTEX_AI_LOCATIONS:
        close = sorted(r for r in VERTEX_AI_LOCATIONS if r[:4] == location[:4])
        hint = f" (did you mean {', '.join(close[:4])}?)" if close else " (e.g. us-central1)"
        raise UserError(f"unsupported Vertex AI location {location!r}{hint}", field=field)
    return location


_BUCKET_CHARS = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def check_bucket(bucket: str, *, field: str = "bucket") -> str:
    """Cloud Storage's bucket naming rules (``gs://`` prefix tolerated), except the
    3-character minimum: test suites use names like ``b``. Returns the bare name."""
    name = bucket.removeprefix("gs://").rstrip("/") if isinstance(bucket, str) else bucket
    problem = None
    if not isinstance(name, str) or not _BUCKET_CHARS.match(name):
        problem = "use lowercase letters, digits, '-', '_' and '.', starting and ending alnum"
    elif len(name) > (222 if "." in name else 63):
        problem = "at most 63 characters (222 with dots)"
    elif any(len(part) > 63 or not part for part in name.split(".")):
        problem = "each dot-separated part is 1-63 characters"
    elif _IP_ADDRESS.match(name) or name.startswith("goog") or "google" in name:
        problem = "no IP addresses, 'goog' prefix or 'google'"
    if problem:
        raise UserError(f"Invalid bucket name: {name!r} ({problem})", field=field)
    return name


def check_gcs_prefix(uri: str, *, field: str, needs: str = "must be a gs:// URI") -> None:
    """``uri`` as ``gs://BUCKET[/...]`` with a validly named bucket; ``needs`` says why a
    gs:// URI is wanted when it is not one."""
    if not uri.startswith("gs://"):
        raise UserError(needs, field=field)
    check_bucket(uri[len("gs://") :].partition("/")[0], field=field)
