"""What every handler shares: state, Cloud Storage, faults, request log, settings."""

from __future__ import annotations

from gemini_sft_kfp.emulator.cloud_storage.gcs import GcsServer
from gemini_sft_kfp.emulator.common.faults import Faults, RequestLog
from gemini_sft_kfp.emulator.common.projects import ProjectNumbers
from gemini_sft_kfp.emulator.common.store import Store
from gemini_sft_kfp.emulator.tuning.knowledge import KnowledgeCache

SIMULATED_LABEL = "emulator-simulated"
SIMULATED_HEADER = "x-emulator-simulated"
QUOTA_MODES = ("queue", "reject")


class Service:
    """The emulated Vertex AI project state and its collaborators."""

    def __init__(
        self,
        store: Store,
        gcs: GcsServer,
        tuning_seconds: float,
        max_running_tuning_jobs: int | None = None,
        project_numbers: dict[str, str] | None = None,
        quota_mode: str = "queue",
    ) -> None:
        self.store = store
        self.projects = ProjectNumbers(project_numbers)
        self.gcs = gcs
        self.tuning_seconds = float(tuning_seconds)  # tests may change it live (new jobs)
        self._initial_tuning_seconds = self.tuning_seconds
        # how long a batch prediction job runs; None: min(tuning_seconds, 5). A test sets
        # it live to hold new jobs running (a task stopped mid-wait must cancel its job).
        self.batch_seconds: float | None = None
        # concurrent tuning-job quota (Vertex: one slot by default); None = unlimited.
        # quota_mode "queue": jobs over it wait in JOB_STATE_QUEUED (tuningJobState
        # WAITING_FOR_QUOTA); "reject": their create answers 429 RESOURCE_EXHAUSTED.
        self.max_running_tuning_jobs: int | None = max_running_tuning_jobs
        self._initial_quota = max_running_tuning_jobs
        if quota_mode not in QUOTA_MODES:
            raise ValueError(f"quota_mode must be one of {QUOTA_MODES}, got {quota_mode!r}")
        self.quota_mode = quota_mode
        self._initial_quota_mode = quota_mode
        self.faults = Faults()
        self.log = RequestLog()
        self.knowledge = KnowledgeCache(gcs)
        self.pipeline_executor = None  # a PipelineExecutor when submitted pipelines are run

    def reset(self) -> None:
        """Forget jobs, models, endpoints, buckets, faults and the request log; restore
        ``tuning_seconds`` (a test that changed it cannot leak into the next)."""
        self.tuning_seconds = self._initial_tuning_seconds
        self.batch_seconds = None
        self.max_running_tuning_jobs = self._initial_quota
        self.quota_mode = self._initial_quota_mode
        if self.pipeline_executor is not None:
            self.pipeline_executor.stop()
        self.store.reset()
        self.gcs.wipe()
        self.faults.clear()
        self.log.clear()
        self.knowledge.clear()
