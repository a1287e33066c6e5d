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
from gemini_sft_kfp.pipelines.steps import SUPERVISED, tuning_run
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
    tuning_run(
        parameters,
        name="continuous-tuning",
        method=SUPERVISED,
        from_champion=True,
        fallback_baseline="",
    )
