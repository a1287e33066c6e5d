"""Resolve the current holder of an alias: the model to continue tuning from
(``preTunedModel``) and the baseline to beat.

"No champion yet" (first run, model deleted, alias never given) is a normal state of a
continuous-tuning pipeline, so it is ``found=False``, not an error: the pipeline then
tunes from the base model and gates on the absolute threshold only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core import lineage as lineages
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.registry import (
    ModelRef,
    ModelVersion,
    Registry,
    tuning_origins,
    version_sort_key,
)

log = logging.getLogger(__name__)


@dataclass
class Champion:
    found: bool
    version: ModelVersion | None = None
    endpoint: str = ""
    base_model: str = ""
    lineage: str = ""  # the lineage searched, or the champion's own

    def baseline(self, fallback: str = "") -> str:
        """What a new model must beat: the champion's endpoint, else ``fallback``."""
        return self.endpoint if self.found and self.endpoint else fallback

    @property
    def model(self) -> str:
        return self.version.resource_name if self.version else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "model": self.model,
            "endpoint": self.endpoint,
            "baseModel": self.base_model,
            "lineage": self.lineage,
            "version": self.version.to_dict() if self.version else None,
        }


def run(
    registry: Registry,
    model_name: str,
    alias: str = defaults.CHAMPION_ALIAS,
    *,
    lineage: str = "",
    with_origin: bool = True,
) -> Champion:
    """The version holding ``alias``: of ``model_name`` (resource name, id or display
    name) when given, else within ``lineage`` (across all its models and versions).

    ``endpoint``: where it serves (its tuning job's endpoint, else another deployment).
    ``base_model``: the Gemini model it was tuned from (model fields, else its tuning job).
    ``lineage``: the champion's lineage label, else the ``lineage`` searched.
    """
    from gemini_sft_kfp.core.registry import validate_alias

    validate_alias(alias)
    if (model_name or "").strip():
        version = _of_model(registry, model_name, alias)
    elif lineage:
        version = _of_lineage(registry, lineage, alias)
    else:
        version = None
    if version is None:
        return Champion(found=False, lineage=lineage)
    return _describe(registry, version, lineage, with_origin)


def require_baseline(baseline: str, needed_by: str, *, alias: str, lineage: str) -> None:
    """Fail before tuning when the evaluation compares with a champion that is not there
    (``needed_by``: the setting, e.g. ``eval_judge_metrics=win_rate``; ``""``: none)."""
    if needed_by and not baseline:
        raise UserError(
            f"{needed_by} compares with the champion, but none holds {alias!r} yet "
            f"(lineage {lineage!r}; a first run): leave it out until one does",
            field=needed_by.partition("=")[0],
        )


def _of_model(registry: Registry, model_name: str, alias: str) -> ModelVersion | None:
    ref = registry.resolve(model_name)
    if ref is None:
        return None
    version = registry.get(ModelRef(ref.project, ref.location, ref.model_id, alias))
    return version if version is not None and alias in version.aliases else None


def _of_lineage(registry: Registry, lineage: str, alias: str) -> ModelVersion | None:
    holders = lineages.alias_holders(registry, lineage, alias)
    if len(holders) > 1:  # only from promotions made before lineages existed
        holders.sort(key=lambda v: (v.update_time, version_sort_key(v)))
        log.warning(
            "%d versions of lineage %r hold %r (%s); using the most recently updated; "
            "promote one (gemini-sft models promote) to keep a single champion",
            len(holders),
            lineage,
            alias,
            ", ".join(v.resource_name for v in holders),
        )
    return holders[-1] if holders else None


def _describe(registry: Registry, version: ModelVersion, lineage: str, with_origin: bool):
    deployed = [e["endpoint"] for e in version.endpoints]
    origin = None
    if with_origin:
        origins = tuning_origins(registry.project, registry.location, version.model_id)
        origin = origins.get(version.version_id)
    return Champion(
        found=True,
        version=version,
        endpoint=_serving_endpoint(deployed, origin.endpoints if origin else []),
        base_model=version.base_model or (origin.base_model if origin else ""),
        lineage=lineages.lineage_label(version) or lineage,
    )


def _serving_endpoint(deployed: list[str], from_tuning: list[str]) -> str:
    """The tuned model's own endpoint (its tuning job's first) when it still serves it;
    else any endpoint serving it; else, if the registry lists no deployments at all, the
    tuning job's endpoint."""
    tails = {e.rsplit("/", 1)[-1] for e in deployed}
    for endpoint in from_tuning:
        if endpoint.rsplit("/", 1)[-1] in tails:
            return endpoint
    if deployed:
        return deployed[0]
    return from_tuning[0] if from_tuning else ""
