"""Legacy formats convert to valid Gemini JSONL; failures leave no partial output."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from gemini_sft_kfp.components.validate_dataset.convert import (
    convert_file,
    convert_record,
    detect_format,
)
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from gemini_sft_kfp.core.errors import UserError

DATA = Path(__file__).with_name("data")
EXPECTED = {
    "systemInstruction": {"parts": [{"text": "Route tickets."}]},
    "contents": [
        {"role": "user", "parts": [{"text": "Where is my parcel?"}]},
        {"role": "model", "parts": [{"text": "queue: shipping"}]},
    ],
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("legacy_openai.jsonl", "openai"), ("legacy_gemini_1_0.jsonl", "gemini-1.0")],
)
def test_messages_formats_convert_with_system_instruction(tmp_path, name, fmt):
    out = tmp_path / "out.jsonl"
    result = convert_file(DATA / name, out)
    assert result.formats == {fmt: 1}
    assert orjson.loads(out.read_bytes()) == EXPECTED


@pytest.mark.parametrize(
    ("name", "fmt"), [("legacy_palm.jsonl", "palm"), ("legacy_gemini_api.jsonl", "gemini-api")]
)
def test_pair_formats_convert_to_one_user_and_one_model_turn(tmp_path, name, fmt):
    out = tmp_path / "out.jsonl"
    assert convert_file(DATA / name, out, fmt).examples == 1
    assert orjson.loads(out.read_bytes()) == {"contents": EXPECTED["contents"]}


def test_openai_tool_calls_images_and_tools_convert_and_validate(tmp_path):
    record = {
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture, and the weather?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,aGVsbG8="}},
            ]},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            }]},
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 3}'},
            {"role": "assistant", "content": "A cat; 3 degrees in Oslo."},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}],
    }  # fmt: skip
    converted, fmt = convert_record(record)
    assert fmt == "openai"
    user, call, response, answer = converted["contents"]
    assert user["parts"][1] == {
        "fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.png"}
    }
    assert user["parts"][2] == {"inlineData": {"mimeType": "image/jpeg", "data": "aGVsbG8="}}
    assert call == {
        "role": "model",
        "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}],
    }
    assert response["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"temp": 3},
    }
    assert answer["role"] == "model"
    assert converted["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(orjson.dumps(record) + b"\n")
    convert_file(src, out)
    report = validate_files(str(out))
    assert report.valid, [str(e) for e in report.errors]


def test_gemini_lines_pass_through_with_camel_case_keys(tmp_path):
    out = tmp_path / "out.jsonl"
    convert_file(DATA / "snake_case.jsonl", out)
    record = orjson.loads(out.read_bytes())
    assert set(record) == {"systemInstruction", "contents", "generationConfig"}
    assert record["contents"][0]["parts"][1] == {
        "fileData": {"mimeType": "image/png", "fileUri": "gs://b/x.png"}
    }
    assert record["generationConfig"] == {"mediaResolution": "MEDIA_RESOLUTION_LOW"}


def test_unconvertible_line_names_file_and_line_and_leaves_no_output(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    good = orjson.dumps({"input_text": "a", "output_text": "b"})
    src.write_bytes(good + b"\n" + b'{"prompt": "a", "completion": "b"}\n')
    with pytest.raises(UserError) as info:
        convert_file(src, out)
    assert (info.value.file, info.value.line) == (str(src), 2)
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_lenient_mode_keeps_line_numbers_for_the_validator(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    palm = orjson.dumps({"input_text": "a", "output_text": "b"})
    src.write_bytes(palm + b"\n\n{oops\n" + palm + b"\n")
    result = convert_file(src, out, strict=False)
    assert result.examples == 2 and result.passed_through == 1
    report = validate_files(str(out))
    assert [(e.line, e.code) for e in report.errors] == [(3, "invalid_json")]


def test_detect_format():
    assert detect_format({"contents": []}) == "gemini"
    assert detect_format({"messages": [{"role": "assistant", "content": "x"}]}) == "openai"
    assert detect_format({"messages": [{"role": "model", "content": "x"}]}) == "gemini-1.0"
    assert detect_format({"input_text": "a", "output_text": "b"}) == "palm"
    assert detect_format({"text_input": "a", "output": "b"}) == "gemini-api"
    assert detect_format({"prompt": "a"}) is None
    assert detect_format([1]) is None


def test_unknown_source_format_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown source format"):
        convert_file(DATA / "legacy_palm.jsonl", tmp_path / "o.jsonl", "jsonl-v9")


# ---- preference formats ---------------------------------------------------------------

PROMPT = [
    {"role": "system", "content": "Route tickets."},
    {"role": "user", "content": "Where is my parcel?"},
]
PREFERENCE = {
    "systemInstruction": {"parts": [{"text": "Route tickets."}]},
    "contents": [{"role": "user", "parts": [{"text": "Where is my parcel?"}]}],
    "completions": [
        {"score": 1, "completion": {"role": "model", "parts": [{"text": "queue: shipping"}]}},
        {"score": 0, "completion": {"role": "model", "parts": [{"text": "queue: returns"}]}},
    ],
}
ANSWER = {"role": "assistant", "content": "queue: shipping"}
WRONG = {"role": "assistant", "content": "queue: returns"}

PREFERENCE_ROWS = {
    "openai-dpo": {
        "input": {"messages": PROMPT, "tools": [], "parallel_tool_calls": True},
        "preferred_output": [ANSWER],
        "non_preferred_output": [WRONG],
    },
    "trl-conversational": {"prompt": PROMPT, "chosen": [ANSWER], "rejected": [WRONG]},
    "trl-implicit-prompt": {"chosen": [*PROMPT, ANSWER], "rejected": [*PROMPT, WRONG]},
    # UltraFeedback-style: the prompt given, and repeated at the start of both answers
    "trl-prompt-repeated": {
        "prompt": PROMPT,
        "chosen": [*PROMPT, ANSWER],
        "rejected": [*PROMPT, WRONG],
        "score_chosen": 8.5,
    },
}


@pytest.mark.parametrize("name", sorted(PREFERENCE_ROWS))
def test_preference_rows_convert_to_gemini_preference_lines_that_validate(tmp_path, name):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes((orjson.dumps(PREFERENCE_ROWS[name]) + b"\n") * 20)
    result = convert_file(src, out)
    assert result.formats == {name.split("-")[0] if name != "openai-dpo" else name: 20}
    assert orjson.loads(out.read_bytes().splitlines()[0]) == PREFERENCE
    report = validate_files(str(out))
    assert report.valid and report.method == "preference", [str(e) for e in report.errors]


def test_plain_text_trl_rows_with_a_prompt_convert(tmp_path):
    row = {"prompt": "Where is my parcel?", "chosen": "queue: shipping", "rejected": "nope"}
    converted, fmt = convert_record(row)
    assert fmt == "trl"
    assert converted["contents"] == PREFERENCE["contents"]
    assert [c["completion"]["parts"][0]["text"] for c in converted["completions"]] == [
        "queue: shipping",
        "nope",
    ]


@pytest.mark.parametrize(
    ("row", "field", "says"),
    [
        ({"chosen": "The sky is blue.", "rejected": "The sky is green."}, "prompt", "prompt"),
        ({"chosen": [ANSWER], "rejected": [WRONG]}, "prompt", "cannot be found"),
        (
            {"prompt": "a", "chosen": [*PROMPT, ANSWER], "rejected": [*PROMPT, WRONG]},
            "prompt",
            "not the `prompt`",
        ),
        (
            {"prompt": PROMPT, "chosen": [ANSWER, {"role": "user", "content": "?"}],
             "rejected": [WRONG]},
            "chosen[1].role",
            "assistant messages only",
        ),
        (
            {
                "input": {"messages": [{"role": "user", "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ]}]},
                "preferred_output": [ANSWER],
                "non_preferred_output": [WRONG],
            },
            "input.messages",
            "text only",
        ),
        (
            {
                "input": {"messages": PROMPT, "tools": [{"type": "function"}]},
                "preferred_output": [ANSWER],
                "non_preferred_output": [WRONG],
            },
            "input.tools",
            "text only",
        ),
        (
            {"input": {"messages": [*PROMPT, ANSWER]}, "preferred_output": [ANSWER],
             "non_preferred_output": [WRONG]},
            "input.messages",
            "end with a user message",
        ),
    ],
)  # fmt: skip
def test_unconvertible_preference_rows_are_refused_naming_the_field(tmp_path, row, field, says):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(orjson.dumps(PREFERENCE_ROWS["openai-dpo"]) + b"\n" + orjson.dumps(row) + b"\n")
    with pytest.raises(UserError) as info:
        convert_file(src, out)
    assert (info.value.line, info.value.field) == (2, field)
    assert says in info.value.message
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


# ---- OpenAI "weight": 0 ----------------------------------------------------------------

WEIGHTED = {
    "messages": [
        {"role": "user", "content": "Where is my parcel?"},
        {"role": "assistant", "content": "Let me check.", "weight": 0},
        {"role": "user", "content": "Order 12."},
        {"role": "assistant", "content": "queue: shipping", "weight": 1},
    ]
}


def test_weight_zero_turns_are_refused_by_default_naming_the_choices(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(orjson.dumps(WEIGHTED) + b"\n")
    with pytest.raises(UserError) as info:
        convert_file(src, out)
    assert (info.value.line, info.value.field) == (1, "messages[1].weight")
    assert "--weight-zero drop" in info.value.message and "--weight-zero keep" in info.value.message
    assert not out.exists()


def test_weight_zero_turns_dropped_or_kept_on_request(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(orjson.dumps(WEIGHTED) + b"\n")
    dropped = convert_file(src, tmp_path / "drop.jsonl", weight_zero="drop")
    record = orjson.loads((tmp_path / "drop.jsonl").read_bytes())
    assert dropped.weight_zero_turns == 1
    assert [t["role"] for t in record["contents"]] == ["user", "model"]  # user turns merged
    assert [p["text"] for p in record["contents"][0]["parts"]] == [
        "Where is my parcel?",
        "Order 12.",
    ]
    kept = convert_file(src, tmp_path / "keep.jsonl", weight_zero="keep")
    record = orjson.loads((tmp_path / "keep.jsonl").read_bytes())
    assert kept.weight_zero_turns == 1
    assert [t["role"] for t in record["contents"]] == ["user", "model", "user", "model"]
    assert "weight" not in (tmp_path / "keep.jsonl").read_text()


def test_a_weight_other_than_0_or_1_is_refused(tmp_path):
    row = {"messages": [{"role": "user", "content": "a"}, {**ANSWER, "weight": 0.5}]}
    with pytest.raises(UserError, match="must be 0 or 1"):
        convert_record(row, weight_zero="keep")
