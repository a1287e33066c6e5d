"""Read an eval JSONL into prompts and references.

Each line is a Gemini tuning example (camelCase, or snake_case keys as the Python SDK
writes them). The reference is the text of the example's LAST ``model`` turn; the
prompt is every turn before it (later turns are ignored).

A preference line (``contents`` ending in a user turn + two ``completions`` scored 1
and 0, Google's preference tuning format) is read as: the prompt is ``contents``, the
reference is the preferred completion, and the dispreferred completion is kept (for
``preference_accuracy``). A file is one shape or the other: a mixed file is refused at
the first line of the other shape. The ``systemInstruction`` is
kept apart so the runner can decide who gets it (the baseline does, the tuned model
does not: see ``runner.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable

import orjson

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.inputs import check_input_file
from gemini_sft_kfp.core.jsonl import checked_lines, max_line_bytes

# Vertex AI's request size limit (32 MB, the front end's): an eval line larger than this
# can never be sent as one request, whatever the model, so it is refused up front.
MAX_LINE_BYTES = 32 * 1024 * 1024
_PART_KEYS = ("text", "inlineData", "fileData", "functionCall", "functionResponse")
_STRING_FIELDS = {"inlineData": ("mimeType", "data"), "fileData": ("mimeType", "fileUri")}
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


class EvalExample:
    """One example to evaluate: the prompt turns, the optional system instruction, the answer.

    The turns and system instruction are kept as compact JSON and parsed when a request
    is built: 10,000 examples then hold a few MB instead of ~35 MB of dicts, and an eval
    set whose examples share one system instruction keeps it once (``parse_lines``
    interns it). The JSON has sorted keys, so equal turns have equal bytes.
    """

    __slots__ = ("contents_json", "dispreferred", "index", "line", "reference", "system_json")

    def __init__(
        self,
        index: int,  # 0-based position among the examples
        line: int,  # 1-based line in the source file, for messages and the predictions file
        contents: list[dict],  # the turns sent to the model (Gemini REST shape, camelCase)
        reference: str,
        system_instruction: dict | None = None,
        dispreferred: str | None = None,  # preference data: the completion scored 0
    ) -> None:
        self.index = index
        self.line = line
        self.reference = reference
        self.dispreferred = dispreferred
        self.contents_json = _compact(contents)
        self.system_json = _compact(system_instruction) if system_instruction else None

    @property
    def contents(self) -> list[dict]:
        return orjson.loads(self.contents_json)

    @property
    def system_instruction(self) -> dict | None:
        return orjson.loads(self.system_json) if self.system_json else None

    @property
    def prompt_text(self) -> str:
        """The last user turn's text: what a reader of the report needs to see."""
        for turn in reversed(self.contents):
            if turn.get("role") == "user":
                return _text_of(turn)
        return ""

    @property
    def is_preference(self) -> bool:
        return self.dispreferred is not None

    def _key(self) -> tuple:
        return (
            self.index,
            self.line,
            self.reference,
            self.contents_json,
            self.system_json,
            self.dispreferred,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EvalExample) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"EvalExample(index={self.index}, line={self.line}, reference={self.reference!r})"


def _compact(value) -> bytes:
    """Sorted-key JSON, copied to its exact size (orjson's own buffer keeps ~4 KB)."""
    return bytes(memoryview(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)))


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


def _check_turn(turn, *, file: str, line: int, position: int, where: str = "") -> dict:
    where = where or f"contents[{position}]"
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
    _check_parts(parts, file=file, line=line, where=where)
    return {"role": turn["role"], "parts": parts}


def _check_parts(parts: list, *, file: str, line: int, where: str) -> None:
    """Each part holds one kind of data, of the type the service parses (a wrong type
    would have every request, or batch line, refused)."""
    for j, part in enumerate(parts):
        at = f"{where}.parts[{j}]"
        if not isinstance(part, dict) or sum(k in part for k in _PART_KEYS) != 1:
            raise UserError(
                f"each part needs exactly one of {', '.join(_PART_KEYS)}",
                file=file,
                line=line,
                field=at,
            )
        key = next(k for k in _PART_KEYS if k in part)
        value = part[key]
        if key == "text":
            if not isinstance(value, str):
                raise UserError("must be a string", file=file, line=line, field=f"{at}.text")
            continue
        if not isinstance(value, dict):
            raise UserError("must be an object", file=file, line=line, field=f"{at}.{key}")
        for name in _STRING_FIELDS.get(key, ()):
            if not isinstance(value.get(name), str) or not value[name]:
                raise UserError(
                    "must be a non-empty string", file=file, line=line, field=f"{at}.{key}.{name}"
                )


def parse_example(
    record, *, index: int, file: str, line: int, shared: dict[bytes, bytes] | None = None
) -> EvalExample:
    """Validate one JSON record and split it into prompt and reference."""
    if not isinstance(record, dict):
        raise UserError("each line must be a JSON object", file=file, line=line)
    record = _camel(record)
    contents = record.get("contents")
    if not isinstance(contents, list) or not contents:
        hint = ""
        if "messages" in record or "input_text" in record or "text_input" in record:
            hint = f" (convert it first: gemini-sft convert {file or 'IN.jsonl'} OUT.jsonl)"
        raise UserError(
            f"missing required 'contents' list{hint}", file=file, line=line, field="contents"
        )
    turns = [_check_turn(t, file=file, line=line, position=i) for i, t in enumerate(contents)]
    if "completions" in record:
        prompt = turns
        reference, dispreferred = _completions(record["completions"], turns, file, line)
        return _with_system(record, prompt, reference, dispreferred, index, file, line, shared)
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
    return _with_system(record, prompt, reference, None, index, file, line, shared)


