"""KFP component: evaluate the tuned endpoint (and a baseline), then the quality gate."""

from typing import NamedTuple

from google_cloud_pipeline_components.types.artifact_types import VertexEndpoint
from kfp import dsl
from kfp.dsl import ClassificationMetrics, Dataset, Input, Markdown, Metrics, Output, OutputPath

from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def evaluate_model(
    project: str,
    location: str,
    eval_data: str,
    tuned_endpoint: Input[VertexEndpoint],
    tuned_metrics: Output[Metrics],
    baseline_metrics: Output[Metrics],
    classification_metrics: Output[ClassificationMetrics],
    predictions: Output[Dataset],
    report: Output[Markdown],
    gcp_resources: OutputPath(str),
    baseline: str = "",
    metric: str = "exact_match",
    threshold: float = 0.0,
    min_improvement: float = 0.0,
    temperature: float = 0.0,
    max_output_tokens: int = 256,
    concurrency: int = 8,
    requests_per_minute: int = 0,
    base_model: str = "",
    gate: str = "all",
    judge_metrics: str = "",
    judge_rubric: str = "",
    method: str = "online",
    staging_uri: str = "",
    batch_poll_seconds: float = 10.0,
    pipeline_job_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    pipeline_task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> NamedTuple("Outputs", [("passed", bool), ("score", float)]):
    """Run ``eval_data`` (JSONL, local path or gs://) on the tuned endpoint and ``baseline``.

    ``eval_data``: tuning examples (the last model turn is the reference) or preference
    lines (``contents`` + two scored ``completions``: the prompt is ``contents``, the
    reference the preferred completion; adds ``preference_accuracy``, the share of
    answers closer by ROUGE-L to the preferred than to the dispreferred completion, ties
    half, usable as ``metric``).

    ``baseline``: a base model id (gets each example's system instruction) or an endpoint
    resource name (a champion); empty: no baseline, absolute threshold only.
    ``base_model``: the tuned model's base, for its thinking budget (0 on thinking models).
    ``gate``: ``all`` | ``any`` | ``threshold`` | ``improvement``: how ``threshold``
    (score >= threshold) and ``min_improvement`` (score >= baseline + min_improvement)
    combine. ``score`` is the tuned model's ``metric`` (0..1).
    ``judge_metrics``: model-based metrics from the Gen AI evaluation service, comma
    separated (``fluency``, ``groundedness``, ``rubric`` with ``judge_rubric`` criteria,
    ``win_rate`` against the baseline); ``metric`` may be one (``judge_fluency``...).
    ``method``: ``online`` (concurrent calls), ``batch`` (one Vertex batch prediction job
    per model, files under the gs:// ``staging_uri``, recorded in ``gcp_resources``,
    resumed on retry, cancelled if the task is stopped) or ``auto`` (batch from 5,000
    examples); ``batch_poll_seconds``: the first interval of polling them.
    """
    from gemini_sft_kfp.components.evaluate_model.executor import run as run_task

    return run_task(
        project=project,
        location=location,
        eval_data=eval_data,
        tuned_endpoint=tuned_endpoint,
        tuned_metrics=tuned_metrics,
        baseline_metrics=baseline_metrics,
        classification_metrics=classification_metrics,
        predictions=predictions,
        report=report,
        baseline=baseline,
        metric=metric,
        threshold=threshold,
        min_improvement=min_improvement,
        temperature=temperature,
        max_output_tokens=max_output_tokens,
        concurrency=concurrency,
        requests_per_minute=requests_per_minute,
        base_model=base_model,
        gate=gate,
        judge_metrics=judge_metrics,
        judge_rubric=judge_rubric,
        method=method,
        staging_uri=staging_uri,
        batch_poll_seconds=batch_poll_seconds,
        gcp_resources_path=gcp_resources,
        pipeline_job_id=pipeline_job_id,
        task_name=pipeline_task_name,
    )
