"""What the tuning service finds in the data after a create: example counts, statistics,
or the problem that fails the job (missing object, not Gemini JSONL, against the
service's own rules: service_checks.py; preference data: preference_tuning.py). Verdicts are
cached by content: retried creates are fast.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gemini_sft_kfp.emulator.tuning import datasets
from gemini_sft_kfp.emulator.tuning.preference_tuning import check_preference_data
from gemini_sft_kfp.emulator.tuning.service_checks import service_problem

if TYPE_CHECKING:
    from gemini_sft_kfp.emulator.common.service import Service

# The same bytes checked again (a retried or repeated create) reuse the first verdict.
CHECK_CACHE_SIZE = 32
_checked: dict[tuple, DataVerdict] = {}
_checked_lock = threading.Lock()


def default_epochs(example_count: int) -> int:
    """The service picks epochs from the dataset size: fewer passes over more data."""
    return max(1, min(10, -(-1000 // max(example_count, 1))))


@dataclass(frozen=True)
class DataVerdict:
    """What the service learns from the data: counts, stats, or the problem that fails it."""

    examples: int
    epochs: int
    stats: dict | None
    problem: str | None


def _read_data(service: Service, spec: dict) -> tuple[bytes | None, bytes | None, str | None]:
    uri = spec["trainingDatasetUri"]
    try:
        train_bytes = service.gcs.read(uri)
    except KeyError:
        return (
            None,
            None,
            f"Failed to read the training dataset: Cloud Storage object {uri} not found.",
        )
    validation_uri = spec.get("validationDatasetUri")
    if not validation_uri:
        return train_bytes, None, None
    try:
        return train_bytes, service.gcs.read(validation_uri), None
    except KeyError:
        return (
            None,
            None,
            f"Failed to read the validation dataset: object {validation_uri} not found.",
        )


def check_data(
    service: Service,
    spec: dict,
    base_model: str,
    epochs: int | None,
    preference: bool = False,
) -> DataVerdict:
    """Problems become a FAILED job, not an HTTP error; verdicts are cached by content."""
    train_bytes, validation_bytes, missing = _read_data(service, spec)
    if missing:
        return DataVerdict(0, epochs or 1, None, missing)
    uri, validation_uri = spec["trainingDatasetUri"], spec.get("validationDatasetUri")
    key = (
        hashlib.sha256(train_bytes).digest(),
        hashlib.sha256(validation_bytes).digest() if validation_bytes is not None else None,
        uri,
        validation_uri,
        base_model,
        epochs,
        preference,
    )
    with _checked_lock:
        if key in _checked:
            return _checked[key]
    try:
        if preference:
            check_preference_data(train_bytes, uri, model=base_model)
            if validation_bytes is not None:
                check_preference_data(
                    validation_bytes, validation_uri, model=base_model, validation=True
                )
        dataset = datasets.parse_jsonl(train_bytes, uri)
        if validation_bytes is not None:
            datasets.parse_jsonl(validation_bytes, validation_uri)
    except datasets.DatasetProblem as problem:
        return DataVerdict(0, epochs or 1, None, str(problem))
    final_epochs = epochs or default_epochs(len(dataset.examples))
    verdict = DataVerdict(
        examples=len(dataset.examples),
        epochs=final_epochs,
        stats=datasets.tuning_data_stats(dataset, final_epochs),
        problem=None
        if preference
        else service_problem(train_bytes, validation_bytes, base_model, (uri, validation_uri)),
    )
    with _checked_lock:
        if len(_checked) >= CHECK_CACHE_SIZE:
            _checked.pop(next(iter(_checked)))
        _checked[key] = verdict
    return verdict
