"""Register / delete / get_champion against the emulator through google-cloud-aiplatform's
GAPIC REST transport (the same calls as on Vertex AI)."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.delete_model.executor import run as delete_model
from gemini_sft_kfp.components.get_champion.executor import run as get_champion
from gemini_sft_kfp.components.register_model.executor import run as register_model
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
from google.api_core import exceptions

from gemini_sft_kfp.core import retry
from gemini_sft_kfp.core.clients import endpoint_service_client
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.registry import Registry
from tests.support.emu_helpers import SERVED_PARENT
from tests.support.model_helpers import DISPLAY_NAME, tuned_versions

WRITES = {"models.patch", "models.mergeVersionAliases", "models.delete", "models.deleteVersion"}


@pytest.fixture
def registry(emu) -> Registry:
    return Registry(DEFAULT_PROJECT, DEFAULT_LOCATION)


def holders(registry: Registry, name: str, alias: str = "champion") -> list[str]:
    return [v.version_id for v in registry.alias_holders(registry.resolve(name), alias)]


def writes(emu) -> list[str]:
    return [r["method"] for r in emu.requests() if r["method"] in WRITES]


def retried(emu, method: str, fault_status: int) -> bool:
    """Whether ``method`` met the injected fault and a later call of it succeeded."""
    statuses = [r["status"] for r in emu.requests() if r["method"] == method]
    return fault_status in statuses and 200 in statuses[statuses.index(fault_status) + 1 :]


def test_alias_moves_between_versions_and_rerun_is_idempotent(emu, registry) -> None:
    v1, v2 = tuned_versions(2)
    first = register_model(
        registry, v1, labels={"gate_score": 0.75, "base_model": "gemini-2.5-flash"}
    )
    assert holders(registry, v1) == ["1"] and first.changed
    assert first.version.labels["gate_score"] == "0-75"
    assert first.version.labels["emulator-simulated"] == "true"  # the simulation stays visible
    second = register_model(registry, v2, description="beats v1")
    assert holders(registry, v1) == ["2"]
    assert second.previous == {"champion": [v1]}
    before = writes(emu)
    again = register_model(registry, v2, description="beats v1")
    assert not again.changed and writes(emu) == before  # a rerun writes nothing
    register_model(registry, v1)  # rollback
    assert holders(registry, v1) == ["1"]


def test_delete_refuses_champion_and_deletes_with_force(emu, registry) -> None:
    v1, v2 = tuned_versions(2)
    register_model(registry, v2)
    with pytest.raises(UserError, match="champion"):
        delete_model(registry, v2)
    with pytest.raises(UserError, match="champion"):
        delete_model(registry, v2.partition("@")[0])
    assert [v.version_id for v in registry.list_versions(registry.resolve(v1))] == ["1", "2"]
    assert "models.delete" not in writes(emu) and "models.deleteVersion" not in writes(emu)

    endpoints = {e["endpoint"] for e in registry.get(registry.ref(v1)).endpoints}
    assert endpoints  # the tuning job deployed v1 on its own endpoint
    result = delete_model(registry, v1)  # not the champion: its own endpoints go with it
    assert result.deleted and result.scope == "version"
    assert {a.endpoint for a in result.endpoint_actions} == endpoints
    deleted_endpoints = {
        r["path"].split("/v1/", 1)[1]
        for r in emu.requests(verbose=True)
        if r["method"] == "endpoints.delete" and r["status"] == 200
    }
    assert deleted_endpoints == endpoints
    client = endpoint_service_client(DEFAULT_PROJECT, DEFAULT_LOCATION)
    for endpoint in endpoints:
        with pytest.raises(exceptions.NotFound):
            client.get_endpoint(name=endpoint)
    assert registry.get(registry.ref(v1)) is None
    assert [v.version_id for v in registry.list_versions(registry.resolve(v2))] == ["2"]

    forced = delete_model(registry, v2, force=True)  # last version: the whole model goes
    assert forced.deleted and forced.scope == "model"
    assert registry.resolve(v2.partition("@")[0]) is None


def test_delete_of_a_deleted_model_is_success(emu, registry) -> None:
    (v1,) = tuned_versions(1)
    assert delete_model(registry, v1).deleted
    again = delete_model(registry, v1)
    assert again.deleted and again.already_gone


def test_get_champion_found_and_not_found(emu, registry) -> None:
    assert not get_champion(registry, "never-tuned").found
    v1, v2 = tuned_versions(2)
    assert not get_champion(registry, DISPLAY_NAME).found  # no alias given yet
    register_model(registry, v1)
    champion = get_champion(registry, DISPLAY_NAME)
    assert champion.found and champion.model == v1
    assert champion.base_model == "gemini-2.5-flash"
    assert champion.endpoint.startswith(f"{SERVED_PARENT}/")
    assert not get_champion(registry, v1.partition("@")[0], alias="prod").found
    register_model(registry, v2)  # continuous tuning's new version takes over
    newer = get_champion(registry, v1.partition("@")[0])
    assert newer.model == v2 and newer.base_model == "gemini-2.5-flash"
    assert newer.endpoint != champion.endpoint


def test_transient_errors_are_retried(emu, registry, monkeypatch) -> None:
    fast = retry.retrying
    monkeypatch.setattr(
        retry, "retrying", lambda **kw: fast(**{**kw, "initial": 0.05, "maximum": 0.1})
    )
    v1, v2 = tuned_versions(2)
    register_model(registry, v1)
    emu.add_fault(method="models.mergeVersionAliases", status=503, times=1)
    emu.add_fault(method="models.listVersions", status=429, times=1)
    register_model(registry, v2)
    assert retried(emu, "models.mergeVersionAliases", 503)
    assert retried(emu, "models.listVersions", 429)  # both met by the promote itself
    assert holders(registry, v1) == ["2"]
    emu.add_fault(method="models.deleteVersion", status=503, times=1)
    emu.add_fault(method="endpoints.undeployModel", status=502, times=1)
    assert delete_model(registry, v1).deleted
    assert retried(emu, "models.deleteVersion", 503)
    assert retried(emu, "endpoints.undeployModel", 502)
    assert [v.version_id for v in registry.list_versions(registry.ref(v2))] == ["2"]
