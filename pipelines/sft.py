"""The Gemini supervised fine-tuning pipeline: validate, upload, tune, evaluate, keep or delete.

::

    finalize_run (exit handler: cancels a still-running tuning job, reports a failure)
    └── check inputs -> get_champion (of the lineage) + validate -> upload train + validation
        -> launch -> wait -> evaluate (tuned vs the lineage's champion, else the base model)
        ├── gate passed: register (aliases, e.g. champion; one champion per lineage)
        └── else:        delete (unless keep_on_fail)

Caching is off for every task: a cached "launch" would skip a job the user asked for,
a cached "register" would skip an alias move, and validation and upload are cheap
(the upload is content-addressed: an unchanged dataset is not sent again). Project
and location are explicit parameters, since the KFP local runner does not resolve
``{{$.pipeline_google_cloud_project_id}}``.
"""

# No "from __future__ import annotations": KFP reads the parameter types at runtime.
from gemini_sft_kfp.components import (
    check_run_inputs,
    delete_model,
    evaluate_model,
    finalize_run,
    get_champion,
    launch_tuning_job,
    register_model,
    select_checkpoint,
    upload_dataset,
    validate_dataset,
    wait_for_tuning_job,
)
from kfp import dsl

from gemini_sft_kfp.core.project import DEFAULT_LOCATION

PIPELINE_NAME = "gemini-sft"
RUN_KEY = dsl.PIPELINE_JOB_ID_PLACEHOLDER
"""Shared by launch (its idempotency label) and the exit handler (to find the job)."""


def champion_of_lineage(
    *,
    project: str,
    location: str,
    model_name: str,
    alias: str,
    lineage: str,
    tuned_model_display_name: str,
    fallback_baseline: str,
) -> dsl.PipelineTask:
    """Add ``get_champion`` (the lineage's champion, or ``model_name``'s) to the caller's DAG."""
    task = get_champion(
        project=project,
        location=location,
        model_name=model_name,
        alias=alias,
        lineage=lineage,
        tuned_model_display_name=tuned_model_display_name,
        fallback_baseline=fallback_baseline,
    )
    return no_cache(task, "get-champion")


def no_cache(task: dsl.PipelineTask, display_name: str) -> dsl.PipelineTask:
    """Name a task for the Vertex UI and turn its cache off (cloud side effects)."""
    return task.set_display_name(display_name).set_caching_options(False)


def validate_and_upload(
    *,
    project: str,
    training_data: str,
    validation_data: str,
    base_model: str,
    epochs: int,
    validation_split: float,
    bucket: str,
    dataset_prefix: str,
    checked: dsl.PipelineTask,
) -> tuple[dsl.PipelineTask, dsl.PipelineTask]:
    """Add validate -> upload (train, validation) to the calling pipeline, after ``checked``
    (the ``check_run_inputs`` task); return the uploads.

    A plain function, not a sub-pipeline: the tasks land in the caller's DAG, so both
    pipelines share this step without a nested graph in the compiled YAML.
    """
    validate = no_cache(
        validate_dataset(
            training_data=training_data,
            validation_data=validation_data,
            model=base_model,
            epochs=epochs,
            validation_split=validation_split,
        ).after(checked),
        "validate-dataset",
    )
    uploads = []
    for split, file_name, display_name in (
        ("train", "train.jsonl", "upload-training-data"),
        ("validation", "validation.jsonl", "upload-validation-data"),
    ):
        upload = upload_dataset(
            project=project,
            dataset=validate.outputs[split],
            bucket=bucket,
            prefix=dataset_prefix,
            file_name=file_name,
        )
        uploads.append(no_cache(upload, display_name))
    return uploads[0], uploads[1]


def check_inputs(**parameters) -> dsl.PipelineTask:
    """The first task: ``check_run_inputs`` on the pipeline's parameters (the same check
    ``gemini-sft run/submit/schedule`` make first), so nothing starts on bad input."""
    return no_cache(check_run_inputs(**parameters), "check-run-inputs")


