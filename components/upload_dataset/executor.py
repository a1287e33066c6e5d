"""Put a dataset in Cloud Storage at a content address, once, whole, or not at all.

Destination ``gs://BUCKET/PREFIX/<sha256>/<file_name>``: the same bytes always land
at the same place, so an unchanged dataset is recognised by one metadata read and
not uploaded again. Uploads are resumable (chunked) with a checksum the client
verifies, and use ``if_generation_match=0``: an existing object is never
overwritten. If anything fails after the object was finalised (checksum mismatch,
interrupted metadata), the object this upload created -- recognised by its upload
id, and deleted only at its own generation -- is removed: no partial object stays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gemini_sft_kfp.components.upload_dataset.sources import (
    Digest,
    digest_file,
    digest_stream,
)

from gemini_sft_kfp.core import defaults
from gemini_sft_kfp.core.clients import storage_retry
from gemini_sft_kfp.core.errors import UserError
from gemini_sft_kfp.core.retry import http_status
from gemini_sft_kfp.core.storage import download, split_gcs_uri

log = logging.getLogger(__name__)

CHUNK_SIZE = 8 * 1024 * 1024  # a multiple of 256 KiB; larger files go resumable in chunks
CONTENT_TYPE = "application/jsonl"


@dataclass(frozen=True)
class UploadResult:
    """Where the dataset is now and what it is."""

    uri: str  # gs://...; "" when the input was empty (no validation set)
    sha256: str = ""
    size_bytes: int = 0
    examples: int = 0
    uploaded: bool = False  # False: reused an identical object, or used in place

    def metadata(self) -> dict:
        return {
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "examples": self.examples,
            "uploaded": self.uploaded,
        }


EMPTY = UploadResult(uri="")


def destination_name(prefix: str, sha256: str, file_name: str) -> str:
    prefix = prefix.strip("/")
    file_name = file_name.strip("/")
    if not file_name or "/" in file_name:
        raise UserError(f"file_name {file_name!r} must be a plain file name", field="file_name")
    return f"{prefix}/{sha256}/{file_name}" if prefix else f"{sha256}/{file_name}"


def _storage_error(exc: BaseException, bucket: str, action: str) -> UserError | None:
    status = http_status(exc)
    if status == 404:
        return UserError(
            f"bucket gs://{bucket} does not exist (or is not visible to this "
            "project's credentials)",
            field="bucket",
            code="404",
        )
    if status in (401, 403):
        return UserError(
            f"no permission to {action} gs://{bucket}: grant the caller "
            "roles/storage.objectAdmin (or objectCreator + objectViewer) on it",
            field="bucket",
            code=str(status),
        )
    return None


def _same_content(blob, sha256: str, size: int, md5_of: Callable[[], str]) -> bool:
    """Our metadata's sha256 if present, else Cloud Storage's md5 (computed only then)."""
    recorded = (blob.metadata or {}).get("sha256")
    if recorded:
        return recorded == sha256
    return blob.size == size and blob.md5_hash == md5_of()


def _existing(
    bucket, name: str, bucket_name: str, sha256: str, size: int, md5_of: Callable[[], str]
):
    """The identical object already at ``name``, None if absent; refuses a different one."""
    try:
        blob = bucket.get_blob(name, retry=storage_retry())
    except Exception as exc:
        error = _storage_error(exc, bucket_name, "read")
        if error:
            raise error from exc
        raise
    if blob is None:
        return None
    if not _same_content(blob, sha256, size, md5_of):
        raise UserError(
            f"gs://{bucket_name}/{name} already exists with different content; refusing to "
            "overwrite it (remove it, or use another prefix)",
            field="bucket",
        )
    return blob


def _recorded_examples(blob) -> int | None:
    try:
        return int((blob.metadata or {})["examples"])
    except (KeyError, TypeError, ValueError):
        return None


def _remove_own_object(bucket, name: str, upload_id: str) -> None:
    """Delete the object only if this upload created it (matching id and generation)."""
    with contextlib.suppress(Exception):
        blob = bucket.get_blob(name, retry=storage_retry())
        if blob is not None and (blob.metadata or {}).get("upload-id") == upload_id:
            blob.delete(if_generation_match=blob.generation, retry=storage_retry())
            log.warning("removed the incomplete object gs://%s/%s", bucket.name, name)


def upload_file(
    client, path: str | Path, *, bucket: str, prefix: str, file_name: str, source: str = ""
) -> UploadResult:
    """Upload one local file to its content address (or reuse the identical object).

    A re-run pays one sha256 pass and one metadata read; lines are counted (a second
    pass) only when the object has to be uploaded or lacks our metadata.
    """
    quick = digest_file(path, md5=False, examples=False)
    if quick.size_bytes == 0:
        return EMPTY
    name = destination_name(prefix, quick.sha256, file_name)
    uri = f"gs://{bucket}/{name}"
    gcs_bucket = client.bucket(bucket)

    def md5_of() -> str:
        return digest_file(path, examples=False).md5_base64

    found = _existing(gcs_bucket, name, bucket, quick.sha256, quick.size_bytes, md5_of)
    examples = _recorded_examples(found) if found is not None else None
    if examples is None:
        examples = digest_file(path, md5=False).examples
    result = UploadResult(
        uri=uri,
        sha256=quick.sha256,
        size_bytes=quick.size_bytes,
        examples=examples,
        uploaded=found is None,
    )
    if found is not None:
        log.info(
            "%s already holds this dataset (sha256 %s): not uploading again", uri, quick.sha256[:12]
        )
        return result

    upload_id = uuid.uuid4().hex
    blob = gcs_bucket.blob(name, chunk_size=CHUNK_SIZE)
    blob.metadata = {
        "sha256": quick.sha256,
        "examples": str(examples),
        "upload-id": upload_id,
        **({"source": source[:1024]} if source else {}),
    }
    try:
        blob.upload_from_filename(
            str(path),
            content_type=CONTENT_TYPE,
            if_generation_match=0,
            checksum="auto",
            retry=storage_retry(),
        )
    except BaseException as exc:
        # 412: someone uploaded the same address meanwhile; fine if it is identical.
        if http_status(exc) == 412 and _existing(
            gcs_bucket, name, bucket, quick.sha256, quick.size_bytes, md5_of
        ):
            return dataclasses.replace(result, uploaded=False)
        _remove_own_object(gcs_bucket, name, upload_id)
        error = _storage_error(exc, bucket, "write to") if isinstance(exc, Exception) else None
        if error:
            raise error from exc
        raise
    log.info("uploaded %s (%d bytes, %d examples)", uri, quick.size_bytes, examples)
    return result


def _gcs_source(
    client, uri: str, *, copy: bool, bucket: str, prefix: str, file_name: str
) -> UploadResult:
    """A dataset already in Cloud Storage: used in place, or copied to its content address."""
    src_bucket_name, src_name = split_gcs_uri(uri, field="source_uri")
    src_bucket = client.bucket(src_bucket_name)
    try:
        src = src_bucket.get_blob(src_name, retry=storage_retry())
    except Exception as exc:
        error = _storage_error(exc, src_bucket_name, "read")
        if error:
            raise error from exc
        raise
    if src is None:
        raise UserError("dataset object not found", file=uri, field="source_uri")
    if not src.size:
        return EMPTY
    with src.open("rb", chunk_size=CHUNK_SIZE, retry=storage_retry()) as stream:
        digest = digest_stream(stream)
    if not copy:
        return UploadResult(
            uri=uri, sha256=digest.sha256, size_bytes=digest.size_bytes, examples=digest.examples
        )
    bucket = _bucket(bucket)
    name = destination_name(prefix, digest.sha256, file_name)
    dst_bucket = client.bucket(bucket)
    found = _existing(
        dst_bucket, name, bucket, digest.sha256, digest.size_bytes, lambda: digest.md5_base64
    )
    result = UploadResult(
        uri=f"gs://{bucket}/{name}",
        sha256=digest.sha256,
        size_bytes=digest.size_bytes,
        examples=digest.examples,
        uploaded=found is None,
    )
    if found is None:
        _copy(src_bucket, src, dst_bucket, name, digest, source=uri)
    return result


def _copy(src_bucket, src, dst_bucket, name: str, digest: Digest, *, source: str) -> None:
    """Server-side rewrite (never overwriting; large objects in several calls) carrying our
    metadata; the copy is deleted again if anything fails once it exists."""
    metadata = {"sha256": digest.sha256, "examples": str(digest.examples), "source": source[:1024]}
    dst = dst_bucket.blob(name)
    dst.metadata = metadata
    try:
        # retried (as by default) because of if_generation_match: no second copy is made
        token, _, _ = dst.rewrite(src, if_generation_match=0, retry=storage_retry())
        while token:
            token, _, _ = dst.rewrite(
                src, token=token, if_generation_match=0, retry=storage_retry()
            )
        if (dst.metadata or {}).get("sha256") != digest.sha256:  # a server that dropped it
            dst.metadata = metadata
            dst.patch(if_generation_match=dst.generation, retry=storage_retry())
    except BaseException as exc:
        if dst.generation is not None:  # ours: created by this rewrite, delete that generation
            with contextlib.suppress(Exception):
                dst.delete(if_generation_match=dst.generation, retry=storage_retry())
        error = (
            _storage_error(exc, dst_bucket.name, "write to") if isinstance(exc, Exception) else None
        )
        if error:
            raise error from exc
        raise


def run(
    project: str,
    *,
    local_path: str = "",
    source_uri: str = "",
    bucket: str,
    prefix: str = defaults.DATASET_PREFIX,
    file_name: str = "train.jsonl",
    copy_gcs_source: bool = False,
    client=None,
) -> UploadResult:
    """Upload from a local path, https URL or gs:// URI; ``EMPTY`` for no input / empty file."""
    source = (source_uri or "").strip()
    local = (local_path or "").strip()
    if not source and not local:
        return EMPTY
    if client is None:
        from gemini_sft_kfp.core.clients import storage_client

        client = storage_client(project)
    if local:
        return upload_file(
            client, local, bucket=_bucket(bucket), prefix=prefix, file_name=file_name, source=source
        )
    if source.startswith("gs://"):
        return _gcs_source(
            client, source, copy=copy_gcs_source, bucket=bucket, prefix=prefix, file_name=file_name
        )
    if source.startswith(("https://", "http://")):
        with tempfile.TemporaryDirectory(prefix="dataset-") as workdir:
            local_copy = download(source, workdir, field="source_uri")
            return upload_file(
                client,
                str(local_copy),
                bucket=_bucket(bucket),
                prefix=prefix,
                file_name=file_name,
                source=source,
            )
    path = source.removeprefix("file://")
    return upload_file(
        client,
        path,
        bucket=_bucket(bucket),
        prefix=prefix,
        file_name=file_name,
        source=str(Path(path).resolve()),
    )


def _bucket(bucket: str) -> str:
    name = (bucket or "").strip().removeprefix("gs://").strip("/")
    if not name or "/" in name:
        raise UserError(f"bucket {bucket!r} must be a bucket name (e.g. my-bucket)", field="bucket")
    return name


def artifact_source(path: str, uri: str) -> tuple[str, str]:
    """(local_path, gs_uri) for a Dataset artifact: its local file if readable here (the
    local runner, or the /gcs mount on Vertex), else its gs:// URI."""
    if path and os.path.exists(path):
        return path, ""
    if uri.startswith("gs://"):
        return "", uri
    raise UserError(
        "the input Dataset artifact has no readable file", file=uri or path, field="dataset"
    )
