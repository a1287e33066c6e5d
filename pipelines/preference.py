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
from gemini_sft_kfp.pipelines.steps import PREFERENCE_TUNING, tuning_run
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
    tuning_run(
        parameters,
        name="preference-tuning",
        method=PREFERENCE_TUNING,
        from_champion=True,
        fallback_baseline=parameters["base_model"],
    )
