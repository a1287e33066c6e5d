"""KFP component: start a Gemini tuning job, supervised or preference (retry-safe, never two
per task)."""

from kfp import dsl
from kfp.dsl import OutputPath

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.runtime.image import sft_component


@sft_component
def launch_tuning_job(
    project: str,
    location: str,
    training_dataset_uri: str,
    gcp_resources: OutputPath(str),
    validation_dataset_uri: str = "",
    base_model: str = defaults.BASE_MODEL,
    pre_tuned_model: str = "",
    checkpoint_id: str = "",
    epochs: int = 0,
    adapter_size: str = "",
    learning_rate_multiplier: float = 0.0,
    export_last_checkpoint_only: bool = False,
    tuned_model_display_name: str = "",
    description: str = "",
    labels: dict = {},  # noqa: B006  (KFP needs a literal default)
    kms_key_name: str = "",
    service_account: str = "",
    evaluation_config: dict = {},  # noqa: B006
    quota_timeout_seconds: float = 21600.0,
    idempotency_key: str = "",
    method: str = "supervised",
    beta: float = 0.1,
    pipeline_job_id: str = dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    pipeline_task_name: str = dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
) -> str:
    """Create a tuning job on Vertex AI and return its resource name.

    ``method``: ``supervised`` (``supervisedTuningSpec``, the default) or ``preference``
    (``preferenceOptimizationSpec``: data of ``contents`` + two scored ``completions``).
    ``beta`` (preference only; > 0, default 0.1, Google suggests 0.01-0.5): how strongly
    the model is held to its starting point (0 would stop learning). To follow Google's
    advice (SFT first, then preference), pass the SFT model as ``pre_tuned_model``.

    Zero or empty inputs mean "service default" (epochs from dataset size, learning-rate
    multiplier 1.0, default adapter size). ``pre_tuned_model`` (+ ``checkpoint_id``)
    continues tuning a tuned model; ``base_model`` then names its family for the adapter
    check. Labels are merged with the pipeline run's labels. On a retry the task resumes
    the job recorded in ``gcp_resources`` or labelled with its idempotency key
    (default: pipeline run + task name + request) instead of creating another.
    ``evaluation_config``: tuning-time evaluation of each checkpoint by the Gen AI
    evaluation service (REST ``evaluationConfig`` of the method's spec: ``metrics``,
    ``outputConfig.gcsDestination.outputUriPrefix``, optional ``autoraterConfig``;
    Preview, us-central1, billed as batch prediction; supervised only); empty: none.
    A create refused for quota (429 RESOURCE_EXHAUSTED: another job holds the project's
    concurrent tuning-job slot) is tried again with a long backoff, logging why, for up
    to ``quota_timeout_seconds`` (0: a 429 is an ordinary transient error).
    """
    import logging

    from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return launch(
        project,
        location,
        gcp_resources_path=gcp_resources,
        quota_timeout_seconds=quota_timeout_seconds,
        idempotency_key=idempotency_key,
        pipeline_job_id=pipeline_job_id,
        task_name=pipeline_task_name,
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
        evaluation_config=dict(evaluation_config),
        method=method,
        beta=beta,
    )
