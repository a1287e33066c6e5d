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
from gemini_sft_kfp.pipelines.sft import (
    champion_of_lineage,
    check_inputs,
    finalized,
    tune_evaluate_and_gate,
    validate_and_upload,
)
from kfp import dsl

from gemini_sft_kfp.core.project import DEFAULT_LOCATION

PIPELINE_NAME = "gemini-continuous-tuning"


@dsl.pipeline(
    name=PIPELINE_NAME,
    description=(
        "Continuous tuning of a Gemini model: tune the current champion (preTunedModel) on "
        "new data, evaluate against the champion, promote the new version or discard it."
    ),
)
def continuous_tuning_pipeline(
    project: str,
    training_data: str,
    eval_data: str,
    bucket: str,
    champion_model: str = "",
    location: str = DEFAULT_LOCATION,
    champion_alias: str = "champion",
    checkpoint_id: str = "",
    base_model: str = "gemini-3.5-flash",
    validation_data: str = "",
    validation_split: float = 0.0,
    dataset_prefix: str = "gemini-sft/datasets",
    epochs: int = 0,
    adapter_size: str = "",
    learning_rate_multiplier: float = 0.0,
    export_last_checkpoint_only: bool = False,
    tuned_model_display_name: str = "",
    description: str = "",
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
    eval_method: str = "online",
    eval_judge_metrics: list = [],  # noqa: B006
    eval_judge_rubric: str = "",
    eval_staging_uri: str = "",
    model_aliases: list = ["champion"],  # noqa: B006
    keep_on_fail: bool = False,
    cancel_on_failure: bool = True,
    lineage: str = "",
    evaluation_config: dict = {},  # noqa: B006
    select_best_checkpoint: bool = True,
    quota_timeout_seconds: float = 21600.0,
) -> None:
    """Tune the model holding ``champion_alias`` on new data; promote only if it beats it.

    Args:
        project: Google Cloud project of the tuning job, bucket and models.
        champion_model: The registered model (resource name or display name) whose
            ``champion_alias`` version is tuned further. Empty: the lineage's champion.
        training_data: New training JSONL (gs://, https, or a local path for local runs).
        eval_data: Held-out Gemini-format JSONL scored against the new version and champion.
        bucket: Cloud Storage bucket (name or gs://name) for the uploaded datasets.
        location: Vertex AI region.
        champion_alias: The version alias that marks the model in service.
        checkpoint_id: Champion checkpoint to start from (empty: its default checkpoint).
        base_model: The champion's base model (its family's limits and adapter sizes),
            and the model tuned when no champion exists yet (first run).
        model_aliases: Aliases moved to the new version when it passes (include
            ``champion_alias`` so the next run starts from it).
        validation_data: Optional validation JSONL (<= 5,000 examples).
        validation_split: Without validation_data, hold out this fraction of training data.
        dataset_prefix: Object prefix of the uploaded (content-addressed) datasets.
        epochs: Epochs; 0 lets the service choose from the dataset size.
        adapter_size: 1, 2, 4, 8, 16 (or ADAPTER_SIZE_*); empty for the service default.
        learning_rate_multiplier: 0 for the service default (1.0).
        export_last_checkpoint_only: Keep only the last checkpoint of the tuned model.
        tuned_model_display_name: Display name of the tuned model.
        description: Description of the tuning job and the registered model.
        labels: Labels of the tuning job and the registered model.
        kms_key_name: Customer-managed encryption key (CMEK) of the tuning job.
        service_account: Service account the tuning job runs as.
        poll_initial_seconds: First polling interval of the wait.
        poll_max_seconds: Longest polling interval of the wait.
        tuning_timeout_seconds: Give up (and cancel the job) after this long.
        eval_metric: Gate metric: exact_match, rouge_l, bleu, chrf, accuracy, macro_f1, or
            a judge metric (judge_fluency, judge_groundedness, judge_rubric,
            judge_win_rate; computed even when not in eval_judge_metrics).
        eval_threshold: The tuned model's score must reach this (0 = no absolute bar).
        eval_min_improvement: The new version must beat the champion by this much
            (0: at least as good; negative tolerates a drop).
        eval_gate: How the two checks combine: all, any, threshold, improvement.
        eval_temperature: Sampling temperature of the evaluation requests.
        eval_max_output_tokens: Output token cap of the evaluation requests.
        eval_concurrency: Evaluation requests in flight.
        eval_requests_per_minute: Client-side rate limit of evaluation (0 = none).
        eval_method: online (concurrent calls), batch (one Vertex AI batch prediction
            job per model evaluated, files under eval_staging_uri), or auto (batch from
            5,000 examples). Checkpoint selection always scores online.
        eval_judge_metrics: Model-based metrics from the Gen AI evaluation service,
            reported beside the computed ones (0..1, ``judge_<name>``): fluency,
            groundedness, rubric (needs eval_judge_rubric), win_rate (pairwise against
            the champion: like gate "improvement", it needs one, so a first run without
            a champion fails at evaluation). Against the emulator the judge is a
            labelled simulation.
        eval_judge_rubric: Criteria of the ``rubric`` judge metric, in plain words.
        eval_staging_uri: gs:// prefix for batch evaluation's request and result files;
            empty: ``gs://<bucket>/gemini-sft/eval/<pipeline job id>``.
        keep_on_fail: Keep the tuned model when it fails the gate (default: delete it).
        cancel_on_failure: When the pipeline fails, cancel its still-running tuning job.
        lineage: The task the models belong to (label ``lineage``; one champion per
            lineage). Empty: the champion's own lineage, else one derived from
            tuned_model_display_name, else ``gemini-sft``.
        evaluation_config: Tuning-time evaluation of each checkpoint by the Gen AI
            evaluation service (REST ``evaluationConfig``: metrics, outputConfig,
            autoraterConfig); empty: none. Its runs appear in the wait's metrics/report.
        select_best_checkpoint: Score every checkpoint on eval_data with eval_metric and
            make the best the model's default checkpoint before the gate decides (a
            judge eval_metric is computed for each checkpoint; judge_win_rate compares
            each with the gate's baseline).
        quota_timeout_seconds: How long the launch waits out quota refusals (429: another
            tuning job holds the project's concurrent slot) before failing; 0: no wait.
    """
    parameters = dict(locals())  # every parameter above, by name: passed on from here
    with finalized(parameters, name="continuous-tuning"):
        checked = check_inputs(parameters)
        champion = champion_of_lineage(
            parameters, checked=checked, model_name=champion_model, fallback_baseline=""
        )
        upload_train, upload_validation = validate_and_upload(parameters, checked=checked)
        tune_evaluate_and_gate(
            parameters,
            checked=checked,
            upload_train=upload_train,
            upload_validation=upload_validation,
            champion=champion,
            pre_tuned_model=champion.outputs["model"],
            checkpoint_id=checkpoint_id,
            baseline=champion.outputs["endpoint"],
        )
