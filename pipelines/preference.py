"""Preference tuning (DPO) after supervised tuning: teach the champion which answers
people prefer.

::

    finalize_run (exit handler)
    └── check inputs -> get_champion (of the lineage) + validate (preference data)
        -> upload -> launch (preferenceOptimizationSpec; preTunedModel = the champion,
           else the base model) -> wait
        -> evaluate (the new model against the model it started from: a pairwise judge
           win rate, with preference_accuracy, the judge-free check, beside it)
           ├── passed: register (the alias moves to the new version)
           └── else:   delete the new version (unless keep_on_fail)

Google's advice is to tune with supervised data first and then continue from that
model with preference data: with a champion in the lineage (``gemini-sft run`` made
one) the job continues it; without one it tunes ``base_model``. Exact match says
nothing about a preference, so the gate's default metric is ``judge_win_rate``.
"""

# No "from __future__ import annotations": KFP reads the parameter types at runtime.
from gemini_sft_kfp.pipelines.parameters import PREFERENCE, with_parameters
from gemini_sft_kfp.pipelines.sft import (
    PREFERENCE_TUNING,
    champion_of_lineage,
    check_inputs,
    finalized,
    tune_evaluate_and_gate,
    validate_and_upload,
)
from kfp import dsl

PIPELINE_NAME = "gemini-preference-tuning"


@dsl.pipeline(
    name=PIPELINE_NAME,
    description=(
        "Preference tuning of a Gemini model after supervised tuning: continue the "
        "lineage's champion (else the base model) on preferred/dispreferred answers, "
        "judge the new model against the model it started from, promote or discard it."
    ),
)
@with_parameters(PREFERENCE)
def preference_pipeline(parameters: dict) -> None:
    """Tune the champion (else ``base_model``) on preference data; promote it only if
    it beats the model it started from.

    The parameters are declared in ``pipelines/parameters.py``.
    """
    with finalized(parameters, name="preference-tuning"):
        checked = check_inputs(parameters)
        champion = champion_of_lineage(
            parameters,
            checked=checked,
            model_name=parameters["champion_model"],
            fallback_baseline=parameters["base_model"],
        )
        upload_train, upload_validation = validate_and_upload(
            parameters, checked=checked, method=PREFERENCE_TUNING
        )
        tune_evaluate_and_gate(
            parameters,
            checked=checked,
            upload_train=upload_train,
            upload_validation=upload_validation,
            champion=champion,
            pre_tuned_model=champion.outputs["model"],
            checkpoint_id=parameters["checkpoint_id"],
            baseline=champion.outputs["baseline"],
            method=PREFERENCE_TUNING,
        )