def tune_evaluate_and_gate(
    *,
    project: str,
    location: str,
    training_dataset_uri: str,
    validation_dataset_uri: str,
    training_dataset: dsl.Artifact,
    base_model: str,
    pre_tuned_model: str,
    checkpoint_id: str,
    baseline: str,
    eval_data: str,
    epochs: int,
    adapter_size: str,
    learning_rate_multiplier: float,
    export_last_checkpoint_only: bool,
    tuned_model_display_name: str,
    description: str,
    labels: dict,
    kms_key_name: str,
    service_account: str,
    poll_initial_seconds: float,
    poll_max_seconds: float,
    tuning_timeout_seconds: float,
    eval_metric: str,
    eval_threshold: float,
    eval_min_improvement: float,
    eval_gate: str,
    eval_temperature: float,
    eval_max_output_tokens: int,
    eval_concurrency: int,
    eval_requests_per_minute: int,
    model_aliases: list,
    keep_on_fail: bool,
    lineage: str,
    evaluation_config: dict,
    select_best_checkpoint: bool,
    quota_timeout_seconds: float,
) -> None:
    """launch -> wait -> evaluate -> register if the gate passed, else delete: both pipelines.

    ``lineage`` (``get_champion``'s resolved output) labels the tuned model as soon as it
    exists, and scopes the promotion: one champion per lineage.
    """
    launch = no_cache(
        launch_tuning_job(
            project=project,
            location=location,
            training_dataset_uri=training_dataset_uri,
            validation_dataset_uri=validation_dataset_uri,
            base_model=base_model,
            pre_tuned_model=pre_tuned_model,
            checkpoint_id=checkpoint_id,
            epochs=epochs,
            adapter_size=adapter_size,
            learning_rate_multiplier=learning_rate_multiplier,
            export_last_checkpoint_only=export_last_checkpoint_only,
            tuned_model_display_name=tuned_model_display_name,
            description=description,
            labels=labels,
            kms_key_name=kms_key_name,
            service_account=service_account,
            evaluation_config=evaluation_config,
            quota_timeout_seconds=quota_timeout_seconds,
            idempotency_key=RUN_KEY,
        ),
        "launch-tuning-job",
    )
    wait = no_cache(
        wait_for_tuning_job(
            project=project,
            location=location,
            tuning_job=launch.outputs["Output"],
            poll_initial_seconds=poll_initial_seconds,
            poll_max_seconds=poll_max_seconds,
            timeout_seconds=tuning_timeout_seconds,
            lineage=lineage,
        ),
        "wait-for-tuning-job",
    )
    best = no_cache(
        select_checkpoint(
            project=project,
            location=location,
            model=wait.outputs["model"],
            endpoint=wait.outputs["endpoint"],
            checkpoints=wait.outputs["checkpoints"],
            eval_data=eval_data,
            metric=eval_metric,
            enabled=select_best_checkpoint,
            base_model=wait.outputs["base_model"],
            temperature=eval_temperature,
            max_output_tokens=eval_max_output_tokens,
            concurrency=eval_concurrency,
            requests_per_minute=eval_requests_per_minute,
        ),
        "select-checkpoint",
    )
    evaluate = no_cache(
        evaluate_model(
            project=project,
            location=location,
            eval_data=eval_data,
            tuned_endpoint=best.outputs["best_endpoint"],
            baseline=baseline,
            metric=eval_metric,
            threshold=eval_threshold,
            min_improvement=eval_min_improvement,
            temperature=eval_temperature,
            max_output_tokens=eval_max_output_tokens,
            concurrency=eval_concurrency,
            requests_per_minute=eval_requests_per_minute,
            base_model=wait.outputs["base_model"],
            gate=eval_gate,
        ),
        "evaluate-model",
    )
    with dsl.If(evaluate.outputs["passed"] == True, name="gate-passed"):  # noqa: E712
        no_cache(
            register_model(
                project=project,
                location=location,
                model=wait.outputs["model"],
                aliases=model_aliases,
                labels=labels,
                description=description,
                training_dataset=training_dataset,
                base_model=wait.outputs["base_model"],
                gate_metric=eval_metric,
                gate_score=evaluate.outputs["score"],
                lineage=lineage,
            ),
            "register-model",
        )
    with dsl.Elif(keep_on_fail == False, name="gate-failed"):  # noqa: E712
        no_cache(
            delete_model(
                project=project,
                location=location,
                model=wait.outputs["model"],
                whole_model=False,
                force=False,
            ),
            "delete-model",
        )


