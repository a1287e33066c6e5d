"""Lineages: the models of one task ("ticket routing"), across models and versions.

Every ``sft_pipeline`` run makes a new model, and a Vertex version alias is unique only
within one model, so "the champion" must be scoped by something wider than a model: a
lineage, stored as the label ``lineage`` on every model version a pipeline produces.
Promotion keeps exactly one holder of an alias per lineage; the champion look-ups
(``get_champion``, ``models list --lineage``, ``run --pipeline continuous``) resolve
within it. Versions without the label belong to no lineage and are never touched.
"""

from __future__ import annotations

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.labels import MAX_LENGTH, sanitize_value
from gemini_sft_kfp.core.registry import ModelVersion, Registry, ref_of

LINEAGE_LABEL = "lineage"
DEFAULT_LINEAGE = defaults.DEFAULT_LINEAGE  # runs that name neither lineage nor model


def lineage_of(lineage: str = "", display_name: str = "") -> str:
    """The lineage a run belongs to: ``lineage`` if given, else one derived from the tuned
    model's display name ("Ticket Routing" -> ``ticket-routing``), else ``gemini-sft``.

    Deterministic, so every run of the same task (and its schedule) lands in one lineage.
    A display name with characters a label cannot hold ("客服机器人", "Café bot") gets a
    short hash of the whole name appended (``cafe-bot`` would otherwise be shared with
    "Cafe bot", and a name with no ASCII at all would fall into ``gemini-sft`` and take
    over its champion). The result is a valid label value.
    """
    given = (lineage or "").strip()
    if given and not given.startswith("{{"):  # not an unresolved placeholder
        value = sanitize_value(given)
        if value:
            return value
    return _display_lineage((display_name or "").strip()) or DEFAULT_LINEAGE


def _display_lineage(name: str) -> str:
    if not name or name.startswith("{{"):
        return ""
    value = sanitize_value(name)
    if name.isascii():
        return value
    import hashlib

    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    stem = value[: MAX_LENGTH - len(digest) - 1].strip("-")
    return f"{stem}-{digest}" if stem else f"name-{digest}"


def lineage_label(version: ModelVersion) -> str:
    """The lineage a version carries ("" when it has none)."""
    return version.labels.get(LINEAGE_LABEL, "")


def lineage_versions(registry: Registry, lineage: str) -> list[ModelVersion]:
    """Every version, of every model, labelled with ``lineage``.

    Labels live on each version, so each model's versions are listed (the registry's
    model list shows only the default version of each model).
    """
    found: list[ModelVersion] = []
    for model in registry.list_models():
        found += [v for v in registry.list_versions(ref_of(model)) if lineage_label(v) == lineage]
    return found


def alias_holders(registry: Registry, lineage: str, alias: str) -> list[ModelVersion]:
    """The versions of the lineage holding ``alias`` (at most one after a promotion)."""
    return [v for v in lineage_versions(registry, lineage) if alias in v.aliases]


def label_version(registry: Registry, version: ModelVersion, lineage: str) -> ModelVersion:
    """Add the lineage label to ``version`` (its other labels kept); no call if already set."""
    if lineage_label(version) == lineage:
        return version
    labels = {**version.labels, LINEAGE_LABEL: lineage}
    return registry.update_version(version, labels=labels, version_description="")


def promote_scope(registry: Registry, version: ModelVersion):
    """What "exactly one holder" ranges over for ``version``: its lineage's versions (every
    model labelled with it), or its own model's versions when it has no lineage."""
    lineage = lineage_label(version)
    if lineage:
        return lambda: lineage_versions(registry, lineage)
    return lambda: registry.list_versions(ref_of(version))


def label_model(registry: Registry, model_name: str, lineage: str) -> ModelVersion | None:
    """Label the version ``model_name`` (``projects/../models/ID@V``) with ``lineage`` as
    soon as it exists, so a kept model belongs to its task even if it is never promoted."""
    ref = registry.ref(model_name)
    version = registry.get(ref) if ref is not None else None
    return label_version(registry, version, lineage) if version is not None else None
