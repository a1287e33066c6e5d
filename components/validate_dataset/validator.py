"""Validate a training (and validation) JSONL file before a billed tuning job starts.

``validate_files`` checks sizes before reading, streams every line through the
checks of ``schema`` on all cores, applies the model family's caps from the model
table, and returns a ``ValidationReport`` whose ``to_dict()`` is the CLI's JSON.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

from components._common.models import ModelSpec, get_model_spec
from components.validate_dataset.codes import ERROR, Finding, severity
from components.validate_dataset.scan import ScanSettings, scan_file
from components.validate_dataset.schema import CheckOptions
from components.validate_dataset.sources import is_remote
from components.validate_dataset.stats import FileSummary
from components.validate_dataset.tokens import TokenCounter, make_counter

MIN_RECOMMENDED_EXAMPLES = 16  # SFT_FACTS: "minimum about 16-20 examples"
ASSUMED_EPOCHS = 3  # only for the billable estimate when no epoch count is given
MAX_FINDINGS_PER_CODE = 20


@dataclass
class ValidationReport:
    """The outcome: findings (capped per code, with totals) and statistics."""

    files: list[str]
    examples: int = 0
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # code -> findings in all
    stats: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def add(self, finding: Finding, total: int = 1) -> None:
        (self.errors if finding.severity == ERROR else self.warnings).append(finding)
        self.totals[finding.code] = self.totals.get(finding.code, 0) + total

    def to_dict(self) -> dict:
        """The CLI's ``--json`` object (the documented contract)."""
        return {
            "valid": self.valid,
            "files": self.files,
            "examples": self.examples,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "stats": self.stats,
        }

    def rename(self, old: str, new: str) -> None:
        """Report ``old`` (e.g. a converted temporary copy) under the user's name ``new``."""
        import dataclasses

        def fix(finding: Finding) -> Finding:
            if finding.file != old:
                return finding
            return dataclasses.replace(finding, file=new, message=finding.message.replace(old, new))

        self.files = [new if f == old else f for f in self.files]
        self.errors = [fix(f) for f in self.errors]
        self.warnings = [fix(f) for f in self.warnings]
        for entry in (self.stats.get("files") or {}).values():
            if entry and entry.get("path") == old:
                entry["path"] = new

    def summary(self) -> str:
        """One paragraph for logs and failed pipeline tasks."""
        from components.validate_dataset.render import render_text

        return render_text(self)


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
        entry.kept = [(ln, f, m.replace("IN.jsonl", _quote(path))) for ln, f, m in entry.kept]


def _quote(path: str) -> str:
    import shlex

    return shlex.quote(path)


def _too_large(path: str, size: int, spec: ModelSpec) -> Finding:
    return Finding(
        path,
        None,
        "file_too_large",
        f"{path} is {size:,} bytes; {spec.id} accepts at most {spec.max_file_bytes:,} "
        "bytes per file (split the data or drop examples)",
    )


def _fetch_remote(uri: str, spec: ModelSpec, report: ValidationReport, tmp: str) -> str | None:
    """A local copy of a gs:// or https:// dataset, or None (finding added) when unusable."""
    from components._common.errors import UserError
    from components.validate_dataset.sources import download, remote_size

    try:
        size = remote_size(uri)
        if size > spec.max_file_bytes:
            report.add(_too_large(uri, size, spec))
            return None
        return str(download(uri, tmp))
    except UserError as exc:
        report.add(Finding(uri, None, exc.code or "file_unreadable", exc.message))
    except Exception as exc:  # network or permission problems: unreadable, not a crash
        report.add(Finding(uri, None, "file_unreadable", f"{uri}: {exc}"))
    return None


def _check_size(path: str, spec: ModelSpec, report: ValidationReport) -> bool:
    """File exists, is a file and is within the size limit: checked before reading a byte."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        report.add(Finding(path, None, "file_not_found", f"{path}: no such file"))
        return False
    except OSError as exc:
        report.add(Finding(path, None, "file_unreadable", f"{path}: {exc.strerror}"))
        return False
    if not os.path.isfile(path):
        report.add(Finding(path, None, "file_unreadable", f"{path} is not a regular file"))
        return False
    if not os.access(path, os.R_OK):
        report.add(Finding(path, None, "file_unreadable", f"{path}: permission denied"))
        return False
    if size > spec.max_file_bytes:
        report.add(_too_large(path, size, spec))
        return False
    return True


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


def _check_counts(
    summary: FileSummary, path: str, role: str, spec: ModelSpec, report: ValidationReport
) -> None:
    if summary.examples == 0:
        report.add(Finding(path, None, "file_empty", f"{path} holds no examples"))
        return
    if role == "validation":
        if summary.examples > spec.max_validation_examples:
            report.add(
                Finding(
                    path,
                    None,
                    "too_many_validation_examples",
                    f"{path} holds {summary.examples:,} validation examples; {spec.id} accepts "
                    f"at most {spec.max_validation_examples:,}",
                )
            )
        return
    multimodal = summary.multimodal_examples > 0
    cap = spec.max_training_examples_multimodal if multimodal else spec.max_training_examples_text
    if summary.examples > cap:
        kind = "multimodal" if multimodal else "text-only"
        report.add(
            Finding(
                path,
                None,
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


def _check_over_limit(
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


def _check_media_resolution(summaries: list[tuple[str, FileSummary]], report) -> None:
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


def validate_files(
    train_path: str,
    validation_path: str | None = None,
    *,
    model: str = "gemini-2.5-flash",
    epochs: int | None = None,
    token_counter: TokenCounter | str | None = None,
    max_findings_per_code: int = MAX_FINDINGS_PER_CODE,
    workers: int | None = None,
) -> ValidationReport:
    """Validate JSONL files (local, gs:// or https://) for tuning ``model``.

    Never raises for bad data: every problem is a finding in the report. Raises
    ``UserError`` only for a bad argument (unknown model, unknown token counter).
    """
    spec = get_model_spec(model)
    counter = make_counter(token_counter, spec.id)
    paths = [p for p in (train_path, validation_path) if p]
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
        for role, path in (("train", train_path), ("validation", validation_path)):
            if not path:
                continue
            path = str(path)
            local = path
            if is_remote(path):
                local = _fetch_remote(path, spec, report, tempfile.mkdtemp(dir=tmp))
                if local is None:
                    continue
            elif not _check_size(path, spec, report):
                continue
            summary = scan_file(local, settings, workers=workers)
            _legacy_message(summary, path)
            _file_findings(summary, path, report)
            _check_counts(summary, path, role, spec, report)
            _check_over_limit(summary, path, spec, counter.label, report)
            file_stats[role] = _distribution_stats(summary, path, os.path.getsize(local))
            scanned.append((path, summary))
            if role == "train":
                report.examples = summary.examples
    _check_media_resolution(scanned, report)
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
    return {
        "model": spec.id,
        "family": spec.family,
        "maxExampleTokens": spec.max_example_tokens,
        "tokenCounter": counter.label,
        "tokenCountExact": counter.exact,
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
