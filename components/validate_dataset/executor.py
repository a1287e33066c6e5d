"""The ``validate_dataset`` component's logic, testable without KFP.

Fetch (size-checked) -> convert legacy formats and snake_case keys on the fly (keeping
the user's line numbers) -> validate -> write normalised Gemini JSONL, optionally split
into train/validation. Invalid data raises ``UserError`` carrying the readable summary,
so the pipeline task fails before anything is uploaded or billed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gemini_sft_kfp.components.validate_dataset.convert import convert_file
from gemini_sft_kfp.components.validate_dataset.file_checks import (
    file_cap,
    max_validation_examples,
)
from gemini_sft_kfp.components.validate_dataset.render import render_markdown
from gemini_sft_kfp.components.validate_dataset.split import SplitResult, copy_examples, split_file
from gemini_sft_kfp.components.validate_dataset.validator import (
    ValidationReport,
    check_method,
    validate_files,
)

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import get_model_spec
from gemini_sft_kfp.core.storage import download, is_remote, remote_size


@dataclass
class Prepared:
    """What the component publishes."""

    report: ValidationReport
    train_examples: int
    validation_examples: int
    markdown: str
    conversions: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> format counts
    split: SplitResult | None = None

    @property
    def method(self) -> str:
        """The tuning method the data is for: ``supervised`` or ``preference``."""
        return self.report.method

    def metrics(self) -> dict[str, float]:
        stats = self.report.stats
        return {
            "examples": self.train_examples,
            "validation_examples": self.validation_examples,
            "estimated_billable_tokens": stats.get("estimatedBillableTokens", 0),
            "billable_tokens_per_epoch": stats.get("billableTokensPerEpoch", 0),
            "epochs_assumed_for_estimate": stats.get("epochs", 0),
            "warnings": sum(stats.get("warningTotals", {}).values()),
        }


def _local_copy(source: str, workdir: str, max_bytes: int | None) -> str:
    """A local path for ``source``, size-checked before anything is read or downloaded."""
    if is_remote(source):
        size = remote_size(source)
    elif os.path.isfile(source):
        size = os.path.getsize(source)
    else:
        from gemini_sft_kfp.core.inputs import input_problem

        raise UserError(input_problem(source) or "no such file", file=source, code="file_not_found")
    if max_bytes is not None and size > max_bytes:
        raise UserError(
            f"{size:,} bytes; at most {max_bytes:,} bytes per file (split the data)",
            file=source,
            code="file_too_large",
        )
    if not is_remote(source):
        return source
    return str(download(source, tempfile.mkdtemp(dir=workdir), max_bytes=max_bytes))


def _normalised(source: str, local: str, workdir: str, conversions: dict) -> str:
    """Convert to camelCase Gemini JSONL, one line per input line (lenient: bad lines kept)."""
    out = Path(tempfile.mkdtemp(dir=workdir), "normalised.jsonl")
    try:
        result = convert_file(local, out, strict=False)
    except UserError as exc:  # a line over the cap (core/jsonl.py): named in the user's file
        exc.file = source if exc.file == local else exc.file
        raise
    legacy = {k: v for k, v in result.formats.items() if k != "gemini"}
    if legacy:
        conversions[source] = legacy
    return str(out)


def run(
    training_data: str,
    validation_data: str = "",
    *,
    model: str = defaults.BASE_MODEL,
    epochs: int = 0,
    validation_split: float = 0.0,
    split_seed: int = 42,
    train_out: str,
    validation_out: str,
    token_counter=None,
    method: str = "auto",
) -> Prepared:
    """Validate and normalise; write ``train_out`` and ``validation_out`` (empty if none).

    ``method``: ``auto`` (the training file's first example decides), ``supervised`` or
    ``preference``; the one found is ``Prepared.method``."""
    if not training_data:
        raise UserError("no training data given", field="training_data")
    if validation_data and validation_split:
        raise UserError(
            "give either validation_data or validation_split, not both", field="validation_split"
        )
    check_method(method)
    spec = get_model_spec(model)
    conversions: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="gemini-sft-prepare-") as workdir:
        train_local = _normalised(
            training_data, _local_copy(training_data, workdir, file_cap(spec)), workdir,
            conversions,
        )  # fmt: skip
        validation_local = None
        if validation_data:
            validation_local = _normalised(
                validation_data,
                _local_copy(validation_data, workdir, file_cap(spec)),
                workdir,
                conversions,
            )
        report = validate_files(
            train_local, validation_local, model=spec.id, epochs=epochs or None,
            token_counter=token_counter, method=method,
        )  # fmt: skip
        report.rename(train_local, training_data)
        if validation_local:
            report.rename(validation_local, validation_data)
        if not report.valid:
            raise UserError(f"the dataset is invalid:\n{report.summary()}", code="invalid_dataset")
        split = None
        if validation_split and not validation_data:
            split = split_file(
                train_local,
                train_out,
                validation_out,
                fraction=validation_split,
                seed=split_seed,
                max_validation=lambda total: max_validation_examples(spec, report.method, total),
            )
            # statistics of what will actually be uploaded
            report = validate_files(
                train_out, validation_out, model=spec.id, epochs=epochs or None,
                token_counter=token_counter, method=report.method,
            )  # fmt: skip
            train_examples, validation_examples = split.train_examples, split.validation_examples
        else:
            train_examples = copy_examples(train_local, train_out)
            validation_examples = 0
            if validation_local:
                validation_examples = copy_examples(validation_local, validation_out)
            else:
                Path(validation_out).write_bytes(b"")
    markdown = render_markdown(report) + _notes(conversions, split, validation_split, split_seed)
    return Prepared(report, train_examples, validation_examples, markdown, conversions, split)


def _notes(conversions: dict, split: SplitResult | None, fraction: float, seed: int) -> str:
    notes = []
    for source, formats in conversions.items():
        described = ", ".join(f"{n:,} lines from {fmt}" for fmt, n in formats.items())
        notes.append(f"- {source}: converted to the Gemini format on the fly ({described}).")
    if split:
        capped = " (capped at the model's validation limit)" if split.capped else ""
        notes.append(
            f"- Split {fraction:g} of the training file (seed {seed}) into "
            f"{split.train_examples:,} training and {split.validation_examples:,} validation "
            f"examples{capped}."
        )
    return "\n## Preparation\n\n" + "\n".join(notes) + "\n" if notes else ""
