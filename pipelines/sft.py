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
    parameters: dict, *, checked: dsl.PipelineTask, model_name: str, fallback_baseline: str
) -> dsl.PipelineTask:
    """Add ``get_champion`` (the lineage's champion, or ``model_name``'s) to the caller's
    DAG, after ``checked``: it fails there when an evaluation setting needs a baseline
    and there is none (``check_run_inputs``' ``baseline_needed_by``)."""
    task = get_champion(
        project=parameters["project"],
        location=parameters["location"],
        model_name=model_name,
        alias=parameters["champion_alias"],
        lineage=parameters["lineage"],
        tuned_model_display_name=parameters["tuned_model_display_name"],
        fallback_baseline=fallback_baseline,
        baseline_needed_by=checked.outputs["baseline_needed_by"],
    )
    return no_cache(task.after(checked), "get-champion")


def no_cache(task: dsl.PipelineTask, display_name: str) -> dsl.PipelineTask:
    """Name a task for the Vertex UI and turn its cache off (cloud side effects)."""
    return task.set_display_name(display_name).set_caching_options(False)


def validate_and_upload(
    parameters: dict, *, checked: dsl.PipelineTask
) -> tuple[dsl.PipelineTask, dsl.PipelineTask]:
    """Add validate -> upload (train, validation) to the calling pipeline, after ``checked``
    (the ``check_run_inputs`` task); return the uploads.

    A plain function, not a sub-pipeline: the tasks land in the caller's DAG, so both
    pipelines share this step without a nested graph in the compiled YAML.
    """
    validate = no_cache(
        validate_dataset(
            training_data=parameters["training_data"],
            validation_data=parameters["validation_data"],
            model=parameters["base_model"],
            epochs=parameters["epochs"],
            validation_split=parameters["validation_split"],
        ).after(checked),
        "validate-dataset",
    )
    uploads = []
    for split, file_name, display_name in (
        ("train", "train.jsonl", "upload-training-data"),
        ("validation", "validation.jsonl", "upload-validation-data"),
    ):
        upload = upload_dataset(
            project=parameters["project"],
            dataset=validate.outputs[split],
            bucket=parameters["bucket"],
            prefix=parameters["dataset_prefix"],
            file_name=file_name,
        )
        uploads.append(no_cache(upload, display_name))
    return uploads[0], uploads[1]


def finalized(parameters: dict, *, name: str) -> dsl.ExitHandler:
    """The run's steps go inside: ``finalize_run`` runs after them, whatever happened."""
    finalize = finalize_run(
        project=parameters["project"],
        location=parameters["location"],
        run_key=RUN_KEY,
        cancel_running_jobs=parameters["cancel_on_failure"],
        keep_on_fail=parameters["keep_on_fail"],
    )
    return dsl.ExitHandler(no_cache(finalize, "finalize-run"), name=name)


def declared_by(component, parameters: dict) -> dict:
    """The pipeline parameters ``component`` declares an input of the same name for."""
    inputs = component.component_spec.inputs
    return {name: value for name, value in parameters.items() if name in inputs}


def check_inputs(parameters: dict) -> dsl.PipelineTask:
    """The first task: ``check_run_inputs`` on every pipeline parameter it declares (the
    same check ``gemini-sft run/submit/schedule`` make first), so nothing starts on bad
    input."""
    return no_cache(
        check_run_inputs(**declared_by(check_run_inputs, parameters)), "check-run-inputs"
    )


