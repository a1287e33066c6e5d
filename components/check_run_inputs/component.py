"""KFP component ``check_run_inputs`` (thin: the logic is in ``executor.py``)."""

from typing import NamedTuple

from kfp import dsl

from gemini_sft_kfp.core.image import sft_component


@sft_component
def check_run_inputs(
    project: str,
    location: str,
    training_data: str,
    eval_data: str,
    bucket: str,
    validation_data: str = "",
    validation_split: float = 0.0,
    base_model: str = "gemini-2.5-flash",
    champion_model: str = "",
    epochs: int = 0,
    adapter_size: str = "",
    learning_rate_multiplier: float = 0.0,
    tuned_model_display_name: str = "",
    labels: dict = {},  # noqa: B006 (KFP reads the default; it is never mutated)
    kms_key_name: str = "",
    service_account: str = "",
    poll_initial_seconds: float = 10.0,
    poll_max_seconds: float = 60.0,
    tuning_timeout_seconds: float = 172800.0,
    eval_metric: str = "exact_match",
    eval_threshold: float = 0.0,
    eval_min_improvement: float = 0.0,
    eval_gate: str = "all",
    eval_temperature: float = 0.0,
    eval_max_output_tokens: int = 256,
    eval_concurrency: int = 8,
    eval_requests_per_minute: int = 0,
    model_aliases: list = ["champion"],  # noqa: B006
    lineage: str = "",
    evaluation_config: dict = {},  # noqa: B006
    eval_method: str = "online",
    eval_judge_metrics: list = [],  # noqa: B006
    eval_judge_rubric: str = "",
    eval_staging_uri: str = "",
    pipeline_job_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
) -> NamedTuple(
    "Outputs",
    [("eval_staging_uri", str), ("eval_judge_metrics", str), ("baseline_needed_by", str)],
):
    """Fail the run before anything is created or billed when a parameter or data input
    is one Vertex AI (or a later step) would refuse: the eval file is read and parsed,
    thresholds are finite and on the metrics' 0..1 scale, location, project, bucket,
    labels, lineage, aliases, model, hyperparameters, the tuning-time evaluation config
    and the evaluation's method and judge metrics follow the service's rules.

    The first task of both pipelines, so a compiled YAML submitted by any tool gets the
    same check ``gemini-sft run`` / ``submit`` / ``schedule`` make before they start.
    Outputs the evaluation settings as the later steps take them: ``eval_staging_uri``
    (given, else ``gs://BUCKET/gemini-sft/eval/<pipeline_job_id>``),
    ``eval_judge_metrics`` (comma-separated) and ``baseline_needed_by`` (the setting
    that compares with a baseline, e.g. ``eval_judge_metrics=win_rate``; ``""``: none):
    ``get_champion`` fails on it, before tuning, when there is nothing to compare with.
    """
    from collections import namedtuple

    from gemini_sft_kfp.components.check_run_inputs.executor import run

    outputs = namedtuple(
        "Outputs", ["eval_staging_uri", "eval_judge_metrics", "baseline_needed_by"]
    )
    return outputs(*run(**{k: v for k, v in locals().items() if k != "run"}))
