"""File-level checks: existence, size before reading, binary files, caps from the model
table, token-limit and overlap warnings, and ``mediaResolution`` across both files."""

from __future__ import annotations

import os
import shlex
import tempfile

from gemini_sft_kfp.components.validate_dataset.codes import Finding
from gemini_sft_kfp.components.validate_dataset.formats import FORMAT_NAMES, PREFERENCE
from gemini_sft_kfp.components.validate_dataset.report import ValidationReport
from gemini_sft_kfp.components.validate_dataset.stats import FileSummary

from gemini_sft_kfp.core.inputs import input_problem
from gemini_sft_kfp.core.models import ModelSpec
from gemini_sft_kfp.core.storage import is_remote

MIN_RECOMMENDED_EXAMPLES = 16  # SFT_FACTS: "minimum about 16-20 examples"

# Preference tuning's own caps (Google's "About preference tuning" page, 2026-12): up to
# 10M text-only training examples; validation up to 5,000 examples, and, when there are
# more than 1,000 of them, at most 30 % of the training examples.
PREFERENCE_MAX_TRAINING_EXAMPLES = 10_000_000
PREFERENCE_VALIDATION_FRACTION = 0.3
PREFERENCE_VALIDATION_FRACTION_ABOVE = 1_000


def max_validation_examples(spec: ModelSpec, method: str, total_examples: int) -> int:
    """The most examples a seeded split may hold out of ``total_examples`` for ``method``."""
    cap = spec.max_validation_examples
    if method != PREFERENCE:
        return cap
    # v validation examples out of n: v <= 1,000, or v <= 30 % of the n - v left to train
    by_fraction = int(
        PREFERENCE_VALIDATION_FRACTION * total_examples / (1 + PREFERENCE_VALIDATION_FRACTION)
    )
    return min(cap, max(PREFERENCE_VALIDATION_FRACTION_ABOVE, by_fraction))


def too_large(path: str, size: int, spec: ModelSpec) -> Finding:
    return Finding(
        path,
        None,
        "file_too_large" if spec.is_confirmed("max_file_bytes") else "unconfirmed_limit",
        f"{path} is {size:,} bytes; {spec.id} accepts at most {spec.max_file_bytes:,} "
        f"bytes per file{spec.unconfirmed_note('max_file_bytes')} (split the data or drop "
        "examples)",
    )


def file_cap(spec: ModelSpec) -> int | None:
    """The most bytes read from one file (None: an unconfirmed limit stops nothing)."""
    return spec.max_file_bytes if spec.is_confirmed("max_file_bytes") else None


def over_count(path: str, limit: str, spec: ModelSpec, code: str, message: str) -> Finding:
    """An error for a published cap; a warning for an inherited, unconfirmed one."""
    if spec.is_confirmed(limit):
        return Finding(path, None, code, message)
    return Finding(path, None, "unconfirmed_limit", message + spec.unconfirmed_note(limit))


def fetch_remote(uri: str, spec: ModelSpec, report: ValidationReport, tmp: str) -> str | None:
    """A local copy of a gs:// or https:// dataset, or None (finding added) when unusable."""
    from gemini_sft_kfp.core.errors import UserError
    from gemini_sft_kfp.core.storage import download, remote_size

    try:
        size = remote_size(uri)
        if size > spec.max_file_bytes:
            report.add(too_large(uri, size, spec))
            if file_cap(spec) is not None:
                return None
        return str(download(uri, tmp, max_bytes=file_cap(spec)))
    except UserError as exc:
        message = exc.message if exc.message.startswith(uri) else f"{uri}: {exc.message}"
        report.add(Finding(uri, None, exc.code or "file_unreadable", message))
    except Exception as exc:  # network or permission problems: unreadable, not a crash
        report.add(Finding(uri, None, "file_unreadable", f"{uri}: {exc}"))
    return None


# Leading bytes of files users upload by mistake instead of JSONL.
BINARY_SIGNATURES = {
    b"\x1f\x8b": "gzip-compressed (gunzip it first)",
    b"PK\x03\x04": "a ZIP archive (unzip it first)",
    b"PAR1": "Parquet (export it as JSON Lines)",
    b"BZh": "bzip2-compressed (bunzip2 it first)",
    b"\xfd7zXZ": "xz-compressed (unxz it first)",
    b"\x28\xb5\x2f\xfd": "zstd-compressed (unzstd it first)",
}


def binary_kind(path: str) -> str | None:
    with open(path, "rb") as f:
        head = f.read(8)
    return next((kind for sig, kind in BINARY_SIGNATURES.items() if head.startswith(sig)), None)


def check_size(path: str, spec: ModelSpec, report: ValidationReport) -> bool:
    """File exists, is a file and is within the size limit: checked before reading a byte.
    What is wrong with the path is said by the one rule every command uses (core.inputs)."""
    problem = input_problem(path)
    if problem is not None:
        code = "file_unreadable" if path and os.path.lexists(path) else "file_not_found"
        report.add(Finding(path, None, code, f"{path}: {problem}" if path else problem))
        return False
    size = os.stat(path).st_size
    if size > spec.max_file_bytes:
        report.add(too_large(path, size, spec))
        if file_cap(spec) is not None:
            return False
    kind = binary_kind(path)
    if kind:
        report.add(Finding(path, None, "file_not_jsonl", f"{path} is {kind}, not JSON Lines"))
        return False
    return True


