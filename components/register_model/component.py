"""KFP component ``register_model`` (thin: the logic is in ``executor.py``)."""

from google_cloud_pipeline_components.types.artifact_types import VertexModel
from kfp import dsl
from kfp.dsl import Dataset, Input, Output

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def register_model(
    project: str,
    location: str,
    model: Input[VertexModel],
    registered_model: Output[VertexModel],
    aliases: list = [defaults.CHAMPION_ALIAS],  # noqa: B006 - never mutated
    labels: dict = {},  # noqa: B006
    description: str = "",
    training_dataset: Input[Dataset] = None,
    base_model: str = "",
    gate_metric: str = "",
    gate_score: float = -1.0,
    lineage: str = "",
    pipeline_run: str = dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
) -> str:
    """Promote a tuned model version in the Vertex AI Model Registry.

    Adds ``aliases`` (moving each off the version that held it, so exactly one version
    holds it) and sets labels: ``base_model``, ``dataset_sha256`` (of
    ``training_dataset``, from upload_dataset), ``gate_metric``/``gate_score`` (a
    negative score: none), ``pipeline_run``, the pipeline run's
    ``VERTEX_AI_PIPELINES_RUN_LABELS``, then ``labels`` (all sanitised as GCP labels).
    ``description`` (default: a summary of the same facts) becomes the version
    description. ``lineage`` (see ``get_champion``) becomes the ``lineage`` label, and each
    alias leaves every other model of that lineage too: one champion per lineage.
    Idempotent: a rerun changes nothing. Returns the full resource name
    ``.../models/ID@VERSION``, also in ``registered_model.metadata["resourceName"]``.
    """
    import orjson
    from gemini_sft_kfp.components.register_model.executor import provenance_from_artifacts
    from gemini_sft_kfp.components.register_model.executor import run as promote_version

    from gemini_sft_kfp.core.registry import Registry, artifact_metadata, name_from_artifact

    provenance = provenance_from_artifacts(
        model.metadata,
        training_dataset.uri if training_dataset is not None else "",
        training_dataset.metadata if training_dataset is not None else None,
        base_model=base_model,
        gate_metric=gate_metric,
        gate_score=gate_score,
        pipeline_run=pipeline_run,
    )
    result = promote_version(
        Registry(project, location),
        name_from_artifact(model.metadata, model.uri),
        aliases=list(aliases),
        labels=dict(labels),
        description=description,
        provenance=provenance,
        lineage=lineage,
    )
    print(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
    registered_model.uri, metadata = artifact_metadata(result.version, location)
    registered_model.metadata.update(metadata)
    return result.version.resource_name