def _completions(completions, turns: list[dict], file: str, line: int) -> tuple[str, str]:
    """(preferred text, dispreferred text) of a preference line, checked as Vertex does."""
    if turns[-1]["role"] != "user":
        raise UserError(
            "a preference line's contents must end with a 'user' turn (the prompt)",
            file=file,
            line=line,
            field=f"contents[{len(turns) - 1}].role",
        )
    if not isinstance(completions, list) or len(completions) != 2:
        raise UserError(
            "completions must hold exactly 2 items (one scored 1, one scored 0)",
            file=file,
            line=line,
            field="completions",
        )
    texts: dict[int, str] = {}
    for i, entry in enumerate(completions):
        where = f"completions[{i}]"
        score = entry.get("score") if isinstance(entry, dict) else None
        if isinstance(score, bool) or score not in (0, 1):
            raise UserError(
                f"score must be 0 or 1, got {score!r}", file=file, line=line, field=f"{where}.score"
            )
        completion = _camel(entry.get("completion"))
        if not isinstance(completion, dict) or completion.get("role") != "model":
            raise UserError(
                "completion must be a 'model' turn",
                file=file,
                line=line,
                field=f"{where}.completion",
            )
        turn = _check_turn(
            completion, file=file, line=line, position=i, where=f"{where}.completion"
        )
        texts[int(score)] = _text_of(turn)
    if len(texts) != 2:
        raise UserError(
            "one completion must be scored 1 (preferred) and the other 0",
            file=file,
            line=line,
            field="completions",
        )
    if not texts[1].strip():
        raise UserError(
            "the preferred completion has no text to compare against",
            file=file,
            line=line,
            field="completions",
        )
    return texts[1], texts[0]


def _with_system(record, prompt, reference, dispreferred, index, file, line, shared):
    """The example, with its checked system instruction (shared bytes when repeated)."""
    system = record.get("systemInstruction")
    if system is not None and (
        not isinstance(system, dict)
        or (system and not isinstance(system.get("parts"), list | dict))
    ):
        raise UserError(
            "systemInstruction must be an object with parts",
            file=file,
            line=line,
            field="systemInstruction",
        )
    if system:
        system_parts = system["parts"] if isinstance(system["parts"], list) else [system["parts"]]
        _check_parts(system_parts, file=file, line=line, where="systemInstruction")
    example = EvalExample(index, line, prompt, reference, system or None, dispreferred)
    if shared is not None and example.system_json is not None:
        example.system_json = shared.setdefault(example.system_json, example.system_json)
    return example


def parse_lines(lines: Iterable[bytes] | bytes, *, file: str, max_examples: int = 0):
    """Parse JSONL lines (or bytes); blank lines are skipped, anything else must be a
    valid example. Examples sharing a system instruction share its bytes."""
    if isinstance(lines, bytes):
        lines = lines.splitlines()
    examples: list[EvalExample] = []
    shared: dict[bytes, bytes] = {}
    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UserError(f"not valid JSON: {exc}", file=file, line=line_no) from None
        example = parse_example(record, index=len(examples), file=file, line=line_no, shared=shared)
        if examples and example.is_preference != examples[0].is_preference:
            shapes = ("a tuning example", "a preference line")
            raise UserError(
                f"this line is {shapes[example.is_preference]} but line {examples[0].line} "
                f"is {shapes[examples[0].is_preference]}: an eval file is one shape",
                file=file,
                line=line_no,
            )
        examples.append(example)
        if max_examples and len(examples) >= max_examples:
            break
    if not examples:
        raise UserError("no examples to evaluate", file=file)
    return examples


def _download(uri: str, directory: str, project: str | None) -> str:
    """A gs:// or http(s):// eval set copied to ``directory`` (read line by line, never
    whole), as validate and upload read the training data."""
    from gemini_sft_kfp.core.storage import GCS_SCHEME, download, split_gcs_uri

    if uri.startswith(GCS_SCHEME):
        split_gcs_uri(uri, field="eval_data")
    try:
        return str(download(uri, directory, project=project, field="eval_data"))
    except Exception as exc:  # NotFound / Forbidden: the user's path or permissions
        if getattr(exc, "code", None) in (403, 404):
            raise UserError(f"cannot read: {exc}", file=uri, field="eval_data") from None
        raise


def read_examples(path: str, *, project: str | None = None, max_examples: int = 0):
    """Read a local path, ``gs://`` or ``http(s)://`` URI of eval JSONL into
    ``EvalExample``s (a URL was checked as a local path: "no such file").

    Called by the run's up-front check (check_run_inputs), so every limit of an eval
    line is checked here, before anything is tuned."""
    from gemini_sft_kfp.core.storage import is_remote

    with tempfile.TemporaryDirectory() as tmp:
        local = _download(path, tmp, project) if is_remote(path) else path
        check_input_file(local, field="eval_data")
        with open(local, "rb") as f:
            return parse_lines(
                checked_lines(f, file=path, cap=min(max_line_bytes(), MAX_LINE_BYTES)),
                file=path,
                max_examples=max_examples,
            )
