"""Reading eval JSONL: the reference, the prompt, and errors that name file/line/field."""

from __future__ import annotations

import orjson
import pytest

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.evaluation.eval_data import parse_lines, read_examples
from tests.support.eval_helpers import example, write_jsonl

USER = {"role": "user", "parts": [{"text": "q"}]}
ANSWER = {"role": "model", "parts": [{"text": "a"}]}


def test_reference_is_the_last_model_turn_and_prompt_is_everything_before(tmp_path):
    record = {
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"text": "hello"}]},
            {"role": "user", "parts": [{"text": "2+2?"}]},
            {"role": "model", "parts": [{"text": "4"}, {"text": "!"}]},
            {"role": "user", "parts": [{"text": "ignored trailing turn"}]},
        ],
    }
    [ex] = read_examples(write_jsonl(tmp_path / "e.jsonl", [record]))
    assert ex.reference == "4!"
    assert [t["role"] for t in ex.contents] == ["user", "model", "user"]
    assert ex.prompt_text == "2+2?"
    assert ex.system_instruction == {"parts": [{"text": "be brief"}]}
    assert ex.line == 1


def test_snake_case_keys_are_accepted():
    line = orjson.dumps(
        {
            "system_instruction": {"parts": [{"text": "sys"}]},
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"file_data": {"mime_type": "image/png", "file_uri": "gs://b/x.png"}}
                    ],
                },
                {"role": "model", "parts": [{"text": "a cat"}]},
            ],
        }
    )
    [ex] = parse_lines(line, file="e.jsonl")
    assert ex.system_instruction == {"parts": [{"text": "sys"}]}
    assert ex.contents[0]["parts"][0] == {
        "fileData": {"mimeType": "image/png", "fileUri": "gs://b/x.png"}
    }


def test_blank_lines_are_skipped_and_line_numbers_kept():
    data = b"\n" + orjson.dumps(example("a", "x")) + b"\n\n" + orjson.dumps(example("b", "y"))
    examples = parse_lines(data, file="e.jsonl")
    assert [(e.index, e.line) for e in examples] == [(0, 2), (1, 4)]


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "contents", "convert"),
        ({"contents": [{"role": "user", "parts": [{"text": "q"}]}]}, "contents", "model"),
        (
            {"contents": [{"role": "assistant", "parts": [{"text": "q"}]}]},
            "contents[0].role",
            "role",
        ),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "q", "fileData": {}}]},
                    {"role": "model", "parts": [{"text": "a"}]},
                ]
            },
            "contents[0].parts[0]",
            "exactly one",
        ),
        ({"contents": [{"role": "model", "parts": [{"text": "a"}]}]}, "contents", "prompt"),
        # a wrong type inside a part: every request (or batch line) would be refused, and
        # a non-text reference answer was a TypeError traceback
        (
            {"contents": [{"role": "user", "parts": [{"text": 5}]}, ANSWER]},
            "contents[0].parts[0].text",
            "string",
        ),
        (
            {"contents": [USER, {"role": "model", "parts": [{"text": ["a"]}]}]},
            "contents[1].parts[0].text",
            "string",
        ),
        (
            {
                "contents": [
                    {"role": "user", "parts": [{"fileData": {"fileUri": 5, "mimeType": "a/b"}}]},
                    ANSWER,
                ]
            },
            "contents[0].parts[0].fileData.fileUri",
            "string",
        ),
        (
            {"contents": [{"role": "user", "parts": [{"inlineData": "abc"}]}, ANSWER]},
            "contents[0].parts[0].inlineData",
            "object",
        ),
        (
            {"contents": [USER, ANSWER], "systemInstruction": {"parts": "x"}},
            "systemInstruction",
            "parts",
        ),
        (
            {"contents": [USER, ANSWER], "systemInstruction": {"parts": [{"text": 1}]}},
            "systemInstruction.parts[0].text",
            "string",
        ),
    ],
)
def test_bad_lines_raise_user_error_naming_file_line_and_field(tmp_path, record, field, words):
    path = write_jsonl(tmp_path / "bad.jsonl", [example("ok", "fine"), record])
    with pytest.raises(UserError) as info:
        read_examples(path)
    error = info.value
    assert (error.file, error.line, error.field) == (path, 2, field)
    assert words in error.message


def test_invalid_json_and_missing_file(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"contents": [\n')
    with pytest.raises(UserError) as info:
        read_examples(str(path))
    assert info.value.line == 1 and "JSON" in info.value.message
    with pytest.raises(UserError, match="no such file"):
        read_examples(str(tmp_path / "missing.jsonl"))
    (tmp_path / "empty.jsonl").write_bytes(b"\n")
    with pytest.raises(UserError, match="no examples"):
        read_examples(str(tmp_path / "empty.jsonl"))


def test_max_examples_limits_reading(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [example(str(i), "x") for i in range(5)])
    assert len(read_examples(path, max_examples=2)) == 2


def test_examples_are_held_compactly_and_share_one_system_instruction(tmp_path):
    """10,000 examples must not cost a dict tree each (issue 15's batch memory target)."""
    import sys

    system = {"systemInstruction": {"parts": [{"text": "route the ticket " * 40}]}}
    records = [{**system, **example(f"ticket {i}", "billing", None)} for i in range(3)]
    first, second, third = read_examples(write_jsonl(tmp_path / "e.jsonl", records))
    assert first.system_json is second.system_json is third.system_json
    assert first.system_instruction == system["systemInstruction"]
    assert first.contents == [{"role": "user", "parts": [{"text": "ticket 0"}]}]
    # exact-size bytes, not orjson's kilobytes-large output buffer
    assert sys.getsizeof(first.contents_json) < len(first.contents_json) + 64
    assert not hasattr(first, "__dict__")
