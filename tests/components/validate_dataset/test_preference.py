"""Preference data: recognised by its shape, every rule per line, caps and split of its own."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
from gemini_sft_kfp.components.validate_dataset import scan
from gemini_sft_kfp.components.validate_dataset.executor import run as prepare_dataset
from gemini_sft_kfp.components.validate_dataset.file_checks import max_validation_examples
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import get_model_spec
from tests.support import REPO

EXAMPLES = REPO / "examples" / "data"
BAD_LINE = 7
IMAGE = {"inlineData": {"mimeType": "image/png", "data": "aGVsbG8="}}


def turn(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"text": text}]}


def pair(prompt: str = "Where is my parcel?", good: str = "queue: shipping", bad="queue: returns"):
    return {
        "contents": [turn("user", prompt)],
        "completions": [
            {"score": 1, "completion": turn("model", good)},
            {"score": 0, "completion": turn("model", bad)},
        ],
    }


def sft(prompt: str = "Where is my parcel?") -> dict:
    return {"contents": [turn("user", prompt), turn("model", "queue: shipping")]}


def write_jsonl(path: Path, records) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return str(path)


def _ends_on_model(r):
    r["contents"] += [turn("model", "queue: shipping")]


def _three_completions(r):
    r["completions"].append({"score": 0, "completion": turn("model", "no idea")})


def _two_preferred(r):
    r["completions"][1]["score"] = 1


def _fractional(r):
    r["completions"][1]["score"] = 0.5


def _boolean(r):
    r["completions"][0]["score"] = True


def _string_score(r):
    r["completions"][0]["score"] = "1"


def _assistant_role(r):
    r["completions"][0]["completion"]["role"] = "assistant"


def _image_in_prompt(r):
    r["contents"][0]["parts"].append(IMAGE)


def _image_in_completion(r):
    r["completions"][1]["completion"]["parts"] = [IMAGE]


def _function_call(r):
    r["completions"][0]["completion"]["parts"] = [{"functionCall": {"name": "route"}}]


def _no_score(r):
    del r["completions"][1]["score"]


def _completion_is_text(r):
    r["completions"][0]["completion"] = "queue: shipping"


# mutation -> (code, field) of the one error it must cause, on its line only
BROKEN = {
    "ends_on_model": (_ends_on_model, "last_turn_not_user", "contents[1].role"),
    "three_completions": (_three_completions, "completions_not_two", "completions"),
    "two_preferred": (_two_preferred, "scores_not_a_pair", "completions"),
    "fractional_score": (_fractional, "score_invalid", "completions[1].score"),
    "boolean_score": (_boolean, "score_invalid", "completions[0].score"),
    "string_score": (_string_score, "score_invalid", "completions[0].score"),
    "no_score": (_no_score, "score_missing", "completions[1].score"),
    "assistant_role": (
        _assistant_role,
        "completion_role_invalid",
        "completions[0].completion.role",
    ),
    "image_in_prompt": (_image_in_prompt, "not_text_only", "contents[0].parts[1].inlineData"),
    "image_in_completion": (
        _image_in_completion,
        "not_text_only",
        "completions[1].completion.parts[0].inlineData",
    ),
    "function_call": (
        _function_call,
        "not_text_only",
        "completions[0].completion.parts[0].functionCall",
    ),
    "completion_not_a_turn": (
        _completion_is_text,
        "completion_not_object",
        "completions[0].completion",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_preference_line_is_refused_naming_that_line_and_nothing_else(tmp_path, case):
    mutate, code, field = BROKEN[case]
    records = [pair(f"ticket {i}") for i in range(1, 21)]
    mutate(records[BAD_LINE - 1])
    path = write_jsonl(tmp_path / "pref.jsonl", records)
    report = validate_files(path)
    assert report.method == "preference"
    assert [(e.file, e.line, e.code, e.field) for e in report.errors] == [
        (path, BAD_LINE, code, field)
    ]
    assert not report.warnings, [str(w) for w in report.warnings]
    assert field.split(".")[-1].split("[")[0] in report.errors[0].message


def test_the_sample_preference_files_are_valid_preference_data_with_token_counts():
    report = validate_files(
        str(EXAMPLES / "preference_train.jsonl"), str(EXAMPLES / "preference_validation.jsonl")
    )
    assert report.valid and not report.warnings, [str(f) for f in report.errors + report.warnings]
    assert report.method == report.stats["method"] == report.to_dict()["method"] == "preference"
    train = report.stats["files"]["train"]
    assert (report.examples, train["turns"]) == (80, 240)  # a prompt and two completions each
    assert train["inputTokens"]["min"] > train["outputTokens"]["max"] > 0
    assert train["totalTokens"] == train["inputTokens"]["sum"] + train["outputTokens"]["sum"]
    # each completion is trained with the prompt: input counted once per completion
    assert (
        train["billableTokensPerEpoch"]
        == 2 * train["inputTokens"]["sum"] + train["outputTokens"]["sum"]
    )


def test_the_fast_path_agrees_with_every_check(tmp_path, monkeypatch):
    records = [pair(f"ticket {i} " + "x" * i, good="g" * (i % 9 + 1)) for i in range(40)]
    records[3]["systemInstruction"] = {"parts": [{"text": "Route tickets."}]}
    records[5]["completions"].reverse()  # the dispreferred one first
    path = write_jsonl(tmp_path / "pref.jsonl", records)
    fast = validate_files(path).stats
    monkeypatch.setattr(scan, "make_fast_preference_tokens", lambda limit: lambda record: None)
    slow = validate_files(path).stats
    assert fast == slow


def test_the_token_limit_is_the_input_with_each_completion(tmp_path, tiny_model):
    prompt = "p" * 120  # 30 estimated tokens
    within = pair(prompt, good="g" * 60, bad="b" * 60)  # 30 + 15 each: 45 <= 50 (60 in all)
    over = pair(prompt, good="g" * 60, bad="b" * 84)  # 30 + 21 = 51 > 50
    path = write_jsonl(tmp_path / "pref.jsonl", [within] * 3 + [over])
    report = validate_files(path, model=tiny_model)
    finding = next(w for w in report.warnings if w.code == "over_token_limit")
    assert finding.line == 4 and report.stats["files"]["train"]["overTokenLimit"]["lines"] == [4]


def test_a_file_of_mixed_shapes_names_each_line_of_the_other_method(tmp_path):
    records = [pair(f"ticket {i}") for i in range(20)]
    records[4] = sft()
    path = write_jsonl(tmp_path / "mixed.jsonl", records)
    report = validate_files(path)
    assert [(e.line, e.code) for e in report.errors] == [(5, "method_mismatch")]
    assert "supervised example" in report.errors[0].message
    assert f"{path}:1" in report.errors[0].message  # what decided the file's method

    records = [sft(f"ticket {i}") for i in range(20)]
    records[2] = pair()
    report = validate_files(write_jsonl(tmp_path / "mixed_sft.jsonl", records))
    assert report.method == "supervised"
    assert [(e.line, e.code, e.field) for e in report.errors] == [
        (3, "method_mismatch", "completions")
    ]


def test_the_sft_validator_no_longer_calls_a_preference_file_valid_sft(tmp_path):
    path = str(EXAMPLES / "preference_train.jsonl")
    report = validate_files(path, method="supervised")
    assert [(e.line, e.code) for e in report.errors] == [(1, "method_mismatch")]
    assert not report.warnings  # not a line-by-line flood: one finding for the file


def test_asked_method_applies_to_the_validation_file_even_when_training_is_refused(tmp_path):
    validation = write_jsonl(tmp_path / "val.jsonl", [pair(f"v {i}") for i in range(3)])
    report = validate_files(str(EXAMPLES / "train.jsonl"), validation, method="preference")
    assert [(e.file, e.code) for e in report.errors] == [
        (str(EXAMPLES / "train.jsonl"), "method_mismatch")
    ]
    assert report.stats["files"]["validation"]["validExamples"] == 3


def test_a_validation_file_of_the_other_method_is_one_finding(tmp_path):
    report = validate_files(
        str(EXAMPLES / "preference_train.jsonl"), str(EXAMPLES / "validation.jsonl")
    )
    assert [(e.file, e.line, e.code) for e in report.errors] == [
        (str(EXAMPLES / "validation.jsonl"), 1, "method_mismatch")
    ]
    assert "the training file holds preference data" in report.errors[0].message


def test_an_unknown_method_is_a_user_error():
    with pytest.raises(UserError, match="unknown tuning method"):
        validate_files(str(EXAMPLES / "preference_train.jsonl"), method="dpo")


def test_validation_caps_apply_to_preference_data(tmp_path, tiny_model):
    train = write_jsonl(tmp_path / "train.jsonl", [pair(f"t {i}") for i in range(10)])
    validation = write_jsonl(tmp_path / "val.jsonl", [pair(f"v {i}") for i in range(4)])
    report = validate_files(train, validation, model=tiny_model)
    assert "too_many_validation_examples" in {e.code for e in report.errors}


def test_over_1000_validation_examples_above_30_percent_of_training_is_a_warning(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", [pair(f"t {i}") for i in range(3000)])
    validation = write_jsonl(tmp_path / "val.jsonl", [pair(f"v {i}") for i in range(1001)])
    report = validate_files(train, validation, model="gemini-2.5-flash")
    assert report.valid
    finding = next(w for w in report.warnings if w.code == "unconfirmed_limit")
    assert "30 %" in finding.message and finding.file == validation


def test_the_split_keeps_the_preference_validation_set_within_its_caps():
    spec = get_model_spec("gemini-2.5-flash")
    assert max_validation_examples(spec, "supervised", 10_000) == 5000
    held_out = max_validation_examples(spec, "preference", 10_000)
    assert held_out == 2307 and held_out <= 0.3 * (10_000 - held_out)
    assert max_validation_examples(spec, "preference", 2000) == 1000  # up to 1,000: no 30 %
    assert max_validation_examples(spec, "preference", 100_000) == 5000


def test_the_pipeline_step_detects_splits_and_keeps_preference_lines(tmp_path):
    prepared = prepare_dataset(
        str(EXAMPLES / "preference_train.jsonl"),
        validation_split=0.25,
        split_seed=3,
        train_out=str(tmp_path / "train"),
        validation_out=str(tmp_path / "validation"),
    )
    assert prepared.method == "preference"
    assert (prepared.train_examples, prepared.validation_examples) == (60, 20)
    written = [orjson.loads(x) for x in (tmp_path / "validation").read_bytes().splitlines()]
    assert all(len(r["completions"]) == 2 for r in written)
    assert "preference tuning data" in prepared.markdown


def test_the_pipeline_step_refuses_sft_data_when_preference_is_asked(tmp_path):
    with pytest.raises(UserError, match="method_mismatch"):
        prepare_dataset(
            str(EXAMPLES / "train.jsonl"),
            method="preference",
            train_out=str(tmp_path / "train"),
            validation_out=str(tmp_path / "validation"),
        )
    assert not (tmp_path / "train").exists()


def test_snake_case_preference_lines_are_normalised(tmp_path):
    record = copy.deepcopy(pair())
    record["system_instruction"] = {"parts": [{"text": "Route tickets."}]}
    src = write_jsonl(tmp_path / "pref.jsonl", [record] * 20)
    prepared = prepare_dataset(
        src, train_out=str(tmp_path / "train"), validation_out=str(tmp_path / "validation")
    )
    assert prepared.method == "preference"
    first = orjson.loads((tmp_path / "train").read_bytes().splitlines()[0])
    assert set(first) == {"systemInstruction", "contents", "completions"}
