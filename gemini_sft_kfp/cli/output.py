"""What every command prints that a user's input can reach: JSON documents and one-line
errors. A file name is the user's bytes: not always UTF-8 (Python holds the rest as lone
surrogates, which JSON cannot carry) and sometimes with a line break in it."""

from __future__ import annotations

from typing import Any

import orjson

from gemini_sft_kfp.core.errors import one_line

__all__ = ["json_text", "one_line"]


def _escaped(text: str) -> str:
    """``text`` with what is not valid UTF-8 written as its escape (``\\udcff``)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _printable_json(data: Any) -> Any:
    if isinstance(data, str):
        return _escaped(data)
    if isinstance(data, dict):
        return {_printable_json(key): _printable_json(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_printable_json(item) for item in data]
    return data


def json_text(data: Any, option: int = 0) -> str:
    """``orjson.dumps(data)`` as text; a string JSON cannot hold (a non-UTF-8 file name)
    is written escaped instead of failing the command after its work was done."""
    try:
        return orjson.dumps(data, option=option).decode()
    except TypeError:
        return orjson.dumps(_printable_json(data), option=option).decode()
