"""Checks of one example (one JSONL line) against the Gemini tuning format.

``check_example`` (supervised) and ``check_preference_example`` (preference: ``contents``
ending on a user turn and two scored ``completions``) normalise snake_case keys to
camelCase in place, return the problems found as ``(code, field, message)`` and a small
measure of the example (characters and media per turn) that the token counters turn
into token counts. ``check_record`` picks the one for the file's method. It is the hot
path of validation, so the common all-text example takes few dictionary look-ups.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field

from gemini_sft_kfp.components.validate_dataset.formats import (
    PREFERENCE,
    SUPERVISED,
    detect_format,
    legacy_hint,
    record_method,
)

Problem = tuple[str, str, str]  # (code, field path, message)

# snake_case keys the service also accepts -> the camelCase this library writes.
SNAKE_TO_CAMEL = {
    "system_instruction": "systemInstruction",
    "generation_config": "generationConfig",
    "media_resolution": "mediaResolution",
    "inline_data": "inlineData",
    "file_data": "fileData",
    "mime_type": "mimeType",
    "file_uri": "fileUri",
    "function_call": "functionCall",
    "function_response": "functionResponse",
    "video_metadata": "videoMetadata",
    "start_offset": "startOffset",
    "end_offset": "endOffset",
    "function_declarations": "functionDeclarations",
    "display_name": "displayName",
}

TOP_LEVEL_KEYS = frozenset({"contents", "systemInstruction", "tools", "generationConfig"})
PREFERENCE_TOP_LEVEL_KEYS = frozenset({"contents", "completions", "systemInstruction"})
COMPLETION_KEYS = frozenset({"score", "completion"})
PREFERENCE_COMPLETIONS = 2
DATA_KEYS = ("text", "inlineData", "fileData", "functionCall", "functionResponse")
PART_KEYS = frozenset((*DATA_KEYS, "videoMetadata", "thought", "thoughtSignature"))
ROLES = ("user", "model")
MEDIA_RESOLUTIONS = frozenset(
    {
        "MEDIA_RESOLUTION_UNSPECIFIED",
        "MEDIA_RESOLUTION_LOW",
        "MEDIA_RESOLUTION_MEDIUM",
        "MEDIA_RESOLUTION_HIGH",
    }
)

# MIME types by media kind (SFT_FACTS: images png/jpeg/webp, heic/heif on 2.5 only).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/jpg", "image/webp"})
IMAGE_TYPES_25 = frozenset({"image/heic", "image/heif"})
AUDIO_TYPES = frozenset(
    {
        "audio/aac", "audio/flac", "audio/mp3", "audio/m4a", "audio/mpeg", "audio/mpga",
        "audio/mp4", "audio/opus", "audio/pcm", "audio/wav", "audio/x-wav", "audio/webm",
        "audio/ogg",
    }
)  # fmt: skip
VIDEO_TYPES = frozenset(
    {
        "video/x-flv", "video/quicktime", "video/mov", "video/mpeg", "video/mpegs",
        "video/mpg", "video/mp4", "video/webm", "video/wmv", "video/3gpp", "video/avi",
    }
)  # fmt: skip
DOCUMENT_TYPES = frozenset({"application/pdf", "text/plain"})

# Per-example media caps of the tuning service (SFT_FACTS "Multimodal parts").
MEDIA_CAPS = {"image": 30, "audio": 1, "video": 1, "pdf": 4}
MEDIA_CAP_CODES = {
    "image": "too_many_images",
    "audio": "too_many_audio",
    "video": "too_many_video",
    "pdf": "too_many_pdfs",
}


@dataclass(slots=True)
class Measure:
    """What the token counters need: characters and media per turn, and the example's shape."""

    prefix_chars: int = 0  # systemInstruction + tools, sent with every turn
    turn_chars: list[int] = field(default_factory=list)
    turn_media: list[dict[str, int]] = field(default_factory=list)  # kind -> count
    turn_is_model: list[bool] = field(default_factory=list)
    media: dict[str, int] = field(default_factory=dict)
    media_resolution: str | None = None
    renamed_keys: int = 0
    # preference data: the completions are the last ``completion_turns`` turns above
    completion_turns: int = 0

    @property
    def multimodal(self) -> bool:
        return bool(self.media)


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Model-dependent choices of the checks."""

    heic_allowed: bool = True
    text_only: bool = False  # preference data: media and function parts are refused


def media_kind(mime: str, options: CheckOptions) -> str | None:
    mime = mime.lower()
    if mime in IMAGE_TYPES or (options.heic_allowed and mime in IMAGE_TYPES_25):
        return "image"
    if mime in AUDIO_TYPES:
        return "audio"
    if mime in VIDEO_TYPES:
        return "video"
    if mime == "application/pdf":
        return "pdf"
    if mime in DOCUMENT_TYPES:
        return "document"
    return None


def camelize(obj: dict, measure: Measure) -> None:
    """Rename snake_case keys of one structural dict in place (user data is never touched)."""
    for key in [k for k in obj if k in SNAKE_TO_CAMEL]:
        camel = SNAKE_TO_CAMEL[key]
        if camel not in obj:
            obj[camel] = obj.pop(key)
            measure.renamed_keys += 1


def _not_an_object(record: object) -> Problem:
    kind = type(record).__name__ if record is not None else "null"
    return ("not_an_object", "", f"the line is a JSON {kind}, not an object")


def method_mismatch(found: str, expected: str, decided_by: str) -> Problem:
    """A line of the other method than its file: said once, its other checks skipped."""
    shape = {
        PREFERENCE: "a preference example (it has `completions` or is in a preference format)",
        SUPERVISED: "a supervised example (no `completions`)",
    }[found]
    return (
        "method_mismatch",
        "completions" if found == PREFERENCE else "",
        f"this line is {shape}, but the file holds {expected} data ({decided_by}); "
        "a file holds one kind of example",
    )


def check_record(
    record: object, options: CheckOptions, method: str, decided_by: str = "its first line"
) -> tuple[list, Measure]:
    """All problems of one parsed line for a file of ``method``, and its measure."""
    if not isinstance(record, dict):
        return [_not_an_object(record)], Measure()
    found = record_method(record)
    if found != method:
        return [method_mismatch(found, method, decided_by)], Measure()
    if method == PREFERENCE:
        return check_preference_example(record, options)
    return check_example(record, options)


def check_example(record: object, options: CheckOptions = CheckOptions()) -> tuple[list, Measure]:
    """All problems of one parsed supervised line, and its measure. Never raises on bad input."""
    measure = Measure()
    problems: list[Problem] = []
    if not isinstance(record, dict):
        problems.append(_not_an_object(record))
        return problems, measure
    if "contents" not in record:
        camelize(record, measure)
    contents = record.get("contents")
    if contents is None:
        legacy = detect_format(record)
        if legacy and legacy != "gemini":
            problems.append(("legacy_format", "", legacy_hint(legacy)))
        else:
            problems.append(("contents_missing", "contents", "missing required field `contents`"))
        return problems, measure
    if len(record) > 1:
        camelize(record, measure)
        for key in record:
            if key not in TOP_LEVEL_KEYS:
                problems.append(
                    (
                        "unknown_field",
                        key,
                        f"unknown top-level field `{key}` (known: contents, systemInstruction, "
                        "tools, generationConfig)",
                    )
                )
        if "systemInstruction" in record:
            _check_system_instruction(record["systemInstruction"], measure, problems)
        if "tools" in record:
            _check_tools(record["tools"], measure, problems)
        if "generationConfig" in record:
            _check_generation_config(record["generationConfig"], measure, problems)
    _check_contents(contents, measure, problems, options)
    return problems, measure


def check_preference_example(
    record: object, options: CheckOptions = CheckOptions()
) -> tuple[list, Measure]:
    """All problems of one preference line, and its measure (completions counted as the
    last turns). Preference data is text only, whatever ``options`` says."""
    measure = Measure()
    problems: list[Problem] = []
    if not isinstance(record, dict):
        problems.append(_not_an_object(record))
        return problems, measure
    options = CheckOptions(heic_allowed=options.heic_allowed, text_only=True)
    camelize(record, measure)
    for key in record:
        if key not in PREFERENCE_TOP_LEVEL_KEYS:
            problems.append(
                (
                    "unknown_field",
                    key,
                    f"unknown top-level field `{key}` in preference data (known: contents, "
                    "completions, systemInstruction)",
                )
            )
    if "systemInstruction" in record:
        _check_system_instruction(record["systemInstruction"], measure, problems)
    contents = record.get("contents")
    if contents is None:
        problems.append(("contents_missing", "contents", "missing required field `contents`"))
    else:
        _check_contents(contents, measure, problems, options, preference=True)
    _check_completions(record.get("completions"), measure, problems, options)
    return problems, measure


def _score_problem(score: object) -> str | None:
    """Why a ``score`` is not 0 or 1 (None when it is; 0.0 and 1.0 are 0 and 1)."""
    if isinstance(score, bool):
        return f"is {str(score).lower()}; use the number 1 (preferred) or 0 (dispreferred)"
    if not isinstance(score, int | float):
        return f"is {score!r} ({type(score).__name__}); it must be the number 0 or 1"
    if score not in (0, 1):
        kind = "a fractional score" if score != int(score) else "out of range"
        return (
            f"is {score!r} ({kind}); the only values are 1 (preferred) and 0 (dispreferred): "
            "graded feedback must be turned into a pair"
        )
    return None


def _check_completions(value, measure: Measure, problems: list, options) -> None:
    where = "completions"
    if value is None:
        problems.append(("completions_missing", where, "missing required field `completions`"))
        return
    if not isinstance(value, list):
        problems.append(("completions_not_list", where, "`completions` must be a list of two"))
        return
    if len(value) != PREFERENCE_COMPLETIONS:
        problems.append(
            (
                "completions_not_two",
                where,
                f"`completions` holds {len(value)} item(s); preference data needs exactly two: "
                "one preferred (score 1) and one dispreferred (score 0)",
            )
        )
    scores: list[int] = []
    for i, entry in enumerate(value):
        sub = f"{where}[{i}]"
        if not isinstance(entry, dict):
            shape = '{"score": 0 or 1, "completion": {...}}'
            problems.append(("completion_not_object", sub, f"`{sub}` must be {shape}"))
            continue
        for key in entry:
            if key not in COMPLETION_KEYS:
                problems.append(("unknown_field", f"{sub}.{key}", f"unknown field `{sub}.{key}`"))
        if "score" not in entry:
            problems.append(("score_missing", f"{sub}.score", f"`{sub}.score` is missing"))
        else:
            reason = _score_problem(entry["score"])
            if reason:
                problems.append(("score_invalid", f"{sub}.score", f"`{sub}.score` {reason}"))
            else:
                scores.append(int(entry["score"]))
        _check_completion(entry.get("completion"), f"{sub}.completion", measure, problems, options)
    paired = len(value) == len(scores) == PREFERENCE_COMPLETIONS
    if paired and sorted(scores) != [0, 1]:
        both = "1 (preferred)" if scores[0] else "0 (dispreferred)"
        problems.append(
            (
                "scores_not_a_pair",
                where,
                f"both completions score {both}; exactly one must score 1 and the other 0",
            )
        )


def _check_completion(completion, sub: str, measure: Measure, problems: list, options) -> None:
    if not isinstance(completion, dict):
        problems.append(
            (
                "completion_not_object",
                sub,
                f'`{sub}` must be one model turn {{"role": "model", "parts": [...]}}',
            )
        )
        return
    role = completion.get("role")
    if role != "model":
        shown = "missing" if role is None else repr(role)
        problems.append(
            (
                "completion_role_invalid",
                f"{sub}.role",
                f"`{sub}.role` is {shown}; a completion is a 'model' turn{_role_hint(role)}",
            )
        )
    for key in completion:
        if key not in ("role", "parts"):
            problems.append(("unknown_field", f"{sub}.{key}", f"unknown field `{sub}.{key}`"))
    chars, media = _check_parts(completion.get("parts"), f"{sub}.parts", measure, problems, options)
    measure.turn_chars.append(chars)
    measure.turn_media.append(media)
    measure.turn_is_model.append(True)
    measure.completion_turns += 1


def _role_hint(role: object) -> str:
    if isinstance(role, str) and role.lower() in ROLES:
        return " (lower case)"
    hints = {
        "assistant": " (the answer turn is 'model' in the Gemini format)",
        "system": " (system text goes in the top-level `systemInstruction`)",
        "tool": " (a function result is a `functionResponse` part in a 'user' turn)",
        "function": " (a function result is a `functionResponse` part in a 'user' turn)",
    }
    return hints.get(role, "") if isinstance(role, str) else ""


def _check_contents(
    contents: object, measure: Measure, problems: list, options, preference: bool = False
) -> None:
    if not isinstance(contents, list):
        problems.append(("contents_not_list", "contents", "`contents` must be a list of turns"))
        return
    if not contents:
        problems.append(("contents_empty", "contents", "`contents` is an empty list"))
        return
    previous_role = None
    has_model = False
    roles_known = True  # a missing or invalid role already says why no model turn was found
    for i, turn in enumerate(contents):
        where = f"contents[{i}]"
        if not isinstance(turn, dict):
            problems.append(("content_not_object", where, f"`{where}` must be an object"))
            continue
        role = turn.get("role")
        roles_known = roles_known and role in ROLES
        if role is None:
            problems.append(("role_missing", f"{where}.role", f"`{where}.role` is missing"))
        elif role not in ROLES:
            problems.append(
                (
                    "role_invalid",
                    f"{where}.role",
                    f"`{where}.role` is {role!r}; it must be 'user' or 'model'{_role_hint(role)}",
                )
            )
        elif role == previous_role:
            problems.append(
                (
                    "turns_not_alternating",
                    f"{where}.role",
                    f"`{where}.role` is {role!r} again: user and model turns must alternate "
                    "(merge the parts of consecutive turns into one turn)",
                )
            )
        if i == 0 and role == "model":
            problems.append(
                ("first_turn_not_user", f"{where}.role", "the first turn should be a user turn")
            )
        is_model = role == "model"
        has_model = has_model or is_model
        previous_role = role
        chars, media = _check_parts(turn.get("parts"), f"{where}.parts", measure, problems, options)
        measure.turn_chars.append(chars)
        measure.turn_media.append(media)
        measure.turn_is_model.append(is_model)
        for key in turn:
            if key not in ("role", "parts"):
                problems.append(
                    ("unknown_field", f"{where}.{key}", f"unknown field `{where}.{key}`")
                )
    if preference:
        if previous_role == "model":
            problems.append(
                (
                    "last_turn_not_user",
                    f"contents[{len(contents) - 1}].role",
                    f"`contents[{len(contents) - 1}].role` is 'model': preference `contents` "
                    "end with the user turn the two completions answer",
                )
            )
    elif not has_model:
        if roles_known:
            problems.append(
                (
                    "no_model_turn",
                    "contents",
                    "`contents` has no turn with role 'model': the example teaches nothing",
                )
            )
    elif previous_role != "model":
        problems.append(
            (
                "last_turn_not_model",
                f"contents[{len(contents) - 1}].role",
                "the last turn is not a model turn; the service learns from model turns",
            )
        )
    for kind, count in measure.media.items():
        cap = MEDIA_CAPS.get(kind)
        if cap is not None and count > cap:
            problems.append(
                (
                    MEDIA_CAP_CODES[kind],
                    "contents",
                    f"`contents` holds {count} {kind} parts; at most {cap} per example",
                )
            )


def _check_parts(parts, where: str, measure: Measure, problems: list, options) -> tuple[int, dict]:
    """Characters of text in the parts, media counted by kind; problems appended."""
    media: dict[str, int] = {}
    if parts is None:
        problems.append(("parts_missing", where, f"`{where}` is missing"))
        return 0, media
    if not isinstance(parts, list):
        problems.append(("parts_not_list", where, f"`{where}` must be a list of parts"))
        return 0, media
    if not parts:
        problems.append(("parts_empty", where, f"`{where}` is an empty list"))
        return 0, media
    chars = 0
    for j, part in enumerate(parts):
        path = f"{where}[{j}]"
        if not isinstance(part, dict):
            problems.append(("part_not_object", path, f"`{path}` must be an object"))
            continue
        text = part.get("text")
        if len(part) == 1 and type(text) is str and text and not text.isspace():  # common case
            chars += len(text)
            continue
        chars += _check_part(part, path, measure, media, problems, options)
    for kind, count in media.items():
        measure.media[kind] = measure.media.get(kind, 0) + count
    return chars, media


def _check_part(part: dict, path: str, measure, media: dict, problems: list, options) -> int:
    camelize(part, measure)
    data_keys = [k for k in DATA_KEYS if k in part]
    for key in part:
        if key not in PART_KEYS:
            problems.append(
                (
                    "part_unknown_field",
                    f"{path}.{key}",
                    f"`{path}.{key}` is not a part field (one of: {', '.join(DATA_KEYS)})",
                )
            )
    if not data_keys:
        problems.append(("part_no_data", path, f"`{path}` holds none of: {', '.join(DATA_KEYS)}"))
        return 0
    if len(data_keys) > 1:
        problems.append(
            (
                "part_multiple_data",
                path,
                f"`{path}` holds {', '.join(data_keys)}; a part holds exactly one of them "
                "(split it into several parts)",
            )
        )
    if options.text_only and data_keys != ["text"]:
        other = [k for k in data_keys if k != "text"]
        problems.append(
            (
                "not_text_only",
                f"{path}.{other[0]}",
                f"`{path}` holds {', '.join(other)}; preference data is text only "
                "(no images, audio, video, documents or function calls)",
            )
        )
        return 0
    if "videoMetadata" in part:
        _check_video_metadata(part["videoMetadata"], f"{path}.videoMetadata", measure, problems)
    chars = 0
    for key in data_keys:
        value = part[key]
        sub = f"{path}.{key}"
        if key == "text":
            if not isinstance(value, str):
                problems.append(("text_not_string", sub, f"`{sub}` must be a string"))
            elif not value or value.isspace():
                problems.append(("text_empty", sub, f"`{sub}` is empty"))
            else:
                chars += len(value)
        elif key == "inlineData":
            _check_inline_data(value, sub, measure, media, problems, options)
        elif key == "fileData":
            _check_file_data(value, sub, measure, media, problems, options)
        elif key == "functionCall":
            chars += _check_function(value, sub, "args", "function_call_invalid", measure, problems)
        else:
            chars += _check_function(
                value, sub, "response", "function_response_invalid", measure, problems
            )
    return chars


def _mime_kind(data: dict, sub: str, options, problems: list) -> str | None:
    mime = data.get("mimeType")
    if not mime or not isinstance(mime, str):
        problems.append(("mime_type_missing", f"{sub}.mimeType", f"`{sub}.mimeType` is missing"))
        return None
    kind = media_kind(mime, options)
    if kind is None:
        hint = " (HEIC/HEIF need a Gemini 2.5 model)" if mime.lower() in IMAGE_TYPES_25 else ""
        problems.append(
            (
                "mime_type_unsupported",
                f"{sub}.mimeType",
                f"`{sub}.mimeType` {mime!r} is not a supported media type{hint}",
            )
        )
    return kind


def _count_media(kind: str | None, media: dict) -> None:
    if kind is not None:
        media[kind] = media.get(kind, 0) + 1


def _check_inline_data(value, sub: str, measure, media: dict, problems: list, options) -> None:
    if not isinstance(value, dict):
        problems.append(("inline_data_invalid", sub, f"`{sub}` must be an object"))
        return
    camelize(value, measure)
    kind = _mime_kind(value, sub, options, problems)
    data = value.get("data")
    if not isinstance(data, str) or not data:
        problems.append(("inline_data_invalid", f"{sub}.data", f"`{sub}.data` is missing"))
    else:
        try:
            binascii.a2b_base64(data, strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            problems.append(
                (
                    "inline_data_invalid_base64",
                    f"{sub}.data",
                    f"`{sub}.data` is not valid base64 ({exc})",
                )
            )
    _count_media(kind, media)


def _check_file_data(value, sub: str, measure, media: dict, problems: list, options) -> None:
    if not isinstance(value, dict):
        problems.append(("file_data_invalid", sub, f"`{sub}` must be an object"))
        return
    camelize(value, measure)
    kind = _mime_kind(value, sub, options, problems)
    uri = value.get("fileUri")
    if not isinstance(uri, str) or not uri:
        problems.append(("file_data_invalid", f"{sub}.fileUri", f"`{sub}.fileUri` is missing"))
    elif not (
        (uri.startswith("gs://") and len(uri) > 5 and "/" in uri[5:]) or uri.startswith("https://")
    ):
        problems.append(
            (
                "file_uri_invalid",
                f"{sub}.fileUri",
                f"`{sub}.fileUri` {uri[:80]!r} must be a gs://bucket/object or https:// URI",
            )
        )
    _count_media(kind, media)


def _check_function(value, sub: str, payload: str, code: str, measure, problems: list) -> int:
    if not isinstance(value, dict):
        problems.append((code, sub, f"`{sub}` must be an object"))
        return 0
    name = value.get("name")
    if not isinstance(name, str) or not name:
        problems.append((code, f"{sub}.name", f"`{sub}.name` must be a non-empty string"))
    body = value.get(payload)
    if payload == "response" and not isinstance(body, dict):
        problems.append((code, f"{sub}.response", f"`{sub}.response` must be an object"))
    elif body is not None and not isinstance(body, dict):
        problems.append((code, f"{sub}.{payload}", f"`{sub}.{payload}` must be an object"))
    return len(name or "") + (len(repr(body)) if body else 0)


def _check_video_metadata(value, sub: str, measure, problems: list) -> None:
    if not isinstance(value, dict):
        problems.append(("video_metadata_invalid", sub, f"`{sub}` must be an object"))
        return
    camelize(value, measure)
    for key in ("startOffset", "endOffset"):
        offset = value.get(key)
        if offset is not None and not (isinstance(offset, str) and offset.endswith("s")):
            problems.append(
                (
                    "video_metadata_invalid",
                    f"{sub}.{key}",
                    f"`{sub}.{key}` must be a duration string such as '1.5s'",
                )
            )


def _check_system_instruction(value, measure: Measure, problems: list) -> None:
    where = "systemInstruction"
    if isinstance(value, str):
        problems.append(
            (
                "system_instruction_invalid",
                where,
                '`systemInstruction` must be an object {"parts": [{"text": "..."}]}, not a string',
            )
        )
        return
    if not isinstance(value, dict):
        problems.append(("system_instruction_invalid", where, f"`{where}` must be an object"))
        return
    parts = value.get("parts")
    if not isinstance(parts, list) or not parts:
        problems.append(
            (
                "system_instruction_invalid",
                f"{where}.parts",
                f"`{where}.parts` must be a non-empty list of text parts",
            )
        )
        return
    for j, part in enumerate(parts):
        text = part.get("text") if isinstance(part, dict) else None
        if not isinstance(text, str) or not text or text.isspace():
            problems.append(
                (
                    "system_instruction_invalid",
                    f"{where}.parts[{j}].text",
                    f"`{where}.parts[{j}]` must hold a non-empty `text`",
                )
            )
        else:
            measure.prefix_chars += len(text)
    role = value.get("role")
    if role is not None and role not in ("user", "system", ""):
        problems.append(
            ("system_instruction_invalid", f"{where}.role", f"`{where}.role` {role!r} is invalid")
        )


def _check_tools(value, measure: Measure, problems: list) -> None:
    if not isinstance(value, list):
        problems.append(("tools_invalid", "tools", "`tools` must be a list of tool objects"))
        return
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(tool, dict) or not tool:
            problems.append(("tools_invalid", where, f"`{where}` must be a non-empty object"))
            continue
        camelize(tool, measure)
        declarations = tool.get("functionDeclarations")
        if declarations is None:
            continue
        if not isinstance(declarations, list):
            problems.append(
                (
                    "tools_invalid",
                    f"{where}.functionDeclarations",
                    f"`{where}.functionDeclarations` must be a list",
                )
            )
            continue
        for j, declaration in enumerate(declarations):
            sub = f"{where}.functionDeclarations[{j}]"
            name = declaration.get("name") if isinstance(declaration, dict) else None
            if not isinstance(name, str) or not name:
                problems.append(("tools_invalid", f"{sub}.name", f"`{sub}.name` is missing"))
                continue
            params = declaration.get("parameters")
            if params is not None and not isinstance(params, dict):
                problems.append(
                    ("tools_invalid", f"{sub}.parameters", f"`{sub}.parameters` must be an object")
                )
            measure.prefix_chars += len(name) + len(str(declaration.get("description", "")))
            measure.prefix_chars += len(repr(params)) if params else 0


def _check_generation_config(value, measure: Measure, problems: list) -> None:
    if not isinstance(value, dict):
        problems.append(
            (
                "generation_config_invalid",
                "generationConfig",
                "`generationConfig` must be an object",
            )
        )
        return
    camelize(value, measure)
    resolution = value.get("mediaResolution")
    if resolution is None:
        return
    if resolution not in MEDIA_RESOLUTIONS:
        problems.append(
            (
                "generation_config_invalid",
                "generationConfig.mediaResolution",
                f"`generationConfig.mediaResolution` {resolution!r} is not one of "
                f"{', '.join(sorted(MEDIA_RESOLUTIONS))}",
            )
        )
        return
    measure.media_resolution = resolution
