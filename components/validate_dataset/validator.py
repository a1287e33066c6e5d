"""Validate a training (and validation) JSONL file before a billed tuning job starts.

``validate_files`` checks sizes before reading, decides the tuning method (supervised or
preference: given, or the shape of the training file's first example), streams every
line through the checks of ``schema`` on all cores, applies the model family's caps
from the model table, and returns a ``ValidationReport`` whose ``to_dict()`` is the
CLI's JSON. Lines in another format the converter knows (OpenAI, TRL, ...) are checked
as converted, exactly as the pipeline's ``validate_dataset`` converts them.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import tempfile

from gemini_sft_kfp.components.validate_dataset.codes import ERROR, Finding, severity
from gemini_sft_kfp.components.validate_dataset.file_checks import (
    check_converted,
    check_counts,
    check_media_resolution,
    check_over_limit,
    check_overlap,
    readable_local,
)
from gemini_sft_kfp.components.validate_dataset.formats import METHODS, SUPERVISED
from gemini_sft_kfp.components.validate_dataset.report import ValidationReport
from gemini_sft_kfp.components.validate_dataset.scan import (
    ScanSettings,
    first_example_method,
    scan_file,
    validation_keys,
)
from gemini_sft_kfp.components.validate_dataset.schema import CheckOptions
from gemini_sft_kfp.components.validate_dataset.stats import FileSummary
from gemini_sft_kfp.components.validate_dataset.tokens import TokenCounter, make_counter

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.models import get_model_spec

__all__ = ["METHOD_CHOICES", "ValidationReport", "validate_files"]

METHOD_CHOICES = ("auto", *METHODS)

ASSUMED_EPOCHS = 3  # only for the billable estimate when no epoch count is given
MAX_FINDINGS_PER_CODE = 20


def _file_findings(summary: FileSummary, path: str, report: ValidationReport) -> None:
    """Findings of one file in order of their first line; totals count those not listed."""

    def first_line(item) -> int:
        kept = item[1].kept
        return (kept[0][0] or 0) if kept else 0

    for code, entry in sorted(summary.findings.items(), key=first_line):
        for line, field_path, message in entry.kept:
            report.add(Finding(path, line, code, message, field_path), total=0)
        report.totals[code] = report.totals.get(code, 0) + entry.total


def _legacy_message(summary: FileSummary, path: str) -> None:
    """Put the real file name into legacy-format hints (the checks do not know it)."""
    entry = summary.findings.get("legacy_format")
    if entry:
        quoted = shlex.quote(path)
        entry.kept = [(ln, f, m.replace("IN.jsonl", quoted)) for ln, f, m in entry.kept]


def check_method(method: str) -> None:
    if method not in METHOD_CHOICES:
        raise UserError(
            f"unknown tuning method {method!r}; use one of {', '.join(METHOD_CHOICES)}",
            field="method",
        )


def _decided_by(path: str, local: str) -> str:
    _, line = first_example_method(local)
    return f"decided by {path}:{line}, its first example" if line else "its first example"


def _file_method(
    local: str, path: str, role: str, method: str, asked: str, report: ValidationReport
) -> str | None:
    """The method ``path`` is checked as; None (one finding added, the file not scanned)
    when its first example is of another method than asked or than the training file's."""
    found, line = first_example_method(local)
    if method == "auto":
        return found or SUPERVISED
    if found is None or found == method:
        return method
    reason = f"method {method} was asked"
    if asked == "auto":
        reason = f"the training file holds {method} data"
    shape = "has `completions`" if found == "preference" else "has no `completions`"
    report.add(
        Finding(
            path,
            line,
            "method_mismatch",
            f"{path} holds {found} data (its first example, line {line}, {shape}), but "
            f"{reason}; a {method} job needs {method} data (or check it with --method {found})",
        )
    )
    return None


def _distribution_stats(summary: FileSummary, path: str, size: int) -> dict:
    return {
        "path": path,
        "bytes": size,
        "lines": summary.lines,
        "examples": summary.examples,
        "validExamples": summary.valid_examples,
        "turns": summary.turns,
        "multimodalExamples": summary.multimodal_examples,
        "normalizedKeyExamples": summary.renamed_key_examples,
        "totalTokens": summary.example_tokens.total,
        "billableTokensPerEpoch": summary.billable_tokens_per_epoch,
        "inputTokens": summary.input_tokens.to_dict(),
        "outputTokens": summary.output_tokens.to_dict(),
        "exampleTokens": summary.example_tokens.to_dict(),
        "overTokenLimit": {
            "count": summary.over_limit,
            "lines": summary.over_limit_lines,
            "indices": summary.over_limit_indices,
        },
        "mediaResolution": sorted((v for v in summary.media_resolutions if v is not None), key=str),
    }


