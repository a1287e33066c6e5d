"""Stream a JSONL file line by line into a bounded ``FileSummary``, on several cores.

A large file is cut into newline-aligned byte ranges; each worker process scans one
range reading line by line (never the whole file) and returns a small summary. Small
files, and counters that cannot be copied into workers, are scanned in this process.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
from gemini_sft_kfp.components.validate_dataset.codes import CODES, ERROR
from gemini_sft_kfp.components.validate_dataset.formats import detect_format
from gemini_sft_kfp.components.validate_dataset.schema import CheckOptions, check_example
from gemini_sft_kfp.components.validate_dataset.stats import (
    EXACT_LIMIT,
    MAX_LISTED_LINES,
    FileSummary,
)
from gemini_sft_kfp.components.validate_dataset.tokens import (
    EstimateCounter,
    TokenCounter,
    make_fast_text_tokens,
)

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves
CHUNKS_PER_WORKER = 8  # small chunks balance the load when another process takes a core
READ_BATCH_BYTES = 4 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
ERROR_CODES = frozenset(code for code, (level, _) in CODES.items() if level == ERROR)


@dataclass(frozen=True)
class ScanSettings:
    """What a worker needs besides its byte range (all picklable)."""

    counter: TokenCounter
    max_example_tokens: int
    options: CheckOptions = field(default_factory=CheckOptions)
    max_findings_per_code: int = 20
    # keys (see ``line_key``) of the validation examples, to spot them in the training file
    validation_keys: frozenset[tuple[int, int]] = frozenset()


def line_key(raw: bytes) -> tuple[int, int]:
    """Identity of one example line, the same in every process: (CRC-32, length)."""
    body = raw.strip()
    return zlib.crc32(body), len(body)


def validation_keys(path: str, limit: int) -> frozenset[tuple[int, int]]:
    """Keys of the first ``limit`` examples of a validation file (bounded memory)."""
    keys = set()
    with open(path, "rb", buffering=1024 * 1024) as f:
        for raw in f:
            if raw.strip():
                keys.add(line_key(raw))
                if len(keys) >= limit:
                    break
    return frozenset(keys)


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


def _record_tokens(
    summary: FileSummary, lineno: int, prefix_and_user: int, output: int, billable: int, limit: int
) -> None:
    """Add one example's token counts to the distributions; note it if over the limit."""
    total = prefix_and_user + output
    summary.input_tokens.add(prefix_and_user)
    summary.output_tokens.add(output)
    summary.example_tokens.add(total)
    summary.billable_tokens_per_epoch += billable
    if total > limit:
        summary.over_limit += 1
        if len(summary.over_limit_lines) < MAX_LISTED_LINES:
            summary.over_limit_lines.append(lineno)
            summary.over_limit_indices.append(summary.examples - 1)


def _check_slow(record, lineno: int, settings: ScanSettings, summary: FileSummary) -> None:
    """Every check, with findings: for anything the fast path does not vouch for."""
    cap = settings.max_findings_per_code
    problems, measure = check_example(record, settings.options)
    if measure.renamed_keys:
        summary.renamed_key_examples += 1
    failed = False
    for code, field_path, message in problems:
        if code == "legacy_format":
            name = detect_format(record) or "unknown"
            summary.formats[name] = summary.formats.get(name, 0) + 1
        summary.add_finding(code, lineno, field_path or None, message, cap)
        failed = failed or code in ERROR_CODES
    if not failed:
        summary.valid_examples += 1
    if not measure.turn_chars:
        return
    resolution = measure.media_resolution
    seen = summary.media_resolutions.get(resolution)
    if seen is None:
        summary.media_resolutions[resolution] = [1, lineno]
    else:
        seen[0] += 1
    if measure.media:
        summary.multimodal_examples += 1
    summary.turns += len(measure.turn_chars)
    try:
        prefix, turn_tokens = settings.counter.count(record, measure)
    except Exception as exc:  # a failing (pluggable, remote) counter must not stop the scan
        summary.add_finding(
            "token_count_failed",
            lineno,
            None,
            f"counting tokens failed ({type(exc).__name__}: {exc}); estimated instead",
            settings.max_findings_per_code,
        )
        prefix, turn_tokens = EstimateCounter().count(record, measure)
    user = output = billable = 0
    running = prefix
    for tokens, is_model in zip(turn_tokens, measure.turn_is_model, strict=False):
        running += tokens
        if is_model:
            output += tokens
            billable += running
        else:
            user += tokens
    _record_tokens(summary, lineno, prefix + user, output, billable, settings.max_example_tokens)


