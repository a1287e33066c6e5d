"""The runner and the evaluation, against a fake google-genai client (no network)."""

from __future__ import annotations

import logging
import time

import orjson
import pytest

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation.evaluation import (
    EvalConfig,
    EvaluationFailed,
    evaluate,
)
from gemini_sft_kfp.evaluation.report import render
from gemini_sft_kfp.evaluation.runner import Settings
from tests.support.eval_fakes import FakeClient
from tests.support.eval_helpers import example, write_jsonl

ENDPOINT = "projects/p/locations/us-central1/endpoints/123"
FAST_RETRY = Settings(retry_initial_seconds=0.001, retry_max_seconds=0.01)
LABELS = ["billing", "refunds", "shipping"]


def labelled_examples(n: int = 12) -> list[dict]:
    return [example(f"ticket {i}", LABELS[i % 3]) for i in range(n)]


def answer_key(records):
    return {
        r["contents"][0]["parts"][0]["text"]: r["contents"][1]["parts"][0]["text"] for r in records
    }


def perfect_tuned_weak_baseline(records):
    """The tuned endpoint knows every answer; the base model always says 'billing'."""
    key = answer_key(records)

    def answer(model, prompt, config):
        return key[prompt] if "/endpoints/" in model else "billing"

    return answer


def run(tmp_path, records, client, **overrides):
    path = write_jsonl(tmp_path / "eval.jsonl", records)
    config = EvalConfig(eval_data=path, endpoint=ENDPOINT, settings=FAST_RETRY, **overrides)
    return evaluate("p", "us-central1", config, client=client)


def test_tuned_vs_baseline_metrics_gate_and_what_each_model_is_sent(tmp_path):
    records = labelled_examples()
    client = FakeClient(perfect_tuned_weak_baseline(records))
    result = run(tmp_path, records, client, baseline="gemini-2.5-flash", min_improvement=0.5)

    assert result.tuned.metrics["exact_match"] == 1.0
    assert result.baseline.metrics["exact_match"] == pytest.approx(4 / 12)
    assert result.tuned.metrics["accuracy"] == 1.0  # label-like answers
    assert result.baseline.metrics["macro_f1"] == pytest.approx((0.5 + 0 + 0) / 3)
    assert result.gate.passed and result.gate.score == 1.0
    assert result.tuned.metrics["total_tokens"] == 12 * 12

    tuned_calls = [c for c in client.models.calls if c["model"] == ENDPOINT]
    base_calls = [c for c in client.models.calls if c["model"] == "gemini-2.5-flash"]
    assert len(tuned_calls) == len(base_calls) == 12
    # no system instruction to the tuned model; the base model gets it
    assert all(c["config"].system_instruction is None for c in tuned_calls)
    assert all(c["config"].system_instruction.parts[0].text for c in base_calls)
    # 2.5 Flash thinks: budget 0 for both (the tuned base model is taken from the baseline)
    assert all(c["config"].thinking_config.thinking_budget == 0 for c in client.models.calls)
    assert all(c["config"].response_schema is None for c in tuned_calls)


def test_no_thinking_config_for_models_that_do_not_think(tmp_path):
    records = labelled_examples(4)
    client = FakeClient(lambda *_: "billing")
    run(tmp_path, records, client, baseline="gemini-2.0-flash-001")
    assert all(c["config"].thinking_config is None for c in client.models.calls)


def test_lowest_thinking_budget_where_zero_is_refused(tmp_path):
    client = FakeClient(lambda *_: "billing")
    run(tmp_path, labelled_examples(2), client, base_model="gemini-2.5-pro")
    assert {c["config"].thinking_config.thinking_budget for c in client.models.calls} == {128}


def test_gate_fails_when_tuned_does_not_beat_baseline(tmp_path):
    records = labelled_examples()
    client = FakeClient(lambda *_: "billing")  # both models identical
    result = run(tmp_path, records, client, baseline="gemini-2.5-flash", min_improvement=0.01)
    assert not result.gate.passed
    summary = result.summary()
    assert summary["passed"] is False and summary["score"] == pytest.approx(4 / 12)


def test_transient_errors_are_retried_and_permanent_ones_recorded_never_dropped(tmp_path):
    records = labelled_examples(24)  # 2 errors of 24: under evaluation.MAX_ERROR_RATE
    failures = {
        "ticket 0": [429, 503],  # retried, then answers
        "ticket 1": [400],  # a bad request: recorded, not retried
        "ticket 2": [503] * 50,  # never recovers: recorded after the attempts run out
    }
    key = answer_key(records)
    client = FakeClient(lambda m, prompt, c: key[prompt], failures)
    result = run(tmp_path, records, client, concurrency=4)

    predictions = result.tuned.predictions
    assert [p.index for p in predictions] == list(range(24))
    assert predictions[0].ok and predictions[0].attempts == 3
    assert predictions[1].error and predictions[1].status == 400 and predictions[1].attempts == 1
    assert predictions[2].status == 503 and predictions[2].attempts == FAST_RETRY.retry_attempts
    assert all(p.ok for p in predictions[3:])
    assert result.summary()["errors"] == 2
    # an error counts as a wrong (empty) answer
    assert result.tuned.metrics["exact_match"] == pytest.approx(22 / 24)

    out = tmp_path / "predictions.jsonl"
    result.write_predictions(str(out))
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(rows) == 24
    assert rows[1]["tuned"]["error"] and rows[1]["tuned"]["text"] is None
    assert rows[0]["tuned"]["text"] == rows[0]["reference"] and rows[0]["line"] == 1


