"""Recognise the dataset formats users bring, and the tuning method each one is for.

Vertex answers an unconverted legacy file with ``Row: 0. Missing required 'contents'
field``; we say which format the line is in and the exact command that converts it.
Two methods share the Gemini line format: supervised (``contents`` ending on a model
turn) and preference (``contents`` ending on a user turn, plus two scored
``completions``). A line's *shape* is the method its format is for.
"""

from __future__ import annotations

SUPERVISED = "supervised"
PREFERENCE = "preference"
METHODS = (SUPERVISED, PREFERENCE)

FORMATS = ("gemini", "openai", "gemini-1.0", "palm", "gemini-api", "openai-dpo", "trl")

FORMAT_NAMES = {
    "gemini": "Gemini (Vertex AI tuning format)",
    "openai": "OpenAI chat format (`messages` with role 'assistant')",
    "gemini-1.0": "Gemini 1.0 format (`messages` with role 'model')",
    "palm": "PaLM format (`input_text`/`output_text`)",
    "gemini-api": "Gemini API (AI Studio) format (`text_input`/`output`)",
    "openai-dpo": "OpenAI DPO format (`input`/`preferred_output`/`non_preferred_output`)",
    "trl": "TRL / Hugging Face preference format (`prompt`/`chosen`/`rejected`)",
}

PREFERENCE_FORMATS = frozenset({"openai-dpo", "trl"})


def detect_format(record: object) -> str | None:
    """Which dataset format one parsed line is in, or None when none fits."""
    if not isinstance(record, dict):
        return None
    if "contents" in record:
        return "gemini"
    if "preferred_output" in record or "non_preferred_output" in record:
        return "openai-dpo"
    if "chosen" in record and "rejected" in record:
        return "trl"
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


def record_method(record: object) -> str | None:
    """The tuning method a parsed line's shape is for; None for a line that is no object.

    A Gemini line with ``completions`` and the preference formats are preference data;
    every other object (Gemini SFT, the SFT legacy formats, or unknown) is supervised.
    """
    if not isinstance(record, dict):
        return None
    if "completions" in record or detect_format(record) in PREFERENCE_FORMATS:
        return PREFERENCE
    return SUPERVISED


def legacy_hint(source_format: str, path: str = "IN.jsonl") -> str:
    """The error text for a line in a legacy format: what it is and how to convert it."""
    return (
        f"this line is in the {FORMAT_NAMES[source_format]}, not the Gemini tuning format "
        f"(`contents`); convert the file with: gemini-sft convert {path} OUT.jsonl "
        f"--from {source_format}"
    )
