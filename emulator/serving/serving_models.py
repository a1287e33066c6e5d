"""Which publisher models answer ``generateContent`` / ``countTokens`` / ``computeTokens``.

Every model of the project's tuning table (``gemini_sft_kfp/core/models.json``, read
live, so models added there appear here) plus current Gemini models Google's samples
call that the table does not (yet) list for tuning. Serving them does not make them
tunable: ``tuningJobs.create`` still checks the table.
"""

from __future__ import annotations

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import get_model_spec, normalize_model_id

# Current models used by python-docs-samples genai/* (2026-08) and the tuning docs.
SERVING_ONLY = frozenset(
    {
        "gemini-3.5-flash",
        "gemini-3.5-flash-lite",
        "gemini-3.1-flash-lite",
        "gemini-3.1-pro-preview",
    }
)


def publisher_model(model: str) -> tuple[str, str] | None:
    """(model id, launch stage) of a servable publisher model, None when unknown."""
    model_id = normalize_model_id(model)
    if model_id in SERVING_ONLY:
        return model_id, "PUBLIC_PREVIEW" if model_id.endswith("-preview") else "GA"
    try:
        spec = get_model_spec(model_id, allow_unsupported=True)
    except UserError:
        return None
    return model_id, "GA" if spec.supported else "DEPRECATED"
