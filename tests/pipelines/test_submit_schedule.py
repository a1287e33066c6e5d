"""submit and schedule talk to Vertex AI Pipelines through aiplatform (here: the emulator)."""

from __future__ import annotations

import orjson
import pytest
import yaml

from tests.support.pipeline_helpers import CLOUD_OPTIONS, needs_components

pytestmark = needs_components

COMMON = (*CLOUD_OPTIONS, "--json")


def _pipeline_jobs(emu) -> list[dict]:
    state = orjson.loads(emu.dump_state())
    return list(state.get("pipelineJobs", {}).values())


def test_submit_creates_a_pipeline_job_with_typed_parameters(emu, run_cli):
    code, out, text = run_cli(
        "submit", *COMMON, "--epochs", "2", "--label", "team=ml", "--param", "keep_on_fail=true"
    )
    assert code == 0, text
    assert "/pipelineJobs/" in out["pipeline_job"]
    [job] = _pipeline_jobs(emu)
    params = job["runtimeConfig"]["parameterValues"]
    assert params["training_data"] == "gs://data/train.jsonl"
    assert params["epochs"] == 2 and params["keep_on_fail"] is True
    assert params["labels"] == {"team": "ml"}
    assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://runs-bucket/root"
    assert job["labels"]["team"] == "ml"
    assert job["pipelineSpec"]["pipelineInfo"]["name"] == "gemini-sft"
    assert job["displayName"] == "gemini-sft"  # a shipped pipeline's: gemini-PIPELINE


def test_submit_compiles_with_the_requested_image(emu, run_cli):
    code, _, text = run_cli("submit", *COMMON, "--image", "example.com/sft:9")
    assert code == 0, text
    [job] = _pipeline_jobs(emu)
    executors = job["pipelineSpec"]["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {"example.com/sft:9"}


def test_schedule_creates_one_run_at_a_time_schedule(emu, run_cli):
    code, out, text = run_cli(
        "schedule",
        "--cron",
        "TZ=UTC 0 3 * * 1",
        *COMMON,
        "--champion-model",
        "projects/local-project/locations/us-central1/models/123",
    )
    assert code == 0, text
    assert "/schedules/" in out["schedule"]
    state = orjson.loads(emu.dump_state())
    [schedule] = state["schedules"].values()
    assert schedule["cron"] == "TZ=UTC 0 3 * * 1"
    assert int(schedule["maxConcurrentRunCount"]) == 1
    request = schedule["createPipelineJobRequest"]["pipelineJob"]
    assert request["runtimeConfig"]["parameterValues"]["champion_model"].endswith("/models/123")
    assert request["pipelineSpec"]["pipelineInfo"]["name"] == "gemini-continuous-tuning"
    assert schedule["displayName"] == "gemini-continuous-schedule"


def test_missing_required_parameter_is_refused_before_any_call(emu, run_cli, tmp_path):
    from gemini_sft_kfp.core.errors import UserError

    with pytest.raises(UserError, match="bucket"):
        run_cli(
            "submit",
            "--project",
            "local-project",
            "--pipeline-root",
            "gs://b/root",
            "--train",
            "gs://d/t.jsonl",
            "--eval",
            "gs://d/e.jsonl",
        )
    assert not [r for r in emu.requests() if r["method"].startswith("pipelineJobs")]


def test_template_option_submits_a_given_yaml(emu, run_cli, tmp_path):
    from gemini_sft_kfp.pipelines.compile import compile_pipeline

    template = compile_pipeline("sft_pipeline.yaml", tmp_path / "sft.yaml", image="x/y:1")
    assert yaml.safe_load(template.read_text())["pipelineInfo"]["name"] == "gemini-sft"
    code, _, text = run_cli("submit", *COMMON, "--template", str(template))
    assert code == 0, text
    assert len(_pipeline_jobs(emu)) == 1
