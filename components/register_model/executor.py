"""Promote a model version: labels and description first, then the aliases.

Labels go on before the alias moves, so a version is never ``champion`` without the
record of where it came from. Every step compares before it writes, so a rerun of the
same task changes nothing and reports ``changed=False``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.labels import merge_labels, pipeline_run_labels
from gemini_sft_kfp.core.registry import (
    ModelVersion,
    Registry,
    find_version,
    promote,
    validate_alias,
)

log = logging.getLogger(__name__)

DEFAULT_ALIASES = (defaults.CHAMPION_ALIAS,)


@dataclass
class Provenance:
    """Where a version came from: labels (filterable, but short and lowercase) and the
    version description (the full values)."""

    base_model: str = ""
    dataset_uri: str = ""
    dataset_sha256: str = ""
    gate_metric: str = ""
    gate_score: float | None = None
    pipeline_run: str = ""

    def labels(self) -> dict[str, Any]:
        labels = {
            "base_model": self.base_model,
            "dataset_sha256": self.dataset_sha256[:16],
            "gate_metric": self.gate_metric,
            "gate_score": self.gate_score,
            "pipeline_run": self.pipeline_run,
        }
        return {k: v for k, v in labels.items() if v not in ("", None)}

    @property
    def from_pipeline(self) -> bool:
        """True when it holds more than the base model (dataset, gate or run facts)."""
        return bool(self.dataset_uri or self.dataset_sha256 or self.pipeline_run) or (
            self.gate_score is not None
        )

    def description(self) -> str:
        parts = []
        if self.base_model:
            parts.append(f"base model {self.base_model}")
        if self.dataset_uri or self.dataset_sha256:
            sha = f" (sha256 {self.dataset_sha256})" if self.dataset_sha256 else ""
            parts.append(f"dataset {self.dataset_uri or '?'}{sha}")
        if self.gate_score is not None:
            parts.append(f"gate {self.gate_metric or 'score'}={self.gate_score:.4g}")
        if self.pipeline_run:
            parts.append(f"pipeline run {self.pipeline_run}")
        return "; ".join(parts)


@dataclass
class RegisterResult:
    version: ModelVersion
    aliases: list[str]
    previous: dict[str, list[str]] = field(default_factory=dict)
    changed: bool = False
    lost: list[str] = field(default_factory=list)  # aliases a concurrent promote took

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.version.resource_name,
            "aliases": self.aliases,
            "previous": self.previous,
            "changed": self.changed,
            "lost": self.lost,
            "version": self.version.to_dict(),
        }


def run(
    registry: Registry,
    model_name: str,
    *,
    aliases: list[str] | tuple[str, ...] = DEFAULT_ALIASES,
    labels: dict | None = None,
    description: str = "",
    provenance: Provenance | None = None,
    lineage: str = "",
) -> RegisterResult:
    """Give ``model_name`` (``ID@VERSION``, resource name or display name; the newest
    version without one) the ``aliases``, moving each off its previous holder: within
    the model, and across every model of the version's lineage (one champion per task).

    Labels: the version's own, then ``provenance``'s, the pipeline run's, then ``labels``,
    then ``lineage`` as the ``lineage`` label (later wins; all sanitised). ``description``
    (default: the provenance summary, when the version has no description yet) becomes
    the version description.
    """
    from gemini_sft_kfp.core.lineage import LINEAGE_LABEL, promote_scope

    aliases = [validate_alias(a) for a in dict.fromkeys(aliases)]
    version = find_version(registry, model_name, unversioned="latest")
    if version is None:
        raise UserError(
            f"model {model_name!r} not found in {registry.project}/{registry.location}",
            field="model",
        )
    before = version
    provenance = provenance or Provenance()
    provenance.base_model = provenance.base_model or version.base_model
    wanted = merge_labels(
        version.labels,
        provenance.labels(),
        pipeline_run_labels(),
        labels,
        {LINEAGE_LABEL: lineage} if lineage else None,
    )
    # a CLI promote (base model only) never overwrites the record a pipeline wrote
    summary = provenance.description()
    if version.version_description and not provenance.from_pipeline:
        summary = ""
    version = registry.update_version(
        version, labels=wanted, version_description=description or summary
    )
    version, previous = promote(registry, version, aliases, scope=promote_scope(registry, version))
    lost = [a for a in aliases if a not in version.aliases]
    if lost:  # the version stays, labelled: a model that passed its gate is never lost
        log.warning(lost_message(version, lost))
    changed = (
        version.labels != before.labels
        or version.version_description != before.version_description
        or set(version.aliases) != set(before.aliases)
        or any(previous.values())
    )
    return RegisterResult(
        version=version, aliases=aliases, previous=previous, changed=changed, lost=lost
    )


def lost_message(version: ModelVersion, lost: list[str]) -> str:
    return (
        f"{version.resource_name} lost {', '.join(lost)} to a promote that ran at the same "
        "time (the later one holds it); rerun this promote to take it back"
    )


def provenance_from_artifacts(
    model_metadata: dict | None,
    dataset_uri: str = "",
    dataset_metadata: dict | None = None,
    *,
    base_model: str = "",
    gate_metric: str = "",
    gate_score: float = -1.0,
    pipeline_run: str = "",
) -> Provenance:
    """Provenance from the component's inputs (a negative ``gate_score``: none given;
    KFP placeholders that were not resolved are ignored)."""
    model_metadata = model_metadata or {}
    dataset_metadata = dataset_metadata or {}
    base = base_model or model_metadata.get("baseModel") or model_metadata.get("base_model")
    return Provenance(
        base_model=str(base or ""),
        dataset_uri=dataset_uri if dataset_uri.startswith("gs://") else "",
        dataset_sha256=str(dataset_metadata.get("sha256") or ""),
        gate_metric=gate_metric,
        gate_score=gate_score if gate_score is not None and gate_score >= 0 else None,
        pipeline_run="" if "{{" in pipeline_run else pipeline_run,
    )
