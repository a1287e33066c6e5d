"""Recognise the dataset formats users bring, so a legacy line gets a precise fix.

Vertex answers an unconverted legacy file with ``Row: 0. Missing required 'contents'
field``; we say which format the line is in and the exact command that converts it.
"""

from __future__ import annotations

FORMATS = ("gemini", "openai", "gemini-1.0", "palm", "gemini-api")

FORMAT_NAMES = {
    "gemini": "Gemini (Vertex AI tuning format)",
    "openai": "OpenAI chat format (`messages` with role 'assistant')",
    "gemini-1.0": "Gemini 1.0 format (`messages` with role 'model')",
    "palm": "PaLM format (`input_text`/`output_text`)",
    "gemini-api": "Gemini API (AI Studio) format (`text_input`/`output`)",
}


def detect_format(record: object) -> str | None:
    """Which dataset format one parsed line is in, or None when none fits."""
    if not isinstance(record, dict):
        return None
    if "contents" in record:
        return "gemini"
    messages = record.get("messages")
    if isinstance(messages, list):
        # a role that is no string (a list) is left to the converter to name
        roles = {
            m["role"] for m in messages if isinstance(m, dict) and isinstance(m.get("role"), str)
        }
        if "model" in roles:
            return "gemini-1.0"
        if roles & {"assistant", "tool", "developer", "function"}:
            return "openai"
        return "gemini-1.0" if roles & {"user", "system"} else None
    if "input_text" in record and "output_text" in record:
        return "palm"
    if "text_input" in record and "output" in record:
        return "gemini-api"
    return None


def legacy_hint(source_format: str, path: str = "IN.jsonl") -> str:
    """The error text for a line in a legacy format: what it is and how to convert it."""
    return (
        f"this line is in the {FORMAT_NAMES[source_format]}, not the Gemini tuning format "
        f"(`contents`); convert the file with: gemini-sft convert {path} OUT.jsonl "
        f"--from {source_format}"
    )
