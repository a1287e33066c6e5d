"""Preference eval data: read as prompt + preferred reference + kept dispreferred
completion, and ``preference_accuracy``, a gate metric that needs no judge."""

from __future__ import annotations

import orjson
import pytest

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation import metrics as m
from gemini_sft_kfp.evaluation.eval_data import parse_lines
from gemini_sft_kfp.evaluation.evaluation import EvalConfig, evaluate, score
from gemini_sft_kfp.evaluation.gate import decide
from gemini_sft_kfp.evaluation.runner import Prediction
from tests.support.eval_helpers import example
from tests.support.preference_data import jsonl, preference_records, turn

FILE = "eval.jsonl"


def _parse(records: list[dict]):
    return parse_lines(jsonl(records), file=FILE)


def test_a_preference_line_is_prompt_preferred_reference_and_dispreferred():
    record = preference_records(1)[0]
    record["completions"].reverse()  # order does not matter: the score does
    record["system_instruction"] = {"parts": [{"text": "Route tickets."}]}
    (parsed,) = _parse([record])
    assert parsed.contents == record["contents"]
    assert parsed.reference == record["completions"][1]["completion"]["parts"][0]["text"]
    assert parsed.dispreferred == record["completions"][0]["completion"]["parts"][0]["text"]
    assert parsed.system_instruction == {"parts": [{"text": "Route tickets."}]}
    assert parsed.is_preference


def test_tuning_examples_have_no_dispreferred_completion():
    (parsed,) = _parse([example("q", "a")])
    assert parsed.dispreferred is None and not parsed.is_preference


def _bad(**changes) -> dict:
    record = preference_records(1)[0]
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        (
            _bad(contents=[turn("user", "q"), turn("model", "a")]),
            "contents[1].role",
            "end with a 'user' turn",
        ),
        (_bad(completions=[]), "completions", "exactly 2"),
        (
            _bad(
                completions=[
                    {"score": 1, "completion": turn("model", "a")},
                    {"score": 1, "completion": turn("model", "b")},
                ]
            ),
            "completions",
            "scored 1",
        ),
        (
            _bad(
                completions=[
                    {"score": 0.5, "completion": turn("model", "a")},
                    {"score": 0, "completion": turn("model", "b")},
                ]
            ),
            "completions[0].score",
            "0 or 1",
        ),
        (
            _bad(
                completions=[
                    {"score": 1, "completion": turn("user", "a")},
                    {"score": 0, "completion": turn("model", "b")},
                ]
            ),
            "completions[0].completion",
            "'model' turn",
        ),
    ],
)
def test_bad_preference_line_names_its_line_and_field(record, field, message):
    with pytest.raises(UserError, match=message) as info:
        _parse([preference_records(1)[1], record])
    assert (info.value.line, info.value.field) == (2, field)


def test_a_file_of_mixed_shapes_is_refused_at_the_first_odd_line():
    with pytest.raises(UserError, match="one shape") as info:
        _parse([*preference_records(1), example("q", "a")])
    assert info.value.line == len(preference_records(1)) + 1


def test_preference_wins_count_ties_half_and_no_answer_zero():
    preferred = ["routed to the billing queue"] * 4
    dispreferred = ["please contact support"] * 4
    answers = ["routed to billing", "please contact our support", "something else", ""]
    assert m.preference_wins(answers, preferred, dispreferred) == [1.0, 0.0, 0.5, 0.0]


def _predictions(texts: list[str]) -> list[Prediction]:
    return [Prediction(index=i, text=t) for i, t in enumerate(texts)]


def test_preference_accuracy_is_scored_only_for_preference_data():
    references, dispreferred = ["good answer here"] * 2, ["bad reply"] * 2
    predictions = _predictions(["good answer", "bad reply"])
    values, per_example, _ = score(
        predictions, references, classify=False, dispreferred=dispreferred
    )
    assert values["preference_accuracy"] == 0.5
    assert per_example["preference_accuracy"] == [1.0, 0.0]
    values, per_example, _ = score(predictions, references, classify=False)
    assert "preference_accuracy" not in values and "preference_accuracy" not in per_example


def test_preference_accuracy_is_a_gate_metric_with_threshold_and_improvement():
    passed = decide("preference_accuracy", 0.8, 0.5, threshold=0.6, min_improvement=0.1)
    failed = decide("preference_accuracy", 0.4, 0.5, threshold=0.3)
    assert passed.passed and not failed.passed
    assert "preference_accuracy 0.4000 vs baseline 0.5000" in failed.reason


def test_preference_accuracy_on_tuning_examples_is_refused_before_any_model_call(tmp_path):
    path = tmp_path / FILE
    path.write_bytes(orjson.dumps(example("q", "a")) + b"\n")
    config = EvalConfig(
        eval_data=str(path),
        endpoint="projects/p/locations/us-central1/endpoints/1",
        metric="preference_accuracy",
    )

    class NoCalls:
        def __getattr__(self, name):
            raise AssertionError(f"a model was called ({name})")

    with pytest.raises(UserError, match="needs preference eval data") as info:
        evaluate("p", "us-central1", config, client=NoCalls())
    assert info.value.field == "metric"
