"""The Gemini supervised fine-tuning pipeline: validate, upload, tune, evaluate, keep or
delete (the steps: ``steps.py``).

The job tunes ``base_model``; the tuned model must beat the lineage's champion when it
has one, else the base model.
"""

# No "from __future__ import annotations": KFP reads the parameter types at runtime.
from gemini_sft_kfp.pipelines.parameters import SFT, with_parameters
from gemini_sft_kfp.pipelines.steps import SUPERVISED, tuning_run
from kfp import dsl

PIPELINE_NAME = "gemini-sft"


@dsl.pipeline(
    name=PIPELINE_NAME,
    description=(
        "Gemini supervised fine-tuning on Vertex AI: validate and upload the data, tune, "
        "evaluate the tuned model against its base model, then register it under an alias "
        "when it passes the quality gate or delete it when it does not."
    ),
)
@with_parameters(SFT)
def sft_pipeline(parameters: dict) -> None:
    """Tune ``base_model`` on ``training_data`` and keep the result only if it is better
    than the lineage's champion (when it has one) or else the base model.

    The parameters are declared in ``pipelines/parameters.py``.
    """
    tuning_run(
        parameters,
        name="sft",
        method=SUPERVISED,
        from_champion=False,
        fallback_baseline=parameters["base_model"],
    )
