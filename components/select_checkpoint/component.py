"""KFP component: score every checkpoint on the eval set; the best becomes the default."""

from typing import NamedTuple

from google_cloud_pipeline_components.types.artifact_types import VertexEndpoint, VertexModel
from kfp.dsl import Input, Markdown, Metrics, Output

from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def select_checkpoint(
    project: str,
    location: str,
    model: Input[VertexModel],
    endpoint: Input[VertexEndpoint],
    checkpoints: str,
    eval_data: str,
    best_endpoint: Output[VertexEndpoint],
    metrics: Output[Metrics],
    report: Output[Markdown],
    metric: str = "exact_match",
    enabled: bool = True,
    base_model: str = "",
    temperature: float = 0.0,
    max_output_tokens: int = 256,
    concurrency: int = 8,
    requests_per_minute: int = 0,
    baseline: str = "",
    judge_rubric: str = "",
) -> NamedTuple("Outputs", [("checkpoint_id", str), ("score", float)]):
    """Evaluate each checkpoint's endpoint (``checkpoints``: ``wait_for_tuning_job``'s
    JSON) on ``eval_data`` with ``metric``, make the best the model's default checkpoint
    (``defaultCheckpointId``), and output its endpoint for the gate.

    With ``enabled=False`` or fewer than two checkpoints (``export_last_checkpoint_only``)
    nothing is evaluated and ``best_endpoint`` is ``endpoint``. Ties go to the later
    checkpoint. ``metrics``: ``checkpoint_<id>_<metric>``; ``report``: the per-checkpoint
    scores. ``score``: the best checkpoint's (-1 when nothing was compared).
    ``metric`` may be a judge metric (``judge_fluency``...: only that one is computed):
    ``judge_rubric`` gives the ``rubric`` judge its criteria, and ``judge_win_rate``
    compares each checkpoint with ``baseline`` (the gate's; otherwise unused).
    """
    from collections import namedtuple

    from gemini_sft_kfp.components.select_checkpoint.executor import run as select

    from gemini_sft_kfp.core.clients import vertex_emulator_url
    from gemini_sft_kfp.core.gcp_resources import resource_uri
    from gemini_sft_kfp.core.registry import name_from_artifact

    choice = select(
        project,
        location,
        model=name_from_artifact(model.metadata, model.uri),
        endpoint=endpoint.metadata.get("resourceName", ""),
        checkpoints=checkpoints,
        eval_data=eval_data,
        metric=metric,
        enabled=enabled,
        base_model=base_model,
        concurrency=concurrency,
        requests_per_minute=requests_per_minute,
        temperature=temperature,
        max_output_tokens=max_output_tokens,
        baseline=baseline,
        judge_rubric=judge_rubric,
    )
    best_endpoint.uri = resource_uri(choice.endpoint, location)
    best_endpoint.metadata["resourceName"] = choice.endpoint
    best_endpoint.metadata["checkpointId"] = choice.checkpoint_id
    for scored in choice.scores:
        metrics.log_metric(f"checkpoint_{scored.checkpoint_id}_{metric}", scored.score)
    with open(report.path, "w", encoding="utf-8") as f:
        f.write(choice.report(simulated=bool(vertex_emulator_url())))
    print(choice.reason)
    outputs = namedtuple("Outputs", ["checkpoint_id", "score"])
    return outputs(choice.checkpoint_id, choice.score)
