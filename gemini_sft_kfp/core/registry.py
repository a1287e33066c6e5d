"""Vertex AI Model Registry: names, versions and aliases, shared by register / delete /
get_champion and the ``gemini-sft models`` commands.

Calls go through the GAPIC ``ModelServiceClient`` (REST against the emulator) from
``clients.model_service_client``; every call here is idempotent (get, list, patch,
mergeVersionAliases, delete), so each is retried on transient errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gemini_sft_kfp.core import retry
from gemini_sft_kfp.core.errors import UserError

T = TypeVar("T")

# Vertex's rule for a version alias (the leading "-" of a removal is not part of it).
ALIAS_PATTERN = re.compile(r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9-]$")
DEFAULT_ALIAS = "default"  # Vertex keeps it on exactly one version of every model
_RESOURCE = re.compile(
    r"^(?:https?://[^/]+/v1(?:beta1)?/)?"
    r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/models/"
    r"(?P<model>[^/@]+)(?:@(?P<version>[^/@]+))?$"
)
_BARE = re.compile(r"^(?P<model>[^/@\s]+)(?:@(?P<version>[^/@\s]+))?$")
_SERVICE_ID = re.compile(r"^\d{1,20}$")  # what Vertex assigns (tuned models get these)
_CUSTOM_ID = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")  # Model.upload(model_id=...)
_VERSION = re.compile(r"^(?:\d{1,10}|[a-z][a-zA-Z0-9-]{0,126}[a-z0-9-])$")  # number or alias


def could_exist(text: str, *, custom_ids: bool = True) -> bool:
    """True when ``text`` is a model name Vertex could have given out: a resource name or
    an ``ID[@VERSION]`` with a valid id (numeric; also custom ids unless ``custom_ids`` is
    False) and version. "Already gone" is only true of such a name: anything else that
    matches nothing is a mistake (a typo, a path), not a deleted model."""
    text = (text or "").strip()
    match = _RESOURCE.match(text) or _BARE.match(text)
    if not match:
        return False
    model_id, version = match["model"], match["version"]
    id_ok = _SERVICE_ID.match(model_id) or (custom_ids and _CUSTOM_ID.match(model_id))
    return bool(id_ok) and (version is None or bool(_VERSION.match(version)))


@dataclass(frozen=True)
class ModelRef:
    """A model (``version`` None) or one version / alias of it (``version`` "3" or "champion")."""

    project: str
    location: str
    model_id: str
    version: str | None = None

    @property
    def name(self) -> str:
        """The unversioned resource name ``projects/P/locations/L/models/ID``."""
        return f"projects/{self.project}/locations/{self.location}/models/{self.model_id}"

    @property
    def versioned_name(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


def validate_alias(alias: str, *, field: str = "alias") -> str:
    """Reject an alias Vertex would refuse, before any call is made."""
    if not isinstance(alias, str) or not ALIAS_PATTERN.match(alias):
        raise UserError(
            f"invalid version alias {alias!r}: use 2-128 characters, a lowercase letter "
            "first, then letters, digits or '-'",
            field=field,
        )
    return alias


def parse_model_name(text: str, project: str, location: str) -> ModelRef | None:
    """A full resource name / https URI / ``ID[@VERSION]``; None for anything else
    (then it may be a display name)."""
    text = (text or "").strip()
    match = _RESOURCE.match(text)
    if match:
        return ModelRef(
            match["project"], match["location"], match["model"], match["version"] or None
        )
    match = _BARE.match(text)
    if match:
        return ModelRef(project, location, match["model"], match["version"] or None)
    return None


@dataclass
class ModelVersion:
    """One model version as the registry reports it (plain data, easy to print as JSON)."""

    model: str  # unversioned resource name
    version_id: str
    display_name: str = ""
    aliases: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    version_description: str = ""
    endpoints: list[dict[str, str]] = field(default_factory=list)
    base_model: str = ""
    create_time: str = ""
    update_time: str = ""

    @property
    def resource_name(self) -> str:
        return f"{self.model}@{self.version_id}"

    @property
    def model_id(self) -> str:
        return self.model.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.resource_name,
            "modelId": self.model_id,
            "versionId": self.version_id,
            "displayName": self.display_name,
            "aliases": list(self.aliases),
            "labels": dict(self.labels),
            "description": self.description,
            "versionDescription": self.version_description,
            "endpoints": [e["endpoint"] for e in self.endpoints],
            "baseModel": self.base_model,
            "createTime": self.create_time,
            "updateTime": self.update_time,
        }


def _timestamp(value: Any) -> str:
    if not value:
        return ""
    try:
        return value.isoformat().replace("+00:00", "Z")
    except AttributeError:
        return str(value)


def _base_model(proto: Any) -> str:
    source = getattr(proto, "base_model_source", None)
    if not source:
        return ""
    garden = getattr(source, "model_garden_source", None)
    genie = getattr(source, "genie_source", None)
    return (garden and garden.public_model_name) or (genie and genie.base_model_uri) or ""


def version_from_proto(proto: Any) -> ModelVersion:
    """A GAPIC ``Model`` (one version) as a ``ModelVersion``."""
    name, _, version = proto.name.partition("@")
    return ModelVersion(
        model=name,
        version_id=proto.version_id or version or "1",
        display_name=proto.display_name,
        aliases=list(proto.version_aliases),
        labels=dict(proto.labels),
        description=proto.description,
        version_description=proto.version_description,
        endpoints=[
            {"endpoint": ref.endpoint, "deployedModelId": ref.deployed_model_id}
            for ref in proto.deployed_models
        ],
        base_model=_base_model(proto),
        create_time=_timestamp(proto.version_create_time or proto.create_time),
        update_time=_timestamp(proto.version_update_time or proto.update_time),
    )


def is_not_found(exc: BaseException) -> bool:
    return retry.http_status(exc) == 404


def version_sort_key(version: ModelVersion) -> tuple[int, str]:
    """Numeric version order (``10`` after ``9``)."""
    vid = version.version_id
    return (int(vid), "") if vid.isdigit() else (-1, vid)


class Registry:
    """The model registry of one project and location."""

    def __init__(self, project: str, location: str, client: Any = None) -> None:
        if not project or not location:
            raise UserError("project and location are required", field="project")
        self.project = project
        self.location = location
        if client is None:
            from gemini_sft_kfp.core.clients import model_service_client

            client = model_service_client(project, location)
        self.client = client

    def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        return retry.call_with_retry(fn, policy=retry.retrying(deadline=120.0), **kwargs)

    # ---- names -------------------------------------------------------------------
    def ref(self, text: str) -> ModelRef | None:
        return parse_model_name(text, self.project, self.location)

    def resolve(self, text: str) -> ModelRef | None:
        """``text`` as a model reference: a resource name, an ``ID[@VERSION]``, or the
        display name of exactly one model (``NAME[@VERSION]``). None when nothing matches;
        ``UserError`` when a display name is ambiguous."""
        text = (text or "").strip()
        if not text:
            raise UserError("a model name is required", field="model")
        ref = self.ref(text)
        if ref is not None and ref.location != self.location:
            raise UserError(
                f"{text} is in location {ref.location!r}, not {self.location!r}: "
                f"pass --location {ref.location}",
                field="location",
            )
        if ref is not None and self._exists(ref):
            return ref  # (a project number where the user wrote the id is fine)
        if text.startswith(("projects/", "http://", "https://")):
            return None  # a full resource name that does not exist
        display, _, version = text.partition("@")
        quoted = display.replace("\\", "\\\\").replace('"', '\\"')
        matches = self.list_models(filter=f'display_name="{quoted}"')
        matches = [m for m in matches if m.display_name == display]
        if not matches:
            return None
        if len(matches) > 1:
            ids = ", ".join(sorted(m.model_id for m in matches))
            raise UserError(
                f"display name {display!r} matches {len(matches)} models ({ids}): "
                "give the model id or resource name",
                field="model",
            )
        model_id = matches[0].model_id
        return ModelRef(self.project, self.location, model_id, version or None)

    # ---- reads -------------------------------------------------------------------
    def _exists(self, ref: ModelRef) -> bool:
        """Whether ``ref`` names a model (a 400 means the text is no model id at all, so
        it may still be a display name)."""
        try:
            return self.get(ModelRef(ref.project, ref.location, ref.model_id)) is not None
        except Exception as exc:
            if retry.http_status(exc) == 400:
                return False
            raise

    def get(self, ref: ModelRef) -> ModelVersion | None:
        """The version ``ref`` names (the default version without one); None when gone."""
        try:
            proto = self._call(self.client.get_model, name=ref.versioned_name)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise
        return version_from_proto(proto)

    def list_versions(self, ref: ModelRef) -> list[ModelVersion]:
        """Every version of the model, oldest first; empty when the model is gone."""
        try:
            pages = self._call(lambda: list(self.client.list_model_versions(name=ref.name)))
        except Exception as exc:
            if is_not_found(exc):
                return []
            raise
        return sorted((version_from_proto(p) for p in pages), key=version_sort_key)

    def list_models(self, filter: str = "") -> list[ModelVersion]:
        """The models of the project and location (each as its default version)."""
        parent = f"projects/{self.project}/locations/{self.location}"
        request = {"parent": parent, "filter": filter} if filter else {"parent": parent}
        pages = self._call(lambda: list(self.client.list_models(request=request)))
        return [version_from_proto(p) for p in pages]

    def alias_holders(self, ref: ModelRef, alias: str) -> list[ModelVersion]:
        return [v for v in self.list_versions(ref) if alias in v.aliases]

    # ---- writes ------------------------------------------------------------------
    def merge_aliases(self, versioned_name: str, changes: list[str]) -> ModelVersion:
        """``mergeVersionAliases``: ``"a"`` adds, ``"-a"`` removes (idempotent)."""
        proto = self._call(
            self.client.merge_version_aliases, name=versioned_name, version_aliases=changes
        )
        return version_from_proto(proto)

    def update_version(
        self, version: ModelVersion, *, labels: dict[str, str], version_description: str
    ) -> ModelVersion:
        """Patch a version's labels and description (only the fields that change)."""
        from google.cloud.aiplatform_v1.types import Model
        from google.protobuf import field_mask_pb2

        paths = []
        if labels != version.labels:
            paths.append("labels")
        if version_description and version_description != version.version_description:
            paths.append("version_description")
        if not paths:
            return version
        model = Model(
            name=version.resource_name,
            labels=labels,
            version_description=version_description or version.version_description,
        )
        mask = field_mask_pb2.FieldMask(paths=paths)
        proto = self._call(self.client.update_model, model=model, update_mask=mask)
        return version_from_proto(proto)


