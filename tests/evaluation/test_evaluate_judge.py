"""Judge metrics through ``evaluateInstances`` (the emulator's labelled simulation)."""

from __future__ import annotations

import orjson
import pytest
import typer
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT
from typer.testing import CliRunner

from gemini_sft_kfp.cli import evaluate as evaluate_cli
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation import judge as j
from gemini_sft_kfp.evaluation.evaluation import (
    EvalConfig,
    EvaluationFailed,
    evaluate,
)
from gemini_sft_kfp.evaluation.report import render
from gemini_sft_kfp.evaluation.runner import Settings
from tests.support import REPO
from tests.support.eval_helpers import example, tuned_endpoint, write_jsonl

DATA = REPO / "examples" / "data"
JUDGE = "locations.evaluateInstances"
FAST = Settings(retry_initial_seconds=0.01, retry_max_seconds=0.05)
PARENT = f"projects/{DEFAULT_PROJECT}/locations/{DEFAULT_LOCATION}"


@pytest.fixture
def endpoint(emu) -> str:
    return tuned_endpoint(str(DATA / "train.jsonl"))


def small_eval(tmp_path, n: int = 12) -> str:
    lines = (DATA / "eval.jsonl").read_bytes().splitlines()[:n]
    path = tmp_path / "eval.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)


def test_pointwise_and_pairwise_judges_beside_the_computed_metrics_and_as_the_gate(
    emu, endpoint, tmp_path
):
    config = EvalConfig(
        eval_data=small_eval(tmp_path),
        endpoint=endpoint,
        baseline="gemini-2.5-flash",
        metric="judge_win_rate",  # the gate metric brings its judge along
        min_improvement=0.2,
        judge_metrics=("fluency", "groundedness", "rubric"),
        judge_rubric="Names the right support queue.",
        settings=FAST,
    )
    result = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)
    tuned, baseline = result.tuned.metrics, result.baseline.metrics

    calls = [r for r in emu.requests() if r["method"] == JUDGE]
    assert len(calls) == 12 * 3 * 2 + 12  # 3 pointwise metrics x 2 models + pairwise
    for key in ("judge_fluency", "judge_groundedness", "judge_rubric", "judge_win_rate"):
        assert 0.0 <= tuned[key] <= 1.0 and key in baseline
    # the simulated tuned model recalls the reference; the base model does not
    assert tuned["judge_fluency"] > baseline["judge_fluency"]
    assert tuned["judge_win_rate"] == pytest.approx(1 - baseline["judge_win_rate"])
    assert tuned["judge_win_rate"] > 0.6 and tuned["judge_errors"] == 0
    assert result.gate.metric == "judge_win_rate" and result.gate.passed
    assert result.summary()["judge"] == ["fluency", "groundedness", "rubric", "win_rate"]

    report = render(result)
    assert "Simulated judge" in report and "| **judge_win_rate** (gate) |" in report
    assert "| judge_fluency |" in report
    assert "### Lowest `judge_fluency` (tuned)" in report
    rows = list(result.prediction_rows())
    verdict = rows[0]["tuned"]["judge"]["judge_fluency"]
    assert verdict["simulated"] and "simulated" in verdict["explanation"]
    assert rows[0]["tuned"]["judge"]["judge_win_rate"]["raw"] in ("CANDIDATE", "TIE", "BASELINE")


def test_a_failed_judge_call_is_retried_then_recorded_not_counted(emu, endpoint, tmp_path):
    emu.add_fault(method=JUDGE, status=503, times=2)  # retried
    config = EvalConfig(
        eval_data=small_eval(tmp_path, 4),
        endpoint=endpoint,
        judge_metrics=("fluency",),
        concurrency=1,
        settings=FAST,
    )
    result = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)
    assert result.tuned.metrics["judge_errors"] == 0
    emu.add_fault(method=JUDGE, status=400, times=1)  # a permanent error: recorded
    result = evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)
    verdicts = result.tuned.judge.verdicts["judge_fluency"]
    assert result.tuned.metrics["judge_errors"] == 1
    assert sum(v.error is not None for v in verdicts) == 1
    judged = [v.score for v in verdicts if v.score is not None]
    assert result.tuned.metrics["judge_fluency"] == pytest.approx(sum(judged) / 3)