@dsl.pipeline(
    name=PIPELINE_NAME,
    description=(
        "Gemini supervised fine-tuning on Vertex AI: validate and upload the data, tune, "
        "evaluate the tuned model against its base model, then register it under an alias "
        "when it passes the quality gate or delete it when it does not."
    ),
)
def sft_pipeline(
    project: str,
    training_data: str,
    eval_data: str,
    bucket: str,
    location: str = DEFAULT_LOCATION,
    validation_data: str = "",
    validation_split: float = 0.0,
    dataset_prefix: str = "gemini-sft/datasets",
    base_model: str = "gemini-3.5-flash",
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
    model_aliases: list = ["champion"],  # noqa: B006
    keep_on_fail: bool = False,
    cancel_on_failure: bool = True,
    lineage: str = "",
    champion_alias: str = "champion",
    evaluation_config: dict = {},  # noqa: B006
    select_best_checkpoint: bool = True,
    quota_timeout_seconds: float = 21600.0,
) -> None:
    """Tune ``base_model`` on ``training_data`` and keep the result only if it is better
    than the lineage's champion (when it has one) or else the base model.

    Args:
        project: Google Cloud project of the tuning job, bucket and models.
        training_data: Training JSONL: gs:// URI, https URL, or a local path (local runs).
            Legacy formats (OpenAI chat, PaLM, Gemini 1.0, Gemini API) are converted.
        eval_data: Held-out Gemini-format JSONL scored against both models (gs:// or local).
        bucket: Cloud Storage bucket (name or gs://name) for the uploaded datasets.
        location: Vertex AI region of the tuning job.
        validation_data: Optional validation JSONL (<= 5,000 examples).
        validation_split: Without validation_data, hold out this fraction of training data.
        dataset_prefix: Object prefix of the uploaded (content-addressed) datasets.
        base_model: Gemini model to tune (default: the current recommendation, gemini-3.5-flash).
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
        eval_metric: Gate metric: exact_match, rouge_l, bleu, chrf, accuracy, macro_f1.
        eval_threshold: The tuned model's score must reach this (0 = no absolute bar).
        eval_min_improvement: The tuned model must beat the base model by this much
            (0: at least as good; negative tolerates a drop).
        eval_gate: How the two checks combine: all, any, threshold, improvement.
        eval_temperature: Sampling temperature of the evaluation requests.
        eval_max_output_tokens: Output token cap of the evaluation requests.
        eval_concurrency: Evaluation requests in flight.
        eval_requests_per_minute: Client-side rate limit of evaluation (0 = none).
        model_aliases: Version aliases moved to the tuned model when it passes.
        keep_on_fail: Keep the tuned model when it fails the gate (default: delete it).
        cancel_on_failure: When the pipeline fails, cancel its still-running tuning job.
        lineage: The task this model belongs to (label ``lineage`` on every model made;
            one champion per lineage). Empty: derived from tuned_model_display_name,
            else ``gemini-sft``.
        champion_alias: The alias of the lineage's champion, the baseline to beat.
        evaluation_config: Tuning-time evaluation of each checkpoint by the Gen AI
            evaluation service (REST ``evaluationConfig``: metrics, outputConfig,
            autoraterConfig); empty: none. Its runs appear in the wait's metrics/report.
        select_best_checkpoint: Score every checkpoint on eval_data with eval_metric and
            make the best the model's default checkpoint before the gate decides.
        quota_timeout_seconds: How long the launch waits out quota refusals (429: another
            tuning job holds the project's concurrent slot) before failing; 0: no wait.
    """
    finalize = finalize_run(
        project=project,
        location=location,
        run_key=RUN_KEY,
        cancel_running_jobs=cancel_on_failure,
        keep_on_fail=keep_on_fail,
    )
    no_cache(finalize, "finalize-run")
    with dsl.ExitHandler(finalize, name="sft"):
        checked = check_inputs(
            project=project,
            location=location,
            training_data=training_data,
            eval_data=eval_data,
            bucket=bucket,
            validation_data=validation_data,
            validation_split=validation_split,
            base_model=base_model,
            epochs=epochs,
            adapter_size=adapter_size,
            learning_rate_multiplier=learning_rate_multiplier,
            tuned_model_display_name=tuned_model_display_name,
            labels=labels,
            kms_key_name=kms_key_name,
            service_account=service_account,
            poll_initial_seconds=poll_initial_seconds,
            poll_max_seconds=poll_max_seconds,
            tuning_timeout_seconds=tuning_timeout_seconds,
            eval_metric=eval_metric,
            eval_threshold=eval_threshold,
            eval_min_improvement=eval_min_improvement,
            eval_gate=eval_gate,
            eval_temperature=eval_temperature,
            eval_max_output_tokens=eval_max_output_tokens,
            eval_concurrency=eval_concurrency,
            eval_requests_per_minute=eval_requests_per_minute,
            model_aliases=model_aliases,
        )
        champion = champion_of_lineage(
            project=project,
            location=location,
            model_name="",
            alias=champion_alias,
            lineage=lineage,
            tuned_model_display_name=tuned_model_display_name,
            fallback_baseline=base_model,
        ).after(checked)
        upload_train, upload_validation = validate_and_upload(
            project=project,
            training_data=training_data,
            validation_data=validation_data,
            base_model=base_model,
            epochs=epochs,
            validation_split=validation_split,
            bucket=bucket,
            dataset_prefix=dataset_prefix,
            checked=checked,
        )
        tune_evaluate_and_gate(
            project=project,
            location=location,
            training_dataset_uri=upload_train.outputs["Output"],
            validation_dataset_uri=upload_validation.outputs["Output"],
            training_dataset=upload_train.outputs["gcs_dataset"],
            base_model=base_model,
            pre_tuned_model="",
            checkpoint_id="",
            baseline=champion.outputs["baseline"],
            eval_data=eval_data,
            epochs=epochs,
            adapter_size=adapter_size,
            learning_rate_multiplier=learning_rate_multiplier,
            export_last_checkpoint_only=export_last_checkpoint_only,
            tuned_model_display_name=tuned_model_display_name,
            description=description,
            labels=labels,
            kms_key_name=kms_key_name,
            service_account=service_account,
            poll_initial_seconds=poll_initial_seconds,
            poll_max_seconds=poll_max_seconds,
            tuning_timeout_seconds=tuning_timeout_seconds,
            eval_metric=eval_metric,
            eval_threshold=eval_threshold,
            eval_min_improvement=eval_min_improvement,
            eval_gate=eval_gate,
            eval_temperature=eval_temperature,
            eval_max_output_tokens=eval_max_output_tokens,
            eval_concurrency=eval_concurrency,
            eval_requests_per_minute=eval_requests_per_minute,
            model_aliases=model_aliases,
            keep_on_fail=keep_on_fail,
            lineage=champion.outputs["lineage"],
            evaluation_config=evaluation_config,
            select_best_checkpoint=select_best_checkpoint,
            quota_timeout_seconds=quota_timeout_seconds,
        )
