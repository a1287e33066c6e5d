"""Preference tuning (``preferenceOptimizationSpec``; google-genai ``method="PREFERENCE_TUNING"``).

The service accepts it beside supervised tuning on the same ``tuningJobs.create``.
Its data is one JSON object per line (SFT_FACTS.md "Preference tuning"): optional
``systemInstruction``; the prompt as ``contents`` (text only, alternating roles, ending
in a user turn); ``completions``: exactly two ``{"score": 0|1, "completion": <model
turn>}``, one preferred (1) and one dispreferred (0); input + completion within the
model's example token limit; the file within its size and example caps; a validation
set of at most 5,000 examples. The emulator checks all of it (a bad row fails the job
with ``Row: N. ...`` like supervised data) and, simulating training, answers with the
preferred completion of the closest example (``datasets._example``).
"""

from __future__ import annotations

from gemini_sft_kfp.emulator.tuning.datasets import DatasetProblem, json_rows

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import get_model_spec

SPEC_KEYS = ("supervisedTuningSpec", "preferenceOptimizationSpec")
COMPLETIONS = 2
SCORES = (0, 1)
ROLES = ("user", "model")
CHARS_PER_TOKEN = 4  # the same estimate as service_checks.py
MAX_VALIDATION_EXAMPLES = 5000
MAX_TRAINING_EXAMPLES = 10_000_000
MAX_FILE_BYTES = 1_000_000_000
MAX_EXAMPLE_TOKENS = 131_072


class _Reject(Exception):
    pass


def tuning_spec(job_or_body: dict) -> dict:
    """The job's tuning spec, whichever method it uses."""
    for key in SPEC_KEYS:
        if job_or_body.get(key):
            return job_or_body[key]
    return {}


def _text_parts(content: object, where: str) -> list[str]:
    """The texts of a Content object; anything but text parts is refused (text only)."""
    if not isinstance(content, dict):
        raise _Reject(f"{where} must be a Content object with role and parts.")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise _Reject(f"{where}.parts must be a non-empty list.")
    texts = []
    for index, part in enumerate(parts):
        if not isinstance(part, dict) or set(part) != {"text"} or not isinstance(part["text"], str):
            raise _Reject(f"{where}.parts[{index}]: preference tuning supports text parts only.")
        texts.append(part["text"])
    return texts


def _contents_texts(contents: object) -> list[str]:
    if not isinstance(contents, list) or not contents:
        raise _Reject("Missing required 'contents' field.")
    texts, previous = [], None
    for index, content in enumerate(contents):
        where = f"contents[{index}]"
        role = content.get("role", "user") if isinstance(content, dict) else None
        if role not in ROLES:
            raise _Reject(f"{where}.role must be one of {ROLES}, got {role!r}.")
        if role == previous:
            raise _Reject(f"{where}: turns must alternate between user and model.")
        previous = role
        texts += _text_parts(content, where)
    if previous != "user":
        raise _Reject("The last turn of 'contents' must be a 'user' turn (the prompt).")
    return texts


def _completion_texts(completions: object) -> list[list[str]]:
    if not isinstance(completions, list) or len(completions) != COMPLETIONS:
        raise _Reject(
            f"'completions' must hold exactly {COMPLETIONS} scored completions "
            "(one preferred, score 1; one dispreferred, score 0)."
        )
    texts, scores = [], []
    for index, entry in enumerate(completions):
        where = f"completions[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("completion"), dict):
            raise _Reject(f"{where}.completion must be a Content object.")
        score = entry.get("score")
        if isinstance(score, bool) or score not in SCORES:
            raise _Reject(f"{where}.score must be 0 or 1, got {score!r}.")
        completion = entry["completion"]
        if completion.get("role") != "model":
            raise _Reject(f"{where}.completion.role must be 'model'.")
        texts.append(_text_parts(completion, f"{where}.completion"))
        scores.append(int(score))
    if sorted(scores) != list(SCORES):
        raise _Reject(
            "The two completions have the same score: one must have score 1 (preferred) "
            "and the other score 0."
        )
    return texts


def preference_row_problem(record: object, max_tokens: int = MAX_EXAMPLE_TOKENS) -> str | None:
    """Why one line is not a preference example (None when it is one)."""
    if not isinstance(record, dict):
        return "Each line must be a JSON object."
    try:
        system = record.get("systemInstruction", record.get("system_instruction"))
        prompt = _text_parts(system, "systemInstruction") if system is not None else []
        prompt += _contents_texts(record.get("contents"))
        for texts in _completion_texts(record.get("completions")):
            tokens = sum(len(t) for t in prompt + texts) // CHARS_PER_TOKEN
            if tokens > max_tokens:
                raise _Reject(
                    f"Input + completion has about {tokens} tokens; the limit is {max_tokens}."
                )
    except _Reject as reject:
        return str(reject)
    return None


def _limits(model: str | None) -> tuple[int, int]:
    """(example token limit, file byte limit) of the base model (defaults when unknown)."""
    try:
        spec = get_model_spec(model, allow_unsupported=True) if model else None
    except UserError:
        spec = None
    if spec is None:
        return MAX_EXAMPLE_TOKENS, MAX_FILE_BYTES
    return spec.max_example_tokens, spec.max_file_bytes


def check_preference_data(
    data: bytes, uri: str, *, model: str | None = None, validation: bool = False
) -> int:
    """The number of examples; ``DatasetProblem`` for the first row or limit refused."""
    max_tokens, max_bytes = _limits(model)
    if len(data) > max_bytes:
        raise DatasetProblem(f"The file {uri} is larger than {max_bytes} bytes.")
    rows = 0
    for index, _, record in json_rows(data, uri):
        problem = preference_row_problem(record, max_tokens)
        if problem:
            raise DatasetProblem(f"Row: {index}. {problem} ({uri})")
        rows += 1
    if not rows:
        raise DatasetProblem(f"The dataset {uri} has no examples.")
    cap = MAX_VALIDATION_EXAMPLES if validation else MAX_TRAINING_EXAMPLES
    if rows > cap:
        kind = "validation" if validation else "training"
        raise DatasetProblem(f"The {kind} dataset {uri} has {rows} examples; the limit is {cap}.")
    return rows


def preference_data_stats(supervised_stats: dict) -> dict:
    """``TuningDataStats`` of a preference job: the ``preferenceOptimizationDataStats``
    block (counts and token distributions; scores are 0/1 by the data rules)."""
    stats = supervised_stats["supervisedTuningDataStats"]
    keys = (
        "tuningDatasetExampleCount",
        "totalBillableTokenCount",
        "tuningStepCount",
        "userInputTokenDistribution",
        "userOutputTokenDistribution",
    )
    block = {k: stats[k] for k in keys if k in stats}
    for key in ("userInputTokenDistribution", "userOutputTokenDistribution"):
        if key in block:  # DatasetDistribution has no billableSum
            block[key] = {k: v for k, v in block[key].items() if k != "billableSum"}
    return {"preferenceOptimizationDataStats": block}
