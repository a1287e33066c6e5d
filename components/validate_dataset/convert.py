"""Convert the dataset formats users bring to the Gemini tuning format, line by line.

Supervised data: OpenAI chat (``messages`` with ``assistant``, tool calls, image parts),
Gemini 1.0 (``messages`` with ``model``), PaLM (``input_text``/``output_text``) and
Gemini API (``text_input``/``output``). Preference data: OpenAI DPO (``input.messages``,
``preferred_output``, ``non_preferred_output``) and TRL / Hugging Face rows (``prompt``,
``chosen``, ``rejected``; plain strings or message lists, the prompt given or implicit
as the messages ``chosen`` and ``rejected`` start with). Gemini lines pass through with
snake_case keys normalised to camelCase. Output is written to a temporary file and
renamed at the end, so a failed conversion never leaves a partial output file.

OpenAI chat assistant turns with ``"weight": 0`` are not trained on there, while every
model turn of a Gemini example is: ``weight_zero`` says what to do (``error``, the
default, refuses the line; ``drop`` removes the turn; ``keep`` trains on it).
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass, field
from typing import Any

import orjson
from gemini_sft_kfp.components.validate_dataset.formats import FORMATS, detect_format
from gemini_sft_kfp.components.validate_dataset.schema import (
    check_example,
    check_preference_example,
)

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.inputs import check_input_file
from gemini_sft_kfp.core.jsonl import checked_lines
from gemini_sft_kfp.core.outputs import check_output_file, staged_files

__all__ = ["ConvertResult", "convert_file", "convert_record", "detect_format"]

SOURCE_FORMATS = ("auto", *FORMATS)
WEIGHT_ZERO_CHOICES = ("error", "drop", "keep")
_ROLE_MAP = {"user": "user", "assistant": "model", "model": "model"}


class ConversionError(UserError):
    """A line that cannot be converted; carries file, line and field like every UserError."""


@dataclass
class ConvertResult:
    lines: int = 0
    examples: int = 0
    formats: dict[str, int] = field(default_factory=dict)  # detected format -> lines
    passed_through: int = 0  # lines copied unchanged (lenient mode) for the validator
    weight_zero_turns: int = 0  # OpenAI assistant turns with weight 0 (dropped or kept)


def _text_part(text: object, where: str) -> dict:
    if not isinstance(text, str):
        raise ConversionError(f"`{where}` must be a string", field=where)
    return {"text": text}


def _openai_content_parts(content: object, where: str) -> list[dict]:
    """OpenAI ``content``: a string or a list of typed parts -> Gemini parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise ConversionError(f"`{where}` must be a string or a list of parts", field=where)
    parts = []
    for i, item in enumerate(content):
        sub = f"{where}[{i}]"
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text":
            parts.append(_text_part(item.get("text"), f"{sub}.text"))
        elif kind == "image_url":
            image = item.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append(_media_part(url, f"{sub}.image_url.url", "image/jpeg"))
        elif kind == "input_audio":
            audio = item.get("input_audio") or {}
            if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
                at = f"{sub}.input_audio"
                raise ConversionError(f"`{at}` must be an object with data (base64)", field=at)
            fmt = audio.get("format", "wav")
            parts.append({"inlineData": {"mimeType": f"audio/{fmt}", "data": audio.get("data")}})
        elif kind == "file" and isinstance(item.get("file"), dict):
            url = item["file"].get("file_data") or item["file"].get("file_id")
            parts.append(_media_part(url, f"{sub}.file", "application/pdf"))
        else:
            raise ConversionError(f"`{sub}` has unsupported part type {kind!r}", field=sub)
    return parts


