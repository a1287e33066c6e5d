"""What a dataset's content is (downloads and gs:// URIs: ``gemini_sft_kfp.core.storage``).

Hashing streams the file in 1 MiB blocks: sha256 (the content address), optionally
md5 (what Cloud Storage reports for an object, to recognise an object without our
metadata) and the example count (non-blank JSONL lines). The sha256-only pass is
what a re-run pays before it finds the dataset already uploaded.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError

BLOCK = 1 << 20


@dataclass(frozen=True)
class Digest:
    """The identity of a dataset's bytes."""

    sha256: str
    md5_base64: str
    size_bytes: int
    examples: int


_BLANK_AFTER_NEWLINE = re.compile(rb"\n[ \t\r\x0b\x0c]*(?=\n)")
_BLANK_AT_START = re.compile(rb"[ \t\r\x0b\x0c]*\n")


class _Digester:
    """Streaming hashes and a count of non-blank lines, with no per-line Python loop."""

    def __init__(self, *, md5: bool, examples: bool) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5() if md5 else None
        self.count_examples = examples
        self.size = 0
        self.lines = 0
        self._partial_has_content = False  # the line not yet ended by a newline

    def update(self, block: bytes) -> None:
        self.sha256.update(block)
        if self.md5 is not None:
            self.md5.update(block)
        self.size += len(block)
        if self.count_examples:
            self._count(block)

    def _count(self, block: bytes) -> None:
        first = block.find(b"\n")
        if first < 0:
            self._partial_has_content = self._partial_has_content or bool(block.strip())
            return
        if self._partial_has_content or block[:first].strip():
            self.lines += 1
        rest = block[first + 1 :]  # starts at the beginning of a line
        complete = rest.count(b"\n")
        blank = len(_BLANK_AFTER_NEWLINE.findall(rest))
        if _BLANK_AT_START.match(rest):
            blank += 1
        self.lines += complete - blank
        self._partial_has_content = bool(rest[rest.rfind(b"\n") + 1 :].strip())

    def digest(self) -> Digest:
        return Digest(
            sha256=self.sha256.hexdigest(),
            md5_base64=base64.b64encode(self.md5.digest()).decode() if self.md5 else "",
            size_bytes=self.size,
            examples=self.lines + (1 if self._partial_has_content else 0),
        )


def digest_stream(stream, *, md5: bool = True, examples: bool = True) -> Digest:
    digester = _Digester(md5=md5, examples=examples)
    while block := stream.read(BLOCK):
        digester.update(block)
    return digester.digest()


def digest_file(path: str | Path, *, md5: bool = True, examples: bool = True) -> Digest:
    """Digest a local file; a missing or unreadable file is a UserError."""
    path = Path(path)
    if not path.exists():
        raise UserError("dataset file not found", file=str(path), field="source")
    if path.is_dir():
        raise UserError("is a directory, not a JSONL file", file=str(path), field="source")
    try:
        with path.open("rb") as f:
            return digest_stream(f, md5=md5, examples=examples)
    except PermissionError as exc:
        raise UserError(f"cannot read the dataset: {exc.strerror}", file=str(path)) from exc
