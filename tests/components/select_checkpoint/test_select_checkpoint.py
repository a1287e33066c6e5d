"""The best checkpoint by measurement: scored on the eval set, made the default."""

from __future__ import annotations

import orjson
import pytest
from gemini_sft_kfp.components.select_checkpoint.executor import choose
from gemini_sft_kfp.components.select_checkpoint.executor import run as select_checkpoint

from tests.support import REPO

EVAL = REPO / "examples" / "data" / "eval.jsonl"
CHECKPOINTS = orjson.dumps(
    [
        {"checkpointId": str(i), "epoch": i, "step": 10 * i, "endpoint": f"endpoints/e{i}"}
        for i in (1, 2, 3)
    ]
).decode()


def pick(scores: dict[str, float], *, enabled=True, checkpoints=CHECKPOINTS):
    patched: list[str] = []
    choice = choose(
        model="projects/p/locations/l/models/m@1",
        endpoint="endpoints/e3",
        checkpoints=checkpoints,
        metric="exact_match",
        enabled=enabled,
        score_endpoint=lambda endpoint: {"exact_match": scores[endpoint]},
        set_default=patched.append,
    )
    return choice, patched


def test_an_earlier_better_checkpoint_becomes_the_default():
    choice, patched = pick({"endpoints/e1": 0.5, "endpoints/e2": 0.9, "endpoints/e3": 0.7})
    assert (choice.checkpoint_id, choice.endpoint, choice.score) == ("2", "endpoints/e2", 0.9)
    assert patched == ["2"] and choice.default_changed
    report = choice.report(simulated=False)
    assert "| 2 **(best)** | 2 | 0.9000 |" in report and "| 1 | 1 | 0.5000 |" in report


def test_a_tie_keeps_the_later_default_and_patches_nothing():
    choice, patched = pick({"endpoints/e1": 0.5, "endpoints/e2": 0.9, "endpoints/e3": 0.9})
    assert choice.checkpoint_id == "3" and patched == [] and not choice.default_changed


@pytest.mark.parametrize(
    ("enabled", "checkpoints"),
    [(False, CHECKPOINTS), (True, orjson.dumps([orjson.loads(CHECKPOINTS)[2]]).decode())],
)
def test_nothing_is_evaluated_when_disabled_or_single(enabled, checkpoints):
    choice, patched = pick({}, enabled=enabled, checkpoints=checkpoints)  # {}: no scoring
    assert choice.endpoint == "endpoints/e3" and choice.checkpoint_id == "3"
    assert patched == [] and choice.scores == [] and choice.score == -1.0


def test_against_the_emulator_each_checkpoint_is_scored_and_default_patched(emu):
    from gemini_sft_kfp.components.select_checkpoint.executor import set_default_checkpoint
    from gemini_sft_kfp.emulator import DEFAULT_LOCATION, DEFAULT_PROJECT

    from tests.support.emu_helpers import genai
    from tests.support.model_helpers import upload_training_data

    client = genai()
    from google.genai import types

    job = client.tunings.tune(
        base_model="gemini-2.5-flash",
        training_dataset=types.TuningDataset(gcs_uri=upload_training_data()),
        config=types.CreateTuningJobConfig(epoch_count=3),
    )
    from tests.support.emu_helpers import wait_terminal

    tuned = wait_terminal(client, job.name).tuned_model
    checkpoints = [
        {"checkpointId": c.checkpoint_id, "epoch": c.epoch, "endpoint": c.endpoint}
        for c in tuned.checkpoints
    ]
    choice = select_checkpoint(
        DEFAULT_PROJECT,
        DEFAULT_LOCATION,
        model=tuned.model,
        endpoint=tuned.endpoint,
        checkpoints=orjson.dumps(checkpoints).decode(),
        eval_data=str(EVAL),
        base_model="gemini-2.5-flash",
    )
    scores = [s.score for s in choice.scores]
    assert len(scores) == 3 and scores[0] < scores[-1]  # the simulated learning curve
    assert choice.checkpoint_id == "3" and not choice.default_changed

    set_default_checkpoint(client, tuned.model, "1")  # the PATCH the component sends
    assert client.models.get(model=tuned.model).default_checkpoint_id == "1"
    with pytest.raises(Exception, match="does not exist"):
        set_default_checkpoint(client, tuned.model, "9")


@pytest.mark.parametrize(
    ("metric", "compared_with"),
    [("judge_win_rate", "gemini-2.5-flash"), ("judge_rubric", ""), ("exact_match", "")],
)
def test_a_judge_gate_metric_scores_the_checkpoints_with_the_gates_baseline_and_rubric(
    monkeypatch, metric, compared_with
):
    """The pipelines pass the gate's baseline and rubric: win_rate compares each
    checkpoint with that baseline (no other metric runs it); rubric gets its criteria."""
    from gemini_sft_kfp.evaluation import evaluation

    configs = []

    def evaluate(project, location, config, *, client=None):
        evaluation.check_config(config)  # what the real evaluation checks first
        configs.append(config)
        score = {"1": 0.2, "2": 0.8, "3": 0.5}[config.endpoint[-1]]  # e1 .. e3
        metrics = {metric: score}
        return type("Result", (), {"tuned": type("Run", (), {"metrics": metrics})})()

    monkeypatch.setattr(evaluation, "evaluate", evaluate)
    checkpoints = orjson.dumps(
        [
            {
                "checkpointId": str(i),
                "epoch": i,
                "endpoint": f"projects/p/locations/l/endpoints/e{i}",
            }
            for i in (1, 2, 3)
        ]
    ).decode()
    patched = []
    monkeypatch.setattr(
        "gemini_sft_kfp.components.select_checkpoint.executor.set_default_checkpoint",
        lambda client, model, checkpoint_id: patched.append(checkpoint_id),
    )
    choice = select_checkpoint(
        "p",
        "l",
        model="projects/p/locations/l/models/m@1",
        endpoint="projects/p/locations/l/endpoints/e3",
        checkpoints=checkpoints,
        eval_data=str(EVAL),
        metric=metric,
        baseline="gemini-2.5-flash",
        judge_rubric="Answers in one polite sentence.",
        client=object(),
    )
    assert choice.checkpoint_id == "2" and patched == ["2"]
    assert [c.baseline for c in configs] == [compared_with] * 3
    assert {c.judge_rubric for c in configs} == {"Answers in one polite sentence."}
    assert {c.judges for c in configs} == (
        {(metric[len("judge_") :],)} if "judge" in metric else {()}
    )
