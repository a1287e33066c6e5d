"""KFP component ``check_run_inputs`` (thin: the logic is in ``executor.py``)."""

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
):
    """Fail the run before anything is created or billed when a parameter or data input
    is one Vertex AI (or a later step) would refuse: the eval file is read and parsed,
    thresholds are finite and on the metrics' 0..1 scale, location, project, bucket,
    labels, aliases, model and hyperparameters follow the service's rules.

    The first task of both pipelines, so a compiled YAML submitted by any tool gets the
    same check ``gemini-sft run`` / ``submit`` / ``schedule`` make before they start.
    """
    from gemini_sft_kfp.components.check_run_inputs.executor import run

    run(**{k: v for k, v in locals().items() if k != "run"})
