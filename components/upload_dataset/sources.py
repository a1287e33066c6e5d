"""Where a dataset comes from (local file, https, gs://) and what its content is.

Hashing streams the file once in 1 MiB blocks: sha256 (the content address), md5
(what Cloud Storage reports for an object, so an existing object can be recognised
even without our metadata), size and example count (non-empty JSONL lines).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from components._common.errors import UserError

BLOCK = 1 << 20
DOWNLOAD_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Digest:
    """The identity of a dataset's bytes."""

    sha256: str
    md5_base64: str
    size_bytes: int
    examples: int


class _Digester:
    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5()
        self.size = 0
        self.lines = 0
        self._line_open = False  # bytes seen since the last newline, not yet counted

    def update(self, block: bytes) -> None:
        self.sha256.update(block)
        self.md5.update(block)
        self.size += len(block)
        # Count non-empty lines without decoding: a line counts at its newline.
        for chunk in block.split(b"\n")[:-1]:
            if chunk.strip() or self._line_open:
                self.lines += 1
            self._line_open = False
        tail = block.rsplit(b"\n", 1)[-1]
        if tail.strip():
            self._line_open = True

    def digest(self) -> Digest:
        lines = self.lines + (1 if self._line_open else 0)
        return Digest(
            sha256=self.sha256.hexdigest(),
            md5_base64=base64.b64encode(self.md5.digest()).decode(),
            size_bytes=self.size,
            examples=lines,
        )


def digest_stream(stream) -> Digest:
    digester = _Digester()
    while block := stream.read(BLOCK):
        digester.update(block)
    return digester.digest()


def digest_file(path: str | Path) -> Digest:
    """Digest a local file; a missing or unreadable file is a UserError."""
    path = Path(path)
    if not path.exists():
        raise UserError("dataset file not found", file=str(path), field="source")
    if path.is_dir():
        raise UserError("is a directory, not a JSONL file", file=str(path), field="source")
    try:
        with path.open("rb") as f:
            return digest_stream(f)
    except PermissionError as exc:
        raise UserError(f"cannot read the dataset: {exc.strerror}", file=str(path)) from exc


def download_https(url: str, directory: str | None = None) -> str:
    """Stream ``url`` to a temporary file (never held in memory) and return its path."""
    import httpx

    fd, tmp = tempfile.mkstemp(prefix="dataset-", suffix=".jsonl", dir=directory)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            httpx.stream(
                "GET", url, follow_redirects=True, timeout=DOWNLOAD_TIMEOUT_SECONDS
            ) as response,
        ):
            if response.status_code >= 400:
                raise UserError(
                    f"download failed: HTTP {response.status_code}", file=url, field="source_uri"
                )
            for block in response.iter_bytes(BLOCK):
                out.write(block)
    except httpx.HTTPError as exc:
        os.unlink(tmp)
        raise UserError(f"download failed: {exc}", file=url, field="source_uri") from exc
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def split_gcs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/path/file`` -> (``bucket``, ``path/file``)."""
    rest = uri[len("gs://") :]
    bucket, _, name = rest.partition("/")
    if not bucket or not name:
        raise UserError(f"{uri!r} is not a gs://BUCKET/OBJECT URI", field="source_uri")
    return bucket, name
