"""Label rules of Google Cloud resources, and making any text label-safe."""

from __future__ import annotations

import re

from gemini_sft_kfp.emulator.common.api_errors import invalid

_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def check_labels(labels: dict) -> None:
    if not isinstance(labels, dict) or len(labels) > 64:
        raise invalid("labels must be a map of at most 64 entries")
    for key, value in labels.items():
        if not _KEY.match(str(key)) or not _VALUE.match(str(value)):
            raise invalid(
                f"Invalid label {key!r}={value!r}: keys start with a lowercase letter; keys and "
                "values use only lowercase letters, digits, '_' and '-' (at most 63 characters)"
            )


def label_value(text: str) -> str:
    """A label-safe form of ``text`` (``gemini-2.5-flash`` -> ``gemini-2_5-flash``)."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]