def test_more_failed_requests_than_the_bound_fail_the_evaluation(tmp_path):
    """No answer is not a low score: above MAX_ERROR_RATE the evaluation fails, naming the
    commonest error, instead of scoring the failures as wrong answers."""
    records = labelled_examples(12)
    failures = {"ticket 1": [400], "ticket 2": [400]}  # 2 of 12: over 10 %
    client = FakeClient(lambda *_: "x", failures)
    with pytest.raises(EvaluationFailed, match="2 of 12 .* 400"):
        run(tmp_path, records, client, concurrency=2)


def test_a_wrong_endpoint_stops_the_run_with_a_user_error(tmp_path):
    records = labelled_examples(40)
    failures = {f"ticket {i}": [404] for i in range(40)}
    client = FakeClient(lambda *_: "x", failures)
    with pytest.raises(UserError, match="cannot be called"):
        run(tmp_path, records, client, concurrency=2)
    assert len(client.models.calls) < 40  # stopped early instead of failing 40 times


def test_a_setup_error_does_not_wait_out_other_threads_backoff(tmp_path):
    records = labelled_examples(8)
    failures = {"ticket 0": [503] * 50, "ticket 1": [404]}  # 503: backing off for long
    client = FakeClient(lambda *_: "x", failures)
    slow = Settings(retry_initial_seconds=30, retry_max_seconds=30, retry_attempts=3)
    path = write_jsonl(tmp_path / "eval.jsonl", records)
    config = EvalConfig(eval_data=path, endpoint=ENDPOINT, settings=slow, concurrency=2)
    started = time.monotonic()
    with pytest.raises(UserError):
        evaluate("p", "us-central1", config, client=client)
    assert time.monotonic() - started < 5


def test_requests_per_minute_limit_spaces_the_calls_across_threads(tmp_path):
    client = FakeClient(lambda *_: "billing")
    run(tmp_path, labelled_examples(30), client, concurrency=8, requests_per_minute=6000)
    sent = sorted(c["at"] for c in client.models.calls)
    assert len(sent) == 30
    assert sent[-1] - sent[0] >= 29 * 0.01  # 6,000 a minute: at least 10 ms apart


def test_bad_settings_fail_before_any_call(tmp_path):
    client = FakeClient(lambda *_: "x")
    for overrides, field in [
        ({"metric": "f2"}, "metric"),
        ({"gate": "improvement"}, "gate"),
        ({"concurrency": 0}, "concurrency"),
    ]:
        with pytest.raises(UserError) as info:
            run(tmp_path, labelled_examples(4), client, **overrides)
        assert info.value.field == field
    assert client.models.calls == []


def test_progress_is_logged(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="gemini_sft_kfp.evaluation")
    run(tmp_path, labelled_examples(20), FakeClient(lambda *_: "billing"))
    progress = [r.getMessage() for r in caplog.records if "done" in r.getMessage()]
    assert progress and progress[-1].startswith("tuned: 20/20 done, 0 errors, 0 retries")


def test_report_is_side_by_side_and_says_it_is_simulated(tmp_path):
    records = [*labelled_examples(6), example("a | pipe", "billing")]
    client = FakeClient(perfect_tuned_weak_baseline(records))
    result = run(tmp_path, records, client, baseline="gemini-2.5-flash", threshold=0.9)
    text = render(result)
    assert "Simulated" in text  # the fake sets x-emulator-simulated: true
    assert "| **exact_match** (gate) | 1.0000 |" in text
    assert "Confusion matrix (tuned" in text and "Confusion matrix (baseline" in text
    # baseline says "billing" to all 7: precision 3/7, recall 1 -> F1 0.6
    assert "| billing | 3 | 1.0000 | 0.6000 | +0.4000 |" in text  # F1 by label
    assert "a \\| pipe" in text
    assert "PASSED" in text


def test_a_setup_error_stops_the_other_workers_at_once(tmp_path):
    """The failing worker itself raises the stop flag: with instant 404s, the other
    workers must not drain the queue before the main thread wakes."""
    records = [example(f"ticket {i}", "billing") for i in range(40)]
    path = write_jsonl(tmp_path / "eval.jsonl", records)
    config = EvalConfig(
        eval_data=path, endpoint="projects/p/locations/us-central1/endpoints/1", concurrency=2
    )
    for _ in range(10):  # the race shows on some runs only: repeat
        client = FakeClient(lambda *_: "x", {f"ticket {i}": [404] for i in range(40)})
        with pytest.raises(UserError, match="cannot be called"):
            evaluate("p", "us-central1", config, client=client)
        assert len(client.models.calls) <= config.concurrency


def test_gemini_3_models_are_served_at_their_lowest_thinking_level(tmp_path):
    client = FakeClient(lambda *_: "billing")
    run(tmp_path, labelled_examples(2), client, base_model="gemini-3.5-flash")
    configs = [c["config"].thinking_config for c in client.models.calls]
    assert {(t.thinking_level.value, t.thinking_budget) for t in configs} == {("MINIMAL", None)}
