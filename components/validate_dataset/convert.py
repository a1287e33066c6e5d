"""Convert legacy dataset formats to the Gemini tuning format, line by line.

Handles OpenAI chat (``messages`` with ``assistant``, tool calls, image parts), Gemini 1.0
(``messages`` with ``model``), PaLM (``input_text``/``output_text``) and Gemini API
(``text_input``/``output``); Gemini lines pass through with snake_case keys normalised
to camelCase. Output is written to a temporary file and renamed at the end, so a failed
conversion never leaves a partial output file.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from gemini_sft_kfp.components.validate_dataset.formats import FORMATS, detect_format
from gemini_sft_kfp.components.validate_dataset.schema import check_example

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.inputs import check_input_file
from gemini_sft_kfp.core.outputs import check_output_file, disk_error, replace_checked

__all__ = ["ConvertResult", "convert_file", "convert_record", "detect_format"]

SOURCE_FORMATS = ("auto", *FORMATS)
_ROLE_MAP = {"user": "user", "assistant": "model", "model": "model"}


class ConversionError(UserError):
    """A line that cannot be converted; carries file, line and field like every UserError."""


@dataclass
class ConvertResult:
    lines: int = 0
    examples: int = 0
    formats: dict[str, int] = field(default_factory=dict)  # detected format -> lines
    passed_through: int = 0  # lines copied unchanged (lenient mode) for the validator


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


def _from_messages(record: dict, source_format: str) -> dict:
    """OpenAI chat and Gemini 1.0 ``messages`` -> ``systemInstruction`` + ``contents``."""
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ConversionError("`messages` must be a non-empty list", field="messages")
    system: list[dict] = []
    contents: list[dict] = []
    tool_names: dict[str, str] = {}
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise ConversionError(f"`{where}` must be an object", field=where)
        role = message.get("role")
        content = message.get("content")
        if not isinstance(role, str):
            raise ConversionError(f"`{where}.role` must be a string", field=f"{where}.role")
        if not isinstance(message.get("tool_call_id", ""), str):
            at = f"{where}.tool_call_id"
            raise ConversionError(f"`{at}` must be a string", field=at)
        if role in ("system", "developer"):
            system += _openai_content_parts(content, f"{where}.content")
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
            parts = _openai_content_parts(content, f"{where}.content")
            if source_format == "openai" or "tool_calls" in message:
                parts += _tool_call_parts(message, where, tool_names)
        else:
            raise ConversionError(
                f"`{where}.role` is {role!r}; expected system, user, assistant/model or tool",
                field=f"{where}.role",
            )
        if contents and contents[-1]["role"] == gemini_role:  # merge consecutive same-role turns
            contents[-1]["parts"] += parts
        else:
            contents.append({"role": gemini_role, "parts": parts})
    out: dict = {}
    if system:
        out["systemInstruction"] = {"parts": system}
    out["contents"] = contents
    tools = record.get("tools") or record.get("functions")
    if isinstance(tools, list) and tools:
        declarations = [t.get("function", t) for t in tools if isinstance(t, dict)]
        out["tools"] = [{"functionDeclarations": declarations}]
    return out


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


def convert_record(record: object, source_format: str = "auto") -> tuple[dict, str]:
    """One parsed line -> (Gemini-format record, the format it was in)."""
    detected = detect_format(record)
    fmt = detected if source_format == "auto" else source_format
    if fmt is None or not isinstance(record, dict):
        raise ConversionError(
            "the line is in no known dataset format (expected `contents`, `messages`, "
            "`input_text`/`output_text` or `text_input`/`output`)"
        )
    if fmt == "gemini":
        if "contents" not in record:
            raise ConversionError("missing required field `contents`", field="contents")
        check_example(record)  # normalises snake_case keys in place
        return record, fmt
    if fmt in ("openai", "gemini-1.0"):
        return _from_messages(record, fmt), fmt
    if fmt == "palm":
        return _from_pair(record, "input_text", "output_text"), fmt
    if fmt == "gemini-api":
        return _from_pair(record, "text_input", "output"), fmt
    raise ConversionError(f"unknown source format {source_format!r}", field="from")


def _convert_line(raw: bytes, source_format: str) -> tuple[dict, str]:
    """One line converted; a value of the wrong type anywhere is a ``ConversionError``
    (for the caller to name the line), never a traceback."""
    try:
        return convert_record(orjson.loads(raw), source_format)
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
    src, dst = str(src), str(dst)
    check_input_file(src)  # a FIFO or a symlink loop is said as such, not "no such file"
    check_output_file(dst, field="dst", inputs=[src])  # never the input, never a device
    result = ConvertResult()
    tmp = Path(f"{dst}.tmp-{os.getpid()}")
    try:
        fin = open(src, "rb")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror}", file=src) from None
    try:
        try:
            fout = open(tmp, "wb")  # noqa: SIM115
        except OSError as exc:
            fin.close()
            raise UserError(f"cannot write: {exc.strerror}", file=dst) from None
        with fin, fout:
            for lineno, raw in enumerate(fin, start=1):
                result.lines = lineno
                if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    if not strict:
                        fout.write(b"\n")
                    continue
                try:
                    record, fmt = _convert_line(raw, source_format)
                except (orjson.JSONDecodeError, ConversionError) as exc:
                    if not strict:
                        fout.write(raw if raw.endswith(b"\n") else raw + b"\n")
                        result.passed_through += 1
                        continue
                    message = exc.message if isinstance(exc, UserError) else f"not JSON: {exc}"
                    field_path = exc.field if isinstance(exc, UserError) else None
                    raise ConversionError(
                        message, file=src, line=lineno, field=field_path
                    ) from None
                fout.write(orjson.dumps(record) + b"\n")
                result.examples += 1
                result.formats[fmt] = result.formats.get(fmt, 0) + 1
        replace_checked(tmp, dst, inputs=[src])
    except OSError as exc:
        error = disk_error(exc, dst)  # a full disk: one line, not a traceback
        if error is None:
            raise
        raise error from None
    finally:
        tmp.unlink(missing_ok=True)
    return result