def _media_part(url: object, where: str, default_mime: str) -> dict:
    if not isinstance(url, str) or not url:
        raise ConversionError(f"`{where}` must be a URL", field=where)
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header[5:].split(";")[0] or default_mime
        return {"inlineData": {"mimeType": mime, "data": data}}
    mime = mimetypes.guess_type(url.split("?")[0])[0] or default_mime
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def _tool_call_parts(message: dict, where: str, names: dict[str, str]) -> list[dict]:
    parts = []
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise ConversionError(f"`{where}.tool_calls` must be a list", field=f"{where}.tool_calls")
    for i, call in enumerate(calls):
        sub = f"{where}.tool_calls[{i}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name", ""), str):
            raise ConversionError(f"`{sub}.function` must be an object with a name", field=sub)
        if not isinstance(call.get("id", ""), str):
            raise ConversionError(f"`{sub}.id` must be a string", field=f"{sub}.id")
        arguments = function.get("arguments") or "{}"
        try:
            args = orjson.loads(arguments) if isinstance(arguments, str) else arguments
        except orjson.JSONDecodeError as exc:
            sub = f"{where}.tool_calls[{i}].function.arguments"
            raise ConversionError(f"`{sub}` is not JSON: {exc.msg}", field=sub) from None
        names[call.get("id", "")] = function.get("name", "")
        parts.append({"functionCall": {"name": function.get("name", ""), "args": args}})
    return parts


def _weight_zero(message: dict, where: str, weight_zero: str) -> bool:
    """Whether an OpenAI assistant message is a ``"weight": 0`` turn to drop; raises for
    ``error`` and for a weight that is not 0 or 1."""
    if "weight" not in message:
        return False
    weight = message["weight"]
    if isinstance(weight, bool) or weight not in (0, 1):
        raise ConversionError(
            f"`{where}.weight` is {weight!r}; it must be 0 or 1", field=f"{where}.weight"
        )
    if weight == 1:
        return False
    if weight_zero == "error":
        raise ConversionError(
            f"`{where}.weight` is 0: OpenAI does not train on this assistant turn, but Gemini "
            "tuning trains on every model turn; choose with --weight-zero drop (remove the "
            "turn; the user turns around it are merged) or --weight-zero keep (train on it)",
            field=f"{where}.weight",
        )
    return weight_zero == "drop"


def _convert_messages(
    messages: object,
    where: str,
    source_format: str,
    weight_zero: str = "error",
    tally: dict[str, int] | None = None,
) -> tuple[list[dict], list[dict]]:
    """OpenAI chat / Gemini 1.0 ``messages`` -> (system parts, ``contents``)."""
    if not isinstance(messages, list) or not messages:
        raise ConversionError(f"`{where}` must be a non-empty list", field=where)
    system: list[dict] = []
    contents: list[dict] = []
    tool_names: dict[str, str] = {}
    for i, message in enumerate(messages):
        sub = f"{where}[{i}]"
        if not isinstance(message, dict):
            raise ConversionError(f"`{sub}` must be an object", field=sub)
        role = message.get("role")
        content = message.get("content")
        if not isinstance(role, str):
            raise ConversionError(f"`{sub}.role` must be a string", field=f"{sub}.role")
        if not isinstance(message.get("tool_call_id", ""), str):
            at = f"{sub}.tool_call_id"
            raise ConversionError(f"`{at}` must be a string", field=at)
        if role in ("system", "developer"):
            system += _openai_content_parts(content, f"{sub}.content")
            continue
        if role in ("tool", "function"):
            name = message.get("name") or tool_names.get(message.get("tool_call_id", ""), "")
            response = content
            if isinstance(content, str):
                try:
                    response = orjson.loads(content)
                except orjson.JSONDecodeError:
                    response = content
            if not isinstance(response, dict):
                response = {"content": response}
            parts = [{"functionResponse": {"name": name, "response": response}}]
            gemini_role = "user"
        elif role in _ROLE_MAP:
            gemini_role = _ROLE_MAP[role]
            if role == "assistant" and source_format == "openai":
                dropped = _weight_zero(message, sub, weight_zero)
                if message.get("weight") == 0 and tally is not None:
                    tally["weight_zero"] = tally.get("weight_zero", 0) + 1
                if dropped:
                    continue
            parts = _openai_content_parts(content, f"{sub}.content")
            if source_format == "openai" or "tool_calls" in message:
                parts += _tool_call_parts(message, sub, tool_names)
        else:
            raise ConversionError(
                f"`{sub}.role` is {role!r}; expected system, user, assistant/model or tool",
                field=f"{sub}.role",
            )
        if contents and contents[-1]["role"] == gemini_role:  # merge consecutive same-role turns
            contents[-1]["parts"] += parts
        else:
            contents.append({"role": gemini_role, "parts": parts})
    return system, contents


