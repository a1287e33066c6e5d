"""Preference tuning moves the simulated model toward the preferred completions, and both
gate metrics see it: ``preference_accuracy`` (computed) and ``judge_win_rate`` (the
emulator's simulated pairwise judge) rise over the starting model on a good preference set
and fall on the same set with preferred and dispreferred swapped."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch_tuning_job
from gemini_sft_kfp.components.wait_for_tuning_job.executor import run as wait_for_tuning_job
from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate
from gemini_sft_kfp.evaluation.report import render
from tests.support.emu_helpers import upload
from tests.support.preference_data import (
    GENERIC,
    TOPICS,
    jsonl,
    preference_records,
    preferred,
    turn,
)

pytestmark = pytest.mark.usefixtures("no_retry_sleep")

FAST_POLL = {"poll_initial_seconds": 0.05, "poll_max_seconds": 0.2}
BUCKET = "gs://pref-eval"


def _tune(train_uri: str, task: str, **kwargs):
    name = launch_tuning_job(
        DEFAULT_PROJECT,
        DEFAULT_LOCATION,
        training_dataset_uri=train_uri,
        base_model="gemini-2.5-flash",
        pipeline_job_id="run-1",
        task_name=task,
        epochs=1,
        **kwargs,
    )
    return wait_for_tuning_job(DEFAULT_PROJECT, DEFAULT_LOCATION, name, **FAST_POLL)


@pytest.fixture
def start_model(emu):
    """An SFT model that answers two topics as preferred and the others generically."""
    records = []
    for i in range(4):
        for position, (word, queue) in enumerate(TOPICS):
            answer = preferred(queue) if position < 2 else GENERIC
            prompt = f"Ticket {i}: a problem with my {word}, case {i}"
            records.append({"contents": [turn("user", prompt), turn("model", answer)]})
    return _tune(upload(jsonl(records), f"{BUCKET}/sft.jsonl"), "sft")


def _evaluate(tmp_path, endpoint: str, baseline: str, metric: str):
    eval_path = tmp_path / "eval.jsonl"
    eval_path.write_bytes(jsonl(preference_records(2, start=100)))  # held-out prompts
    config = EvalConfig(
        eval_data=str(eval_path), endpoint=endpoint, baseline=baseline, metric=metric
    )
    return evaluate(DEFAULT_PROJECT, DEFAULT_LOCATION, config)


@pytest.mark.parametrize("swap", [False, True])
def test_preference_tuning_wins_on_a_good_set_and_loses_on_a_swapped_one(
    emu, tmp_path, start_model, swap
):
    data = upload(jsonl(preference_records(4, swap=swap)), f"{BUCKET}/pref-{swap}.jsonl")
    tuned = _tune(data, "pref", method="preference", pre_tuned_model=start_model.tuned_model)
    start = start_model.tuned_endpoint

    computed = _evaluate(tmp_path, tuned.tuned_endpoint, start, "preference_accuracy")
    tuned_score = computed.tuned.metrics["preference_accuracy"]
    start_score = computed.baseline.metrics["preference_accuracy"]
    assert 0.2 < start_score < 0.6  # the start model knows two topics of five
    report = render(computed)
    assert "preference lines: the reference is the preferred completion" in report
    assert "**preference_accuracy** (gate)" in report
    if swap:
        assert tuned_score < start_score and not computed.gate.passed
    else:
        assert tuned_score > start_score and computed.gate.passed

    judged = _evaluate(tmp_path, tuned.tuned_endpoint, start, "judge_win_rate")
    win_rate = judged.tuned.metrics["judge_win_rate"]
    assert judged.simulated
    assert "preference_accuracy" in judged.tuned.metrics  # reported beside the judge
    if swap:
        assert win_rate < 0.5
    else:
        assert win_rate > 0.5
