"""KFP component ``get_champion`` (thin: the logic is in ``executor.py``)."""

from typing import NamedTuple

from google_cloud_pipeline_components.types.artifact_types import VertexModel
from kfp.dsl import Output

from gemini_sft_kfp.core.image import sft_component


@sft_component
def get_champion(
    project: str,
    location: str,
    model_name: str,
    champion: Output[VertexModel],
    alias: str = "champion",
) -> NamedTuple(
    "Outputs", [("model", str), ("endpoint", str), ("base_model", str), ("found", bool)]
):
    """The version of ``model_name`` (resource name, id or display name) holding ``alias``.

    For continuous tuning (``pre_tuned_model``) and as the evaluation baseline. No such
    model or no holder is ``found=False`` with empty strings (branch on it with
    ``dsl.If``), never a failure: a first run has no champion. ``champion`` carries
    ``metadata["resourceName"]`` (``""`` when not found) and ``metadata["found"]``.
    """
    from collections import namedtuple

    import orjson
    from gemini_sft_kfp.components.get_champion.executor import run as resolve

    from gemini_sft_kfp.core.registry import Registry, artifact_metadata

    result = resolve(Registry(project, location), model_name, alias)
    print(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
    if result.version is not None:
        champion.uri, metadata = artifact_metadata(result.version, location)
        champion.metadata.update(metadata)
    else:
        champion.metadata["resourceName"] = ""
    champion.metadata.update(
        {"found": result.found, "endpoint": result.endpoint, "baseModel": result.base_model}
    )
    outputs = namedtuple("Outputs", ["model", "endpoint", "base_model", "found"])
    return outputs(result.model, result.endpoint, result.base_model, result.found)
