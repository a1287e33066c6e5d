"""The one JSONL line reader: every input line read with a byte cap, in bounded memory.

A file without line breaks is one line; reading it with ``for line in f`` or
``readline()`` holds all of it (a 1.1 GB line took 3.4 GB in ``validate``). Every reader
of user JSONL (validate, convert, split, the eval set) goes through ``line_batches`` /
``checked_lines``: blocks of ``READ_BLOCK_BYTES`` are split at newlines, and a line past
the cap is skipped block by block without being kept, then reported in its place as an
``OversizedLine`` (its length, never its bytes).

The cap is the largest example any model in ``models.json`` accepts, in bytes:
``max_example_tokens`` (131,072 today) x ``BYTES_PER_TOKEN_BOUND`` (256) = 32 MiB. 256
bytes a token is far above real text (about 4 characters a token; a JSON-escaped
character takes at most 12 bytes, ``\\ud83d\\ude00``) and covers inline media up to the
20 MB inline request limit (an image counts a few hundred tokens for megabytes of
base64). A line above it cannot be an example the service accepts. Operators (and
tests) may lower or raise it with ``GEMINI_SFT_MAX_LINE_BYTES``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from gemini_sft_kfp.core.errors import UserError

BYTES_PER_TOKEN_BOUND = 256
LINE_CAP_ENV = "GEMINI_SFT_MAX_LINE_BYTES"
READ_BLOCK_BYTES = 4 * 1024 * 1024
# Lines per batch aimed at: a block of tiny lines ("{}") holds over a million, and each is
# an object of its own (~50 bytes) before any is parsed. Blocks shrink to hold about this
# many (not below MIN_READ_BLOCK_BYTES), so memory follows bytes, not line count.
LINES_PER_BATCH = 65_536
MIN_READ_BLOCK_BYTES = 64 * 1024
# Bytes are not the whole bound: a 30 MB line of 2.3 million ``{"text": "a"}`` parts took
# 800 MB once parsed (about 350 bytes of Python objects per JSON value). A line's values
# are at most its commas + 1, so a line with more commas than this is refused unparsed,
# keeping a parsed line near 100 MB. No example the service accepts comes close: it would
# be a value every 2-3 characters of its 131,072 tokens' text.
MAX_VALUES_PER_LINE = 250_000


class OversizedLine(bytes):
    """Stands in for a line over the cap: empty (every parser refuses it, so a hot loop
    checks for it only on its error path) and carrying the line's length in bytes (and,
    for a line refused for its JSON values, not its bytes, their count)."""

    size: int
    values: int

    def __new__(cls, size: int, values: int = 0) -> OversizedLine:
        line = super().__new__(cls, b"")
        line.size = size
        line.values = values
        return line


def _bounded(line: bytes) -> bytes:
    """``line``, or an ``OversizedLine`` when it holds more JSON values than any example
    (only lines longer than the bound can: counting costs nothing for the others)."""
    if len(line) <= MAX_VALUES_PER_LINE or type(line) is OversizedLine:
        return line
    values = line.count(b",") + 1
    return OversizedLine(len(line), values) if values > MAX_VALUES_PER_LINE else line


def largest_example_tokens() -> int:
    """The most tokens any model in the table (shipped or overridden) accepts per example."""
    from gemini_sft_kfp.core.models import model_table

    specs, _ = model_table()
    return max(spec.max_example_tokens for spec in specs.values())


def max_line_bytes() -> int:
    """The per-line byte cap: ``GEMINI_SFT_MAX_LINE_BYTES``, else derived from the table."""
    override = os.environ.get(LINE_CAP_ENV, "").strip()
    if override:
        try:
            value = int(override)
        except ValueError:
            raise UserError(f"{LINE_CAP_ENV}={override!r} is not a whole number of bytes") from None
        if value <= 0:
            raise UserError(f"{LINE_CAP_ENV}={override!r} must be positive")
        return value
    return largest_example_tokens() * BYTES_PER_TOKEN_BOUND


def too_long_message(size: int, cap: int, values: int = 0) -> str:
    """One wording for an over-cap line, wherever it is found."""
    if values:
        return (
            f"the line holds up to {values:,} JSON values, over the cap of "
            f"{MAX_VALUES_PER_LINE:,} per line (far more than any example; parsed, it "
            f"would take gigabytes of memory); it was not read"
        )
    return (
        f"the line is {size:,} bytes, over the {cap:,}-byte cap per line (the largest "
        f"example any model accepts; {LINE_CAP_ENV} changes it); it was not read"
    )


def line_message(line: OversizedLine, cap: int) -> str:
    """``too_long_message`` of an ``OversizedLine``, whichever cap it is over."""
    return too_long_message(line.size, cap, line.values)


def line_batches(
    f: BinaryIO,
    cap: int | None = None,
    *,
    limit: int | None = None,
    block: int = READ_BLOCK_BYTES,
) -> Iterator[list[bytes]]:
    """Lines of ``f`` (without ``\\n``) in per-block lists, reading at most ``limit`` bytes.

    Memory stays below about ``block`` x 2 + ``cap`` x 2 whatever the file holds: a line
    past ``cap`` is dropped while it is read and yielded as ``OversizedLine``.
    """
    cap = max_line_bytes() if cap is None else cap
    remaining = limit
    pending: list[bytes] = []  # pieces of the line not yet ended
    pending_len = 0
    oversized = False  # the line not yet ended is past the cap (its pieces are dropped)
    # this read's size: it starts small and follows the lines' length (LINES_PER_BATCH)
    size = min(block, MIN_READ_BLOCK_BYTES)
    while remaining is None or remaining > 0:
        data = f.read(size if remaining is None else min(size, remaining))
        if not data:
            break
        if remaining is not None:
            remaining -= len(data)
        lines = data.split(b"\n")
        last = lines.pop()
        if not lines:  # no line end in this block
            pending_len += len(last)
            if oversized or pending_len > cap:
                oversized, pending = True, []
            else:
                pending.append(last)
            continue
        first_len = pending_len + len(lines[0])
        if oversized or first_len > cap:
            lines[0] = OversizedLine(first_len)
        elif pending:
            pending.append(lines[0])
            lines[0] = b"".join(pending)  # one copy; the pieces go before the line is used
        if len(data) > cap and max(map(len, lines)) > cap:  # a cap below the block size
            lines = [OversizedLine(len(x)) if len(x) > cap else x for x in lines]
        if max(map(len, lines)) > MAX_VALUES_PER_LINE:  # C speed: most blocks stop here
            lines = [_bounded(x) for x in lines]
        per_line = len(data) // (len(lines) + 1) + 1
        size = min(block, max(MIN_READ_BLOCK_BYTES, per_line * LINES_PER_BATCH))
        del data
        pending_len = len(last)
        oversized = pending_len > cap
        pending = [last] if last and not oversized else []
        del last
        yield lines
    if oversized:
        yield [OversizedLine(pending_len)]
    elif pending_len:
        yield [_bounded(b"".join(pending))]


def iter_lines(f: BinaryIO, cap: int | None = None) -> Iterator[bytes]:
    """Lines of ``f`` one by one (``OversizedLine`` for each line past the cap)."""
    for batch in line_batches(f, cap):
        yield from batch


def checked_lines(f: BinaryIO, *, file: str, cap: int | None = None) -> Iterator[bytes]:
    """Lines of ``f``; a line past the cap is a UserError naming ``file``, its line, the cap."""
    cap = max_line_bytes() if cap is None else cap
    for lineno, line in enumerate(iter_lines(f, cap), start=1):
        if type(line) is OversizedLine:
            raise UserError(line_message(line, cap), file=file, line=lineno)
        yield line


def skip_line(f: BinaryIO, block: int = 1 << 20) -> int:
    """Move ``f`` just past the next newline (or to the end), reading block by block:
    ``readline()`` would hold a line of any length. Returns the new position."""
    while True:
        start = f.tell()
        data = f.read(block)
        if not data:
            return f.tell()
        end = data.find(b"\n")
        if end >= 0:
            return f.seek(start + end + 1)
