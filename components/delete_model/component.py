"""KFP component ``delete_model`` (thin: the logic and its policy are in ``executor.py``)."""

from google_cloud_pipeline_components.types.artifact_types import VertexModel
from kfp.dsl import Input

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def delete_model(
    project: str,
    location: str,
    model: Input[VertexModel] = None,
    model_name: str = "",
    whole_model: bool = False,
    force: bool = False,
    protected_aliases: list = [defaults.CHAMPION_ALIAS],  # noqa: B006 - never mutated
) -> bool:
    """Delete a tuned model version (``ID@VERSION``) or, with ``whole_model``, the model.

    ``model`` (its ``metadata["resourceName"]``) or ``model_name`` (resource name,
    ``ID[@VERSION]`` or display name) says what. Already gone: success. A version holding
    one of ``protected_aliases`` is refused unless ``force``. The tuned model's own
    endpoints are undeployed and deleted with it; on any other endpoint it is refused
    unless ``force`` (then undeployed there, the endpoint kept). Returns True.
    """
    import orjson
    from gemini_sft_kfp.components.delete_model.executor import run as delete

    from gemini_sft_kfp.core.errors import UserError
    from gemini_sft_kfp.core.registry import Registry, name_from_artifact

    if model_name:
        target = model_name
    elif model is not None:
        target = name_from_artifact(model.metadata, model.uri)
    else:
        raise UserError("give the model to delete: model (artifact) or model_name")
    result = delete(
        Registry(project, location),
        target,
        whole_model=whole_model,
        force=force,
        protected_aliases=list(protected_aliases),
    )
    print(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
    return result.deleted
