"""What the tuning service itself rejects in supervised tuning data, checked by the
emulator on its own (SFT_FACTS.md "Dataset format" and "Limits"), independently of the
project's validator: if that validator lets bad data through, the emulated job fails
the way the real one would, so a validator mistake shows up in tests.

Deliberately simple: one pass, first problem wins, ``Row: N. <problem> (<uri>)`` as the
service words it. Unconfirmed rules (e.g. "the last turn should be model") are not
rejections. Token counts here are an estimate (4 characters a token).
"""

from __future__ import annotations

import orjson

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import get_model_spec

ROLES = ("user", "model")
DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse")
CHARS_PER_TOKEN = 4


class _Reject(Exception):
    pass


def _part_problem(part: object, where: str) -> str | None:
    if not isinstance(part, dict):
        return f"{where} must be an object."
    present = [name for name in DATA_FIELDS if name in part]
    if len(present) != 1:
        found = present or "none"
        return f"{where} must hold exactly one of {', '.join(DATA_FIELDS)} (found {found})."
    return None


def _parts(content: dict, where: str) -> list:
    parts = content.get("parts")
    if isinstance(parts, dict):
        parts = [parts]
    if not isinstance(parts, list) or not parts:
        raise _Reject(f"{where}.parts must be a non-empty list.")
    for index, part in enumerate(parts):
        problem = _part_problem(part, f"{where}.parts[{index}]")
        if problem:
            raise _Reject(problem)
    return parts


def _row(record: object) -> tuple[int, bool, object]:
    """(estimated tokens, multimodal, mediaResolution) of one valid example, else _Reject."""
    if not isinstance(record, dict):
        raise _Reject("Each line must be a JSON object.")
    contents = record.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _Reject("Missing required 'contents' field.")
    texts, multimodal, previous = [], False, None
    system = record.get("systemInstruction")
    if system is not None:
        if not isinstance(system, dict):
            raise _Reject("systemInstruction must be a Content object.")
        texts += [p.get("text", "") for p in _parts(system, "systemInstruction")]
    for index, content in enumerate(contents):
        where = f"contents[{index}]"
        if not isinstance(content, dict):
            raise _Reject(f"{where} must be an object with role and parts.")
        role = content.get("role", "user")
        if role not in ROLES:
            raise _Reject(f"{where}.role must be one of {ROLES}, got {role!r}.")
        if role == previous:
            raise _Reject(f"{where}: turns must alternate between user and model.")
        previous = role
        for part in _parts(content, where):
            texts.append(str(part.get("text", "")))
            multimodal = multimodal or "inlineData" in part or "fileData" in part
    tokens = sum(len(t) for t in texts) // CHARS_PER_TOKEN
    resolution = (record.get("generationConfig") or {}).get("mediaResolution")
    return tokens, multimodal, resolution


def _scan(data: bytes, uri: str, spec, resolutions: set) -> tuple[int, bool]:
    if len(data) > spec.max_file_bytes:
        raise _Reject(f"The file {uri} is larger than {spec.max_file_bytes} bytes.")
    rows, multimodal = 0, False
    for index, line in enumerate(data.splitlines()):
        if not line.strip():
            continue
        try:
            try:
                tokens, media, resolution = _row(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise _Reject("Invalid JSON.") from None
            if tokens > spec.max_example_tokens:
                raise _Reject(
                    f"The example has about {tokens} tokens; {spec.id} allows "
                    f"{spec.max_example_tokens}."
                )
        except _Reject as reject:
            raise _Reject(f"Row: {index}. {reject} ({uri})") from None
        resolutions.add(resolution)
        if len(resolutions) > 1:
            raise _Reject(f"Row: {index}. mediaResolution must be the same on every line ({uri})")
        rows += 1
        multimodal = multimodal or media
    return rows, multimodal


def service_problem(
    train: bytes, validation: bytes | None, model: str, uris: tuple[str, str | None]
) -> str | None:
    """The first thing the service would reject in these files, or None."""
    try:
        spec = get_model_spec(model, allow_unsupported=True)
    except UserError:
        return None  # the create already refused unknown models
    resolutions: set = set()
    try:
        rows, multimodal = _scan(train, uris[0], spec, resolutions)
        cap = spec.max_training_examples_text
        if multimodal:
            cap = spec.max_training_examples_multimodal
        if rows > cap:
            raise _Reject(f"The training dataset has {rows} examples; {spec.id} allows {cap}.")
        if validation is not None:
            count, _ = _scan(validation, uris[1] or "validation", spec, resolutions)
            if count > spec.max_validation_examples:
                raise _Reject(
                    f"The validation dataset has {count} examples; {spec.id} allows "
                    f"{spec.max_validation_examples}."
                )
    except _Reject as reject:
        return str(reject)
    return None
