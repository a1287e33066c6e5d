"""Stream a JSONL file line by line into a bounded ``FileSummary``, on several cores.

A large file is cut into newline-aligned byte ranges; each worker process scans one
range reading line by line (never the whole file) and returns a small summary. Small
files, and counters that cannot be copied into workers, are scanned in this process.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from components.validate_dataset.codes import CODES, ERROR
from components.validate_dataset.formats import detect_format
from components.validate_dataset.schema import CheckOptions, check_example
from components.validate_dataset.stats import FileSummary
from components.validate_dataset.tokens import TokenCounter

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves
CHUNKS_PER_WORKER = 4
UTF8_BOM = b"\xef\xbb\xbf"
ERROR_CODES = frozenset(code for code, (level, _) in CODES.items() if level == ERROR)


@dataclass(frozen=True)
class ScanSettings:
    """What a worker needs besides its byte range (all picklable)."""

    counter: TokenCounter
    max_example_tokens: int
    options: CheckOptions = field(default_factory=CheckOptions)
    max_findings_per_code: int = 20


def _utf8_problem(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 4]
        return (
            f"byte {exc.start + 1} of the line ({bad!r}) is not UTF-8: {exc.reason}; "
            "save the file as UTF-8"
        )
    return None


def _json_problem(raw: bytes, exc: orjson.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg} (column {exc.colno}); each line must be one JSON object"


def scan_lines(
    lines: Iterator[bytes], settings: ScanSettings, summary: FileSummary, file_start: bool
) -> None:
    """The hot loop: parse, check, count tokens, add to ``summary`` (lines 1-based, relative)."""
    cap = settings.max_findings_per_code
    counter = settings.counter
    options = settings.options
    limit = settings.max_example_tokens
    loads = orjson.loads
    add_finding = summary.add_finding
    input_hist, output_hist = summary.input_tokens, summary.output_tokens
    example_hist = summary.example_tokens
    lineno = summary.lines
    for raw in lines:
        lineno += 1
        if lineno == 1 and file_start and raw.startswith(UTF8_BOM):
            add_finding("utf8_bom", 1, None, "the file starts with a UTF-8 byte-order mark", cap)
            raw = raw[len(UTF8_BOM) :]
        try:
            record = loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                add_finding("blank_line", lineno, None, "blank line (skipped)", cap)
                continue
            summary.examples += 1
            utf8 = _utf8_problem(raw)
            if utf8:
                add_finding("invalid_utf8", lineno, None, utf8, cap)
            else:
                add_finding("invalid_json", lineno, None, _json_problem(raw, exc), cap)
            continue
        summary.examples += 1
        problems, measure = check_example(record, options)
        if measure.renamed_keys:
            summary.renamed_key_examples += 1
        failed = False
        for code, field_path, message in problems:
            if code == "legacy_format":
                name = detect_format(record) or "unknown"
                summary.formats[name] = summary.formats.get(name, 0) + 1
            add_finding(code, lineno, field_path or None, message, cap)
            failed = failed or code in ERROR_CODES
        if not failed:
            summary.valid_examples += 1
        if not measure.turn_chars:
            continue
        resolution = measure.media_resolution
        seen = summary.media_resolutions.get(resolution)
        if seen is None:
            summary.media_resolutions[resolution] = [1, lineno]
        else:
            seen[0] += 1
        if measure.media:
            summary.multimodal_examples += 1
        summary.turns += len(measure.turn_chars)
        prefix, turn_tokens = counter.count(record, measure)
        user = output = billable = 0
        running = prefix
        for tokens, is_model in zip(turn_tokens, measure.turn_is_model, strict=False):
            running += tokens
            if is_model:
                output += tokens
                billable += running
            else:
                user += tokens
        total = prefix + user + output
        input_hist.add(prefix + user)
        output_hist.add(output)
        example_hist.add(total)
        summary.billable_tokens_per_epoch += billable
        if total > limit:
            summary.over_limit += 1
            if len(summary.over_limit_lines) < 100:
                summary.over_limit_lines.append(lineno)
                summary.over_limit_indices.append(summary.examples - 1)
    summary.lines = lineno


def _read_range(path: str, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb", buffering=1024 * 1024) as f:
        f.seek(start)
        remaining = end - start
        for raw in f:
            yield raw
            remaining -= len(raw)
            if remaining <= 0:
                return


def scan_range(args: tuple[str, int, int, ScanSettings]) -> FileSummary:
    """Worker entry point: one newline-aligned byte range -> its summary (relative lines)."""
    path, start, end, settings = args
    summary = FileSummary()
    scan_lines(_read_range(path, start, end), settings, summary, file_start=start == 0)
    return summary


def line_aligned_ranges(path: str, size: int, pieces: int) -> list[tuple[int, int]]:
    """Cut ``[0, size)`` into about ``pieces`` ranges that each start at a line start."""
    bounds = [0]
    with open(path, "rb") as f:
        for i in range(1, pieces):
            target = max(size * i // pieces, bounds[-1])
            f.seek(target)
            if target:
                f.readline()  # move to the start of the next line
            position = f.tell()
            if position >= size:
                break
            if position > bounds[-1]:
                bounds.append(position)
    bounds.append(size)
    return list(itertools.pairwise(bounds))


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def scan_file(path: str, settings: ScanSettings, workers: int | None = None) -> FileSummary:
    """Summary of a whole file, in parallel when it is big enough to pay."""
    size = os.path.getsize(path)
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1 or size < PARALLEL_MIN_BYTES or not settings.counter.parallel_safe:
        return scan_range((path, 0, size, settings))
    ranges = line_aligned_ranges(path, size, workers * CHUNKS_PER_WORKER)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    summary = FileSummary()
    with context.Pool(workers) as pool:
        jobs = [(path, start, end, settings) for start, end in ranges]
        for part in pool.imap(scan_range, jobs):
            summary.merge(part, settings.max_findings_per_code)
    return summary
