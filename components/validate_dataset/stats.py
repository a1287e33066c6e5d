"""Bounded, mergeable summaries of a scanned file: memory never grows with the file.

Token distributions live in a fixed histogram (exact below 4,096, 1 %-wide log buckets
above); findings are kept up to a cap per code, with totals; lists of lines are capped.
Worker processes each return one ``FileSummary`` of their byte range; ``merge`` adds
them in file order and turns chunk-relative line numbers into file line numbers.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

EXACT_LIMIT = 4096
LOG_STEP = math.log(1.01)
MAX_LISTED_LINES = 100


class Histogram:
    """Counts of non-negative integers; percentiles within 1 % whatever the number of values.

    ``add`` is on the hot path, so it only bumps a bucket and a sum; count, min and
    max are derived from the buckets (exact below 4,096; tracked above it).
    """

    __slots__ = ("exact", "high", "high_max", "high_min", "total")

    def __init__(self) -> None:
        self.exact = array("q", bytes(8 * EXACT_LIMIT))
        self.high: dict[int, int] = {}
        self.high_min: int | None = None
        self.high_max: int | None = None
        self.total = 0

    def add(self, value: int) -> None:
        self.total += value
        if value < EXACT_LIMIT:
            self.exact[value] += 1
        else:
            self._add_high(value)

    def _add_high(self, value: int) -> None:
        bucket = int(math.log(value / EXACT_LIMIT) / LOG_STEP)
        self.high[bucket] = self.high.get(bucket, 0) + 1
        self.high_min = value if self.high_min is None else min(self.high_min, value)
        self.high_max = value if self.high_max is None else max(self.high_max, value)

    @property
    def count(self) -> int:
        return sum(self.exact) + sum(self.high.values())

    @property
    def minimum(self) -> int:
        for value, n in enumerate(self.exact):
            if n:
                return value
        return self.high_min or 0

    @property
    def maximum(self) -> int:
        if self.high_max is not None:
            return self.high_max
        for value in range(EXACT_LIMIT - 1, -1, -1):
            if self.exact[value]:
                return value
        return 0

    def merge(self, other: Histogram) -> None:
        for i, n in enumerate(other.exact):
            if n:
                self.exact[i] += n
        for bucket, n in other.high.items():
            self.high[bucket] = self.high.get(bucket, 0) + n
        for value in (other.high_min, other.high_max):
            if value is not None:
                self.high_min = value if self.high_min is None else min(self.high_min, value)
                self.high_max = value if self.high_max is None else max(self.high_max, value)
        self.total += other.total

    def percentile(self, q: float) -> int:
        """Nearest-rank percentile (q in 0..100); 0 for an empty histogram."""
        count = self.count
        if not count:
            return 0
        rank = max(1, math.ceil(q / 100 * count))
        seen = 0
        for value, n in enumerate(self.exact):
            seen += n
            if seen >= rank:
                return value
        for bucket in sorted(self.high):
            seen += self.high[bucket]
            if seen >= rank:
                middle = EXACT_LIMIT * math.exp((bucket + 0.5) * LOG_STEP)
                return max(min(round(middle), self.maximum), self.minimum)
        return self.maximum

    def to_dict(self) -> dict:
        """The shape of Vertex's token distributions: count, sum, min, max, mean, p5/50/95."""
        count = self.count
        if not count:
            return {"count": 0, "sum": 0, "min": 0, "max": 0, "mean": 0.0, "p5": 0, "p50": 0,
                    "p95": 0}  # fmt: skip
        return {
            "count": count,
            "sum": self.total,
            "min": self.minimum,
            "max": self.maximum,
            "mean": round(self.total / count, 2),
            "p5": self.percentile(5),
            "p50": self.percentile(50),
            "p95": self.percentile(95),
        }


@dataclass
class CodeFindings:
    """Findings of one code: the total, and the first few kept for the report."""

    total: int = 0
    kept: list[tuple[int | None, str | None, str]] = field(default_factory=list)


@dataclass
class FileSummary:
    """Everything the report needs about one file (or one byte range of it)."""

    lines: int = 0
    examples: int = 0  # non-blank lines
    valid_examples: int = 0
    turns: int = 0
    multimodal_examples: int = 0
    renamed_key_examples: int = 0
    billable_tokens_per_epoch: int = 0
    input_tokens: Histogram = field(default_factory=Histogram)
    output_tokens: Histogram = field(default_factory=Histogram)
    example_tokens: Histogram = field(default_factory=Histogram)
    over_limit: int = 0
    over_limit_lines: list[int] = field(default_factory=list)
    over_limit_indices: list[int] = field(default_factory=list)
    overlap: int = 0  # training examples identical to a validation example
    overlap_lines: list[int] = field(default_factory=list)
    findings: dict[str, CodeFindings] = field(default_factory=dict)
    # mediaResolution value (None = absent) -> [examples, first line]
    media_resolutions: dict[str | None, list[int]] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)  # other format -> lines converted
    format_first_lines: dict[str, int] = field(default_factory=dict)  # other format -> line

    def add_finding(
        self, code: str, line: int | None, field_path: str | None, message: str, cap: int
    ) -> None:
        entry = self.findings.get(code)
        if entry is None:
            entry = self.findings[code] = CodeFindings()
        entry.total += 1
        if len(entry.kept) < cap:
            entry.kept.append((line, field_path, message))

    def merge(self, other: FileSummary, cap: int) -> None:
        """Append ``other`` (the next byte range) to this summary."""
        line_base, index_base = self.lines, self.examples
        self.lines += other.lines
        self.examples += other.examples
        self.valid_examples += other.valid_examples
        self.turns += other.turns
        self.multimodal_examples += other.multimodal_examples
        self.renamed_key_examples += other.renamed_key_examples
        self.billable_tokens_per_epoch += other.billable_tokens_per_epoch
        self.input_tokens.merge(other.input_tokens)
        self.output_tokens.merge(other.output_tokens)
        self.example_tokens.merge(other.example_tokens)
        self.over_limit += other.over_limit
        room = MAX_LISTED_LINES - len(self.over_limit_lines)
        self.over_limit_lines += [line_base + n for n in other.over_limit_lines[:room]]
        self.over_limit_indices += [index_base + n for n in other.over_limit_indices[:room]]
        self.overlap += other.overlap
        room = MAX_LISTED_LINES - len(self.overlap_lines)
        self.overlap_lines += [line_base + n for n in other.overlap_lines[:room]]
        for code, theirs in other.findings.items():
            mine = self.findings.setdefault(code, CodeFindings())
            mine.total += theirs.total
            for line, field_path, message in theirs.kept[: max(cap - len(mine.kept), 0)]:
                mine.kept.append((None if line is None else line_base + line, field_path, message))
        for value, (count, first_line) in other.media_resolutions.items():
            mine_value = self.media_resolutions.get(value)
            if mine_value is None:
                self.media_resolutions[value] = [count, line_base + first_line]
            else:
                mine_value[0] += count
        for name, count in other.formats.items():
            self.formats[name] = self.formats.get(name, 0) + count
        for name, line in other.format_first_lines.items():
            self.format_first_lines.setdefault(name, line_base + line)
