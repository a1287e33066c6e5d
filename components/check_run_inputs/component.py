"""KFP component ``check_run_inputs`` (thin: the logic is in ``executor.py``).

Its inputs are every checked pipeline parameter, as ``pipelines/parameters.py``
declares them (name, type, default), plus the pipeline job id: the signature is
generated from that table, so a new parameter reaches the check without an edit here.
"""

import inspect
from typing import NamedTuple

from gemini_sft_kfp.pipelines.parameters import checked_parameters, signature
from kfp import dsl

from gemini_sft_kfp.runtime.image import sft_component


class Outputs(NamedTuple):
    eval_staging_uri: str
    eval_judge_metrics: str
    baseline_needed_by: str


def check_run_inputs(**arguments) -> Outputs:
    """Fail the run before anything is created or billed when a parameter or data input
    is one Vertex AI (or a later step) would refuse: the eval file is read and parsed,
    thresholds are finite and on the metrics' 0..1 scale, location, project, bucket,
    labels, lineage, aliases, model, hyperparameters, the tuning-time evaluation config
    and the evaluation's method and judge metrics follow the service's rules.

    The first task of every pipeline, so a compiled YAML submitted by any tool gets the
    same check ``gemini-sft run`` / ``submit`` / ``schedule`` make before they start.
    Outputs the evaluation settings as the later steps take them: ``eval_staging_uri``
    (given, else ``gs://BUCKET/gemini-sft/eval/<pipeline_job_id>``),
    ``eval_judge_metrics`` (comma-separated) and ``baseline_needed_by`` (the setting
    that compares with a baseline, e.g. ``eval_judge_metrics=win_rate``; ``""``: none):
    ``get_champion`` fails on it, before tuning, when there is nothing to compare with.
    """
    from gemini_sft_kfp.components.check_run_inputs.executor import run

    return Outputs(*run(**arguments))


_parameters = list(checked_parameters())
check_run_inputs.__signature__ = signature(_parameters).replace(
    parameters=[
        *signature(_parameters).parameters.values(),
        inspect.Parameter(
            "pipeline_job_id",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            annotation=str,
        ),
    ],
    return_annotation=Outputs,
)
check_run_inputs = sft_component(check_run_inputs)
