"""Copy the in-process emulator's state and put it back, so several tests can start from
one expensive pipeline run instead of each repeating it (``tests/pipelines/conftest.py``).

The state is what a run leaves behind: the Vertex-side resources (jobs, models, endpoints)
and the Cloud Storage buckets and objects. Faults, the request log and live settings are
not state: ``restore`` starts from ``reset()``, as the ``emu`` fixture does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorState:
    vertex: dict
    storage: dict


def snapshot(emulator) -> EmulatorState:
    service = emulator.service
    with service.store.lock:
        vertex = copy.deepcopy(service.store.data)
    with service.gcs.lock:
        storage = copy.deepcopy(vars(service.gcs.storage))
    return EmulatorState(vertex, storage)


def restore(emulator, state: EmulatorState) -> None:
    """The emulator exactly as ``state`` was taken (ids keep counting up: never reused)."""
    emulator.reset()
    service = emulator.service
    with service.store.lock:
        service.store.data = copy.deepcopy(state.vertex)
        service.store.save()
    with service.gcs.lock:
        vars(service.gcs.storage).update(copy.deepcopy(state.storage))