PROMOTED_LABEL = "promoted_at"  # when (ns) a version last received an alias: the race order


def promote_stamp(version: ModelVersion) -> int:
    """The version's promotion stamp (0 for one never promoted by this library)."""
    value = version.labels.get(PROMOTED_LABEL, "")
    return int(value) if value.isdigit() else 0


def _winner(holders: list[ModelVersion]) -> ModelVersion:
    """The one holder every concurrent promoter agrees to keep: the latest stamp."""
    return max(holders, key=lambda v: (promote_stamp(v), v.resource_name))


def promote(
    registry: Registry,
    version: ModelVersion,
    aliases: list[str],
    *,
    scope: Callable[[], list[ModelVersion]] | None = None,
) -> tuple[ModelVersion, dict[str, list[str]]]:
    """Give ``version`` each alias and leave exactly one holder of it in ``scope`` (default:
    the version's own model; a lineage passes all its models' versions). Returns the
    updated version and ``{alias: [previous holders]}``; an alias another, concurrent
    promote won is missing from the returned version's aliases.

    Race-safe without a lock (``mergeVersionAliases`` takes no etag): the version is
    first stamped (label ``promoted_at``, later than every stamp in scope), then given the
    alias (Vertex moves an alias within a model atomically), then every holder in scope
    but the latest-stamped one loses it. Each concurrent promoter removes only holders it
    sees with an older stamp, so the latest one is never removed and every other is removed
    by someone; re-reading until nothing changes repairs the rare case of a stamp read
    while it changed (no holder left: the alias goes back on this version).
    """
    aliases = [validate_alias(a) for a in dict.fromkeys(aliases)]
    scope = scope or (lambda: registry.list_versions(ref_of(version)))
    before = scope()
    previous = {
        alias: [
            v.resource_name
            for v in before
            if alias in v.aliases and v.resource_name != version.resource_name
        ]
        for alias in aliases
    }
    missing = [a for a in aliases if a not in version.aliases]
    if not missing and not any(previous.values()):
        return version, previous  # already the only holder: a rerun writes nothing
    import time

    stamp = max([time.time_ns()] + [promote_stamp(v) + 1 for v in before])
    labels = {**version.labels, PROMOTED_LABEL: str(stamp)}
    version = registry.update_version(version, labels=labels, version_description="")
    version = registry.merge_aliases(version.resource_name, aliases)
    moved = [a for a in aliases if a != DEFAULT_ALIAS]  # "default" is per model, never removed
    for _ in range(5):
        if not _settle(registry, scope(), moved, version):
            break
    mine = registry.get(ModelRef(*_split(version.model), version.version_id))
    return (mine or version), previous


