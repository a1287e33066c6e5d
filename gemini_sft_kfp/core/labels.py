"""GCP resource labels: sanitise free-form values and merge the pipeline run's labels.

Vertex AI rejects a whole request for one bad label (keys: lowercase letter first, then
lowercase letters, digits, ``_`` and ``-``, at most 63 characters; values the same
characters, may be empty, at most 63; at most 64 labels). Values we derive (a model id
``gemini-2.5-flash``, a score ``0.81``, a sha256) would break those rules, so they are
sanitised here rather than at every call site.
"""

from __future__ import annotations

import os
import re

import orjson

from gemini_sft_kfp.core.errors import UserError

PIPELINE_RUN_LABELS_ENV = "VERTEX_AI_PIPELINES_RUN_LABELS"
MAX_LABELS = 64
MAX_LENGTH = 63
_INVALID = re.compile(r"[^a-z0-9_-]+")
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
RULES = (
    "keys start with a lowercase letter; keys and values use only lowercase letters, "
    "digits, '_' and '-' (at most 63)"
)


def is_valid_value(value: object) -> bool:
    """A label value the service accepts as it is."""
    return isinstance(value, str) and _VALUE.match(value) is not None


def sanitize_value(value: object) -> str:
    """``"Gemini 2.5 Flash"`` -> ``"gemini-2-5-flash"``: lowercase, invalid runs to ``-``."""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "nan"
    else:
        text = str(value)
    return _INVALID.sub("-", text.strip().lower()).strip("-")[:MAX_LENGTH]


def sanitize_key(key: object) -> str:
    """A valid label key: like a value, and starting with a lowercase letter."""
    text = sanitize_value(str(key).replace(".", "_"))
    if not text or not text[0].isalpha():
        text = f"k-{text}"
    return text[:MAX_LENGTH]


def sanitize_labels(labels: dict | None) -> dict[str, str]:
    """Sanitise every key and value; ``None`` values are dropped."""
    return {sanitize_key(k): sanitize_value(v) for k, v in (labels or {}).items() if v is not None}


def pipeline_run_labels() -> dict[str, str]:
    """The labels Vertex Pipelines asks every job of the run to carry (empty elsewhere)."""
    raw = os.environ.get(PIPELINE_RUN_LABELS_ENV, "").strip()
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return sanitize_labels(data) if isinstance(data, dict) else {}


def merge_labels(*layers: dict | None) -> dict[str, str]:
    """Merge label dicts (later wins), sanitised, capped at the service's 64 labels."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged |= sanitize_labels(layer)
    return dict(list(merged.items())[:MAX_LABELS])


# The labels a pipeline run and the service put on the tuning job and the tuned model
# besides the user's (the job's labels are copied onto the model): the idempotency key,
# register_model's provenance, the lineage, the promotion stamp, finalize_run's outcome,
# and the two Vertex adds to every tuned model. Vertex refuses a model with more than 64
# labels, so these are counted up front: otherwise the update after tuning is refused.
PIPELINE_LABELS = (
    "gemini_sft_task",
    "base_model",
    "dataset_sha256",
    "gate_metric",
    "gate_score",
    "pipeline_run",
    "lineage",
    "promoted_at",
    "gemini_sft_outcome",
    "google-vertex-llm-tuning-base-model-id",
    "google-vertex-llm-tuning-job-id",
)
# what Vertex Pipelines adds (vertex-ai-pipelines-run-billing-id), or on a local run
# instead its key (jobs.identity.LOCAL_RUN_LABEL)
PIPELINE_RUN_LABEL_ROOM = 2
MAX_USER_LABELS = MAX_LABELS - len(PIPELINE_LABELS) - PIPELINE_RUN_LABEL_ROOM


def check_labels(
    labels: object, *, field: str = "labels", max_labels: int = MAX_USER_LABELS
) -> None:
    """Labels a user gives a pipeline run, by the service's rules: refused, not silently
    rewritten. At most ``max_labels`` (64 less the ones the pipeline adds) and none of the
    pipeline's own keys, which it would overwrite."""
    if not isinstance(labels, dict) or len(labels) > max_labels:
        count = f", got {len(labels)}" if isinstance(labels, dict) else ""
        raise UserError(
            f"labels must be a map of at most {max_labels} entries{count} (Vertex allows "
            f"{MAX_LABELS} on a model; the pipeline adds {MAX_LABELS - max_labels} of its own)",
            field=field,
        )
    for key, value in labels.items():
        if not _KEY.match(str(key)) or not is_valid_value(str(value)):
            raise UserError(f"invalid label {key}={value}: {RULES}", field=field)
        if max_labels < MAX_LABELS and key in PIPELINE_LABELS:
            raise UserError(
                f"label {key!r} is set by the pipeline itself; use another key", field=field
            )


def check_value(value: object, *, field: str) -> None:
    """One label value a user gives (e.g. a lineage), by the same rules."""
    if not is_valid_value(value):
        suggestion = sanitize_value(value)
        hint = f" (e.g. {suggestion!r})" if suggestion else ""
        raise UserError(f"{value!r} is not a valid label value{hint}: {RULES}", field=field)
