"""Deterministic train/validation split of a JSONL file, in two streaming passes.

The same file and seed always give the same split (``random.Random(seed)`` over example
indices), so a re-run of a pipeline trains on exactly the same examples. Only the
chosen validation indices are held in memory (at most the validation cap).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass

from gemini_sft_kfp.core.jsonl import checked_lines


@dataclass(frozen=True)
class SplitResult:
    train_examples: int
    validation_examples: int
    requested: int  # fraction x examples, before the cap
    capped: bool


def count_examples(path: str | os.PathLike) -> int:
    """Non-blank lines: one example each."""
    with open(path, "rb") as f:
        return sum(1 for raw in checked_lines(f, file=str(path)) if raw.strip())


def copy_examples(src: str | os.PathLike, dst: str | os.PathLike) -> int:
    """Copy non-blank lines (each ending in a newline); returns the number of examples."""
    examples = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        for raw in checked_lines(fin, file=str(src)):
            if raw.strip():
                fout.write(raw + b"\n")
                examples += 1
    return examples


def split_file(
    src: str | os.PathLike,
    train_dst: str | os.PathLike,
    validation_dst: str | os.PathLike,
    *,
    fraction: float,
    seed: int,
    max_validation: int | Callable[[int], int],
) -> SplitResult:
    """Hold out ``fraction`` of the examples (at most ``max_validation``, or what it returns
    for the number of examples; at least one left for training) as validation; blank lines
    are dropped."""
    if not 0.0 < fraction < 1.0:
        from gemini_sft_kfp.core.errors import UserError

        raise UserError(
            f"validation split {fraction} must be between 0 and 1", field="validation_split"
        )
    total = count_examples(src)
    if callable(max_validation):
        max_validation = max_validation(total)
    requested = round(total * fraction)
    size = max(0, min(requested, max_validation, total - 1))
    chosen = set(random.Random(seed).sample(range(total), size)) if size else set()
    index = 0
    with (
        open(src, "rb") as fin,
        open(train_dst, "wb") as train,
        open(validation_dst, "wb") as validation,
    ):
        for raw in checked_lines(fin, file=str(src)):
            if not raw.strip():
                continue
            (validation if index in chosen else train).write(raw + b"\n")
            index += 1
    return SplitResult(total - size, size, requested, capped=size < requested)