def _settle(
    registry: Registry, versions: list[ModelVersion], aliases: list[str], mine: ModelVersion
) -> bool:
    """Leave one holder (the latest-stamped) of each alias. An alias nobody holds (two
    promoters removed each other's holder, having read a stamp while it changed) goes back
    on ``mine``; the next round settles it again. True when a call was made."""
    changed = False
    for alias in aliases:
        holders = [v for v in versions if alias in v.aliases]
        if not holders:
            registry.merge_aliases(mine.resource_name, [alias])
            changed = True
            continue
        keep = _winner(holders)
        for other in holders:
            if other.resource_name != keep.resource_name:
                registry.merge_aliases(other.resource_name, [f"-{alias}"])
                changed = True
    return changed


def _split(model_name: str) -> tuple[str, str, str]:
    match = _RESOURCE.match(model_name)
    if not match:
        raise ValueError(f"not a model resource name: {model_name!r}")
    return match["project"], match["location"], match["model"]


def ref_of(version: ModelVersion) -> ModelRef:
    """The unversioned ``ModelRef`` of a version."""
    return ModelRef(*_split(version.model))


def find_version(
    registry: Registry, text: str, *, unversioned: str = "latest"
) -> ModelVersion | None:
    """The version ``text`` names (``ID@3``, ``ID@champion``, a display name...); without a
    version, the newest one (``unversioned="latest"``) or the ``default`` one. None if gone."""
    ref = registry.resolve(text)
    if ref is None:
        return None
    if ref.version or unversioned == "default":
        return registry.get(ref)
    versions = registry.list_versions(ref)
    return versions[-1] if versions else None


