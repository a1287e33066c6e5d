"""In-memory stand-ins for the GAPIC Model and Endpoint services, with Vertex's rules
(aliases unique per model, ``default`` always held, no delete while deployed, no delete
of a last version), so the registry logic is unit-tested without any server."""

from __future__ import annotations

import copy

from google.api_core import exceptions
from google.cloud.aiplatform_v1.types import DeployedModel, DeployedModelRef, Endpoint, Model

PROJECT, LOCATION = "p", "us-central1"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"


class DoneOperation:
    def result(self, timeout=None):
        return None


class FakeModelService:
    def __init__(self) -> None:
        self.models: dict[str, dict[str, Model]] = {}
        self.writes: list[str] = []

    def add(self, model_id: str, version_id: str, *, aliases=(), labels=None, display=""):
        versions = self.models.setdefault(model_id, {})
        aliases = list(aliases) + ([] if versions else ["default"])
        versions[version_id] = Model(
            name=f"{PARENT}/models/{model_id}",
            version_id=version_id,
            display_name=display or f"tuned-{model_id}",
            version_aliases=aliases,
            labels=labels or {},
        )
        return f"{PARENT}/models/{model_id}@{version_id}"

    def _split(self, name: str) -> tuple[str, str | None]:
        model_id, _, version = name.rsplit("/", 1)[-1].partition("@")
        if model_id not in self.models:
            raise exceptions.NotFound(f"model {model_id} not found")
        return model_id, version or None

    def _version(self, name: str) -> Model:
        model_id, version = self._split(name)
        versions = self.models[model_id]
        version = version or "default"
        if version in versions:
            return versions[version]
        for model in versions.values():
            if version in model.version_aliases:
                return model
        raise exceptions.NotFound(f"version {name} not found")

    def _out(self, model: Model) -> Model:
        out = copy.deepcopy(model)
        out.name = f"{model.name}@{model.version_id}"
        return out

    def get_model(self, name: str) -> Model:
        if "." in name.rsplit("/", 1)[-1]:  # like Vertex: not a valid model id at all
            raise exceptions.BadRequest(f"invalid model id in {name}")
        return self._out(self._version(name))

    def list_model_versions(self, name: str):
        model_id, _ = self._split(name)
        return [self._out(m) for m in self.models[model_id].values()]

    def list_models(self, request: dict):
        wanted = request.get("filter", "")
        out = [self._out(self._version(f"{PARENT}/models/{mid}")) for mid in self.models]
        if wanted.startswith("display_name="):
            out = [m for m in out if m.display_name == wanted.split("=", 1)[1].strip('"')]
        return out

    def merge_version_aliases(self, name: str, version_aliases: list[str]) -> Model:
        self.writes.append(f"merge {name} {version_aliases}")
        target = self._version(name)
        model_id, _ = self._split(name)
        for change in version_aliases:
            if change.startswith("-"):
                if change[1:] == "default":
                    raise exceptions.BadRequest("the default alias cannot be removed")
                target.version_aliases = [a for a in target.version_aliases if a != change[1:]]
                continue
            for other in self.models[model_id].values():  # Vertex moves an alias it is given
                other.version_aliases = [a for a in other.version_aliases if a != change]
            target.version_aliases = [*target.version_aliases, change]
        return self._out(target)

    def update_model(self, model: Model, update_mask) -> Model:
        self.writes.append(f"patch {model.name} {list(update_mask.paths)}")
        target = self._version(model.name)
        for path in update_mask.paths:
            setattr(target, path, getattr(model, path))
        return self._out(target)

    def delete_model(self, name: str) -> DoneOperation:
        self.writes.append(f"delete {name}")
        model_id, _ = self._split(name)
        if any(m.deployed_models for m in self.models[model_id].values()):
            raise exceptions.FailedPrecondition("model is deployed")
        del self.models[model_id]
        return DoneOperation()

    def delete_model_version(self, name: str) -> DoneOperation:
        self.writes.append(f"delete-version {name}")
        target = self._version(name)
        model_id, _ = self._split(name)
        if len(self.models[model_id]) == 1 or "default" in target.version_aliases:
            raise exceptions.FailedPrecondition("cannot delete the default or last version")
        if target.deployed_models:
            raise exceptions.FailedPrecondition("version is deployed")
        del self.models[model_id][target.version_id]
        return DoneOperation()


class FakeEndpointService:
    def __init__(self, models: FakeModelService) -> None:
        self.models = models
        self.endpoints: dict[str, Endpoint] = {}
        self.writes: list[str] = []

    def deploy(self, endpoint_id: str, model_name: str, deployed_id: str, traffic: int = 100):
        name = f"{PARENT}/endpoints/{endpoint_id}"
        endpoint = self.endpoints.setdefault(endpoint_id, Endpoint(name=name))
        endpoint.deployed_models.append(DeployedModel(id=deployed_id, model=model_name))
        endpoint.traffic_split[deployed_id] = traffic
        version = self.models._version(model_name)
        version.deployed_models.append(
            DeployedModelRef(endpoint=name, deployed_model_id=deployed_id)
        )
        return name

    def get_endpoint(self, name: str) -> Endpoint:
        endpoint_id = name.rsplit("/", 1)[-1]
        if endpoint_id not in self.endpoints:
            raise exceptions.NotFound(f"endpoint {name} not found")
        return copy.deepcopy(self.endpoints[endpoint_id])

    def undeploy_model(self, endpoint: str, deployed_model_id: str, traffic_split=None):
        self.writes.append(f"undeploy {endpoint.rsplit('/', 1)[-1]} {deployed_model_id}")
        target = self.endpoints[endpoint.rsplit("/", 1)[-1]]
        gone = [d for d in target.deployed_models if d.id == deployed_model_id]
        kept = [d for d in target.deployed_models if d.id != deployed_model_id]
        if kept and not traffic_split and target.traffic_split.get(deployed_model_id):
            raise exceptions.FailedPrecondition("deployed model still has traffic")
        del target.deployed_models[:]
        target.deployed_models.extend(kept)
        target.traffic_split.clear()
        target.traffic_split.update(traffic_split or {})
        for deployed in gone:
            version = self.models._version(deployed.model)
            refs = [r for r in version.deployed_models if r.deployed_model_id != deployed.id]
            del version.deployed_models[:]
            version.deployed_models.extend(refs)
        return DoneOperation()

    def delete_endpoint(self, name: str) -> DoneOperation:
        self.writes.append(f"delete-endpoint {name.rsplit('/', 1)[-1]}")
        target = self.endpoints[name.rsplit("/", 1)[-1]]
        if target.deployed_models:
            raise exceptions.FailedPrecondition("endpoint has deployed models")
        del self.endpoints[name.rsplit("/", 1)[-1]]
        return DoneOperation()
