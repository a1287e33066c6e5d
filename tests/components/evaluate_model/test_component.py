"""The KFP component against the emulator, under KFP's local runner: its artifacts."""

import orjson
import pytest
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from tests.support import REPO
from tests.support.eval_helpers import tuned_endpoint

DATA = REPO / "examples" / "data"


@pytest.fixture
def endpoint(emu) -> str:
    return tuned_endpoint(str(DATA / "train.jsonl"))


@pytest.mark.timeout(240)
def test_component_under_kfp_local_runner(emu, endpoint, tmp_path):
    from gemini_sft_kfp.components import evaluate_model
    from google_cloud_pipeline_components.types.artifact_types import VertexEndpoint
    from kfp import dsl, local

    from gemini_sft_kfp.core.clients import storage_client

    bucket = storage_client(DEFAULT_PROJECT).create_bucket("eval-data")
    bucket.blob("eval.jsonl").upload_from_filename(str(DATA / "eval.jsonl"))
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(tmp_path / "root"),
        raise_on_error=True,
    )

    @dsl.pipeline(name="evaluate-tuned-model")
    def evaluate_pipeline(endpoint_name: str) -> bool:
        imported = dsl.importer(
            artifact_uri=f"https://{DEFAULT_LOCATION}-aiplatform.googleapis.com/v1/{endpoint}",
            artifact_class=VertexEndpoint,
            metadata={"resourceName": endpoint_name},
        )
        task = evaluate_model(
            project=DEFAULT_PROJECT,
            location=DEFAULT_LOCATION,
            eval_data="gs://eval-data/eval.jsonl",
            tuned_endpoint=imported.output,
            baseline="gemini-2.5-flash",
            base_model="gemini-2.5-flash",
            metric="accuracy",
            threshold=0.5,
            concurrency=4,
        )
        return task.outputs["passed"]

    run = evaluate_pipeline(endpoint_name=endpoint)
    assert run.output is True

    outputs = tmp_path / "root"
    [predictions] = outputs.rglob("predictions")
    rows = [orjson.loads(line) for line in predictions.read_bytes().splitlines()]
    assert len(rows) == 120 and all(row["tuned"]["text"] for row in rows)
    assert all(row["baseline"]["text"] for row in rows)
    [executor_output] = outputs.rglob("executor_output.json")
    artifacts = orjson.loads(executor_output.read_bytes())["artifacts"]
    tuned = artifacts["tuned_metrics"]["artifacts"][0]["metadata"]
    assert tuned["accuracy"] == tuned["exact_match"] > 0.5
    assert artifacts["baseline_metrics"]["artifacts"][0]["metadata"]["accuracy"] < 0.5
    matrix = artifacts["classification_metrics"]["artifacts"][0]["metadata"]["confusionMatrix"]
    assert len(matrix["annotationSpecs"]) == len(matrix["rows"]) == 10  # ten queues
    [report] = outputs.rglob("report")
    assert "PASSED" in report.read_text() and "Simulated" in report.read_text()
