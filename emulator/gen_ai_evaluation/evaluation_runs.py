"""Tuning-time evaluation (``evaluationConfig`` of either tuning spec): checked like the
service, answered with **simulated** ``evaluateDatasetRuns``, one per checkpoint.

No evaluation service runs here: each score follows the same simulated learning curve
as the checkpoints' answers (``generate.checkpoint_skill``), and every run's output
directory ends in ``/simulated`` so nothing mistakes it for a measurement.
"""

from __future__ import annotations

from gemini_sft_kfp.emulator.common.api_errors import gs_uri, invalid

# Metric spec (proto ``Metric.metric_spec``) -> its result field in ``AggregationResult``.
RESULT_FIELDS = {
    "exactMatchSpec": "exactMatchMetricValue",
    "bleuSpec": "bleuMetricValue",
    "rougeSpec": "rougeMetricValue",
    "pointwiseMetricSpec": "pointwiseMetricResult",
    "pairwiseMetricSpec": "pairwiseMetricResult",
}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _camel_keys(obj) -> dict:
    return {_camel(k): v for k, v in obj.items()} if isinstance(obj, dict) else {}


def check_evaluation_config(config: dict) -> dict:
    """The config with lowerCamel names; 400 for what the service requires and lacks."""
    config = _camel_keys(config)
    metrics = config.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise invalid("evaluation_config.metrics is required.")
    config["metrics"] = [_camel_keys(m) for m in metrics]
    for metric in config["metrics"]:
        if not any(spec in metric for spec in RESULT_FIELDS):
            raise invalid(
                f"evaluation_config.metrics: each metric needs one of {sorted(RESULT_FIELDS)}"
            )
    output = _camel_keys(config.get("outputConfig"))
    destination = _camel_keys(output.get("gcsDestination"))
    field = "evaluation_config.output_config.gcs_destination.output_uri_prefix"
    if not destination.get("outputUriPrefix"):
        raise invalid(f"{field} is required.")
    prefix = gs_uri(destination["outputUriPrefix"], field, needs_object=False)
    config["outputConfig"] = {"gcsDestination": {"outputUriPrefix": prefix}}
    return config


def simulated_runs(job: dict, checkpoints: list[dict], skill) -> list[dict]:
    """``evaluateDatasetRuns`` of a finished job: one per checkpoint, scores simulated.

    ``skill(checkpoint_id)`` is the checkpoint's share of answers it gets right.
    """
    from gemini_sft_kfp.emulator.tuning.preference_tuning import tuning_spec

    config = tuning_spec(job)["evaluationConfig"]
    parent, _, job_id = job["name"].partition("/tuningJobs/")
    prefix = config["outputConfig"]["gcsDestination"]["outputUriPrefix"].rstrip("/")
    runs = []
    for checkpoint in checkpoints:
        checkpoint_id = checkpoint["checkpointId"]
        score = round(0.9 * skill(checkpoint_id), 4)
        results = []
        for metric in config["metrics"]:
            spec = next(s for s in RESULT_FIELDS if s in metric)
            for aggregation in metric.get("aggregationMetrics") or ["AVERAGE"]:
                value = score if aggregation == "AVERAGE" else 0.0
                results.append(
                    {"aggregationMetric": aggregation, RESULT_FIELDS[spec]: {"score": value}}
                )
        runs.append(
            {
                "evaluationRun": f"{parent}/evaluationRuns/{job_id}{int(checkpoint_id):03d}",
                "checkpointId": checkpoint_id,
                "evaluateDatasetResponse": {
                    "aggregationOutput": {"aggregationResults": results},
                    "outputInfo": {
                        "gcsOutputDirectory": f"{prefix}/{job_id}/checkpoint-{checkpoint_id}"
                        "/simulated"
                    },
                },
            }
        )
    return runs