def validate_files(
    train_path: str,
    validation_path: str | None = None,
    *,
    model: str = defaults.BASE_MODEL,
    epochs: int | None = None,
    token_counter: TokenCounter | str | None = None,
    max_findings_per_code: int = MAX_FINDINGS_PER_CODE,
    workers: int | None = None,
    method: str = "auto",
) -> ValidationReport:
    """Validate JSONL files (local, gs:// or https://) for tuning ``model`` with ``method``
    (``auto``: the training file's first example decides; ``supervised``; ``preference``).

    Never raises for bad data: every problem is a finding in the report. Raises
    ``UserError`` only for a bad argument (unknown model, method or token counter).
    """
    check_method(method)
    spec = get_model_spec(model)
    counter = make_counter(token_counter, spec.id)
    # the training file is required: an empty path is "no file", never an empty dataset
    paths = [train_path, *([validation_path] if validation_path else [])]
    report = ValidationReport(files=[str(p) for p in paths])
    settings = ScanSettings(
        counter=counter,
        max_example_tokens=spec.max_example_tokens,
        options=CheckOptions(heic_allowed=not spec.family.startswith(("gemini-1.", "gemini-2.0"))),
        max_findings_per_code=max_findings_per_code,
    )
    scanned: list[tuple[str, FileSummary]] = []
    file_stats: dict[str, dict | None] = {"train": None, "validation": None}
    with tempfile.TemporaryDirectory(prefix="gemini-sft-validate-") as tmp:
        locals_ = {
            role: readable_local(str(path), spec, report, tmp)
            for role, path in (("train", train_path), ("validation", validation_path))
            if path or role == "train"
        }
        if locals_.get("train") and locals_.get("validation"):
            keys = validation_keys(locals_["validation"], spec.max_validation_examples + 1)
            settings = dataclasses.replace(settings, validation_keys=keys)
        train_examples = 0
        asked = method
        report.method = SUPERVISED if method == "auto" else method
        settings = dataclasses.replace(
            settings, method=report.method, decided_by=f"method {asked} was asked"
        )
        for role, path in (("train", train_path), ("validation", validation_path)):
            local = locals_.get(role)
            if not local:
                continue
            path = str(path)
            file_method = _file_method(local, path, role, method, asked, report)
            if file_method is None:
                continue
            if role == "train" and asked == "auto":
                method = report.method = file_method
                settings = dataclasses.replace(
                    settings, method=file_method, decided_by=_decided_by(path, local)
                )
            summary = scan_file(local, settings, workers=workers)
            settings = dataclasses.replace(settings, validation_keys=frozenset())
            _legacy_message(summary, path)
            _file_findings(summary, path, report)
            check_converted(summary, path, report)
            check_counts(summary, path, role, spec, report, file_method, train_examples)
            check_over_limit(summary, path, spec, counter.label, report)
            if role == "train":
                check_overlap(summary, path, str(validation_path), report)
                report.examples = train_examples = summary.examples
            file_stats[role] = _distribution_stats(summary, path, os.path.getsize(local))
            scanned.append((path, summary))
    check_media_resolution(scanned, report)
    report.stats = _overall_stats(
        spec, counter, epochs, file_stats, scanned, report, max_findings_per_code
    )
    return report


def _overall_stats(spec, counter, epochs, file_stats, scanned, report, cap) -> dict:
    train = file_stats["train"] or {}
    per_epoch = train.get("billableTokensPerEpoch", 0)
    epoch_count = epochs if epochs and epochs > 0 else ASSUMED_EPOCHS
    legacy: dict[str, int] = {}
    for _, summary in scanned:
        for name, count in summary.formats.items():
            legacy[name] = legacy.get(name, 0) + count
    # an exact counter that failed fell back to the estimate: said, never its name alone
    failed = report.totals.get("token_count_failed", 0)
    counted_by = counter.label
    if failed:
        counted_by += f", but it failed for {failed:,} example(s): those estimated"
    return {
        "method": report.method,
        "model": spec.id,
        "family": spec.family,
        "maxExampleTokens": spec.max_example_tokens,
        "unconfirmedLimits": list(spec.unconfirmed),
        "tokenCounter": counted_by,
        "tokenCountExact": counter.exact and not failed,
        "epochs": epoch_count,
        "epochsAssumed": not (epochs and epochs > 0),
        "epochsNote": (
            f"{epoch_count} epochs as given"
            if epochs and epochs > 0
            else f"no epoch count given: the service picks one from the dataset size; "
            f"this estimate assumes {ASSUMED_EPOCHS}"
        ),
        "billableTokensPerEpoch": per_epoch,
        "estimatedBillableTokens": per_epoch * epoch_count,
        "validationExamples": (file_stats["validation"] or {}).get("examples", 0),
        "errorTotals": {c: n for c, n in report.totals.items() if severity(c) == ERROR},
        "warningTotals": {c: n for c, n in report.totals.items() if severity(c) != ERROR},
        "findingsListedPerCode": cap,
        "legacyFormats": legacy,
        "files": file_stats,
    }
