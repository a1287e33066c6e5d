"""Tuning-time evaluation: evaluationConfig reaches the service as given, and the
job's evaluateDatasetRuns come back per checkpoint (simulated by the emulator)."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch_tuning_job
from gemini_sft_kfp.components.launch_tuning_job.request import build_request
from gemini_sft_kfp.components.upload_dataset.executor import run as upload_dataset
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job
from gemini_sft_kfp.components.wait_for_tuning_job.result import render_report

from gemini_sft_kfp.core.errors import UserError
from tests.support.job_helpers import BUCKET, DATA, LOCATION, PROJECT, make_bucket, raw_job

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

EVALUATION = {
    "metrics": [
        {"exactMatchSpec": {}, "aggregationMetrics": ["AVERAGE"]},
        {"rougeSpec": {"rougeType": "rougeL"}, "aggregationMetrics": ["AVERAGE"]},
    ],
    "output_config": {"gcsDestination": {"outputUriPrefix": "gs://evals/tuning"}},
}


def test_evaluation_config_is_sent_and_runs_come_back_per_checkpoint(emu, tmp_path):
    make_bucket()
    train = upload_dataset(
        PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET, file_name="t.jsonl"
    ).uri
    name = launch_tuning_job(
        PROJECT,
        LOCATION,
        training_dataset_uri=train,
        epochs=3,
        evaluation_config=EVALUATION,
        pipeline_job_id="run-eval",
        task_name="launch",
    )
    sent = raw_job(emu, name)["supervisedTuningSpec"]["evaluationConfig"]
    assert sent["metrics"][1]["rougeSpec"] == {"rougeType": "rougeL"}  # as given, not rewritten
    assert sent["outputConfig"]["gcsDestination"]["outputUriPrefix"] == "gs://evals/tuning"

    result = wait_for_tuning_job(PROJECT, LOCATION, name, poll_initial_seconds=0.05)
    runs = result.evaluation_runs
    assert [r["checkpointId"] for r in runs] == ["1", "2", "3"]
    assert all(r["outputDirectory"].endswith("/simulated") for r in runs)  # honest label
    scores = [r["metrics"]["exact_match_average"] for r in runs]
    assert scores == sorted(scores) and 0 < scores[0] < scores[-1] <= 1
    metrics = result.evaluation_metrics()
    assert metrics["eval_checkpoint_3_rouge_average"] == runs[-1]["metrics"]["rouge_average"]
    report = render_report(result)
    assert "Tuning-time evaluation" in report and "exact_match_average" in report


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"metrics": [], "outputConfig": EVALUATION["output_config"]}, "metrics"),
        ({"metrics": EVALUATION["metrics"]}, "outputConfig"),
        ({"metrics": EVALUATION["metrics"], "outputConfig": {}, "typo": 1}, "evaluation_config"),
    ],
)
def test_a_bad_evaluation_config_is_refused_before_any_call(config, field):
    with pytest.raises(UserError) as info:
        build_request(
            location="us-central1", training_dataset_uri="gs://b/t.jsonl", evaluation_config=config
        )
    assert info.value.field.startswith("evaluation_config") and field in str(info.value)


def test_the_emulator_refuses_an_evaluation_config_without_output(emu):
    from google.genai import errors

    from tests.support.emu_helpers import genai, upload_sample

    train = upload_sample()
    client = genai()
    from google.genai import types

    with pytest.raises(errors.ClientError, match="output_uri_prefix"):
        client.tunings.tune(
            base_model="gemini-2.5-flash",
            training_dataset=types.TuningDataset(gcs_uri=train),
            config=types.CreateTuningJobConfig(
                http_options=types.HttpOptions(
                    extra_body={
                        "supervisedTuningSpec": {
                            "evaluationConfig": {"metrics": EVALUATION["metrics"]}
                        }
                    }
                )
            ),
        )
