"""Preference tuning (``preferenceOptimizationSpec``; google-genai ``method="PREFERENCE_TUNING"``).

The service accepts it beside supervised tuning on the same ``tuningJobs.create``.
Its data is one JSON object per line: the prompt as ``contents`` (ending in a user
turn) and ``completions``, candidate model turns each with a ``score``; the model
learns to prefer the higher-scored one. The emulator checks that shape (a bad row
fails the job with ``Row: N. ...`` like supervised data) and, simulating training,
answers with the best-scored completion of the closest example.
"""

from __future__ import annotations

import orjson
from gemini_sft_kfp.emulator.datasets import DatasetProblem

SPEC_KEYS = ("supervisedTuningSpec", "preferenceOptimizationSpec")
MIN_COMPLETIONS = 2


def tuning_spec(job_or_body: dict) -> dict:
    """The job's tuning spec, whichever method it uses."""
    for key in SPEC_KEYS:
        if job_or_body.get(key):
            return job_or_body[key]
    return {}


def preference_row_problem(record: object) -> str | None:
    """Why one line is not a preference example (None when it is one)."""
    if not isinstance(record, dict):
        return "Each line must be a JSON object."
    contents = record.get("contents")
    if not isinstance(contents, list) or not contents:
        return "Missing required 'contents' field."
    last = contents[-1]
    if not isinstance(last, dict) or str(last.get("role", "user")).lower() != "user":
        return "The last turn of 'contents' must be a 'user' turn (the prompt)."
    completions = record.get("completions")
    if not isinstance(completions, list) or len(completions) < MIN_COMPLETIONS:
        return f"'completions' must hold at least {MIN_COMPLETIONS} scored completions."
    scores = []
    for index, entry in enumerate(completions):
        if not isinstance(entry, dict) or not isinstance(entry.get("completion"), dict):
            return f"completions[{index}].completion must be a Content object."
        completion = entry["completion"]
        if str(completion.get("role", "model")).lower() != "model" or not completion.get("parts"):
            return f"completions[{index}].completion must be a 'model' turn with parts."
        score = entry.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float):
            return f"completions[{index}].score must be a number."
        scores.append(float(score))
    if len(set(scores)) < 2:
        return "The completions of an example must not all have the same score."
    return None


def check_preference_data(data: bytes, uri: str) -> None:
    """Raise ``DatasetProblem`` for the first row that is not a preference example."""
    rows = 0
    for index, line in enumerate(data.splitlines()):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise DatasetProblem(f"Row: {index}. Invalid JSON in {uri}.") from None
        problem = preference_row_problem(record)
        if problem:
            raise DatasetProblem(f"Row: {index}. {problem} ({uri})")
        rows += 1
    if not rows:
        raise DatasetProblem(f"The dataset {uri} has no examples.")
