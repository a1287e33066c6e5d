"""Uploads against the emulator's Cloud Storage: sources, reuse, no overwrite, no leftovers."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.components.upload_dataset import executor as uploader
from gemini_sft_kfp.components.upload_dataset.executor import run as upload_dataset
from google.api_core import exceptions as gexc
from google.cloud.storage import blob as blob_module
from google.cloud.storage._media.requests import upload as media_upload

from gemini_sft_kfp.core.clients import storage_client
from gemini_sft_kfp.core.errors import UserError
from tests.support.http_server import FlakyHandler, serve
from tests.support.job_helpers import BUCKET, DATA, PROJECT, make_bucket, object_names


class Injected(RuntimeError):
    """A failure the storage library does not retry (a retried one would only be slower)."""


@pytest.fixture
def big_file(tmp_path, monkeypatch):
    """A ~1 MiB dataset sent as a resumable upload in 256 KiB chunks."""
    monkeypatch.setattr(blob_module, "_MAX_MULTIPART_SIZE", 256 * 1024)
    monkeypatch.setattr(uploader, "CHUNK_SIZE", 256 * 1024)
    line = (
        b'{"contents": [{"role": "user", "parts": [{"text": "q"}]}, '
        b'{"role": "model", "parts": [{"text": "a"}]}]}\n'
    )
    path = tmp_path / "big.jsonl"
    path.write_bytes(line * (1024 * 1024 // len(line) + 1))
    return path


def test_resumable_upload_in_chunks_round_trips(emu, big_file):
    make_bucket()
    chunks = []
    real = media_upload.ResumableUpload.transmit_next_chunk

    def counting(self, *args, **kwargs):
        chunks.append(1)
        return real(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(media_upload.ResumableUpload, "transmit_next_chunk", counting)
        result = upload_dataset(PROJECT, source_uri=str(big_file), bucket=BUCKET)
    assert len(chunks) >= 4
    blob = storage_client(PROJECT).bucket(BUCKET).get_blob(result.uri.split("/", 3)[3])
    assert blob.download_as_bytes() == big_file.read_bytes()
    assert blob.metadata["sha256"] == result.sha256


def test_upload_interrupted_mid_way_leaves_no_object(emu, big_file, monkeypatch):
    make_bucket()
    real = media_upload.ResumableUpload.transmit_next_chunk
    sent = []

    def failing(self, *args, **kwargs):
        sent.append(1)
        if len(sent) == 3:
            raise Injected("connection lost after 2 chunks")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(media_upload.ResumableUpload, "transmit_next_chunk", failing)
    with pytest.raises(Injected):
        upload_dataset(PROJECT, source_uri=str(big_file), bucket=BUCKET)
    assert object_names() == []


@pytest.mark.parametrize("mode", ["resumable", "multipart"])
def test_failure_after_the_object_was_written_removes_it(
    emu, big_file, tmp_path, mode, monkeypatch
):
    """E.g. the checksum check or the connection fails once the server has the object."""
    make_bucket()
    if mode == "resumable":
        cls, method, source = media_upload.ResumableUpload, "transmit_next_chunk", big_file
    else:
        cls, method, source = media_upload.MultipartUpload, "transmit", DATA / "train.jsonl"
        monkeypatch.setattr(blob_module, "_MAX_MULTIPART_SIZE", 8 * 1024 * 1024)
    real = getattr(cls, method)

    def lose_response(self, *args, **kwargs):
        response = real(self, *args, **kwargs)
        if mode == "multipart" or self.finished:
            raise Injected("response lost after the object was finalised")
        return response

    monkeypatch.setattr(cls, method, lose_response)
    with pytest.raises(Injected):
        upload_dataset(PROJECT, source_uri=str(source), bucket=BUCKET)
    assert object_names() == []


def test_existing_different_object_is_never_overwritten(emu):
    make_bucket()
    first = upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    name = first.uri.split("/", 3)[3]
    bucket = storage_client(PROJECT).bucket(BUCKET)
    bucket.blob(name).upload_from_string(b"tampered\n")
    with pytest.raises(UserError, match="refusing to overwrite"):
        upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    assert bucket.blob(name).download_as_bytes() == b"tampered\n"


def test_missing_bucket_is_a_user_error(emu):
    with pytest.raises(UserError, match="gs://no-such-bucket does not exist") as info:
        upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket="no-such-bucket")
    assert info.value.field == "bucket"


def test_permission_denied_is_a_user_error(tmp_path):
    class DeniedBlob:
        metadata = None

        def upload_from_filename(self, *args, **kwargs):
            raise gexc.Forbidden("caller does not have storage.objects.create access")

    class DeniedBucket:
        name = "locked"

        def get_blob(self, name, **kwargs):
            return None

        def blob(self, name, chunk_size=None):
            return DeniedBlob()

    class DeniedClient:
        def bucket(self, name):
            return DeniedBucket()

    with pytest.raises(UserError, match="no permission to write to gs://locked") as info:
        upload_dataset(
            PROJECT, source_uri=str(DATA / "train.jsonl"), bucket="locked", client=DeniedClient()
        )
    assert info.value.code == "403"


def test_gcs_source_is_used_in_place_or_copied(emu):
    make_bucket()
    bucket = storage_client(PROJECT).bucket(BUCKET)
    bucket.blob("incoming/data.jsonl").upload_from_filename(str(DATA / "validation.jsonl"))
    source = f"gs://{BUCKET}/incoming/data.jsonl"

    in_place = upload_dataset(PROJECT, source_uri=source, bucket=BUCKET)
    assert in_place.uri == source and not in_place.uploaded
    assert in_place.examples == 60

    copied = upload_dataset(
        PROJECT,
        source_uri=source,
        bucket=BUCKET,
        copy_gcs_source=True,
        file_name="validation.jsonl",
    )
    assert copied.uploaded
    assert copied.uri == f"gs://{BUCKET}/gemini-sft/datasets/{in_place.sha256}/validation.jsonl"
    copy_blob = bucket.get_blob(copied.uri.split("/", 3)[3])
    assert copy_blob.metadata["sha256"] == in_place.sha256
    again = upload_dataset(
        PROJECT,
        source_uri=source,
        bucket=BUCKET,
        copy_gcs_source=True,
        file_name="validation.jsonl",
    )
    assert again.uri == copied.uri and not again.uploaded
    assert len(object_names()) == 2

    with pytest.raises(UserError, match="not found"):
        upload_dataset(PROJECT, source_uri=f"gs://{BUCKET}/incoming/none.jsonl", bucket=BUCKET)


@pytest.fixture
def http_server():
    with serve(DATA) as url:
        yield url


def test_https_source_is_streamed_and_content_addressed(emu, http_server):
    make_bucket()
    local = upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    remote = upload_dataset(PROJECT, source_uri=f"{http_server}/train.jsonl", bucket=BUCKET)
    assert remote.uri == local.uri and not remote.uploaded
    with pytest.raises(UserError, match="HTTP 404"):
        upload_dataset(PROJECT, source_uri=f"{http_server}/missing.jsonl", bucket=BUCKET)


@pytest.mark.usefixtures("no_retry_sleep")
def test_https_download_survives_a_server_error(emu, http_server):
    make_bucket()
    local = upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    FlakyHandler.hits = 0
    remote = upload_dataset(PROJECT, source_uri=f"{http_server}/flaky/train.jsonl", bucket=BUCKET)
    assert remote.uri == local.uri
    assert FlakyHandler.hits == 2


def test_identical_object_without_our_metadata_is_recognised_by_md5(emu):
    make_bucket()
    first = upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    name = first.uri.split("/", 3)[3]
    bucket = storage_client(PROJECT).bucket(BUCKET)
    bucket.delete_blob(name)
    bucket.blob(name).upload_from_filename(str(DATA / "train.jsonl"))  # e.g. gsutil cp
    again = upload_dataset(PROJECT, source_uri=str(DATA / "train.jsonl"), bucket=BUCKET)
    assert again.uri == first.uri and not again.uploaded
    assert again.examples == 240


def test_failed_copy_leaves_no_object(emu, monkeypatch):
    make_bucket()
    bucket = storage_client(PROJECT).bucket(BUCKET)
    bucket.blob("incoming/data.jsonl").upload_from_filename(str(DATA / "validation.jsonl"))

    def rewrite_then_fail(self, *args, **kwargs):
        real_rewrite(self, *args, **kwargs)
        raise Injected("connection lost after the copy")

    real_rewrite = blob_module.Blob.rewrite
    monkeypatch.setattr(blob_module.Blob, "rewrite", rewrite_then_fail)
    with pytest.raises(Injected):
        upload_dataset(
            PROJECT,
            source_uri=f"gs://{BUCKET}/incoming/data.jsonl",
            bucket=BUCKET,
            copy_gcs_source=True,
        )
    assert object_names() == ["incoming/data.jsonl"]
