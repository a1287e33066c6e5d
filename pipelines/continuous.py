"""Continuous tuning (scheduled retraining): tune the current champion further on new data.

::

    finalize_run (exit handler)
    └── get_champion -> validate -> upload -> launch (preTunedModel = champion) -> wait
        -> evaluate (new version vs the champion's endpoint)
           ├── passed: register (the alias moves to the new version)
           └── else:   delete the new version (unless keep_on_fail); the champion stays

Without a champion yet (first run), the job tunes ``base_model`` and the gate is the
absolute threshold only, so one schedule can bootstrap itself. Without
``champion_model`` the champion is the lineage's (see ``sft_pipeline``'s ``lineage``).
"""

# No "from __future__ import annotations": KFP reads the parameter types at runtime.
from gemini_sft_kfp.pipelines.parameters import CONTINUOUS, with_parameters
from gemini_sft_kfp.pipelines.sft import (
    champion_of_lineage,
    check_inputs,
    finalized,
    tune_evaluate_and_gate,
    validate_and_upload,
)
from kfp import dsl

PIPELINE_NAME = "gemini-continuous-tuning"


@dsl.pipeline(
    name=PIPELINE_NAME,
    description=(
        "Continuous tuning of a Gemini model: tune the current champion (preTunedModel) on "
        "new data, evaluate against the champion, promote the new version or discard it."
    ),
)
@with_parameters(CONTINUOUS)
def continuous_tuning_pipeline(parameters: dict) -> None:
    """Tune the model holding ``champion_alias`` on new data; promote only if it beats it.

    The parameters are declared in ``pipelines/parameters.py``.
    """
    with finalized(parameters, name="continuous-tuning"):
        checked = check_inputs(parameters)
        champion = champion_of_lineage(
            parameters,
            checked=checked,
            model_name=parameters["champion_model"],
            fallback_baseline="",
        )
        upload_train, upload_validation = validate_and_upload(parameters, checked=checked)
        tune_evaluate_and_gate(
            parameters,
            checked=checked,
            upload_train=upload_train,
            upload_validation=upload_validation,
            champion=champion,
            pre_tuned_model=champion.outputs["model"],
            checkpoint_id=parameters["checkpoint_id"],
            baseline=champion.outputs["endpoint"],
        )