def _from_messages(
    record: dict, source_format: str, weight_zero: str = "error", tally: dict | None = None
) -> dict:
    """OpenAI chat and Gemini 1.0 ``messages`` -> ``systemInstruction`` + ``contents``."""
    system, contents = _convert_messages(
        record.get("messages"), "messages", source_format, weight_zero, tally
    )
    out: dict = {}
    if system:
        out["systemInstruction"] = {"parts": system}
    out["contents"] = contents
    tools = record.get("tools") or record.get("functions")
    if isinstance(tools, list) and tools:
        declarations = [t.get("function", t) for t in tools if isinstance(t, dict)]
        out["tools"] = [{"functionDeclarations": declarations}]
    return out


def _require_text(parts: list[dict], where: str) -> None:
    for j, part in enumerate(parts):
        kinds = [k for k in part if k != "text"]
        if kinds:
            raise ConversionError(
                f"`{where}` holds {kinds[0]}: Gemini preference data is text only (no images, "
                "audio, files, tool calls or tool results)",
                field=where,
            )
        if not part.get("text"):
            raise ConversionError(f"`{where}` holds an empty text part", field=f"{where}[{j}]")


def _prompt(messages: object, where: str) -> tuple[list[dict], list[dict]]:
    """A preference prompt: (system parts, ``contents`` ending on a user turn), text only."""
    system, contents = _convert_messages(messages, where, "openai")
    for part_list in [system, *(turn["parts"] for turn in contents)]:
        _require_text(part_list, where)
    if not contents or contents[-1]["role"] != "user":
        raise ConversionError(
            f"`{where}` must end with a user message: the prompt the two answers reply to",
            field=where,
        )
    return system, contents


def _completion(messages: object, where: str) -> list[dict]:
    """One answer (assistant messages, text only) -> the parts of one model turn."""
    if isinstance(messages, str):
        messages = [{"role": "assistant", "content": messages}]
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list) or not messages:
        raise ConversionError(
            f"`{where}` must be a non-empty list of assistant messages (or a string)",
            field=where,
        )
    parts: list[dict] = []
    for i, message in enumerate(messages):
        sub = f"{where}[{i}]"
        if not isinstance(message, dict) or message.get("role") != "assistant":
            role = message.get("role") if isinstance(message, dict) else None
            raise ConversionError(
                f"`{sub}.role` is {role!r}: an answer holds assistant messages only (a "
                "Gemini preference completion is one model turn)",
                field=f"{sub}.role",
            )
        if message.get("tool_calls"):
            raise ConversionError(
                f"`{sub}.tool_calls`: Gemini preference data is text only",
                field=f"{sub}.tool_calls",
            )
        parts += _openai_content_parts(message.get("content"), f"{sub}.content")
    if not parts:
        raise ConversionError(f"`{where}` holds no text", field=where)
    _require_text(parts, where)
    return parts


def _preference(system: list, contents: list, preferred: list, dispreferred: list) -> dict:
    out: dict = {}
    if system:
        out["systemInstruction"] = {"parts": system}
    out["contents"] = contents
    out["completions"] = [
        {"score": 1, "completion": {"role": "model", "parts": preferred}},
        {"score": 0, "completion": {"role": "model", "parts": dispreferred}},
    ]
    return out


