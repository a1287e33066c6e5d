"""The disk under a run's output directory: room checked before anything is created, and
a run that failed for want of it said to have, in one line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gemini_sft_kfp.pipelines.local.kfp_runner import RunResult

from gemini_sft_kfp.core.outputs import (
    FULL_DISK_BYTES,
    check_free_space,
    free_bytes,
    is_disk_error,
)

# Data a run writes besides its inputs' copies: logs, reports, executor outputs.
RUN_OVERHEAD_BYTES = 32 * 2**20


def space_needed(arguments: dict[str, Any], output_dir: Path, emulator_dir: Path | None) -> int:
    """About what a run writes under ``output_dir``: the validated copies of the training
    and validation data, both models' answers to the eval data, logs; and the emulator's
    copy of the uploads when its state shares the disk."""
    data = _local_size(arguments.get("training_data")) + _local_size(
        arguments.get("validation_data")
    )
    needed = data + 2 * _local_size(arguments.get("eval_data")) + RUN_OVERHEAD_BYTES
    if emulator_dir is not None and _same_disk(emulator_dir, output_dir):
        needed += data
    return needed


def _local_size(value: object) -> int:
    """A local file's size; 0 for a URI (its copy is not written here) or nothing."""
    if isinstance(value, str) and value and "://" not in value and os.path.isfile(value):
        return os.path.getsize(value)
    return 0


def _same_disk(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return True


def disk_full_note(result: RunResult, output_dir: Path) -> str | None:
    """One line when a failed run ran out of disk (its log could not be written, or its
    output directory's disk is all but full), else None."""
    try:
        free = free_bytes(output_dir)
    except OSError:
        free = FULL_DISK_BYTES
    if not (is_disk_error(result.log_error) or free < FULL_DISK_BYTES):
        return None
    return (
        f"the disk of {output_dir} is full ({free / 2**20:.1f} MB free): the run could not "
        "write its outputs; free some space and rerun"
    )


def check_room(arguments: dict[str, Any], output_dir: Path, emulator_dir: Path | None) -> None:
    """Refuse a run its output directory's disk has no room for (``space_needed``)."""
    check_free_space(
        output_dir,
        space_needed(arguments, output_dir, emulator_dir),
        what="a run",
        field="output_dir",
    )
