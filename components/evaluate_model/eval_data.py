"""Read an eval JSONL into prompts and references.

Each line is a Gemini tuning example (camelCase, or snake_case keys as the Python SDK
writes them). The reference is the text of the example's LAST ``model`` turn; the
prompt is every turn before it (later turns are ignored). The ``systemInstruction`` is
kept apart so the runner can decide who gets it (the baseline does, the tuned model
does not: see ``runner.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson

from gemini_sft_kfp.core.errors import UserError

_PART_KEYS = ("text", "inlineData", "fileData", "functionCall", "functionResponse")
_SNAKE_TO_CAMEL = {
    "system_instruction": "systemInstruction",
    "inline_data": "inlineData",
    "file_data": "fileData",
    "function_call": "functionCall",
    "function_response": "functionResponse",
    "mime_type": "mimeType",
    "file_uri": "fileUri",
    "generation_config": "generationConfig",
}


@dataclass(frozen=True)
class EvalExample:
    """One example to evaluate: the prompt turns, the optional system instruction, the answer."""

    index: int  # 0-based position among the examples
    line: int  # 1-based line in the source file, for messages and the predictions file
    contents: list[dict]  # the turns sent to the model (Gemini REST shape, camelCase)
    reference: str
    system_instruction: dict | None = None

    @property
    def prompt_text(self) -> str:
        """The last user turn's text: what a reader of the report needs to see."""
        for turn in reversed(self.contents):
            if turn.get("role") == "user":
                return _text_of(turn)
        return ""


def _camel(value):
    """snake_case keys (as the SDK serialises them) -> the REST camelCase names."""
    if isinstance(value, dict):
        return {_SNAKE_TO_CAMEL.get(k, k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _text_of(turn: dict) -> str:
    parts = turn.get("parts") or []
    if isinstance(parts, dict):  # the REST API also accepts a single part object
        parts = [parts]
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


def _check_turn(turn, *, file: str, line: int, position: int) -> dict:
    where = f"contents[{position}]"
    if not isinstance(turn, dict):
        raise UserError("each turn must be an object", file=file, line=line, field=where)
    if turn.get("role") not in ("user", "model"):
        raise UserError(
            f"role must be 'user' or 'model', got {turn.get('role')!r}",
            file=file,
            line=line,
            field=f"{where}.role",
        )
    parts = turn.get("parts")
    if isinstance(parts, dict):
        parts = [parts]
    if not isinstance(parts, list) or not parts:
        raise UserError(
            "parts must be a non-empty list", file=file, line=line, field=f"{where}.parts"
        )
    for j, part in enumerate(parts):
        if not isinstance(part, dict) or sum(k in part for k in _PART_KEYS) != 1:
            raise UserError(
                f"each part needs exactly one of {', '.join(_PART_KEYS)}",
                file=file,
                line=line,
                field=f"{where}.parts[{j}]",
            )
    return {"role": turn["role"], "parts": parts}


def parse_example(record, *, index: int, file: str, line: int) -> EvalExample:
    """Validate one JSON record and split it into prompt and reference."""
    if not isinstance(record, dict):
        raise UserError("each line must be a JSON object", file=file, line=line)
    record = _camel(record)
    contents = record.get("contents")
    if not isinstance(contents, list) or not contents:
        hint = ""
        if "messages" in record or "input_text" in record or "text_input" in record:
            hint = " (convert it first: gemini-sft dataset convert)"
        raise UserError(
            f"missing required 'contents' list{hint}", file=file, line=line, field="contents"
        )
    turns = [_check_turn(t, file=file, line=line, position=i) for i, t in enumerate(contents)]
    last_model = max((i for i, t in enumerate(turns) if t["role"] == "model"), default=None)
    if last_model is None:
        raise UserError(
            "no 'model' turn: an eval example needs one as the reference answer",
            file=file,
            line=line,
            field="contents",
        )
    reference = _text_of(turns[last_model])
    if not reference.strip():
        raise UserError(
            "the last 'model' turn has no text to compare against",
            file=file,
            line=line,
            field=f"contents[{last_model}].parts",
        )
    prompt = turns[:last_model]
    if not prompt:
        raise UserError(
            "nothing before the last 'model' turn to use as the prompt",
            file=file,
            line=line,
            field="contents",
        )
    system = record.get("systemInstruction")
    if system is not None and not isinstance(system, dict):
        raise UserError(
            "systemInstruction must be an object with parts",
            file=file,
            line=line,
            field="systemInstruction",
        )
    return EvalExample(
        index=index,
        line=line,
        contents=prompt,
        reference=reference,
        system_instruction=system or None,
    )


def parse_lines(data: bytes, *, file: str, max_examples: int = 0) -> list[EvalExample]:
    """Parse JSONL bytes; blank lines are skipped, anything else must be a valid example."""
    examples: list[EvalExample] = []
    for line_no, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UserError(f"not valid JSON: {exc}", file=file, line=line_no) from None
        examples.append(parse_example(record, index=len(examples), file=file, line=line_no))
        if max_examples and len(examples) >= max_examples:
            break
    if not examples:
        raise UserError("no examples to evaluate", file=file)
    return examples


def _read_bytes(path: str, project: str | None) -> bytes:
    if path.startswith("gs://"):
        from gemini_sft_kfp.core.clients import storage_client
        from gemini_sft_kfp.core.storage import split_gcs_uri

        bucket_name, blob_name = split_gcs_uri(path, field="eval_data")
        blob = storage_client(project).bucket(bucket_name).blob(blob_name)
        try:
            return blob.download_as_bytes()
        except Exception as exc:  # NotFound / Forbidden: the user's path or permissions
            if getattr(exc, "code", None) in (403, 404):
                raise UserError(f"cannot read: {exc}", file=path, field="eval_data") from None
            raise
    if not os.path.isfile(path):
        raise UserError("file not found", file=path, field="eval_data")
    with open(path, "rb") as f:
        return f.read()


def read_examples(path: str, *, project: str | None = None, max_examples: int = 0):
    """Read a local path or ``gs://`` URI of eval JSONL into ``EvalExample``s."""
    return parse_lines(_read_bytes(path, project), file=path, max_examples=max_examples)
