"""What a finished tuning job produced: model, endpoint, checkpoints and data statistics."""

from __future__ import annotations

from dataclasses import dataclass, field

from gemini_sft_kfp.core.errors import CloudJobError
from gemini_sft_kfp.jobs.states import SUCCEEDED, state_name

# The method a job used -> (its spec attribute, its tuningDataStats block attribute).
METHOD_FIELDS = {
    "supervised": ("supervised_tuning_spec", "supervised_tuning_data_stats"),
    "preference": ("preference_optimization_spec", "preference_optimization_data_stats"),
}

# TuningJob.tuningDataStats.<method's block> field -> metric name in the output
# (both SupervisedTuningDataStats and PreferenceOptimizationDataStats have these; a
# field a block lacks is simply not reported).
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
    method: str = "supervised"  # which spec the job carried: supervised | preference
    metrics: dict[str, float] = field(default_factory=dict)
    # Tuning-time evaluation (evaluationConfig): one entry per checkpoint evaluated.
    evaluation_runs: list[dict] = field(default_factory=list)

    def evaluation_metrics(self) -> dict[str, float]:
        """``eval_checkpoint_<id>_<metric>_<aggregation>`` -> score, for KFP Metrics."""
        flat: dict[str, float] = {}
        for run in self.evaluation_runs:
            for name, value in run["metrics"].items():
                flat[f"eval_checkpoint_{run['checkpointId'] or 'model'}_{name}"] = value
        return flat


def _int(value) -> int | None:
    """int64 fields arrive as JSON strings; the SDK may or may not have converted them."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def tuning_method(job) -> str:
    """``supervised`` or ``preference``: the spec block the job carries."""
    for method, (spec_attr, _) in METHOD_FIELDS.items():
        if getattr(job, spec_attr, None) is not None:
            return method
    return "supervised"


def _metrics(job, method: str) -> dict[str, float]:
    spec_attr, stats_attr = METHOD_FIELDS[method]
    stats = getattr(getattr(job, "tuning_data_stats", None), stats_attr, None)
    metrics: dict[str, float] = {}
    for attr, metric in STAT_METRICS.items():
        value = _int(getattr(stats, attr, None)) if stats is not None else None
        if value is not None:
            metrics[metric] = value
    hyper = getattr(getattr(job, spec_attr, None), "hyper_parameters", None)
    epochs = _int(getattr(hyper, "epoch_count", None))
    if epochs is not None:
        metrics["epochs"] = epochs
    beta = getattr(hyper, "beta", None)
    if beta is not None:
        metrics["beta"] = float(beta)
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


_RESULT_FIELDS = {
    "exact_match_metric_value": "exact_match",
    "bleu_metric_value": "bleu",
    "rouge_metric_value": "rouge",
    "pointwise_metric_result": "pointwise",
    "pairwise_metric_result": "pairwise",
    "custom_code_execution_result": "custom",
}


def _get(obj, name: str):
    """An attribute of an SDK object, or a key of a dict (the SDK keeps some as dicts)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _aggregations(response) -> dict[str, float]:
    """``{"exact_match_average": 0.83, ...}`` from an ``EvaluateDatasetResponse``."""
    output = _get(response, "aggregation_output") if response is not None else None
    scores: dict[str, float] = {}
    results = (_get(output, "aggregation_results") if output is not None else None) or []
    for result in results:
        aggregation = _get(result, "aggregation_metric") or "average"
        aggregation = str(getattr(aggregation, "value", aggregation)).lower()
        for attr, metric in _RESULT_FIELDS.items():
            value = _get(result, attr)
            score = _get(value, "score") if value is not None else None
            if score is not None:
                scores[f"{metric}_{aggregation}"] = float(score)
    return scores


def _evaluation_runs(job) -> list[dict]:
    """``TuningJob.evaluateDatasetRuns`` as plain data: checkpoint, run, scores, error."""
    runs = []
    for run in getattr(job, "evaluate_dataset_runs", None) or []:
        response = _get(run, "evaluate_dataset_response")
        output_info = _get(response, "output_info") if response is not None else None
        error = _get(run, "error")
        runs.append(
            {
                "checkpointId": str(_get(run, "checkpoint_id") or ""),
                "evaluationRun": _get(run, "evaluation_run") or _get(run, "operation_name") or "",
                "metrics": _aggregations(response),
                "outputDirectory": (
                    _get(output_info, "gcs_output_directory") if output_info else ""
                )
                or "",
                "error": (_get(error, "message") or str(error)) if error else "",
            }
        )
    return runs


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
    method = tuning_method(job)
    return TuningResult(
        job_name=job.name,
        tuned_model=tuned.model,
        tuned_endpoint=tuned.endpoint or "",
        base_model=_base_model(job),
        checkpoints=_checkpoints(tuned),
        metrics=_metrics(job, method),
        method=method,
        evaluation_runs=_evaluation_runs(job),
    )


def render_report(result: TuningResult) -> str:
    """Markdown: the tuned model, its checkpoints and their tuning-time evaluation runs."""
    lines = [
        f"# Tuning job `{result.job_name}`",
        "",
        f"- method: {result.method}",
        f"- tuned model: `{result.tuned_model}`",
        f"- endpoint: `{result.tuned_endpoint}`",
        f"- base model: `{result.base_model}`",
    ]
    lines += [f"- {name}: {value:g}" for name, value in result.metrics.items()]
    if result.checkpoints:
        lines += ["", "## Checkpoints", "", "| checkpoint | epoch | step | endpoint |"]
        lines.append("|---|---|---|---|")
        for cp in result.checkpoints:
            lines.append(
                f"| {cp['checkpointId']} | {cp['epoch']} | {cp['step']} | `{cp['endpoint']}` |"
            )
    runs = result.evaluation_runs
    if runs:
        names = sorted({name for run in runs for name in run["metrics"]})
        lines += ["", "## Tuning-time evaluation (evaluateDatasetRuns)", ""]
        lines.append("| checkpoint | " + " | ".join(names) + " | evaluation run |")
        lines.append("|---|" + "---|" * len(names) + "---|")
        for run in runs:
            scores = " | ".join(
                f"{run['metrics'][n]:.4f}" if n in run["metrics"] else "-" for n in names
            )
            where = run["error"] or run["evaluationRun"]
            lines.append(f"| {run['checkpointId'] or '-'} | {scores} | {where} |")
    return "\n".join(lines) + "\n"
