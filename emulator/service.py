"""What every handler shares: state, Cloud Storage, faults, request log, settings."""

from __future__ import annotations

from emulator.faults import Faults, RequestLog
from emulator.gcs import GcsServer
from emulator.knowledge import KnowledgeCache
from emulator.store import Store

SIMULATED_LABEL = "emulator-simulated"
SIMULATED_HEADER = "x-emulator-simulated"


class Service:
    """The emulated Vertex AI project state and its collaborators."""

    def __init__(self, store: Store, gcs: GcsServer, tuning_seconds: float) -> None:
        self.store = store
        self.gcs = gcs
        self.tuning_seconds = float(tuning_seconds)
        self.faults = Faults()
        self.log = RequestLog()
        self.knowledge = KnowledgeCache(gcs)
        self.pipeline_executor = None  # a PipelineExecutor when submitted pipelines are run

    def reset(self) -> None:
        """Forget jobs, models, endpoints, buckets, faults and the request log."""
        self.store.reset()
        self.gcs.wipe()
        self.faults.clear()
        self.log.clear()
        self.knowledge.clear()
