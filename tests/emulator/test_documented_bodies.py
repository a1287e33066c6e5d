"""Google's documented request bodies are answered as Vertex answers them.

Vertex AI's JSON transcoding reads a body into the request proto the proto3-JSON way and
a little more: field names in lowerCamel or the original snake_case, a single object for
a repeated message field, enum names in any case. It still refuses unknown fields and
wrong types. Both sides, table-driven, through the emulator's HTTP front end.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.emu_helpers import PARENT, call

# The SFT guide's "evaluate the tuned model" curl body, as printed
SFT_GUIDE_BODY = {
    "contents": [{"role": "USER", "parts": {"text": "Why is sky blue?"}}],
    "generation_config": {"temperature": 0.1, "topP": 0.95, "topK": 40, "maxOutputTokens": 2048},
}
TEXT = [{"role": "user", "parts": [{"text": "hello"}]}]
SAFETY = {"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}

ACCEPTED = {
    "sft guide body": SFT_GUIDE_BODY,
    "lowerCamel": {"contents": TEXT, "generationConfig": {"maxOutputTokens": 8}},
    "snake_case nested": {"contents": TEXT, "generation_config": {"max_output_tokens": 8}},
    "single content object": {"contents": {"role": "user", "parts": [{"text": "hi"}]}},
    "single part object": {"contents": [{"role": "user", "parts": {"text": "hi"}}]},
    "system_instruction snake": {"contents": TEXT, "system_instruction": {"parts": {"text": "x"}}},
    "enum lower case": {
        "contents": TEXT,
        "safety_settings": {"category": "harm_category_hate_speech", "threshold": "block_none"},
    },
    "enum as number": {"contents": TEXT, "safetySettings": [{**SAFETY, "threshold": 4}]},
}
REFUSED = {
    "unknown top-level field": ({"contents": TEXT, "generationConfg": {}}, "generationConfg"),
    "unknown nested field": (
        {"contents": [{"role": "user", "parts": [{"txt": "hi"}]}]},
        "txt",
    ),
    "text not a string": ({"contents": [{"role": "user", "parts": {"text": 5}}]}, "text"),
    "list for a single field": (
        {"contents": TEXT, "generationConfig": [{"temperature": 0.1}]},
        "generation_config",
    ),
    "number for a message": ({"contents": TEXT, "generation_config": 3}, "generation_config"),
    "temperature not a number": (
        {"contents": TEXT, "generation_config": {"temperature": "warm"}},
        "temperature",
    ),
    "unknown enum value": (
        {"contents": TEXT, "safetySettings": [{**SAFETY, "threshold": "block_most"}]},
        "threshold",
    ),
    "scalar for a repeated message": ({"contents": "hello"}, "contents"),
}


def _generate(emu, body: dict, model: str = "publishers/google/models/gemini-2.5-flash"):
    return httpx.post(
        f"{emu.vertex_url}/v1/{PARENT}/{model}:generateContent", json=body, timeout=30
    )


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_vertex_accepts(emu, body):
    answer = _generate(emu, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["candidates"][0]["content"]["parts"][0]["text"]


@pytest.mark.parametrize(("body", "field"), REFUSED.values(), ids=REFUSED.keys())
def test_vertex_refuses(emu, body, field):
    answer = _generate(emu, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    (violations,) = [d["fieldViolations"] for d in error["details"]]
    assert field in violations[0]["field"], violations


def test_the_sft_guide_curl_is_answered_by_a_tuned_endpoint(emu, tuned_job):
    endpoint = tuned_job["tunedModel"]["endpoint"]
    status, answer, _ = call(emu, "POST", f"{endpoint}:generateContent", SFT_GUIDE_BODY)
    assert status == 200, answer
    assert answer["candidates"][0]["content"]["role"] == "model"
