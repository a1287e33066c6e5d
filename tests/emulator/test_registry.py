"""Models and endpoints through google-cloud-aiplatform's REST transport (init_aiplatform)."""

from __future__ import annotations

import pytest
from google.api_core import exceptions

from gemini_sft_kfp.core.clients import init_aiplatform
from tests.support.emu_helpers import PARENT, SERVED_PARENT, call


@pytest.fixture
def aip(fast):
    init_aiplatform("local-project", "us-central1")
    from google.cloud import aiplatform

    return aiplatform


def _model_id(job: dict) -> str:
    return job["tunedModel"]["model"].rsplit("/", 1)[1].split("@")[0]


def test_get_by_version_and_alias(aip, tuned_job):
    model_id = _model_id(tuned_job)
    model = aip.Model(f"{model_id}@1")
    assert model.version_id == "1" and "default" in model.version_aliases
    assert model.labels["emulator-simulated"] == "true"
    assert model.labels["google-vertex-llm-tuning-base-model-id"] == "gemini-2_5-flash"
    model.versioning_registry.add_version_aliases(["champion"], version="1")
    assert aip.Model(f"{model_id}@champion").version_id == "1"
    with pytest.raises(exceptions.NotFound):
        aip.Model(f"{model_id}@nosuchalias")


def test_alias_moves_between_versions(fast, tuned_job):
    model = tuned_job["tunedModel"]["model"].split("@")[0]
    call(fast, "POST", f"{model}@1:mergeVersionAliases", {"versionAliases": ["champion"]})
    body = {
        "preTunedModel": {"tunedModelName": model},
        "supervisedTuningSpec": {
            "trainingDatasetUri": tuned_job["supervisedTuningSpec"]["trainingDatasetUri"]
        },
    }
    import time

    created = call(fast, "POST", f"{PARENT}/tuningJobs", body)[1]
    time.sleep(0.25)
    assert call(fast, "GET", created["name"])[1]["tunedModel"]["model"] == f"{model}@2"
    call(fast, "POST", f"{model}@2:mergeVersionAliases", {"versionAliases": ["champion"]})
    assert call(fast, "GET", f"{model}@champion")[1]["versionId"] == "2"
    assert call(fast, "GET", model)[1]["versionId"] == "2"  # the new version is the default
    assert "champion" not in call(fast, "GET", f"{model}@1")[1]["versionAliases"]
    removed = call(
        fast, "POST", f"{model}@2:mergeVersionAliases", {"versionAliases": ["-champion"]}
    )
    assert removed[1]["versionAliases"] == ["default"]
    assert (
        call(fast, "POST", f"{model}@2:mergeVersionAliases", {"versionAliases": ["-default"]})[0]
        == 400
    )
    assert call(fast, "POST", f"{model}:mergeVersionAliases", {"versionAliases": ["x1"]})[0] == 400


def test_list_update_and_versions(aip, tuned_job):
    model_id = _model_id(tuned_job)
    names = [m.resource_name for m in aip.Model.list(filter='labels.emulator-simulated="true"')]
    assert names == [f"{SERVED_PARENT}/models/{model_id}"]
    assert aip.Model.list(filter="labels.team=none") == []
    model = aip.Model(model_id)
    model.update(labels={"stage": "prod"}, description="release 1")
    again = aip.Model(model_id)
    assert again.labels == {"stage": "prod", "emulator-simulated": "true"}
    assert again.description == "release 1"
    assert [v.version_id for v in model.versioning_registry.list_versions()] == ["1"]


def test_delete_takes_managed_endpoints_along(aip, fast, tuned_job):
    model_id = _model_id(tuned_job)
    endpoint = tuned_job["tunedModel"]["endpoint"]
    assert aip.Endpoint(endpoint).list_models()[0].model_version_id == "1"
    aip.Model(model_id).delete()
    with pytest.raises(exceptions.NotFound):
        aip.Model(model_id)
    assert call(fast, "GET", endpoint)[0] == 404
    checkpoints = tuned_job["tunedModel"]["checkpoints"]
    assert len(checkpoints) == 2  # epochCount 2: the first checkpoint has its own endpoint
    for checkpoint in checkpoints:
        assert call(fast, "GET", checkpoint["endpoint"])[0] == 404
    assert "models.delete" in [r["method"] for r in fast.requests()]


