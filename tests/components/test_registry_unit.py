"""Registry logic against in-memory services with Vertex's rules: alias moves, labels,
idempotent reruns, delete policy (protected aliases, endpoints, last/default version)."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.delete_model.executor import (
    plan_delete,
    rebalanced_split,
)
from gemini_sft_kfp.components.delete_model.executor import (
    run as delete_model,
)
from gemini_sft_kfp.components.get_champion.executor import _serving_endpoint
from gemini_sft_kfp.components.get_champion.executor import run as get_champion
from gemini_sft_kfp.components.register_model.executor import (
    Provenance,
    provenance_from_artifacts,
)
from gemini_sft_kfp.components.register_model.executor import (
    run as register_model,
)

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.labels import merge_labels, sanitize_key, sanitize_value
from gemini_sft_kfp.core.registry import (
    Registry,
    TuningOrigin,
    find_version,
    name_from_artifact,
    parse_model_name,
)
from tests.support.model_fakes import (
    LOCATION,
    PARENT,
    PROJECT,
    FakeEndpointService,
    FakeModelService,
)


@pytest.fixture
def service() -> FakeModelService:
    svc = FakeModelService()
    svc.add("m1", "1", display="support-bot")
    svc.add("m1", "2")
    svc.add("m1", "3")
    return svc


@pytest.fixture
def registry(service: FakeModelService) -> Registry:
    return Registry(PROJECT, LOCATION, client=service)


def holders(service: FakeModelService, alias: str) -> list[str]:
    return [v for v, m in service.models["m1"].items() if alias in m.version_aliases]


def no_origins(model_id: str) -> dict[str, TuningOrigin]:
    return {}


def test_parse_model_names() -> None:
    ref = parse_model_name("projects/a/locations/eu/models/9@3", PROJECT, LOCATION)
    assert (ref.project, ref.location, ref.model_id, ref.version) == ("a", "eu", "9", "3")
    ref = parse_model_name("https://x/v1/projects/a/locations/eu/models/9", PROJECT, LOCATION)
    assert ref.versioned_name == "projects/a/locations/eu/models/9"
    assert parse_model_name("9@champion", PROJECT, LOCATION).version == "champion"
    assert parse_model_name("two words", PROJECT, LOCATION) is None
    assert name_from_artifact({"resourceName": "projects/a/locations/b/models/1@2"}) == (
        "projects/a/locations/b/models/1@2"
    )
    with pytest.raises(UserError):
        name_from_artifact({}, "")


def test_pipeline_run_labels(monkeypatch) -> None:
    from gemini_sft_kfp.core.labels import pipeline_run_labels

    monkeypatch.setenv("VERTEX_AI_PIPELINES_RUN_LABELS", '{"Run.Id": "ABC 1"}')
    assert pipeline_run_labels() == {"run_id": "abc-1"}
    monkeypatch.setenv("VERTEX_AI_PIPELINES_RUN_LABELS", "not json")
    assert pipeline_run_labels() == {}


def test_labels_are_sanitised() -> None:
    assert sanitize_value("gemini-2.5-flash") == "gemini-2-5-flash"
    assert sanitize_value(0.8125) == "0-8125"
    assert sanitize_value("A" * 80) == "a" * 63
    assert sanitize_key("1st.Key") == "k-1st_key"
    assert merge_labels({"a": "x"}, {"a": "Y", "b": None}) == {"a": "y"}


def test_promote_moves_alias_so_exactly_one_version_holds_it(service, registry) -> None:
    first = register_model(registry, "m1@1")
    assert first.changed and holders(service, "champion") == ["1"]
    second = register_model(registry, f"{PARENT}/models/m1@3")
    assert holders(service, "champion") == ["3"]
    assert second.previous == {"champion": [f"{PARENT}/models/m1@1"]}
    rollback = register_model(registry, "m1@1")  # the rollback path
    assert holders(service, "champion") == ["1"] and rollback.changed


def test_promote_rerun_is_idempotent(service, registry) -> None:
    register_model(registry, "m1@2", labels={"gate_score": 0.9}, description="why")
    writes = len(service.writes)
    again = register_model(registry, "m1@2", labels={"gate_score": 0.9}, description="why")
    assert not again.changed and len(service.writes) == writes


def test_promote_sets_labels_and_pipeline_run_labels(service, registry, monkeypatch) -> None:
    monkeypatch.setenv(
        "VERTEX_AI_PIPELINES_RUN_LABELS", '{"vertex-ai-pipelines-run-billing-id": "123"}'
    )
    service.models["m1"]["2"].labels = {"emulator-simulated": "true"}
    result = register_model(
        registry,
        "m1@2",
        aliases=["champion", "prod"],
        labels={"base_model": "gemini-2.5-flash", "gate_score": 0.8125},
        description="passed the gate",
    )
    labels = dict(service.models["m1"]["2"].labels)
    assert labels.pop("promoted_at").isdigit()  # the concurrent-promote order
    assert labels == {
        "emulator-simulated": "true",
        "vertex-ai-pipelines-run-billing-id": "123",
        "base_model": "gemini-2-5-flash",
        "gate_score": "0-8125",
    }
    assert service.models["m1"]["2"].version_description == "passed the gate"
    assert set(result.version.aliases) >= {"champion", "prod"}


def test_promote_unknown_model_or_bad_alias_is_a_user_error(registry) -> None:
    with pytest.raises(UserError, match="not found"):
        register_model(registry, "nope@1")
    with pytest.raises(UserError, match="invalid version alias"):
        register_model(registry, "m1@1", aliases=["Champion!"])


def test_unversioned_name_means_newest_and_display_name_resolves(registry) -> None:
    assert find_version(registry, "m1").version_id == "3"
    assert find_version(registry, "support-bot@2").version_id == "2"
    assert find_version(registry, "m1", unversioned="default").version_id == "1"
    assert find_version(registry, "unknown") is None


def test_get_champion_found_and_not_found(service, registry) -> None:
    assert not get_champion(registry, "m1", with_origin=False).found
    register_model(registry, "m1@2")
    champion = get_champion(registry, "support-bot", with_origin=False)
    assert champion.found and champion.model == f"{PARENT}/models/m1@2"
    assert not get_champion(registry, "missing-model", with_origin=False).found
    assert not get_champion(registry, "", with_origin=False).found


def test_delete_refuses_the_champion_unless_forced(service, registry) -> None:
    register_model(registry, "m1@2")
    with pytest.raises(UserError, match="champion"):
        delete_model(registry, "m1@2", origins=no_origins)
    with pytest.raises(UserError, match="champion"):
        delete_model(registry, "m1", origins=no_origins)  # the whole model holds it too
    assert set(service.models["m1"]) == {"1", "2", "3"}
    result = delete_model(registry, "m1@2", force=True, origins=no_origins)
    assert result.deleted and result.scope == "version"
    assert set(service.models["m1"]) == {"1", "3"}


def test_delete_of_something_gone_is_success(service, registry) -> None:
    delete_model(registry, "m1@3", origins=no_origins)
    again = delete_model(registry, "m1@3", origins=no_origins)
    assert again.deleted and again.already_gone
    gone = delete_model(registry, "m9", origins=no_origins)
    assert gone.deleted and gone.already_gone


def test_delete_default_version_moves_default_first(service, registry) -> None:
    result = delete_model(registry, "m1@1", origins=no_origins)
    assert result.default_moved_to == f"{PARENT}/models/m1@3"
    assert holders(service, "default") == ["3"] and "1" not in service.models["m1"]


def test_deleting_a_failed_candidate_gives_default_to_the_champion(service, registry) -> None:
    register_model(registry, "m1@2")  # the champion; v3 (a failed candidate) holds default
    register_model(registry, "m1@3", aliases=["default"])
    result = delete_model(registry, "m1@3", origins=no_origins)
    assert result.default_moved_to == f"{PARENT}/models/m1@2"
    assert holders(service, "default") == ["2"] == holders(service, "champion")


def test_delete_last_version_deletes_the_model(service, registry) -> None:
    service.add("solo", "1")
    result = delete_model(registry, "solo@1", origins=no_origins)
    assert result.scope == "model" and "solo" not in service.models
    assert "m1" in service.models  # nothing else touched


def test_delete_undeploys_and_deletes_the_models_own_endpoint(service, registry) -> None:
    endpoints = FakeEndpointService(service)
    endpoints.deploy("e3", f"{PARENT}/models/m1@3", "d3")
    own = {
        "3": TuningOrigin(
            job="j", base_model="gemini-2.5-flash", endpoints=[f"{PARENT}/endpoints/e3"]
        )
    }
    result = delete_model(
        registry, "m1@3", endpoint_client=lambda: endpoints, origins=lambda _: own
    )
    assert result.deleted and "e3" not in endpoints.endpoints
    assert endpoints.writes == ["undeploy e3 d3", "delete-endpoint e3"]


def test_delete_refuses_foreign_endpoint_unless_forced(service, registry) -> None:
    endpoints = FakeEndpointService(service)
    endpoints.deploy("shared", f"{PARENT}/models/m1@3", "d3", traffic=30)
    service.add("other", "1")
    endpoints.deploy("shared", f"{PARENT}/models/other@1", "d9", traffic=70)
    with pytest.raises(UserError, match="shared"):
        delete_model(registry, "m1@3", endpoint_client=lambda: endpoints, origins=no_origins)
    assert "3" in service.models["m1"] and endpoints.writes == []
    plan = plan_delete(
        registry, "m1@3", force=True, endpoint_client=lambda: endpoints, origins=no_origins
    )
    assert plan.endpoint_actions[0].traffic_split == {"d9": 100}
    delete_model(
        registry, "m1@3", force=True, endpoint_client=lambda: endpoints, origins=no_origins
    )
    assert "3" not in service.models["m1"]
    kept = endpoints.endpoints["shared"]
    assert [d.id for d in kept.deployed_models] == ["d9"] and dict(kept.traffic_split) == {
        "d9": 100
    }


def test_dry_run_changes_nothing(service, registry) -> None:
    result = delete_model(registry, "m1", dry_run=True, origins=no_origins)
    assert result.dry_run and not result.deleted and result.scope == "model"
    assert len(result.versions) == 3 and service.writes == []


def test_rebalanced_split_adds_to_100() -> None:
    assert rebalanced_split({"a": 50, "b": 25, "c": 25}, {"a"}) == {"b": 50, "c": 50}
    assert sum(rebalanced_split({"a": 10, "b": 33, "c": 57}, {"a"}).values()) == 100
    assert rebalanced_split({"a": 100}, {"a"}) == {}


def test_rebalanced_split_gives_zero_traffic_models_the_traffic_that_leaves() -> None:
    # Shadow deployments at 0 %: an empty split would leave the traffic on the model
    # being undeployed, which Vertex refuses.
    assert rebalanced_split({"a": 100, "b": 0}, {"a"}) == {"b": 100}
    assert rebalanced_split({"a": 100, "b": 0, "c": 0}, {"a"}) == {"b": 50, "c": 50}


def test_forced_delete_from_an_endpoint_whose_other_model_has_no_traffic(service, registry) -> None:
    endpoints = FakeEndpointService(service)
    endpoints.deploy("shared", f"{PARENT}/models/m1@3", "d3", traffic=100)
    service.add("other", "1")
    endpoints.deploy("shared", f"{PARENT}/models/other@1", "d9", traffic=0)
    delete_model(
        registry, "m1@3", force=True, endpoint_client=lambda: endpoints, origins=no_origins
    )
    assert "3" not in service.models["m1"]
    kept = endpoints.endpoints["shared"]
    assert [d.id for d in kept.deployed_models] == ["d9"]
    assert dict(kept.traffic_split) == {"d9": 100}


def test_provenance_labels_and_description(service, registry) -> None:
    provenance = provenance_from_artifacts(
        {"resourceName": "x"},
        "gs://b/datasets/abc/train.jsonl",
        {"sha256": "ab" * 32},
        base_model="gemini-2.5-flash",
        gate_metric="exact_match",
        gate_score=0.8125,
        pipeline_run="{{$.pipeline_job_name}}",  # unresolved placeholder: ignored
    )
    assert provenance.pipeline_run == "" and provenance.gate_score == 0.8125
    assert provenance_from_artifacts({}, gate_score=-1.0).gate_score is None
    register_model(registry, "m1@2", provenance=provenance)
    version = service.models["m1"]["2"]
    assert {k: v for k, v in version.labels.items() if k != "promoted_at"} == {
        "base_model": "gemini-2-5-flash",
        "dataset_sha256": "abababababababab",
        "gate_metric": "exact_match",
        "gate_score": "0-8125",
    }
    assert version.version_description == (
        "base model gemini-2.5-flash; dataset gs://b/datasets/abc/train.jsonl "
        f"(sha256 {'ab' * 32}); gate exact_match=0.8125"
    )
    # a later promote without provenance (the CLI rollback) keeps that record
    register_model(registry, "m1@1")
    register_model(registry, "m1@2", provenance=Provenance(base_model="other"))
    assert version.version_description.startswith("base model gemini-2.5-flash")


def test_display_name_that_is_no_valid_id_still_resolves(service, registry) -> None:
    service.add("m7", "1", display="bot.v2")
    assert find_version(registry, "bot.v2").model_id == "m7"


def test_unknown_tuning_history_makes_every_endpoint_shared(service, registry) -> None:
    endpoints = FakeEndpointService(service)
    endpoints.deploy("e3", f"{PARENT}/models/m1@3", "d3")

    def forbidden(model_id: str):
        raise PermissionError("403 tuningJobs.list denied")

    with pytest.raises(UserError, match="e3"):
        delete_model(registry, "m1@3", endpoint_client=lambda: endpoints, origins=forbidden)
    assert "3" in service.models["m1"] and endpoints.writes == []


def test_serving_endpoint_prefers_the_tuned_models_own() -> None:
    own, checkpoint, other = "p/endpoints/1", "p/endpoints/2", "p/endpoints/3"
    assert _serving_endpoint([checkpoint, own], [own, checkpoint]) == own
    assert _serving_endpoint([other], [own]) == other  # its own endpoint was deleted
    assert _serving_endpoint([], [own]) == own  # registry lists no deployments
    assert _serving_endpoint([], []) == ""


def test_a_model_in_another_location_is_a_clear_error(registry) -> None:
    with pytest.raises(UserError, match="--location europe-west4"):
        registry.resolve("projects/p/locations/europe-west4/models/m1@1")
    assert registry.resolve(f"{PARENT}/models/gone@1") is None
