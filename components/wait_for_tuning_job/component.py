"""KFP component: wait for a tuning job and publish what it produced."""

from typing import NamedTuple

from google_cloud_pipeline_components.types.artifact_types import VertexEndpoint, VertexModel
from kfp.dsl import Markdown, Metrics, Output, OutputPath

from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def wait_for_tuning_job(
    project: str,
    location: str,
    tuning_job: str,
    gcp_resources: OutputPath(str),
    model: Output[VertexModel],
    endpoint: Output[VertexEndpoint],
    metrics: Output[Metrics],
    report: Output[Markdown],
    poll_initial_seconds: float = 10.0,
    poll_max_seconds: float = 60.0,
    timeout_seconds: float = 172800.0,
    cancel_on_timeout: bool = False,
    lineage: str = "",
) -> NamedTuple(
    "TuningOutputs", tuned_model=str, tuned_endpoint=str, base_model=str, checkpoints=str
):
    """Poll the job (backoff between ``poll_initial_seconds`` and ``poll_max_seconds``).

    SUCCEEDED: ``model`` (versioned tuned model; metadata ``tuningMethod``: supervised or
    preference), ``endpoint``, ``metrics`` (billable tokens, examples, steps, truncated
    examples, from the method's data-stats block; ``beta`` for preference; with
    tuning-time evaluation, each checkpoint's ``evaluateDatasetRuns`` scores as
    ``eval_checkpoint_<id>_<metric>``), ``report`` (the method, checkpoints, their
    endpoints and evaluation runs) and ``checkpoints`` (JSON list).
    FAILED / CANCELLED / EXPIRED: the task fails with the service's code and message.
    Pipeline cancelled (SIGTERM): the job is cancelled. Timeout: the task fails and the
    job keeps running unless ``cancel_on_timeout``. ``lineage``: label the tuned model
    with it (``get_champion``'s output), so every model a pipeline makes carries its task.
    """
    import logging
    from collections import namedtuple

    import orjson
    from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait

    from gemini_sft_kfp.core.gcp_resources import resource_uri

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    result = wait(
        project,
        location,
        tuning_job,
        poll_initial_seconds=poll_initial_seconds,
        poll_max_seconds=poll_max_seconds,
        timeout_seconds=timeout_seconds,
        cancel_on_timeout=cancel_on_timeout,
        gcp_resources_path=gcp_resources,
    )
    if lineage:
        from gemini_sft_kfp.core.lineage import label_model
        from gemini_sft_kfp.core.registry import Registry

        label_model(Registry(project, location), result.tuned_model, lineage)
    model.uri = resource_uri(result.tuned_model, location)
    model.metadata["resourceName"] = result.tuned_model
    model.metadata["tuningMethod"] = result.method
    endpoint.uri = resource_uri(result.tuned_endpoint, location)
    endpoint.metadata["resourceName"] = result.tuned_endpoint
    for name, value in {**result.metrics, **result.evaluation_metrics()}.items():
        metrics.log_metric(name, value)
    from gemini_sft_kfp.components.wait_for_tuning_job.result import render_report

    with open(report.path, "w", encoding="utf-8") as f:
        f.write(render_report(result))
    outputs = namedtuple(
        "TuningOutputs", ["tuned_model", "tuned_endpoint", "base_model", "checkpoints"]
    )
    return outputs(
        result.tuned_model,
        result.tuned_endpoint,
        result.base_model,
        orjson.dumps(result.checkpoints).decode(),
    )
