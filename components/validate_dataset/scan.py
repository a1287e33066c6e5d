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
from gemini_sft_kfp.components.validate_dataset.convert import ConversionError, convert_record
from gemini_sft_kfp.components.validate_dataset.formats import (
    FORMAT_NAMES,
    PREFERENCE,
    SUPERVISED,
    detect_format,
    record_method,
)
from gemini_sft_kfp.components.validate_dataset.schema import CheckOptions, check_record
from gemini_sft_kfp.components.validate_dataset.stats import (
    EXACT_LIMIT,
    MAX_LISTED_LINES,
    FileSummary,
)
from gemini_sft_kfp.components.validate_dataset.tokens import (
    EstimateCounter,
    TokenCounter,
    make_fast_preference_tokens,
    make_fast_text_tokens,
)

from gemini_sft_kfp.core.jsonl import (
    OversizedLine,
    iter_lines,
    line_batches,
    line_message,
    max_line_bytes,
    skip_line,
)

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves
CHUNKS_PER_WORKER = 8  # small chunks balance the load when another process takes a core
UTF8_BOM = b"\xef\xbb\xbf"
ERROR_CODES = frozenset(code for code, (level, _) in CODES.items() if level == ERROR)
METHOD_PROBE_LINES = 10_000  # lines read to find the first example that decides the method


@dataclass(frozen=True)
class ScanSettings:
    """What a worker needs besides its byte range (all picklable)."""

    counter: TokenCounter
    max_example_tokens: int
    options: CheckOptions = field(default_factory=CheckOptions)
    max_findings_per_code: int = 20
    # keys (see ``line_key``) of the validation examples, to spot them in the training file
    validation_keys: frozenset[tuple[int, int]] = frozenset()
    method: str = SUPERVISED  # every line is checked as this method's example
    decided_by: str = "its first example"  # said when a line is of the other method
    line_cap: int = field(default_factory=max_line_bytes)  # bytes; see core/jsonl.py


def first_example_method(path: str) -> tuple[str | None, int | None]:
    """(method, line) of the first line that parses as a JSON object: it decides the
    method of the file. (None, None) when none of the first lines does."""
    with open(path, "rb") as f:
        lines = itertools.islice(iter_lines(f), METHOD_PROBE_LINES)
        for lineno, raw in enumerate(lines, start=1):  # a line past the cap cannot decide
            if lineno == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            method = record_method(record)
            if method is not None:
                return method, lineno
    return None, None


def line_key(raw: bytes) -> tuple[int, int]:
    """Identity of one example line, the same in every process: (CRC-32, length)."""
    body = raw.strip()
    return zlib.crc32(body), len(body)


def validation_keys(path: str, limit: int) -> frozenset[tuple[int, int]]:
    """Keys of the first ``limit`` examples of a validation file (bounded memory)."""
    keys = set()
    with open(path, "rb") as f:
        for raw in iter_lines(f):
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
    summary: FileSummary,
    lineno: int,
    prefix_and_user: int,
    output: int,
    billable: int,
    limit: int,
    longest: int | None = None,
) -> None:
    """Add one example's token counts to the distributions; note it if ``longest`` (what
    the service limits: the whole example, or the input with one completion) is over."""
    total = prefix_and_user + output
    summary.input_tokens.add(prefix_and_user)
    summary.output_tokens.add(output)
    summary.example_tokens.add(total)
    summary.billable_tokens_per_epoch += billable
    if (total if longest is None else longest) > limit:
        summary.over_limit += 1
        if len(summary.over_limit_lines) < MAX_LISTED_LINES:
            summary.over_limit_lines.append(lineno)
            summary.over_limit_indices.append(summary.examples - 1)


def _check_slow(record, lineno: int, settings: ScanSettings, summary: FileSummary) -> None:
    """Every check, with findings: for anything the fast path does not vouch for."""
    cap = settings.max_findings_per_code
    record = _converted(record, lineno, summary, cap)
    if record is None:
        return
    problems, measure = check_record(record, settings.options, settings.method, settings.decided_by)
    if measure.renamed_keys:
        summary.renamed_key_examples += 1
    failed = False
    for code, field_path, message in problems:
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
    counted = _counting_view(record) if measure.completion_turns else record
    try:
        prefix, turn_tokens = settings.counter.count(counted, measure)
    except Exception as exc:  # a failing (pluggable, remote) counter must not stop the scan
        summary.add_finding(
            "token_count_failed",
            lineno,
            None,
            f"counting tokens failed ({type(exc).__name__}: {exc}); estimated instead",
            settings.max_findings_per_code,
        )
        prefix, turn_tokens = EstimateCounter().count(counted, measure)
    if measure.completion_turns:
        _record_preference_tokens(summary, lineno, prefix, turn_tokens, measure, settings)
        return
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


