"""Remote datasets: one gs:// parser, one size probe, one download path with retry.

Used by the components that read a dataset from Cloud Storage or the web
(``validate_dataset``, ``upload_dataset``, ``evaluate_model``). Sizes come from
metadata, so a caller can refuse a file the service would reject before a byte moves.
http(s) downloads are streamed to disk (never held in memory), retried on throttling,
server errors and dropped connections (each attempt rewrites the file from the start),
and stopped as soon as they pass ``max_bytes``. gs:// downloads go through
google-cloud-storage, which retries reads by itself (``clients.storage_retry``).
"""

from __future__ import annotations

import os
from pathlib import Path

from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.retry import (
    CONNECT_TIMEOUT_SECONDS,
    TRANSIENT_HTTP_CODES,
    Unreachable,
    call_with_retry,
    retrying,
)

GCS_SCHEME = "gs://"
BLOCK = 1 << 20
DOWNLOAD_TIMEOUT_SECONDS = 300.0
DOWNLOAD_RETRY_SECONDS = 300.0
DEFAULT_FILE_NAME = "dataset.jsonl"


def is_remote(uri: str) -> bool:
    """A gs://, https:// or http:// location (anything else is a local path)."""
    return uri.startswith((GCS_SCHEME, "https://", "http://"))


def split_gcs_uri(uri: str, *, field: str | None = None) -> tuple[str, str]:
    """``gs://bucket/path/file`` -> (``bucket``, ``path/file``); a UserError otherwise."""
    bucket, _, name = uri.removeprefix(GCS_SCHEME).partition("/")
    if not uri.startswith(GCS_SCHEME) or not bucket or not name:
        raise UserError(f"{uri!r} is not a gs://BUCKET/OBJECT URI", field=field)
    return bucket, name


def remote_size(uri: str, project: str | None = None) -> int:
    """Size in bytes from metadata only (0: the server does not say). A missing gs://
    object is a UserError coded ``file_not_found``, a refused URL one coded
    ``file_unreadable``."""
    if uri.startswith(GCS_SCHEME):
        from gemini_sft_kfp.core.clients import storage_client, storage_retry

        bucket, name = split_gcs_uri(uri)
        blob = storage_client(project).bucket(bucket).get_blob(name, retry=storage_retry())
        if blob is None:
            raise UserError(f"{uri}: no such object", file=uri, code="file_not_found")
        return int(blob.size or 0)
    try:
        response = call_with_retry(_head, uri, policy=retrying(deadline=DOWNLOAD_RETRY_SECONDS))
    except Unreachable as exc:
        raise UserError(f"cannot connect: {exc}", file=uri, code="file_unreadable") from exc
    if response.status_code in (405, 501):  # HEAD not supported: the download caps the size
        return 0
    _raise_for_status(uri, response.status_code)
    return int(response.headers.get("Content-Length") or 0)


def download(
    uri: str,
    dest_dir: str | os.PathLike,
    *,
    project: str | None = None,
    max_bytes: int | None = None,
    field: str | None = None,
) -> Path:
    """Copy a gs:// or http(s):// dataset into ``dest_dir`` under the object's own name.

    Nothing is left behind when it fails: a partial file is deleted. An http(s) server
    may not announce the size, so the copy stops (``file_too_large``) as soon as it
    passes ``max_bytes``.
    """
    dest = Path(dest_dir, Path(uri.split("?")[0]).name or DEFAULT_FILE_NAME)
    if uri.startswith(GCS_SCHEME):
        from gemini_sft_kfp.core.clients import storage_client, storage_retry

        bucket, name = split_gcs_uri(uri, field=field)
        blob = storage_client(project).bucket(bucket).blob(name)
        blob.download_to_filename(str(dest), retry=storage_retry())
        return dest
    import httpx

    policy = retrying(deadline=DOWNLOAD_RETRY_SECONDS)
    try:
        call_with_retry(_download_once, uri, dest, max_bytes, field, policy=policy)
    except (httpx.HTTPError, Unreachable) as exc:
        dest.unlink(missing_ok=True)
        raise UserError(
            f"download failed: {exc}", file=uri, field=field, code="file_unreadable"
        ) from exc
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return dest


def _head(url: str):
    import httpx

    response = httpx.head(url, follow_redirects=True, timeout=_timeout())
    if response.status_code in TRANSIENT_HTTP_CODES:
        response.raise_for_status()  # an HTTPStatusError: retried
    return response


def _timeout():
    """Seconds per read; a connection is given only ``CONNECT_TIMEOUT_SECONDS``."""
    import httpx

    return httpx.Timeout(DOWNLOAD_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)


def _raise_for_status(url: str, status: int, field: str | None = None) -> None:
    """A definite refusal is the user's to fix (wrong URL, no access): one line, no trace."""
    if status >= 400:
        raise UserError(
            f"download failed: HTTP {status}", file=url, field=field, code="file_unreadable"
        )


def _download_once(url: str, dest: Path, max_bytes: int | None, field: str | None) -> None:
    import httpx

    with (
        open(dest, "wb") as out,
        httpx.stream("GET", url, follow_redirects=True, timeout=_timeout()) as resp,
    ):
        if resp.status_code in TRANSIENT_HTTP_CODES:
            resp.raise_for_status()  # an HTTPStatusError: retried
        _raise_for_status(url, resp.status_code, field)
        copied = 0
        for block in resp.iter_bytes(BLOCK):
            copied += len(block)
            if max_bytes is not None and copied > max_bytes:
                raise UserError(
                    f"more than {max_bytes:,} bytes; stopped downloading",
                    file=url,
                    field=field,
                    code="file_too_large",
                )
            out.write(block)
