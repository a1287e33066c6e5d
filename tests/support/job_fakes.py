"""An in-memory stand-in for ``client.tunings`` to test decisions without a server."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from google.genai import errors, types

PARENT = "projects/local-project/locations/us-central1"


def api_error(status: int, message: str = "injected") -> errors.APIError:
    cls = errors.ServerError if status >= 500 else errors.ClientError
    return cls(status, {"error": {"code": status, "message": message, "status": "X"}})


class FakeTunings:
    """Jobs in a dict; ``faults[method]`` is a list of exceptions (or None) to raise first."""

    def __init__(self) -> None:
        self.jobs: dict[str, types.TuningJob] = {}
        self.calls: list[str] = []
        self.faults: dict[str, list[BaseException | None]] = {}
        self.create_then_fail: list[BaseException] = []  # job is created, then the error
        self.on_get: Callable[[types.TuningJob], None] | None = None
        self._ids = itertools.count(1)
        self.last_config: types.CreateTuningJobConfig | None = None

    def _fault(self, method: str) -> None:
        self.calls.append(method)
        queue = self.faults.get(method)
        if queue:
            exc = queue.pop(0)
            if exc is not None:
                raise exc

    def add(
        self, state: str = "JOB_STATE_RUNNING", labels: dict | None = None, **fields
    ) -> types.TuningJob:
        name = f"{PARENT}/tuningJobs/{next(self._ids)}"
        job = types.TuningJob(name=name, state=state, labels=labels or {}, **fields)
        self.jobs[name] = job
        return job

    def tune(self, *, base_model, training_dataset, config=None):
        self._fault("create")
        self.last_config = config
        job = self.add("JOB_STATE_PENDING", labels=dict(config.labels or {}), base_model=base_model)
        if self.create_then_fail:
            raise self.create_then_fail.pop(0)
        return job

    def get(self, *, name, config=None):
        self._fault("get")
        if name not in self.jobs:
            raise api_error(404, f"{name} not found")
        job = self.jobs[name]
        if self.on_get:
            self.on_get(job)
        return job.model_copy(deep=True)

    def list(self, *, config=None):
        self._fault("list")
        wanted = (config or {}).get("filter", "")
        key, _, value = wanted.removeprefix("labels.").partition("=")
        value = value.strip('"')
        return [j for j in self.jobs.values() if not wanted or (j.labels or {}).get(key) == value]

    def cancel(self, *, name, config=None):
        self._fault("cancel")
        self.jobs[name].state = "JOB_STATE_CANCELLED"


class FakeClient:
    def __init__(self) -> None:
        self.tunings = FakeTunings()


class Clock:
    """Fake time: ``sleep`` advances ``now`` and is remembered."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now
