"""End to end: the pipelines' evaluation by batch prediction and with judge metrics
(issue 15), on the KFP local runner against the emulator. One pipeline run each."""

from __future__ import annotations

import orjson
import pytest
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from tests.pipelines.test_e2e_runs import why
from tests.support.pipeline_helpers import SAMPLE, model_version, needs_components

pytestmark = [pytest.mark.e2e, needs_components]

BUCKET = "gemini-sft-local"  # gemini-sft run's default bucket


def _batch_jobs(emu) -> list[dict]:
    return list(orjson.loads(emu.dump_state()).get("batchPredictionJobs", {}).values())


def _judged_endpoint(summary) -> str:
    """The endpoint the gate judged: the best checkpoint's."""
    from gemini_sft_kfp.core.clients import genai_client

    client = genai_client(DEFAULT_PROJECT, DEFAULT_LOCATION)  # referenced: GC closes it
    tuned = client.tunings.get(name=summary["tuning_job"]).tuned_model
    best = [c for c in tuned.checkpoints or [] if c.checkpoint_id == summary["best_checkpoint"]]
    return best[0].endpoint if best else summary["tuned_endpoint"]


def test_sft_pipeline_evaluates_by_batch_prediction_like_online(emu, local_run):
    from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate

    code, summary, _ = local_run("--eval-method", "batch", "--base-model", "gemini-2.5-flash")
    assert code == 0, why(summary)

    # one batch prediction job per model evaluated (tuned, baseline), none started twice;
    # checkpoint selection scores online
    creates = [r for r in emu.requests() if r["method"] == "batchPredictionJobs.create"]
    assert [r["status"] for r in creates] == [200, 200]
    jobs = _batch_jobs(emu)
    assert sorted(j["displayName"] for j in jobs) == [
        "gemini-sft-eval-baseline",
        "gemini-sft-eval-tuned",
    ]
    assert {j["state"] for j in jobs} == {"JOB_STATE_SUCCEEDED"}
    for job in jobs:  # files under the run's own folder of the pipeline's bucket
        (source,) = job["inputConfig"]["gcsSource"]["uris"]
        assert source.startswith(f"gs://{BUCKET}/gemini-sft/eval/"), source
        assert job["labels"]["emulator-simulated"] == "true"
    assert summary["tuned_metrics"]["requests"] == summary["tuned_metrics"]["examples"]

    # the same gate decision as online evaluation of the same models on the same data
    online = evaluate(
        DEFAULT_PROJECT,
        DEFAULT_LOCATION,
        EvalConfig(
            eval_data=str(SAMPLE / "eval.jsonl"),
            endpoint=_judged_endpoint(summary),
            baseline=summary["baseline"],
            base_model="gemini-2.5-flash",
        ),
    )
    assert summary["gate"]["passed"] is online.gate.passed is True
    assert summary["verdict"] == "promoted"
    assert summary["gate"]["score"] == pytest.approx(online.gate.score)
    for name in ("exact_match", "rouge_l"):
        assert summary["tuned_metrics"][name] == pytest.approx(online.tuned.metrics[name])
        assert summary["baseline_metrics"][name] == pytest.approx(online.baseline.metrics[name])


def test_sft_pipeline_gates_on_a_judge_metric_labelled_simulated(emu, local_run):
    rubric = "Answers with the category label only."
    code, summary, _ = local_run(
        "--metric",
        "judge_win_rate",
        "--judge-metric",
        "fluency",
        "--judge-metric",
        "rubric",
        "--judge-rubric",
        rubric,
    )
    assert code == 0, why(summary)
    tuned, baseline = summary["tuned_metrics"], summary["baseline_metrics"]
    for name in ("judge_fluency", "judge_rubric", "judge_win_rate"):
        assert 0.0 <= tuned[name] <= 1.0, name
    assert tuned["judge_errors"] == 0
    assert baseline["judge_win_rate"] == pytest.approx(1.0 - tuned["judge_win_rate"])
    assert "judge_fluency" in baseline and "judge_rubric" in baseline
    assert summary["gate"]["score"] == pytest.approx(tuned["judge_win_rate"])
    # the checkpoints were ranked by the gate's judge metric, against the same baseline
    scores = summary["checkpoint_scores"]
    assert scores and all(key.endswith("_judge_win_rate") for key in scores), scores

    # labelled simulated: the report says so, and each judged prediction carries it
    with open(summary["artifacts"]["evaluation_report"], encoding="utf-8") as f:
        report = f.read()
    assert "Simulated judge" in report
    for name in ("judge_fluency", "judge_rubric", "judge_win_rate"):
        assert name in report
    with open(summary["artifacts"]["predictions"], "rb") as f:
        first = orjson.loads(f.readline())
    verdicts = first["tuned"]["judge"]
    assert set(verdicts) == {"judge_fluency", "judge_rubric", "judge_win_rate"}
    assert all(v.get("simulated") for v in verdicts.values())
    assert summary["verdict"] == "promoted"
    labels = model_version(summary["registered_model"]).labels
    assert labels["gate_metric"] == "judge_win_rate"
