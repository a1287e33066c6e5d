"""KFP component ``get_champion`` (thin: the logic is in ``executor.py``)."""

from typing import NamedTuple

from google_cloud_pipeline_components.types.artifact_types import VertexModel
from kfp.dsl import Output

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def get_champion(
    project: str,
    location: str,
    champion: Output[VertexModel],
    model_name: str = "",
    alias: str = defaults.CHAMPION_ALIAS,
    lineage: str = "",
    tuned_model_display_name: str = "",
    fallback_baseline: str = "",
    baseline_needed_by: str = "",
) -> NamedTuple(
    "Outputs",
    [
        ("model", str),
        ("endpoint", str),
        ("base_model", str),
        ("found", bool),
        ("lineage", str),
        ("baseline", str),
    ],
):
    """The version holding ``alias``: of ``model_name`` (resource name, id or display
    name) when given, else the one champion of the lineage, across models and versions.

    The lineage is ``lineage``, else one derived from ``tuned_model_display_name``, else
    ``gemini-sft``; output ``lineage`` is the champion's own lineage label when it has one
    (label every new model with it). For continuous tuning (``pre_tuned_model``) and as
    the evaluation baseline: ``baseline`` is the champion's endpoint, else
    ``fallback_baseline`` (e.g. the base model). No holder is ``found=False`` with empty
    strings, never a failure: a first run has no champion, unless ``baseline_needed_by``
    names a setting that compares with one (``check_run_inputs``' output, e.g.
    ``eval_judge_metrics=win_rate``) and there is no baseline: then the run fails here,
    before anything is tuned. ``champion`` carries
    ``metadata["resourceName"]`` (``""`` when not found) and ``metadata["found"]``.
    """
    from collections import namedtuple

    import orjson
    from gemini_sft_kfp.components.get_champion.executor import require_baseline
    from gemini_sft_kfp.components.get_champion.executor import run as resolve

    from gemini_sft_kfp.core.lineage import lineage_of
    from gemini_sft_kfp.core.registry import Registry, artifact_metadata

    result = resolve(
        Registry(project, location),
        model_name,
        alias,
        lineage=lineage_of(lineage, tuned_model_display_name),
    )
    print(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
    baseline = result.baseline(fallback_baseline)
    require_baseline(baseline, baseline_needed_by, alias=alias, lineage=result.lineage)
    if result.version is not None:
        champion.uri, metadata = artifact_metadata(result.version, location)
        champion.metadata.update(metadata)
    else:
        champion.metadata["resourceName"] = ""
    champion.metadata.update(
        {"found": result.found, "endpoint": result.endpoint, "baseModel": result.base_model}
    )
    champion.metadata["lineage"] = result.lineage
    outputs = namedtuple(
        "Outputs", ["model", "endpoint", "base_model", "found", "lineage", "baseline"]
    )
    return outputs(
        result.model,
        result.endpoint,
        result.base_model,
        result.found,
        result.lineage,
        baseline,
    )
