"""Resolve the current holder of an alias: the model to continue tuning from
(``preTunedModel``) and the baseline to beat.

"No champion yet" (first run, model deleted, alias never given) is a normal state of a
continuous-tuning pipeline, so it is ``found=False``, not an error: the pipeline then
tunes from the base model and gates on the absolute threshold only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components._common.registry import ModelRef, ModelVersion, Registry, tuning_origins


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


def get_champion(
    registry: Registry, model_name: str, alias: str = "champion", *, with_origin: bool = True
) -> Champion:
    """The version of ``model_name`` (resource name, id or display name) holding ``alias``.

    ``endpoint``: where it serves (the first deployment; else its tuning job's endpoint).
    ``base_model``: the Gemini model it was tuned from (model fields, else its tuning job).
    """
    from components._common.registry import validate_alias

    validate_alias(alias)
    if not (model_name or "").strip():
        return Champion(found=False)
    ref = registry.resolve(model_name)
    if ref is None:
        return Champion(found=False)
    version = registry.get(ModelRef(ref.project, ref.location, ref.model_id, alias))
    if version is None or alias not in version.aliases:
        return Champion(found=False)
    endpoint = version.endpoints[0]["endpoint"] if version.endpoints else ""
    base_model = version.base_model
    if with_origin and not (endpoint and base_model):
        origin = tuning_origins(registry.project, registry.location, version.model_id).get(
            version.version_id
        )
        if origin:
            endpoint = endpoint or (origin.endpoints[0] if origin.endpoints else "")
            base_model = base_model or origin.base_model
    return Champion(found=True, version=version, endpoint=endpoint, base_model=base_model)