def test_judge_settings_are_checked_before_any_call(emu, tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [example("q", "billing")])
    endpoint = f"{PARENT}/endpoints/1"
    cases = [
        ({"judge_metrics": ("win_rate",)}, "judge"),  # no baseline
        ({"judge_metrics": ("rubric",)}, "judge_rubric"),  # no criteria
        ({"metric": "judge_nonsense"}, "metric"),
    ]
    for overrides, field in cases:
        config = EvalConfig(eval_data=path, endpoint=endpoint, **overrides)
        with pytest.raises(UserError) as info:
            evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)
        assert info.value.field == field
    with pytest.raises(UserError, match="unknown judge metric"):
        j.parse_names("fluency,coherence")
    assert not emu.requests()


def test_emulated_answers_are_proto_valid_deterministic_and_labelled(emu):
    from google.cloud.aiplatform_v1.types import EvaluateInstancesResponse
    from google.protobuf import json_format

    from gemini_sft_kfp.evaluation.rest import RestCaller

    caller = RestCaller(DEFAULT_PROJECT, DEFAULT_LOCATION)
    instance = {"prompt": "q", "reference": "queue: billing", "response": "queue: billing"}
    fluency = j.POINTWISE["fluency"]
    first = caller.send(caller.prepare_evaluation(j.request_body(fluency, instance)))
    again = caller.send(caller.prepare_evaluation(j.request_body(fluency, instance)))
    assert first == again
    data, headers = first
    assert data["pointwiseMetricResult"]["score"] == 5.0  # the top of the 1-5 rubric
    assert headers["x-emulator-simulated"] == "true"
    pairwise = {**instance, "baseline_model_response": "no idea"}
    choice, _ = caller.send(caller.prepare_evaluation(j.request_body(j.WIN_RATE, pairwise)))
    assert choice["pairwiseMetricResult"]["pairwiseChoice"] == "CANDIDATE"
    for body in (data, choice):
        json_format.Parse(orjson.dumps(body), EvaluateInstancesResponse.pb()())
    grounded = caller.send(
        caller.prepare_evaluation(j.request_body(j.POINTWISE["groundedness"], instance))
    )[0]
    assert grounded["pointwiseMetricResult"]["score"] == 1.0  # the 0-1 rubric

    bad = {"pointwiseMetricInput": {"metricSpec": {"metricPromptTemplate": "x"}}}
    with pytest.raises(Exception) as info:
        caller.send(caller.prepare_evaluation(bad))
    assert info.value.code == 400


def test_cli_judge_options_against_the_emulator(emu, endpoint, tmp_path):
    app = typer.Typer()
    app.callback()(lambda: None)
    evaluate_cli.register(app)
    args = ["evaluate", "--endpoint", endpoint, "--data", small_eval(tmp_path, 6)]
    args += ["--baseline", "gemini-2.5-flash", "--judge", "fluency,win_rate"]
    args += ["--metric", "judge_win_rate", "--json", "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert {"examples", "errors", "tuned", "baseline", "passed", "score"} <= set(summary)
    assert summary["score"] == summary["tuned"]["judge_win_rate"]
    assert summary["judge"] == ["fluency", "win_rate"] and summary["simulated"] is True


@pytest.mark.parametrize("metric", ["judge_fluency", "judge_win_rate"])
def test_a_judge_gate_never_passes_when_the_judge_scored_nothing(emu, endpoint, tmp_path, metric):
    """The judge refusing every call leaves tuned and baseline at 0.0 each: 0.0 >= 0.0 +
    min_improvement 0 must not read as "no worse than the baseline" and promote a model
    no judge has looked at; it is a failed evaluation, not a verdict (issue 22)."""
    emu.add_fault(method=JUDGE, status=400, times=1000)
    config = EvalConfig(
        eval_data=small_eval(tmp_path, 4),
        endpoint=endpoint,
        baseline="gemini-2.5-flash",
        metric=metric,
        settings=FAST,
    )
    with pytest.raises(EvaluationFailed, match="the judge rated 0 of 4"):  # not a verdict
        evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)


def test_the_worst_cases_shown_are_the_judge_s_not_failed_requests():
    """Failed requests score 0 without a judge's word; listing them first left the
    report's "worst cases" without a single explanation when a few requests failed."""
    failed = [j.Verdict(0.0, None, "no answer (request failed)") for _ in range(j.WORST_SHOWN)]
    rated = [j.Verdict(0.25, 2.0, "awkward"), j.Verdict(1.0, 5.0, "fine")]
    result = j.JudgeResult({"judge_fluency": failed + rated})
    worst = j.worst(result, "judge_fluency")
    assert [v.explanation for _, v in worst] == ["awkward", "fine"]
    assert [i for i, _ in worst] == [j.WORST_SHOWN, j.WORST_SHOWN + 1]