def name_from_artifact(metadata: dict | None, uri: str = "") -> str:
    """The model resource name a ``google.VertexModel`` artifact carries."""
    name = (metadata or {}).get("resourceName") or ""
    if not name and uri:
        ref = parse_model_name(uri, "", "") if uri.startswith("http") else None
        name = ref.versioned_name if ref else ""
    if not name:
        raise UserError(
            "the model artifact has no metadata['resourceName'] (projects/P/locations/L/"
            "models/ID@VERSION)",
            field="model",
        )
    return name


def artifact_metadata(version: ModelVersion, location: str) -> tuple[str, dict[str, Any]]:
    """``(uri, metadata)`` of a ``google.VertexModel`` artifact for ``version``, GCPC-style."""
    from gemini_sft_kfp.core.gcp_resources import resource_uri

    metadata = {
        "resourceName": version.resource_name,
        "displayName": version.display_name,
        "versionId": version.version_id,
        "versionAliases": list(version.aliases),
    }
    return resource_uri(version.resource_name, location), metadata


@dataclass
class TuningOrigin:
    """What the tuning job that produced a model version says about it."""

    job: str
    base_model: str
    endpoints: list[str]


def tuning_origins(
    project: str, location: str, model_id: str, *, max_jobs: int = 2000
) -> dict[str, TuningOrigin]:
    """``{version id: TuningOrigin}`` for the tuning jobs that made versions of the model
    ``model_id`` (their base model, and the endpoints the service created for them: the
    tuned model's own endpoint and its checkpoints' endpoints). Ids are compared, not full
    names: the service writes project numbers where users write project ids."""
    import itertools

    from gemini_sft_kfp.core.clients import genai_client

    client = genai_client(project, location)
    jobs = retry.call_with_retry(
        lambda: list(itertools.islice(client.tunings.list(config={"page_size": 100}), max_jobs))
    )
    origins: dict[str, TuningOrigin] = {}
    for job in jobs:
        tuned = job.tuned_model
        if not tuned or not tuned.model:
            continue
        tuned_id, _, version_id = tuned.model.rsplit("/", 1)[-1].partition("@")
        if tuned_id != model_id:
            continue
        endpoints = [tuned.endpoint] if tuned.endpoint else []
        endpoints += [c.endpoint for c in tuned.checkpoints or [] if c.endpoint]
        origins[version_id or "1"] = TuningOrigin(
            job=job.name or "",
            base_model=job.base_model or "",
            endpoints=list(dict.fromkeys(endpoints)),
        )
    return origins
