"""The emulator's tokenizer: words and punctuation marks. Deterministic and fast.

Real Gemini models use SentencePiece; counts here are the emulator's own, used
consistently by countTokens, usageMetadata and tuningDataStats.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def count_tokens(text: str) -> int:
    return len(TOKEN.findall(text))


def first_tokens(text: str, limit: int) -> str:
    """The prefix of ``text`` holding at most ``limit`` tokens (for maxOutputTokens)."""
    for index, match in enumerate(TOKEN.finditer(text)):
        if index == limit:
            return text[: match.start()].rstrip()
    return text


def parts_text(parts) -> str:
    """Text of a Content's parts (a list, or a single part as the REST API also allows)."""
    if isinstance(parts, dict):
        parts = [parts]
    return "\n".join(p.get("text", "") for p in parts or [] if isinstance(p, dict))


def content_tokens(contents: list[dict], system_instruction: dict | None = None) -> int:
    total = count_tokens(parts_text((system_instruction or {}).get("parts")))
    for content in contents or []:
        total += count_tokens(parts_text(content.get("parts")))
    return total
