"""Tuning data as the service sees it: read from Cloud Storage, parsed, measured.

The statistics imitate ``SupervisedTuningDataStats`` (token counts are the
emulator's, see ``serving/tokenizer.py``). What the service rejects is checked in
``service_checks.py``, independently of the project's validator.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
from gemini_sft_kfp.emulator.serving.tokenizer import count_tokens, parts_text

BATCH_SIZE = 8


class DatasetProblem(Exception):
    """The data cannot be tuned on: the job fails with this message (code 3, INVALID_ARGUMENT)."""


@dataclass
class Example:
    prompt: str  # all user turns (the text the tuned model is retrieved by)
    answer: str  # the last model turn
    input_tokens: int
    output_tokens: int
    user_messages: int


@dataclass
class Dataset:
    examples: list[Example] = field(default_factory=list)
    characters: int = 0


def json_rows(data: bytes, uri: str) -> Iterator[tuple[int, bytes, object]]:
    """(row index, line, parsed record) of each non-blank line; a line that is no JSON
    raises ``DatasetProblem`` naming its row, like the service."""
    for index, line in enumerate(data.splitlines()):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise DatasetProblem(f"Row: {index}. Invalid JSON in {uri}.") from None
        yield index, line, record


def parse_jsonl(data: bytes, uri: str) -> Dataset:
    """Parse Gemini-format JSONL; the first bad line raises ``DatasetProblem`` like the service."""
    dataset = Dataset()
    for index, line, record in json_rows(data, uri):
        if not isinstance(record, dict) or not record.get("contents"):
            raise DatasetProblem(f"Row: {index}. Missing required 'contents' field.")
        try:
            dataset.examples.append(_example(record))
        except (AttributeError, TypeError):
            raise DatasetProblem(
                f"Row: {index}. Invalid 'contents': expected a list of "
                '{"role": ..., "parts": [...]} objects.'
            ) from None
        dataset.characters += len(line)
    if not dataset.examples:
        raise DatasetProblem(f"The dataset {uri} has no examples.")
    return dataset


def _example(record: dict) -> Example:
    system = parts_text((record.get("systemInstruction") or {}).get("parts"))
    users, answer, user_messages, output_tokens = [], "", 0, 0
    contents = record["contents"]
    if "completions" in record:  # preference data: the best-scored completion is learned
        best = max(record["completions"], key=lambda c: float(c["score"]))
        contents = [*contents, best["completion"]]
    for content in contents:
        text = parts_text(content.get("parts"))
        if content.get("role", "user").lower() == "model":
            answer = text
            output_tokens += count_tokens(text)
        else:
            users.append(text)
            user_messages += 1
    prompt = "\n".join(users)
    return Example(
        prompt=prompt,
        answer=answer,
        input_tokens=count_tokens(system) + count_tokens(prompt),
        output_tokens=output_tokens,
        user_messages=user_messages,
    )


def distribution(values: list[int]) -> dict:
    """A ``SupervisedTuningDatasetDistribution`` (int64 fields as JSON strings)."""
    ordered = sorted(values)

    def pct(p: float) -> float:
        return float(ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1)))])

    return {
        "sum": str(sum(ordered)),
        "billableSum": str(sum(ordered)),
        "min": float(ordered[0]),
        "max": float(ordered[-1]),
        "mean": float(statistics.fmean(ordered)),
        "median": float(statistics.median(ordered)),
        "p5": pct(0.05),
        "p95": pct(0.95),
        "buckets": _buckets(ordered),
    }


def _buckets(ordered: list[int], count: int = 5) -> list[dict]:
    low, high = ordered[0], ordered[-1]
    width = max(1.0, (high - low) / count)
    buckets = []
    for i in range(count):
        left, right = low + i * width, low + (i + 1) * width
        last = i == count - 1
        n = sum(1 for v in ordered if left <= v < right or (last and v == right))
        buckets.append({"count": float(n), "left": float(left), "right": float(right)})
        if right >= high:
            break
    return buckets


def steps_per_epoch(example_count: int) -> int:
    return max(1, math.ceil(example_count / BATCH_SIZE))


def tuning_data_stats(dataset: Dataset, epochs: int) -> dict:
    """``TuningDataStats`` for a job over ``dataset`` trained for ``epochs``."""
    examples = dataset.examples
    tokens_per_epoch = sum(e.input_tokens + e.output_tokens for e in examples)
    return {
        "supervisedTuningDataStats": {
            "tuningDatasetExampleCount": str(len(examples)),
            "totalTuningCharacterCount": str(dataset.characters),
            "totalBillableTokenCount": str(tokens_per_epoch * epochs),
            "tuningStepCount": str(steps_per_epoch(len(examples)) * epochs),
            "userInputTokenDistribution": distribution([e.input_tokens for e in examples]),
            "userOutputTokenDistribution": distribution([e.output_tokens for e in examples]),
            "userMessagePerExampleDistribution": distribution([e.user_messages for e in examples]),
            "totalTruncatedExampleCount": "0",
        }
    }
