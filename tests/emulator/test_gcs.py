"""Cloud Storage through google-cloud-storage 3.x as the project's client factory builds it."""

from __future__ import annotations

import base64
import hashlib

import pytest
from google.api_core import exceptions

from gemini_sft_kfp.core.clients import storage_client


@pytest.fixture
def bucket(emu):
    return storage_client("local-project").create_bucket("unit-bucket")


def test_simple_upload_download_and_hashes(bucket):
    data = b'{"contents": []}\n' * 10
    blob = bucket.blob("a/b.jsonl")
    blob.upload_from_string(data, if_generation_match=0)
    fetched = bucket.get_blob("a/b.jsonl")
    assert fetched.md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert fetched.crc32c and fetched.size == len(data)
    assert fetched.download_as_bytes() == data


def test_create_only_precondition_refuses_overwrite(bucket):
    bucket.blob("x.jsonl").upload_from_string(b"first", if_generation_match=0)
    with pytest.raises(exceptions.PreconditionFailed):
        bucket.blob("x.jsonl").upload_from_string(b"second", if_generation_match=0)
    assert bucket.blob("x.jsonl").download_as_bytes() == b"first"


def test_generation_match_on_existing_generation(bucket):
    blob = bucket.blob("y.txt")
    blob.upload_from_string(b"one")
    generation = bucket.get_blob("y.txt").generation
    blob.upload_from_string(b"two", if_generation_match=generation)
    assert bucket.get_blob("y.txt").generation > generation
    with pytest.raises(exceptions.PreconditionFailed):
        blob.upload_from_string(b"three", if_generation_match=generation)


def test_resumable_upload_with_precondition(bucket, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * (3 * 1024 * 1024))
    blob = bucket.blob("big.bin", chunk_size=1024 * 1024)  # forces a resumable upload
    blob.upload_from_filename(str(big), if_generation_match=0)
    assert bucket.get_blob("big.bin").size == 3 * 1024 * 1024
    again = bucket.blob("big.bin", chunk_size=1024 * 1024)
    with pytest.raises(exceptions.PreconditionFailed):
        again.upload_from_filename(str(big), if_generation_match=0)


def test_delete_and_missing_object(bucket):
    bucket.blob("gone.txt").upload_from_string(b"x")
    bucket.blob("gone.txt").delete()
    assert bucket.get_blob("gone.txt") is None
    with pytest.raises(exceptions.NotFound):
        bucket.blob("gone.txt").download_as_bytes()


def test_reset_forgets_buckets(emu):
    client = storage_client("local-project")
    client.create_bucket("temporary")
    emu.reset()
    assert client.lookup_bucket("temporary") is None


def test_listing_ranges_streams_and_delete_precondition(bucket):
    from gemini_sft_kfp.core.clients import EMULATOR_PROJECT_NUMBER

    bucket.blob("p/a.txt").upload_from_string(b"0123456789" * 100)
    bucket.blob("p/b.txt").upload_from_string(b"x")
    bucket.blob("q/c.txt").upload_from_string(b"y")
    client = storage_client("local-project")
    assert [b.name for b in client.list_blobs("unit-bucket", prefix="p/")] == ["p/a.txt", "p/b.txt"]
    assert bucket.blob("p/a.txt").download_as_bytes(start=5, end=9) == b"56789"
    with bucket.blob("p/w.txt").open("wb", if_generation_match=0) as stream:
        stream.write(b"streamed")
    assert bucket.blob("p/w.txt").download_as_bytes() == b"streamed"
    with pytest.raises(exceptions.PreconditionFailed):
        bucket.blob("p/b.txt").delete(if_generation_match=1)
    assert bucket.get_blob("p/b.txt") is not None
    assert client.get_bucket("unit-bucket").project_number == int(EMULATOR_PROJECT_NUMBER)