def _from_openai_dpo(record: dict) -> dict:
    """OpenAI DPO: ``input.messages`` is the prompt; preferred (1) and non-preferred (0)."""
    source = record.get("input")
    if not isinstance(source, dict):
        raise ConversionError("`input` must be an object holding `messages`", field="input")
    if source.get("tools"):
        raise ConversionError(
            "`input.tools` is not empty: Gemini preference data is text only (no tools)",
            field="input.tools",
        )
    system, contents = _prompt(source.get("messages"), "input.messages")
    preferred = _completion(record.get("preferred_output"), "preferred_output")
    dispreferred = _completion(record.get("non_preferred_output"), "non_preferred_output")
    return _preference(system, contents, preferred, dispreferred)


def _trl_messages(value: object, where: str) -> list:
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        return value
    raise ConversionError(
        f"`{where}` must be a string or a non-empty list of {{role, content}} messages",
        field=where,
    )


def _from_trl(record: dict) -> dict:
    """TRL / Hugging Face ``prompt``/``chosen``/``rejected``, plain or conversational.

    Without ``prompt``, conversational ``chosen`` and ``rejected`` hold the whole dialogue:
    the messages both start with are the prompt (TRL's implicit prompt). Plain strings
    without ``prompt`` are refused: nothing tells the prompt from the answer there.
    """
    prompt, chosen, rejected = record.get("prompt"), record.get("chosen"), record.get("rejected")
    if prompt is None and isinstance(chosen, str) and isinstance(rejected, str):
        raise ConversionError(
            "`chosen` and `rejected` are plain strings and there is no `prompt`: the prompt "
            "cannot be told apart from the answer; add a `prompt` field, or give `chosen` and "
            "`rejected` as message lists that start with the prompt",
            field="prompt",
        )
    chosen_messages = _trl_messages(chosen, "chosen")
    rejected_messages = _trl_messages(rejected, "rejected")
    shared = 0
    limit = min(len(chosen_messages), len(rejected_messages)) - 1  # keep one answer each
    while shared < limit and chosen_messages[shared] == rejected_messages[shared]:
        shared += 1
    implicit = chosen_messages[:shared]
    if prompt is None:
        if not implicit:
            raise ConversionError(
                "there is no `prompt` and `chosen` and `rejected` do not start with the same "
                "messages: the prompt cannot be found",
                field="prompt",
            )
        prompt_messages, where = implicit, "chosen"
    else:
        if isinstance(prompt, str):
            prompt_messages = [{"role": "user", "content": prompt}]
        elif isinstance(prompt, list):
            prompt_messages = prompt
        else:
            raise ConversionError(
                "`prompt` must be a string or a list of {role, content} messages", field="prompt"
            )
        where = "prompt"
        if implicit and implicit != prompt_messages:
            raise ConversionError(
                "`chosen` and `rejected` start with messages that are not the `prompt`: "
                "give the prompt once (in `prompt`, or as the opening of both)",
                field="prompt",
            )
    system, contents = _prompt(prompt_messages, where)
    preferred = _completion(chosen_messages[shared:], "chosen")
    dispreferred = _completion(rejected_messages[shared:], "rejected")
    return _preference(system, contents, preferred, dispreferred)


def _from_pair(record: dict, input_key: str, output_key: str) -> dict:
    prompt, answer = record.get(input_key), record.get(output_key)
    out: dict = {}
    context = record.get("context")
    if isinstance(context, str) and context:
        out["systemInstruction"] = {"parts": [{"text": context}]}
    out["contents"] = [
        {"role": "user", "parts": [_text_part(prompt, input_key)]},
        {"role": "model", "parts": [_text_part(answer, output_key)]},
    ]
    return out