def tune_evaluate_and_gate(
    parameters: dict,
    *,
    checked: dsl.PipelineTask,
    upload_train: dsl.PipelineTask,
    upload_validation: dsl.PipelineTask,
    champion: dsl.PipelineTask,
    pre_tuned_model: str,
    checkpoint_id: str,
    baseline: str,
) -> None:
    """launch -> wait -> evaluate -> register if the gate passed, else delete: both pipelines.

    ``parameters``: the pipeline's own, by name; ``checked``: the input check, whose
    outputs are the evaluation settings as ``evaluate_model`` takes them (the staging
    prefix, the judge metrics). The champion's resolved ``lineage``
    labels the tuned model as soon as it exists, and scopes the promotion: one champion
    per lineage.
    """
    p = parameters
    project, location, lineage = p["project"], p["location"], champion.outputs["lineage"]
    launch = no_cache(
        launch_tuning_job(
            project=project,
            location=location,
            training_dataset_uri=upload_train.outputs["Output"],
            validation_dataset_uri=upload_validation.outputs["Output"],
            base_model=p["base_model"],
            pre_tuned_model=pre_tuned_model,
            checkpoint_id=checkpoint_id,
            epochs=p["epochs"],
            adapter_size=p["adapter_size"],
            learning_rate_multiplier=p["learning_rate_multiplier"],
            export_last_checkpoint_only=p["export_last_checkpoint_only"],
            tuned_model_display_name=p["tuned_model_display_name"],
            description=p["description"],
            labels=p["labels"],
            kms_key_name=p["kms_key_name"],
            service_account=p["service_account"],
            evaluation_config=p["evaluation_config"],
            quota_timeout_seconds=p["quota_timeout_seconds"],
            idempotency_key=RUN_KEY,
        ),
        "launch-tuning-job",
    )
    wait = no_cache(
        wait_for_tuning_job(
            project=project,
            location=location,
            tuning_job=launch.outputs["Output"],
            poll_initial_seconds=p["poll_initial_seconds"],
            poll_max_seconds=p["poll_max_seconds"],
            timeout_seconds=p["tuning_timeout_seconds"],
            lineage=lineage,
        ),
        "wait-for-tuning-job",
    )
    # how both the checkpoints and the gate are scored: the same answers, the same metric
    scoring = {
        "project": project,
        "location": location,
        "eval_data": p["eval_data"],
        "metric": p["eval_metric"],
        "base_model": wait.outputs["base_model"],
        "temperature": p["eval_temperature"],
        "max_output_tokens": p["eval_max_output_tokens"],
        "concurrency": p["eval_concurrency"],
        "requests_per_minute": p["eval_requests_per_minute"],
        "baseline": baseline,
        "judge_rubric": p["eval_judge_rubric"],
    }
    best = no_cache(
        select_checkpoint(
            model=wait.outputs["model"],
            endpoint=wait.outputs["endpoint"],
            checkpoints=wait.outputs["checkpoints"],
            enabled=p["select_best_checkpoint"],
            **scoring,
        ),
        "select-checkpoint",
    )
    evaluate = no_cache(
        evaluate_model(
            tuned_endpoint=best.outputs["best_endpoint"],
            threshold=p["eval_threshold"],
            min_improvement=p["eval_min_improvement"],
            gate=p["eval_gate"],
            judge_metrics=checked.outputs["eval_judge_metrics"],
            method=p["eval_method"],
            staging_uri=checked.outputs["eval_staging_uri"],
            batch_poll_seconds=p["poll_initial_seconds"],
            **scoring,
        ),
        "evaluate-model",
    )
    with dsl.If(evaluate.outputs["passed"] == True, name="gate-passed"):  # noqa: E712
        no_cache(
            register_model(
                project=project,
                location=location,
                model=wait.outputs["model"],
                aliases=p["model_aliases"],
                labels=p["labels"],
                description=p["description"],
                training_dataset=upload_train.outputs["gcs_dataset"],
                base_model=wait.outputs["base_model"],
                gate_metric=p["eval_metric"],
                gate_score=evaluate.outputs["score"],
                lineage=lineage,
            ),
            "register-model",
        )
    with dsl.Elif(p["keep_on_fail"] == False, name="gate-failed"):  # noqa: E712
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
    eval_method: str = "online",
    eval_judge_metrics: list = [],  # noqa: B006
    eval_judge_rubric: str = "",
    eval_staging_uri: str = "",
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
        eval_metric: Gate metric: exact_match, rouge_l, bleu, chrf, accuracy, macro_f1, or
            a judge metric (judge_fluency, judge_groundedness, judge_rubric,
            judge_win_rate; computed even when not in eval_judge_metrics).
        eval_threshold: The tuned model's score must reach this (0 = no absolute bar).
        eval_min_improvement: The tuned model must beat the base model by this much
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
            the baseline: the champion, else the base model). Against the emulator the
            judge is a labelled simulation.
        eval_judge_rubric: Criteria of the ``rubric`` judge metric, in plain words.
        eval_staging_uri: gs:// prefix for batch evaluation's request and result files;
            empty: ``gs://<bucket>/gemini-sft/eval/<pipeline job id>``.
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
            make the best the model's default checkpoint before the gate decides (a
            judge eval_metric is computed for each checkpoint; judge_win_rate compares
            each with the gate's baseline).
        quota_timeout_seconds: How long the launch waits out quota refusals (429: another
            tuning job holds the project's concurrent slot) before failing; 0: no wait.
    """
    parameters = dict(locals())  # every parameter above, by name: passed on from here
    with finalized(parameters, name="sft"):
        checked = check_inputs(parameters)
        champion = champion_of_lineage(
            parameters, checked=checked, model_name="", fallback_baseline=base_model
        )
        upload_train, upload_validation = validate_and_upload(parameters, checked=checked)
        tune_evaluate_and_gate(
            parameters,
            checked=checked,
            upload_train=upload_train,
            upload_validation=upload_validation,
            champion=champion,
            pre_tuned_model="",
            checkpoint_id="",
            baseline=champion.outputs["baseline"],
        )
