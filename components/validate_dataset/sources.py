"""Local copies of remote datasets (gs://, https://), size-checked before any download.

The validator and the converter stream local files; a remote dataset is first checked
for size from its metadata (never downloading a file the service would reject), then
copied into a temporary directory owned by the caller.
"""

from __future__ import annotations

import os
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError


def is_remote(uri: str) -> bool:
    return uri.startswith(("gs://", "https://", "http://"))


def split_gcs_uri(uri: str) -> tuple[str, str]:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    if not bucket or not name:
        raise UserError(f"{uri!r} is not a gs://bucket/object URI", file=uri)
    return bucket, name


def remote_size(uri: str, project: str | None = None) -> int:
    """Size in bytes from metadata only; a UserError when the object does not exist."""
    if uri.startswith("gs://"):
        from gemini_sft_kfp.core.clients import storage_client

        bucket, name = split_gcs_uri(uri)
        blob = storage_client(project).bucket(bucket).get_blob(name)
        if blob is None:
            raise UserError(f"{uri}: no such object", file=uri, code="file_not_found")
        return int(blob.size or 0)
    import urllib.request

    request = urllib.request.Request(uri, method="HEAD")
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(response.headers.get("Content-Length") or 0)


def download(
    uri: str, dest_dir: str | os.PathLike, project: str | None = None, max_bytes: int | None = None
) -> Path:
    """Copy a remote dataset into ``dest_dir``; the local path keeps the object's name.

    An https:// server may not announce the size: the copy stops (and is deleted) as
    soon as it passes ``max_bytes``.
    """
    dest = Path(dest_dir, Path(uri.split("?")[0]).name or "dataset.jsonl")
    if uri.startswith("gs://"):
        from gemini_sft_kfp.core.clients import storage_client

        bucket, name = split_gcs_uri(uri)
        storage_client(project).bucket(bucket).blob(name).download_to_filename(str(dest))
        return dest
    import urllib.request

    copied = 0
    with urllib.request.urlopen(uri, timeout=300) as response, open(dest, "wb") as out:
        while chunk := response.read(1024 * 1024):
            copied += len(chunk)
            if max_bytes is not None and copied > max_bytes:
                out.close()
                dest.unlink(missing_ok=True)
                raise UserError(
                    f"more than {max_bytes:,} bytes; stopped downloading",
                    file=uri,
                    code="file_too_large",
                )
            out.write(chunk)
    return dest