def convert_record(
    record: object,
    source_format: str = "auto",
    *,
    weight_zero: str = "error",
    tally: dict[str, int] | None = None,
) -> tuple[dict, str]:
    """One parsed line -> (Gemini-format record, the format it was in)."""
    detected = detect_format(record)
    fmt = detected if source_format == "auto" else source_format
    if fmt is None or not isinstance(record, dict):
        raise ConversionError(
            "the line is in no known dataset format (expected `contents`, `messages`, "
            "`input_text`/`output_text`, `text_input`/`output`, `input`/`preferred_output`/"
            "`non_preferred_output` or `prompt`/`chosen`/`rejected`)"
        )
    if fmt == "gemini":
        if "contents" not in record:
            raise ConversionError("missing required field `contents`", field="contents")
        if "completions" in record:  # normalises snake_case keys in place
            check_preference_example(record)
        else:
            check_example(record)
        return record, fmt
    if fmt in ("openai", "gemini-1.0"):
        return _from_messages(record, fmt, weight_zero, tally), fmt
    if fmt == "palm":
        return _from_pair(record, "input_text", "output_text"), fmt
    if fmt == "gemini-api":
        return _from_pair(record, "text_input", "output"), fmt
    if fmt == "openai-dpo":
        return _from_openai_dpo(record), fmt
    if fmt == "trl":
        return _from_trl(record), fmt
    raise ConversionError(f"unknown source format {source_format!r}", field="from")


def _convert_line(raw: bytes, source_format: str, **options: Any) -> tuple[dict, str]:
    """One line converted; a value of the wrong type anywhere is a ``ConversionError``
    (for the caller to name the line), never a traceback."""
    try:
        return convert_record(orjson.loads(raw), source_format, **options)
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        if isinstance(exc, orjson.JSONDecodeError):
            raise
        raise ConversionError(f"a value has the wrong type for its field ({exc})") from None


def convert_file(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    source_format: str = "auto",
    *,
    strict: bool = True,
    weight_zero: str = "error",
) -> ConvertResult:
    """Convert ``src`` to Gemini JSONL at ``dst`` (atomically), streaming line by line.

    ``strict=False`` keeps one output line per input line, copying lines it cannot
    convert unchanged (and blank lines as blank), so the validator run on ``dst``
    reports problems at the user's original line numbers.
    """
    if source_format not in SOURCE_FORMATS:
        raise UserError(
            f"unknown source format {source_format!r}; use one of {', '.join(SOURCE_FORMATS)}",
            field="from",
        )
    if weight_zero not in WEIGHT_ZERO_CHOICES:
        raise UserError(
            f"unknown weight-zero choice {weight_zero!r}; use one of "
            f"{', '.join(WEIGHT_ZERO_CHOICES)}",
            field="weight-zero",
        )
    src, dst = str(src), str(dst)
    check_input_file(src)  # a FIFO or a symlink loop is said as such, not "no such file"
    check_output_file(dst, field="dst", inputs=[src])  # never the input, never a device
    result = ConvertResult()
    tally: dict[str, int] = {}
    try:
        fin = open(src, "rb")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror}", file=src) from None
    # all or nothing, checked again before the rename; a full disk is one line
    with fin, staged_files(dst, inputs=[src]) as (tmp,), open(tmp, "wb") as fout:
        for lineno, raw in enumerate(checked_lines(fin, file=src), start=1):
            result.lines = lineno
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                if not strict:
                    fout.write(b"\n")
                continue
            try:
                record, fmt = _convert_line(
                    raw, source_format, weight_zero=weight_zero, tally=tally
                )
            except (orjson.JSONDecodeError, ConversionError) as exc:
                if not strict:
                    fout.write(raw + b"\n")
                    result.passed_through += 1
                    continue
                message = exc.message if isinstance(exc, UserError) else f"not JSON: {exc}"
                field_path = exc.field if isinstance(exc, UserError) else None
                raise ConversionError(message, file=src, line=lineno, field=field_path) from None
            fout.write(orjson.dumps(record) + b"\n")
            result.examples += 1
            result.formats[fmt] = result.formats.get(fmt, 0) + 1
        if strict and not result.examples:  # as validate says: an error, not an empty output
            raise UserError("holds no examples: nothing to convert", file=src)
    result.weight_zero_turns = tally.get("weight_zero", 0)
    return result
