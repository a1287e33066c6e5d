"""End to end on the KFP local runner against the emulator (training is simulated)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.pipeline_helpers import SAMPLE, model_version, needs_components

pytestmark = [pytest.mark.e2e, needs_components]


def why(summary) -> str:
    """The failed tasks and their last log lines, for assertion messages."""
    if not summary:
        return "no JSON summary"
    return f"{summary['failed_tasks']}: " + "\n".join(summary.get("error", []))


def test_gate_passes_model_registered_as_champion(emu, local_run):
    code, summary, _ = local_run("--label", "team=ml", "--base-model", "gemini-2.5-flash")
    assert code == 0, why(summary)
    assert summary["succeeded"] and summary["verdict"] == "promoted"
    assert summary["simulated"] is True
    assert summary["gate"]["passed"] is True
    assert summary["tuned_metrics"]["exact_match"] > summary["baseline_metrics"]["exact_match"]
    version = model_version(summary["registered_model"])
    assert version is not None and "champion" in version.aliases
    assert version.labels.get("team") == "ml"
    # provenance: what it was tuned from, on which data, how it scored
    assert version.labels["gate_metric"] == "exact_match"
    assert version.labels["base_model"] == "gemini-2-5-flash"
    assert version.labels["dataset_sha256"]
    assert os.path.exists(summary["artifacts"]["evaluation_report"])
    assert summary["tasks"]["finalize-run"] == "SUCCESS"


def test_gate_fails_model_deleted(emu, local_run):
    code, summary, _ = local_run("--threshold", "0.99")
    assert code == 0, summary  # the pipeline worked; the model was not good enough
    assert summary["verdict"] == "rejected-deleted"
    assert summary["gate"]["passed"] is False and summary["deleted"] is True
    assert not summary["registered_model"]
    assert model_version(summary["tuned_model"]) is None


def test_gate_fails_model_kept_with_keep_on_fail(emu, local_run):
    code, summary, _ = local_run("--threshold", "0.99", "--keep-on-fail", "--fail-on-gate")
    assert code == 2, why(summary)  # --fail-on-gate: a rejected model is exit 2
    assert summary["verdict"] == "rejected-kept"
    kept = model_version(summary["tuned_model"])
    assert kept is not None and "champion" not in kept.aliases


def test_continuous_tuning_promotes_a_new_version_of_the_champion(after_default_run, local_run):
    code, first = after_default_run
    assert code == 0, why(first)
    assert first["verdict"] == "promoted"
    champion = first["registered_model"]
    model = champion.split("@")[0]

    code, second, _ = local_run("--pipeline", "continuous", "--champion-model", model)
    assert code == 0, why(second)
    assert second["champion"] == champion
    new_version = second["tuned_model"]
    assert new_version.split("@")[0] == model and new_version != champion  # same model, @2
    assert second["verdict"] == "promoted"
    assert "champion" in model_version(new_version).aliases
    assert "champion" not in model_version(champion).aliases


def test_continuous_tuning_rejects_a_worse_version_and_keeps_the_champion(
    after_default_run, local_run
):
    code, first = after_default_run
    assert code == 0, why(first)
    champion = first["registered_model"]

    code, second, _ = local_run(
        "--pipeline",
        "continuous",
        "--champion-model",
        champion.split("@")[0],
        "--threshold",
        "0.99",
    )
    assert code == 0, why(second)
    assert second["verdict"] == "rejected-deleted"
    assert model_version(second["tuned_model"]) is None  # only the new version is gone
    assert "champion" in model_version(champion).aliases


def test_continuous_tuning_bootstraps_without_a_champion(emu, local_run):
    code, summary, _ = local_run("--pipeline", "continuous", "--champion-model", "no-such-model")
    assert code == 0, why(summary)
    assert summary["champion"] == ""
    assert summary["verdict"] == "promoted"
    assert "champion" in model_version(summary["registered_model"]).aliases


def test_failed_run_cancels_its_running_tuning_job(emu, local_run):
    emu.service.tuning_seconds = 120.0  # a job that outlives the wait's timeout
    try:
        code, summary, _ = local_run("--param", "tuning_timeout_seconds=1.5")
    finally:
        emu.service.tuning_seconds = 1.0
    assert code == 1
    assert summary["verdict"] == "failed"
    assert "wait-for-tuning-job" in summary["failed_tasks"]
    assert summary["tasks"]["finalize-run"] == "SUCCESS"
    assert summary["cleanup"] == [f"cancelled still-running tuning job {summary['tuning_job']}"], (
        summary["cleanup"]
    )

    from gemini_sft_kfp.core.clients import genai_client

    client = genai_client("local-project", "us-central1")  # keep it referenced: GC closes it
    job = client.tunings.get(name=summary["tuning_job"])
    assert "CANCEL" in str(job.state)


@pytest.mark.slow  # the real command in its own process: the in-process runs cover the rest
def test_gemini_sft_run_command_exit_code_and_summary(tmp_path):
    """The README's main command as a user runs it: a fresh process, no emulator
    variables set, so it starts its own emulator."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
    env["COLUMNS"] = "120"
    # A user's own `components/` folder in the working directory must not shadow ours.
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "__init__.py").write_text("raise ImportError('shadowed')\n")
    cli = Path(sys.executable).parent / "gemini-sft"
    result = subprocess.run(
        [str(cli), "run", "--output-dir", str(tmp_path), "--tuning-seconds", "1"],
        cwd=tmp_path,  # the sample data is found wherever the command runs
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "emulator" in out and "simulated" in out
    for text in ("PROMOTED", "tuning job", "tuned model", "exact_match", "run dir", "✓ evaluate"):
        assert text in out, text
    assert "Executor" not in out  # kfp's verbose task logs stay in run.log
    [run_dir] = tmp_path.glob("gemini-sft-*")
    assert not (tmp_path / "components" / "launch-tuning-job").exists()
    assert "KFP Executor" in (run_dir / "run.log").read_text()

    # The emulator's state is kept between runs: continuous tuning finds that champion.
    continuous = ["--pipeline", "continuous", "--json"]
    again = subprocess.run(
        [str(cli), "run", "--output-dir", str(tmp_path), "--tuning-seconds", "1", *continuous],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    summary = orjson.loads(again.stdout)
    assert summary["champion"].endswith("@1")
    assert summary["tuned_model"].split("@") == [summary["champion"].split("@")[0], "2"]


def test_bad_option_is_refused_before_the_pipeline_starts(emu, tmp_path):
    """A disallowed adapter size: one line naming the field, exit 1, nothing ran at all.

    (The launch step refuses it too, for compiled YAML submitted without the CLI:
    tests/jobs covers that path.)
    """
    command = [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", "run"]
    args = ["--output-dir", str(tmp_path), "--base-model", "gemini-2.5-pro", "--adapter-size", "16"]
    result = subprocess.run(command + args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "[adapter_size]" in result.stderr and "allowed: 1, 2, 4, 8" in result.stderr
    assert emu.requests() == []


def test_sample_data_is_where_run_expects_it():
    for name in ("train.jsonl", "validation.jsonl", "eval.jsonl"):
        first = (SAMPLE / name).read_bytes().splitlines()[0]
        assert "contents" in orjson.loads(first)


def test_submit_runs_to_completion_on_an_executing_emulator(tmp_path, monkeypatch, run_cli):
    """submit --wait against an emulator that executes submitted runs (KFP local runner)."""
    from gemini_sft_kfp.emulator import Emulator

    from gemini_sft_kfp.core.clients import storage_client

    with Emulator(tuning_seconds=1.0, run_pipelines=True) as executing:
        for key, value in executing.env.items():
            monkeypatch.setenv(key, value)
        bucket = storage_client("local-project").create_bucket("sft-data")
        for name in ("train.jsonl", "validation.jsonl", "eval.jsonl"):
            bucket.blob(f"data/{name}").upload_from_filename(str(SAMPLE / name))
        code, out, text = run_cli(
            "submit",
            "--project",
            "local-project",
            "--pipeline-root",
            "gs://sft-data/root",
            "--train",
            "gs://sft-data/data/train.jsonl",
            "--validation",
            "gs://sft-data/data/validation.jsonl",
            "--eval",
            "gs://sft-data/data/eval.jsonl",
            "--bucket",
            "sft-data",
            "--param",
            "poll_initial_seconds=0.25",
            "--param",
            "poll_max_seconds=1",
            "--wait",
            "--json",
        )
        assert code == 0, text
        assert out["state"] == "PIPELINE_STATE_SUCCEEDED"
        from gemini_sft_kfp.core.registry import Registry

        models = Registry("local-project", "us-central1").list_models()
        assert any("champion" in m.aliases for m in models), "no champion was registered"


def test_readme_sequence_run_run_continuous_keeps_one_champion_per_lineage(
    after_default_run, local_run
):
    """The README's first steps as a new user types them: two sft runs, then continuous."""
    from gemini_sft_kfp.core.lineage import alias_holders
    from gemini_sft_kfp.core.registry import Registry

    registry = Registry("local-project", "us-central1")
    code, first = after_default_run  # the first `gemini-sft run`, shared with other tests
    assert code == 0 and first["verdict"] == "promoted", why(first)
    assert first["baseline"] == "gemini-3.5-flash"  # no champion yet: the base model

    code, second, _ = local_run()
    assert code == 0 and second["verdict"] == "promoted", why(second)
    assert "/endpoints/" in second["baseline"]  # compared with the first run's champion
    holders = alias_holders(registry, "gemini-sft", "champion")
    assert [v.resource_name for v in holders] == [second["registered_model"]]
    assert model_version(first["registered_model"]).labels["lineage"] == "gemini-sft"

    code, third, _ = local_run("--pipeline", "continuous")
    assert code == 0, why(third)
    assert third["champion"] == second["registered_model"]
    assert third["tuned_model"].split("@")[0] == second["registered_model"].split("@")[0]
    assert len(alias_holders(registry, "gemini-sft", "champion")) == 1


def test_a_worse_second_run_is_rejected_against_the_lineage_champion(emu, local_run):
    code, first, _ = local_run("--display-name", "Ticket Routing")
    assert code == 0 and first["verdict"] == "promoted", why(first)
    # a base model that knows nothing beats nothing: the champion is the bar now
    code, second, _ = local_run("--display-name", "Ticket Routing", "--min-improvement", "0.05")
    assert code == 0, why(second)
    assert second["verdict"] == "rejected-deleted"
    assert "champion" in model_version(first["registered_model"]).aliases
    assert model_version(first["registered_model"]).labels["lineage"] == "ticket-routing"


def test_a_scheduled_continuous_run_bootstraps_its_lineage(emu, tmp_path):
    """As a schedule runs it: no champion_model, only a lineage that has no model yet."""
    from gemini_sft_kfp.pipelines import continuous_tuning_pipeline
    from gemini_sft_kfp.pipelines.local.backend import ensure_bucket
    from gemini_sft_kfp.pipelines.local.kfp_runner import run_pipeline_locally

    from gemini_sft_kfp.core.lineage import alias_holders
    from gemini_sft_kfp.core.registry import Registry

    ensure_bucket("local-project", "nightly-data")
    arguments = {
        "project": "local-project",
        "location": "us-central1",
        "training_data": str(SAMPLE / "train.jsonl"),
        "eval_data": str(SAMPLE / "eval.jsonl"),
        "bucket": "nightly-data",
        "lineage": "nightly-routing",
        "base_model": "gemini-2.5-flash",
        "poll_initial_seconds": 0.25,
        "poll_max_seconds": 1.0,
        "select_best_checkpoint": False,
    }
    first = run_pipeline_locally(continuous_tuning_pipeline, arguments, pipeline_root=tmp_path)
    assert first.succeeded, first.failed_tasks
    assert first.parameter("get-champion", "found") is False
    registry = Registry("local-project", "us-central1")
    [champion] = alias_holders(registry, "nightly-routing", "champion")
    second = run_pipeline_locally(continuous_tuning_pipeline, arguments, pipeline_root=tmp_path)
    assert second.succeeded, second.failed_tasks
    assert second.parameter("get-champion", "model") == champion.resource_name
    tuned = second.parameter("wait-for-tuning-job", "tuned_model")
    assert tuned.split("@")[0] == champion.model  # tuned the champion further: same model