def check_counts(
    summary: FileSummary,
    path: str,
    role: str,
    spec: ModelSpec,
    report: ValidationReport,
    method: str = "supervised",
    train_examples: int = 0,
) -> None:
    if summary.examples == 0:
        report.add(Finding(path, None, "file_empty", f"{path} holds no examples"))
        return
    if role == "validation":
        if summary.examples > spec.max_validation_examples:
            report.add(
                over_count(
                    path,
                    "max_validation_examples",
                    spec,
                    "too_many_validation_examples",
                    f"{path} holds {summary.examples:,} validation examples; {spec.id} accepts "
                    f"at most {spec.max_validation_examples:,}",
                )
            )
        elif method == PREFERENCE:
            _check_preference_validation_share(summary.examples, train_examples, path, report)
        return
    multimodal = summary.multimodal_examples > 0
    cap = spec.max_training_examples_multimodal if multimodal else spec.max_training_examples_text
    if method == PREFERENCE:  # text only, and its own published cap
        cap = PREFERENCE_MAX_TRAINING_EXAMPLES
    if summary.examples > cap:
        kind = "multimodal" if multimodal else "text-only"
        limit = "max_training_examples_" + ("multimodal" if multimodal else "text")
        report.add(
            over_count(
                path,
                limit,
                spec,
                "too_many_examples",
                f"{path} holds {summary.examples:,} examples; {spec.id} accepts at most "
                f"{cap:,} {kind} training examples",
            )
        )
    if summary.examples < MIN_RECOMMENDED_EXAMPLES:
        report.add(
            Finding(
                path,
                None,
                "too_few_examples",
                f"{path} holds only {summary.examples} examples; tuning needs at least "
                f"{MIN_RECOMMENDED_EXAMPLES}-20 (100-500 recommended)",
            )
        )


def _check_preference_validation_share(
    validation: int, train: int, path: str, report: ValidationReport
) -> None:
    """Google's page: "5000 examples or 30% of the number of training examples if there are
    more than 1000 validation examples". Its wording admits more than one reading, so a
    warning (the service decides), never a rejection."""
    if validation <= PREFERENCE_VALIDATION_FRACTION_ABOVE or not train:
        return
    if validation <= PREFERENCE_VALIDATION_FRACTION * train:
        return
    report.add(
        Finding(
            path,
            None,
            "unconfirmed_limit",
            f"{path} holds {validation:,} validation examples, more than 1,000 and more than "
            f"30 % of the {train:,} training examples; Google's preference-tuning limits say "
            "a validation set over 1,000 examples is capped at 30 % of the training set (the "
            "service decides; hold out fewer)",
        )
    )


def check_converted(summary: FileSummary, path: str, report: ValidationReport) -> None:
    """One warning per format converted on the fly: what the pipeline will do with it."""
    for name, count in summary.formats.items():
        first = summary.format_first_lines.get(name)
        report.add(
            Finding(
                path,
                first,
                "converted_format",
                f"{count:,} line(s) are in the {FORMAT_NAMES[name]} (first at line {first}); "
                "they were checked as converted to the Gemini format, which the pipeline's "
                "validate_dataset does on the fly; to convert the file yourself: gemini-sft "
                f"convert {shlex.quote(path)} OUT.jsonl --from {name}",
            )
        )


def check_over_limit(
    summary: FileSummary, path: str, spec: ModelSpec, label: str, report: ValidationReport
) -> None:
    if not summary.over_limit:
        return
    lines = ", ".join(map(str, summary.over_limit_lines[:20]))
    more = " ..." if summary.over_limit > 20 else ""
    report.add(
        Finding(
            path,
            summary.over_limit_lines[0],
            "over_token_limit",
            f"{summary.over_limit} example(s) exceed {spec.id}'s {spec.max_example_tokens:,} "
            f"tokens per example ({label}); the service truncates them. Lines: {lines}{more}",
        ),
        total=summary.over_limit,
    )


def check_media_resolution(summaries: list[tuple[str, FileSummary]], report) -> None:
    """``generationConfig.mediaResolution`` must be the same on every line of both files."""
    seen: dict[str | None, list] = {}  # value -> [examples, path, first line]
    for path, summary in summaries:
        for value, (count, first_line) in summary.media_resolutions.items():
            entry = seen.setdefault(value, [0, path, first_line])
            entry[0] += count
    if len(seen) <= 1:
        return
    majority = max(seen, key=lambda v: seen[v][0])
    described = "; ".join(
        f"{v or 'not set'} on {n:,} example(s) (first at {p}:{ln})"
        for v, (n, p, ln) in sorted(seen.items(), key=lambda kv: -kv[1][0])
    )
    for value, (_, path, first_line) in seen.items():
        if value == majority:
            continue
        report.add(
            Finding(
                path,
                first_line,
                "media_resolution_mismatch",
                "`generationConfig.mediaResolution` must be identical on every line of the "
                f"training and validation files: {described}",
                "generationConfig.mediaResolution",
            )
        )


def readable_local(path: str, spec: ModelSpec, report: ValidationReport, tmp: str) -> str | None:
    """The local file to scan (a size-checked copy for remote paths), or None (finding added)."""
    if is_remote(path):
        local = fetch_remote(path, spec, report, tempfile.mkdtemp(dir=tmp))
        kind = binary_kind(local) if local else None
        if kind:
            report.add(Finding(path, None, "file_not_jsonl", f"{path} is {kind}, not JSON Lines"))
            return None
        return local
    return path if check_size(path, spec, report) else None


def check_overlap(summary: FileSummary, path: str, validation: str, report) -> None:
    """Validation examples also in the training file make the validation loss look too good."""
    if not summary.overlap:
        return
    lines = ", ".join(map(str, summary.overlap_lines[:20]))
    more = " ..." if summary.overlap > 20 else ""
    report.add(
        Finding(
            path,
            summary.overlap_lines[0],
            "validation_overlap",
            f"{summary.overlap:,} training example(s) also appear in {validation}; the "
            f"validation metrics then overstate quality. Training lines: {lines}{more}",
        ),
        total=summary.overlap,
    )
