"""Which Google Cloud project and region a call goes to: one resolver, one default region.

Order: an explicit value, then the environment (``GOOGLE_CLOUD_PROJECT`` /
``GOOGLE_CLOUD_LOCATION``), then, when ``VERTEX_AI_EMULATOR_HOST`` is set, the
emulator's own project, then ``DEFAULT_LOCATION`` for the region. A project is never
guessed for the real service: without one, a UserError says how to give it.
"""

from __future__ import annotations

import os

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.clients import VERTEX_EMULATOR_ENV
from gemini_sft_kfp.core.errors import UserError

DEFAULT_LOCATION = defaults.LOCATION
# Tuning-time evaluation (evaluationConfig, Preview) is documented in the default region only.
TUNING_EVALUATION_LOCATIONS = (DEFAULT_LOCATION,)
EMULATOR_PROJECT = "local-project"  # the emulator accepts any; this one is its default
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
LOCATION_ENV = "GOOGLE_CLOUD_LOCATION"


def emulated() -> bool:
    """True when Vertex AI calls go to the local emulator."""
    return bool(os.environ.get(VERTEX_EMULATOR_ENV))


def resolve_project(project: str | None = None) -> str:
    """Explicit > $GOOGLE_CLOUD_PROJECT > the emulator's project; else a UserError."""
    resolved = project or os.environ.get(PROJECT_ENV) or (EMULATOR_PROJECT if emulated() else "")
    if not resolved:
        raise UserError(f"--project is required (or set {PROJECT_ENV})", field="project")
    return resolved


def resolve_location(location: str | None = None) -> str:
    """Explicit > $GOOGLE_CLOUD_LOCATION > ``DEFAULT_LOCATION``."""
    return location or os.environ.get(LOCATION_ENV) or DEFAULT_LOCATION


def resolve_project_location(
    project: str | None = None, location: str | None = None
) -> tuple[str, str]:
    """(project, location) by the order above, each checked (``gcp_names``): a malformed
    project or region is a one-line error before any client is built."""
    from gemini_sft_kfp.core.gcp_names import check_location, check_project

    return check_project(resolve_project(project)), check_location(resolve_location(location))
