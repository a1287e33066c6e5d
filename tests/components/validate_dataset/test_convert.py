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
