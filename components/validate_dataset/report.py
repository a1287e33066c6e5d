"""The outcome of a validation: findings (capped per code, with totals) and statistics."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from gemini_sft_kfp.components.validate_dataset.codes import ERROR, Finding


@dataclass
class ValidationReport:
    """The outcome: findings (capped per code, with totals) and statistics."""

    files: list[str]
    method: str = "supervised"  # the tuning method the data is for (given, or detected)
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
            "method": self.method,
            "files": self.files,
            "examples": self.examples,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "stats": self.stats,
        }

    def rename(self, old: str, new: str) -> None:
        """Report ``old`` (e.g. a converted temporary copy) under the user's name ``new``."""

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
        from gemini_sft_kfp.components.validate_dataset.render import render_text

        return render_text(self)