def test_delete_refused_while_deployed_elsewhere(fast, tuned_job):
    model = tuned_job["tunedModel"]["model"].split("@")[0]
    with fast.service.store.lock:  # deploy the model on a second, user-owned endpoint
        fast.service.store.table("endpoints")["77"] = {
            "name": f"{SERVED_PARENT}/endpoints/77",
            "displayName": "shared",
            "createTime": "2026-01-01T00:00:00Z",
            "deployedModels": [{"id": "5", "model": model, "modelVersionId": "1"}],
            "_sim": {},
        }
    status, body, _ = call(fast, "DELETE", model)
    assert status == 400 and body["error"]["status"] == "FAILED_PRECONDITION"
    assert call(fast, "GET", model)[0] == 200  # nothing was deleted
    undeployed = call(
        fast, "POST", f"{PARENT}/endpoints/77:undeployModel", {"deployedModelId": "5"}
    )
    assert undeployed[0] == 200
    assert call(fast, "DELETE", model)[0] == 200


def test_default_version_cannot_be_deleted_alone(fast, tuned_job):
    model = tuned_job["tunedModel"]["model"].split("@")[0]
    body = {
        "preTunedModel": {"tunedModelName": model},
        "supervisedTuningSpec": {
            "trainingDatasetUri": tuned_job["supervisedTuningSpec"]["trainingDatasetUri"]
        },
    }
    import time

    call(fast, "POST", f"{PARENT}/tuningJobs", body)
    time.sleep(0.25)
    assert call(fast, "DELETE", f"{model}@2")[0] == 400  # v2 is the default now
    assert call(fast, "DELETE", f"{model}@1:deleteVersion")[0] == 200
    assert call(fast, "GET", f"{model}@1")[0] == 404
    assert call(fast, "GET", f"{model}@2")[0] == 200


def _shared_endpoint(emu, model: str, split: dict[str, int]) -> str:
    """A user-owned endpoint serving ``model`` (as "5") beside two other deployments."""
    with emu.service.store.lock:
        emu.service.store.table("endpoints")["78"] = {
            "name": f"{SERVED_PARENT}/endpoints/78",
            "displayName": "shared",
            "createTime": "2026-01-01T00:00:00Z",
            "deployedModels": [
                {"id": "5", "model": model, "modelVersionId": "1"},
                {"id": "6", "model": model, "modelVersionId": "1"},
                {"id": "7", "model": model, "modelVersionId": "1"},
            ],
            "trafficSplit": split,
            "_sim": {},
        }
    return f"{PARENT}/endpoints/78"


def test_undeploy_refuses_a_model_that_still_carries_traffic(fast, tuned_job):
    endpoint = _shared_endpoint(
        fast, tuned_job["tunedModel"]["model"].split("@")[0], {"5": 70, "6": 10, "7": 20}
    )
    status, body, _ = call(fast, "POST", f"{endpoint}:undeployModel", {"deployedModelId": "5"})
    assert status == 400 and body["error"]["status"] == "FAILED_PRECONDITION"
    assert len(call(fast, "GET", endpoint)[1]["deployedModels"]) == 3  # nothing changed


def test_undeploy_applies_the_requested_traffic_split(fast, tuned_job):
    endpoint = _shared_endpoint(
        fast, tuned_job["tunedModel"]["model"].split("@")[0], {"5": 70, "6": 10, "7": 20}
    )
    request = {"deployedModelId": "5", "trafficSplit": {"6": 80, "7": 20}}
    assert call(fast, "POST", f"{endpoint}:undeployModel", request)[0] == 200
    after = call(fast, "GET", endpoint)[1]
    assert [d["id"] for d in after["deployedModels"]] == ["6", "7"]
    assert {k: int(v) for k, v in after["trafficSplit"].items()} == {"6": 80, "7": 20}
    bad = {"deployedModelId": "6", "trafficSplit": {"7": 90}}
    assert call(fast, "POST", f"{endpoint}:undeployModel", bad)[0] == 400  # not 100 in all