def _converted(record, lineno: int, summary: FileSummary, cap: int):
    """A line in another dataset format (OpenAI, TRL, ...) as the converter turns it into
    the Gemini format, so it is checked as the pipeline's ``validate_dataset`` would check
    it; None (a ``legacy_format`` error added) when the converter refuses the line."""
    if type(record) is not dict or "contents" in record:
        return record
    source = detect_format(record)
    if source is None:
        return record
    try:
        converted, _ = convert_record(record, source)
    except ConversionError as exc:
        message = (
            f"this line is in the {FORMAT_NAMES[source]}, which cannot be converted to the "
            f"Gemini tuning format as it is: {exc.message}"
        )
        summary.add_finding("legacy_format", lineno, exc.field, message, cap)
        return None
    summary.formats[source] = summary.formats.get(source, 0) + 1
    summary.format_first_lines.setdefault(source, lineno)
    return converted


def _counting_view(record: dict) -> dict:
    """A preference example as the token counters read it: the completions appended to
    ``contents`` as its last turns (the order of ``Measure.turn_chars``)."""
    contents = [t for t in record.get("contents") or [] if isinstance(t, dict)]
    completions = [
        entry["completion"]
        for entry in record.get("completions") or []
        if isinstance(entry, dict) and isinstance(entry.get("completion"), dict)
    ]
    view = {"contents": [*contents, *completions]}
    if "systemInstruction" in record:
        view["systemInstruction"] = record["systemInstruction"]
    return view


def _record_preference_tokens(
    summary: FileSummary, lineno: int, prefix: int, turn_tokens: list[int], measure, settings
) -> None:
    """Input = system instruction + ``contents``; output = both completions. The service
    limits the input with each completion; each completion is trained with the input, so
    the billable estimate counts the input once per completion (as SFT recounts history)."""
    prompt_turns = len(turn_tokens) - measure.completion_turns
    input_tokens = prefix + sum(turn_tokens[:prompt_turns])
    completions = turn_tokens[prompt_turns:] or [0]
    billable = sum(input_tokens + c for c in completions)
    longest = input_tokens + max(completions)
    _record_tokens(
        summary, lineno, input_tokens, sum(completions), billable,
        settings.max_example_tokens, longest,
    )  # fmt: skip


def scan_lines(
    lines: Iterator[bytes], settings: ScanSettings, summary: FileSummary, file_start: bool
) -> None:
    """The hot loop: parse, check, count tokens, add to ``summary`` (lines 1-based, relative).

    Plain-text examples that pass every check (the bulk of a real file) take the fast
    path of ``make_fast_text_tokens`` when tokens are estimated; all others take every check.
    """
    cap = settings.max_findings_per_code
    line_cap = settings.line_cap
    limit = settings.max_example_tokens
    fast = None
    if isinstance(settings.counter, EstimateCounter):
        fast = (
            make_fast_preference_tokens(limit)
            if settings.method == PREFERENCE
            else make_fast_text_tokens()
        )
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
                if type(raw) is OversizedLine:
                    summary.examples += 1
                    summary.add_finding(
                        "line_too_long", lineno, None, line_message(raw, line_cap), cap
                    )
                    continue
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


def _read_range(path: str, start: int, end: int, cap: int) -> Iterator[bytes]:
    """Lines of ``[start, end)`` (newline-aligned), read in blocks with the per-line cap;
    flattened in C, so the hot loop pays nothing per line."""
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        yield from itertools.chain.from_iterable(line_batches(f, cap, limit=end - start))


def scan_range(args: tuple[str, int, int, ScanSettings]) -> FileSummary:
    """Worker entry point: one newline-aligned byte range -> its summary (relative lines)."""
    path, start, end, settings = args
    summary = FileSummary()
    scan_lines(
        _read_range(path, start, end, settings.line_cap), settings, summary, file_start=start == 0
    )
    return summary


def line_aligned_ranges(path: str, size: int, pieces: int) -> list[tuple[int, int]]:
    """Cut ``[0, size)`` into about ``pieces`` ranges that each start at a line start."""
    bounds = [0]
    with open(path, "rb") as f:
        for i in range(1, pieces):
            target = max(size * i // pieces, bounds[-1])
            f.seek(target)
            position = skip_line(f) if target else 0  # to the start of the next line
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