def scan_lines(
    lines: Iterator[bytes], settings: ScanSettings, summary: FileSummary, file_start: bool
) -> None:
    """The hot loop: parse, check, count tokens, add to ``summary`` (lines 1-based, relative).

    Plain-text examples that pass every check (the bulk of a real file) take the fast
    path of ``make_fast_text_tokens`` when tokens are estimated; all others take every check.
    """
    cap = settings.max_findings_per_code
    limit = settings.max_example_tokens
    fast = make_fast_text_tokens() if isinstance(settings.counter, EstimateCounter) else None
    overlap_keys = settings.validation_keys
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    input_hist, output_hist = summary.input_tokens, summary.output_tokens
    example_hist = summary.example_tokens
    # histogram buckets bumped inline: this loop runs once per line of a 1 GB file
    input_exact, output_exact, example_exact = (
        input_hist.exact,
        output_hist.exact,
        example_hist.exact,
    )
    input_sum = output_sum = 0
    lineno = summary.lines
    fast_examples = fast_turns = fast_billable = first_fast_line = 0
    gc_was_enabled = gc.isenabled()
    gc.disable()  # parsed records hold no cycles; collection passes only cost time
    try:
        for raw in lines:
            lineno += 1
            if lineno == 1 and file_start and raw.startswith(UTF8_BOM):
                summary.add_finding(
                    "utf8_bom", 1, None, "the file starts with a UTF-8 byte-order mark", cap
                )
                raw = raw[len(UTF8_BOM) :]
            try:
                record = loads(raw)
            except decode_error as exc:
                if not raw.strip():
                    summary.add_finding("blank_line", lineno, None, "blank line (skipped)", cap)
                    continue
                summary.examples += 1
                utf8 = _utf8_problem(raw)
                if utf8:
                    summary.add_finding("invalid_utf8", lineno, None, utf8, cap)
                else:
                    summary.add_finding("invalid_json", lineno, None, _json_problem(raw, exc), cap)
                continue
            summary.examples += 1
            if overlap_keys and line_key(raw) in overlap_keys:
                summary.overlap += 1
                if len(summary.overlap_lines) < MAX_LISTED_LINES:
                    summary.overlap_lines.append(lineno)
            counted = fast(record) if fast else None
            if counted is None:
                _check_slow(record, lineno, settings, summary)
                continue
            prefix_and_user, output, billable, turns = counted
            if not fast_examples:
                first_fast_line = lineno
            fast_examples += 1
            fast_turns += turns
            total = prefix_and_user + output
            if total > limit:
                _record_tokens(summary, lineno, prefix_and_user, output, billable, limit)
                continue
            fast_billable += billable
            if total < EXACT_LIMIT:
                input_exact[prefix_and_user] += 1
                output_exact[output] += 1
                example_exact[total] += 1
                input_sum += prefix_and_user
                output_sum += output
            else:
                input_hist.add(prefix_and_user)
                output_hist.add(output)
                example_hist.add(total)
    finally:
        if gc_was_enabled:
            gc.enable()
    input_hist.total += input_sum
    output_hist.total += output_sum
    example_hist.total += input_sum + output_sum
    summary.valid_examples += fast_examples
    summary.turns += fast_turns
    summary.billable_tokens_per_epoch += fast_billable
    if fast_examples:  # fast-path examples have no generationConfig.mediaResolution
        seen = summary.media_resolutions.get(None)
        if seen is None:
            summary.media_resolutions[None] = [fast_examples, first_fast_line]
        else:
            seen[0] += fast_examples
            seen[1] = min(seen[1], first_fast_line)
    summary.lines = lineno


def _read_batches(path: str, start: int, end: int) -> Iterator[list[bytes]]:
    """Lines of ``[start, end)`` (newline-aligned), in ~4 MB batches of whole lines."""
    with open(path, "rb", buffering=1024 * 1024) as f:
        f.seek(start)
        remaining = end - start
        while remaining > 0:
            # readlines stops at the first line end *past* the hint; the range ends at a line
            # end, so with a hint below ``remaining`` a batch never runs past it
            hint = min(remaining - 1, READ_BATCH_BYTES)
            batch = f.readlines(hint) if hint > 0 else [f.readline()]
            if not batch:
                return
            remaining -= sum(map(len, batch))
            yield batch


def _read_range(path: str, start: int, end: int) -> Iterator[bytes]:
    """Lines of ``[start, end)``; flattened in C, so the hot loop pays nothing per line."""
    return itertools.chain.from_iterable(_read_batches(path, start, end))


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


def _start_method() -> str:
    """``fork`` starts fastest, but is unsafe in a process running other threads (a server
    embedding the validator); use ``spawn`` there."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def scan_file(path: str, settings: ScanSettings, workers: int | None = None) -> FileSummary:
    """Summary of a whole file, in parallel when it is big enough to pay."""
    size = os.path.getsize(path)
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1 or size < PARALLEL_MIN_BYTES or not settings.counter.parallel_safe:
        return scan_range((path, 0, size, settings))
    ranges = line_aligned_ranges(path, size, workers * CHUNKS_PER_WORKER)
    context = multiprocessing.get_context(_start_method())
    summary = FileSummary()
    with context.Pool(workers) as pool:
        jobs = [(path, start, end, settings) for start, end in ranges]
        for part in pool.imap(scan_range, jobs):
            summary.merge(part, settings.max_findings_per_code)
    return summary
