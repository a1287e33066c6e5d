"""Delete a model version, or a whole model, without ever taking the wrong one.

Policy (documented in the component and the CLI):

- A model or version already gone is success (``already_gone=True``).
- A version holding a protected alias (default ``champion``) is refused unless
  ``force``; so is a whole model with such a version.
- Vertex refuses to delete a model still deployed. A tuned model's *own* endpoints (the
  ones its tuning job created: the model's and its checkpoints') are undeployed and
  deleted with it. Any other endpoint serving it is a refusal naming the endpoint,
  unless ``force``: then the model is only undeployed from it (its traffic shared among
  the models left), and the endpoint itself is kept.
- Vertex cannot delete a model's last version: that deletes the model, and says so.
- The ``default`` alias must stay on some version: deleting its holder first moves it to
  the version holding a protected alias (the champion), else to the newest remaining.

Every check runs before the first change, so a refusal changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gemini_sft_kfp.core import defaults, retry
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.registry import (
    DEFAULT_ALIAS,
    ModelVersion,
    Registry,
    TuningOrigin,
    could_exist,
    is_not_found,
    tuning_origins,
)

DEFAULT_PROTECTED = (defaults.CHAMPION_ALIAS,)
log = logging.getLogger(__name__)


@dataclass
class EndpointAction:
    endpoint: str
    deployed_model_ids: list[str]
    delete_endpoint: bool  # True only for the tuned model's own endpoint
    traffic_split: dict[str, int] = field(default_factory=dict)  # what stays, when shared


@dataclass
class DeleteResult:
    target: str
    scope: str = "version"  # "version" | "model"
    versions: list[str] = field(default_factory=list)
    deleted: bool = False
    already_gone: bool = False
    dry_run: bool = False
    default_moved_to: str = ""
    endpoint_actions: list[EndpointAction] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "scope": self.scope,
            "versions": self.versions,
            "deleted": self.deleted,
            "alreadyGone": self.already_gone,
            "dryRun": self.dry_run,
            "defaultMovedTo": self.default_moved_to,
            "undeployed": [
                {"endpoint": a.endpoint, "deployedModelIds": a.deployed_model_ids}
                for a in self.endpoint_actions
            ],
            "endpointsDeleted": [a.endpoint for a in self.endpoint_actions if a.delete_endpoint],
        }


def _tail(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[-1]


def rebalanced_split(split: dict[str, int], removed: set[str]) -> dict[str, int]:
    """The traffic split left after ``removed`` deployed models go: the rest keep their
    proportions and still add up to 100 (empty when nothing is left). When the rest had
    no traffic at all (shadow deployments), they share it evenly: Vertex refuses to
    undeploy a model that still carries traffic unless the request moves it elsewhere."""
    remaining = {k: v for k, v in split.items() if k not in removed}
    if not remaining:
        return {}
    weights = remaining if sum(remaining.values()) else dict.fromkeys(remaining, 1)
    kept = {k: v for k, v in weights.items() if v > 0}
    total = sum(kept.values())
    shares = {k: v * 100 // total for k, v in kept.items()}
    leftover = 100 - sum(shares.values())
    for key in sorted(kept, key=lambda k: (-kept[k], k))[:leftover]:
        shares[key] += 1
    return shares


def _deployment_matches(
    deployed: Any, model_id: str, version_ids: set[str], default_version: str
) -> bool:
    deployed_id, _, version = _tail(deployed.model).partition("@")
    if deployed_id != model_id:
        return False
    version = version or getattr(deployed, "model_version_id", "") or default_version
    return version in version_ids


def plan_delete(
    registry: Registry,
    model_name: str,
    *,
    whole_model: bool = False,
    force: bool = False,
    protected_aliases: list[str] | tuple[str, ...] = DEFAULT_PROTECTED,
    endpoint_client: Callable[[], Any] | None = None,
    origins: Callable[[str], dict[str, TuningOrigin]] | None = None,
    custom_ids: bool = True,
) -> DeleteResult:
    """Everything ``delete`` would do, checked (refusals raise ``UserError``), unchanged.

    Gone is success only for a name that could exist (``could_exist``; ``custom_ids=False``
    counts only service-assigned numeric ids); anything else that matches nothing is an error.
    """
    result = DeleteResult(target=model_name)
    ref = registry.resolve(model_name)
    versions = registry.list_versions(ref) if ref else []
    if not versions and not could_exist(model_name, custom_ids=custom_ids):
        raise UserError(
            f"no model {model_name!r}: not a model resource name or ID "
            "(projects/P/locations/L/models/ID[@VERSION] or ID[@VERSION]), and no model has "
            "that display name",
            field="model",
        )
    if not versions:
        result.already_gone = result.deleted = True
        result.scope = "version" if ref and ref.version and not whole_model else "model"
        return result
    if ref.version and not whole_model:
        target = registry.get(ref)
        if target is None:
            result.already_gone = result.deleted = True
            return result
        targets = [target]
        result.scope = "version" if len(versions) > 1 else "model"
    else:
        targets, result.scope = versions, "model"
    result.versions = [v.resource_name for v in targets]

    protected = set(protected_aliases or ())
    held = [(v, a) for v in targets for a in v.aliases if a in protected]
    if held and not force:
        which = ", ".join(f"version {v.version_id} holds {a!r}" for v, a in held)
        raise UserError(
            f"refusing to delete {model_name}: {which}; promote another version first "
            "(gemini-sft models promote MODEL@VERSION) or delete it anyway "
            "(gemini-sft models delete --force; in a pipeline: force=True)",
            field="model",
        )

    if result.scope == "version" and DEFAULT_ALIAS in targets[0].aliases:
        remaining = [v for v in versions if v.version_id != targets[0].version_id]
        serving = [v for v in remaining if protected & set(v.aliases)]  # e.g. the champion
        result.default_moved_to = (serving or remaining)[-1].resource_name

    result.endpoint_actions = _plan_endpoints(
        registry, targets, versions, force, endpoint_client, origins
    )
    return result


def _plan_endpoints(
    registry: Registry,
    targets: list[ModelVersion],
    versions: list[ModelVersion],
    force: bool,
    endpoint_client: Callable[[], Any] | None,
    origins: Callable[[str], dict[str, TuningOrigin]] | None,
) -> list[EndpointAction]:
    model_id = targets[0].model_id
    target_ids = {v.version_id for v in targets}
    default = next((v.version_id for v in versions if DEFAULT_ALIAS in v.aliases), "")
    lookup = origins or (lambda mid: tuning_origins(registry.project, registry.location, mid))
    try:
        known = lookup(model_id)
    except Exception as exc:  # e.g. no permission to list tuning jobs: own endpoints unknown
        if retry.is_transient(exc):
            raise
        log.warning("cannot list tuning jobs (%s): every endpoint counts as shared", exc)
        known = {}
    own_names = [e for vid, o in known.items() if vid in target_ids for e in o.endpoints]
    own = {_tail(e) for e in own_names}
    candidates = {e["endpoint"] for v in targets for e in v.endpoints} | set(own_names)
    if not candidates:
        return []
    client = (endpoint_client or _default_endpoint_client(registry))()
    actions, foreign = [], []
    for name in sorted(candidates):
        try:
            endpoint = retry.call_with_retry(client.get_endpoint, name=name)
        except Exception as exc:
            if is_not_found(exc):
                continue
            raise
        ours = [
            d.id
            for d in endpoint.deployed_models
            if _deployment_matches(d, model_id, target_ids, default)
        ]
        if not ours:
            continue
        shared = len(ours) < len(endpoint.deployed_models)
        if _tail(name) in own and not shared:
            actions.append(EndpointAction(name, ours, delete_endpoint=True))
            continue
        foreign.append(name)
        # every deployed model, 0 % included: traffic_split may leave zero shares out
        current = {d.id: endpoint.traffic_split.get(d.id, 0) for d in endpoint.deployed_models}
        split = rebalanced_split(current, set(ours))
        actions.append(EndpointAction(name, ours, delete_endpoint=False, traffic_split=split))
    if foreign and not force:
        raise UserError(
            f"refusing to delete: still deployed on endpoint(s) it does not own: "
            f"{', '.join(foreign)}; undeploy it there first or pass --force (force=True in "
            "a pipeline; undeploys only, the endpoints are kept)",
            field="model",
        )
    return actions


def _default_endpoint_client(registry: Registry) -> Callable[[], Any]:
    def make() -> Any:
        from gemini_sft_kfp.core.clients import endpoint_service_client

        return endpoint_service_client(registry.project, registry.location)

    return make


def _wait(operation: Any) -> None:
    """Wait for a long-running operation (a 404 while doing so means: already gone)."""
    try:
        operation.result(timeout=600)
    except Exception as exc:
        if not is_not_found(exc):
            raise


def _gone_ok(fn: Callable[..., Any], **kwargs: Any) -> None:
    try:
        _wait(retry.call_with_retry(fn, **kwargs))
    except Exception as exc:
        if not is_not_found(exc):
            raise


def run(
    registry: Registry,
    model_name: str,
    *,
    whole_model: bool = False,
    force: bool = False,
    protected_aliases: list[str] | tuple[str, ...] = DEFAULT_PROTECTED,
    dry_run: bool = False,
    endpoint_client: Callable[[], Any] | None = None,
    origins: Callable[[str], dict[str, TuningOrigin]] | None = None,
    custom_ids: bool = True,
) -> DeleteResult:
    """Delete ``model_name`` (``ID@VERSION``: that version; ``ID``: the whole model) after
    the checks of ``plan_delete``; ``dry_run`` stops after them."""
    result = plan_delete(
        registry,
        model_name,
        whole_model=whole_model,
        force=force,
        protected_aliases=protected_aliases,
        endpoint_client=endpoint_client,
        origins=origins,
        custom_ids=custom_ids,
    )
    if result.already_gone or dry_run:
        result.dry_run = dry_run
        result.deleted = result.already_gone
        return result
    if result.endpoint_actions:
        client = (endpoint_client or _default_endpoint_client(registry))()
        for action in result.endpoint_actions:
            for deployed_id in action.deployed_model_ids:
                _gone_ok(
                    client.undeploy_model,
                    endpoint=action.endpoint,
                    deployed_model_id=deployed_id,
                    traffic_split=action.traffic_split,
                )
            if action.delete_endpoint:
                _gone_ok(client.delete_endpoint, name=action.endpoint)
    if result.default_moved_to:
        registry.merge_aliases(result.default_moved_to, [DEFAULT_ALIAS])
    if result.scope == "version":
        _gone_ok(registry.client.delete_model_version, name=result.versions[0])
    else:
        model = result.versions[0].partition("@")[0]
        _gone_ok(registry.client.delete_model, name=model)
    result.deleted = True
    return result
