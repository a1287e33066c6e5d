"""Resolve the current holder of an alias: the model to continue tuning from
(``preTunedModel``) and the baseline to beat.

"No champion yet" (first run, model deleted, alias never given) is a normal state of a
continuous-tuning pipeline, so it is ``found=False``, not an error: the pipeline then
tunes from the base model and gates on the absolute threshold only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gemini_sft_kfp.core.registry import ModelRef, ModelVersion, Registry, tuning_origins


@dataclass
class Champion:
    found: bool
    version: ModelVersion | None = None
    endpoint: str = ""
    base_model: str = ""

    @property
    def model(self) -> str:
        return self.version.resource_name if self.version else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "model": self.model,
            "endpoint": self.endpoint,
            "baseModel": self.base_model,
            "version": self.version.to_dict() if self.version else None,
        }


def run(
    registry: Registry, model_name: str, alias: str = "champion", *, with_origin: bool = True
) -> Champion:
    """The version of ``model_name`` (resource name, id or display name) holding ``alias``.

    ``endpoint``: where it serves (its tuning job's endpoint, else another deployment).
    ``base_model``: the Gemini model it was tuned from (model fields, else its tuning job).
    """
    from gemini_sft_kfp.core.registry import validate_alias

    validate_alias(alias)
    if not (model_name or "").strip():
        return Champion(found=False)
    ref = registry.resolve(model_name)
    if ref is None:
        return Champion(found=False)
    version = registry.get(ModelRef(ref.project, ref.location, ref.model_id, alias))
    if version is None or alias not in version.aliases:
        return Champion(found=False)
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
