"""What a finished tuning job produced: model, endpoint, checkpoints and data statistics."""

from __future__ import annotations

from dataclasses import dataclass, field

from gemini_sft_kfp.core.errors import CloudJobError
from gemini_sft_kfp.core.job_states import SUCCEEDED, state_name

# TuningJob.tuningDataStats.supervisedTuningDataStats field -> metric name in the output.
STAT_METRICS = {
    "total_billable_token_count": "billable_tokens",
    "tuning_dataset_example_count": "training_examples",
    "tuning_step_count": "tuning_steps",
    "total_truncated_example_count": "truncated_examples",
}


@dataclass(frozen=True)
class TuningResult:
    """The outputs of a SUCCEEDED job, ready for KFP artifacts and parameters."""

    job_name: str
    tuned_model: str  # versioned: projects/../models/ID@N
    tuned_endpoint: str
    base_model: str
    checkpoints: list[dict] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


def _int(value) -> int | None:
    """int64 fields arrive as JSON strings; the SDK may or may not have converted them."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _metrics(job) -> dict[str, float]:
    stats = getattr(getattr(job, "tuning_data_stats", None), "supervised_tuning_data_stats", None)
    metrics: dict[str, float] = {}
    for attr, metric in STAT_METRICS.items():
        value = _int(getattr(stats, attr, None)) if stats is not None else None
        if value is not None:
            metrics[metric] = value
    spec = getattr(job, "supervised_tuning_spec", None)
    epochs = _int(getattr(getattr(spec, "hyper_parameters", None), "epoch_count", None))
    if epochs is not None:
        metrics["epochs"] = epochs
    return metrics


def _checkpoints(tuned_model) -> list[dict]:
    checkpoints = []
    for cp in getattr(tuned_model, "checkpoints", None) or []:
        checkpoints.append(
            {
                "checkpointId": str(cp.checkpoint_id) if cp.checkpoint_id is not None else "",
                "epoch": _int(cp.epoch),
                "step": _int(cp.step),
                "endpoint": cp.endpoint or "",
            }
        )
    return checkpoints


def _base_model(job) -> str:
    if job.base_model:
        return job.base_model
    pre_tuned = getattr(job, "pre_tuned_model", None)
    return (getattr(pre_tuned, "base_model", None) or "") if pre_tuned else ""


def job_failure(job) -> CloudJobError:
    """The service's code and message for a job that ended without a model."""
    state = state_name(job.state)
    error = getattr(job, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or "no error message from the service"
    return CloudJobError(
        f"tuning job {job.name} ended {state}: code {code}: {message}", code=code, state=state
    )


def result_of(job) -> TuningResult:
    """Outputs of a SUCCEEDED job; ``CloudJobError`` for any other ending."""
    if state_name(job.state) != SUCCEEDED:
        raise job_failure(job)
    tuned = job.tuned_model
    if tuned is None or not tuned.model:
        raise CloudJobError(
            f"tuning job {job.name} SUCCEEDED but reports no tuned model", state=SUCCEEDED
        )
    return TuningResult(
        job_name=job.name,
        tuned_model=tuned.model,
        tuned_endpoint=tuned.endpoint or "",
        base_model=_base_model(job),
        checkpoints=_checkpoints(tuned),
        metrics=_metrics(job),
    )
