"""The component's body as plain Python: run the evaluation, fill the KFP artifacts."""

from __future__ import annotations

import logging
import os

from gemini_sft_kfp.evaluation.evaluation import EvalConfig, EvalResult, evaluate
from gemini_sft_kfp.evaluation.judge import parse_names
from gemini_sft_kfp.evaluation.report import render
from gemini_sft_kfp.evaluation.runner import Settings, quiet_sdk_logs

log = logging.getLogger(__name__)


def endpoint_name(artifact) -> str:
    """The endpoint resource name a ``google.VertexEndpoint`` artifact carries."""
    name = (artifact.metadata or {}).get("resourceName", "")
    if not name and "/endpoints/" in (artifact.uri or ""):
        name = "projects/" + artifact.uri.split("/projects/", 1)[-1]
    return name


def log_metrics(artifact, values: dict[str, float]) -> None:
    for name, value in values.items():
        artifact.log_metric(name, float(value))


def fill_artifacts(
    result: EvalResult,
    *,
    tuned_metrics,
    baseline_metrics,
    classification_metrics,
    predictions,
    report,
) -> None:
    log_metrics(tuned_metrics, result.tuned.metrics)
    if result.baseline:
        log_metrics(baseline_metrics, result.baseline.metrics)
    classification = result.tuned.classification
    if classification:
        classification_metrics.log_confusion_matrix(classification.labels, classification.matrix)
    predictions.metadata.update(
        {"examples": len(result.examples), "errors": result.tuned.errors, "format": "jsonl"}
    )
    result.write_predictions(predictions.path)
    for artifact in (predictions, report):  # Metrics stay numeric; the report says it too
        artifact.metadata["simulated"] = result.simulated
    os.makedirs(os.path.dirname(report.path) or ".", exist_ok=True)
    with open(report.path, "w", encoding="utf-8") as f:
        f.write(render(result))


def run(
    *,
    project: str,
    location: str,
    eval_data: str,
    tuned_endpoint,
    tuned_metrics,
    baseline_metrics,
    classification_metrics,
    predictions,
    report,
    baseline: str,
    metric: str,
    threshold: float,
    min_improvement: float,
    temperature: float,
    max_output_tokens: int,
    concurrency: int,
    requests_per_minute: int,
    base_model: str,
    gate: str,
    judge_metrics: str = "",
    judge_rubric: str = "",
    method: str = "online",
    staging_uri: str = "",
    batch_poll_seconds: float = 10.0,
    gcp_resources_path: str | None = None,
    pipeline_job_id: str = "",
    task_name: str = "",
) -> tuple[bool, float]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    quiet_sdk_logs()
    config = EvalConfig(
        eval_data=eval_data,
        endpoint=endpoint_name(tuned_endpoint),
        baseline=baseline,
        base_model=base_model,
        metric=metric,
        threshold=threshold,
        min_improvement=min_improvement,
        gate=gate,
        concurrency=concurrency,
        requests_per_minute=requests_per_minute,
        settings=Settings(temperature=temperature, max_output_tokens=max_output_tokens),
        judge_metrics=parse_names(judge_metrics),
        judge_rubric=judge_rubric,
        method=method,
        staging_uri=staging_uri,
        batch_poll_seconds=batch_poll_seconds,
        gcp_resources_path=gcp_resources_path,
        pipeline_job_id=pipeline_job_id,
        task_name=task_name,
    )
    result = evaluate(project, location, config)
    fill_artifacts(
        result,
        tuned_metrics=tuned_metrics,
        baseline_metrics=baseline_metrics,
        classification_metrics=classification_metrics,
        predictions=predictions,
        report=report,
    )
    if gcp_resources_path and not os.path.exists(gcp_resources_path):
        os.makedirs(os.path.dirname(gcp_resources_path) or ".", exist_ok=True)
        with open(gcp_resources_path, "w", encoding="utf-8") as f:
            f.write("{}")  # online: no cloud job to record
    log.info("evaluation summary: %s", result.summary())
    return result.gate.passed, result.gate.score
