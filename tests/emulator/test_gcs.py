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


CHUNK = 256 * 1024


def _cut_chunk(url: str, start: int, data: bytes, sent: int) -> None:
    """Send one chunk's headers and only ``sent`` of its bytes, then drop the connection."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    head = (
        f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Length: {len(data)}\r\nContent-Range: bytes {start}-{start + len(data) - 1}/*\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(head + data[:sent])


def test_resumable_upload_cut_mid_chunk_resumes(emu):
    """An outage cuts chunk 2 mid-body: GCS keeps only whole chunks, the status query
    names them, and the client's recover() + resume finishes the object intact."""
    import io

    import google.auth.transport.requests as transport_requests
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.storage._media.requests import ResumableUpload

    storage_client("local-project").create_bucket("resume-bucket")
    data = hashlib.sha256(b"seed").digest() * (4 * CHUNK // 32 + 100)  # 4 chunks + a tail
    url = f"{emu.gcs_url}/upload/storage/v1/b/resume-bucket/o?uploadType=resumable"
    transport = transport_requests.AuthorizedSession(AnonymousCredentials())
    upload = ResumableUpload(url, CHUNK)
    stream = io.BytesIO(data)
    upload.initiate(transport, stream, {"name": "big.bin"}, "application/octet-stream")
    status_only = transport.put(upload.resumable_url, headers={"Content-Range": "bytes */*"})
    assert status_only.status_code == 308 and "Range" not in status_only.headers  # nothing yet
    upload.transmit_next_chunk(transport)
    assert upload.bytes_uploaded == CHUNK

    _cut_chunk(upload.resumable_url, CHUNK, data[CHUNK : 2 * CHUNK], sent=CHUNK // 3)
    status = transport.put(upload.resumable_url, headers={"Content-Range": "bytes */*"})
    assert status.status_code == 308 and status.headers["Range"] == f"bytes=0-{CHUNK - 1}"

    upload._make_invalid()  # what the client's failed request leaves behind
    upload.recover(transport)
    assert upload.bytes_uploaded == CHUNK and not upload.invalid
    while not upload.finished:
        upload.transmit_next_chunk(transport)
    fetched = storage_client("local-project").bucket("resume-bucket").blob("big.bin")
    assert fetched.download_as_bytes() == data


def test_resumed_chunk_overlapping_persisted_bytes_is_accepted(emu):
    """A client that resends its last chunk from its own boundary is not refused."""
    import google.auth.transport.requests as transport_requests
    from google.auth.credentials import AnonymousCredentials

    storage_client("local-project").create_bucket("overlap-bucket")
    session = transport_requests.AuthorizedSession(AnonymousCredentials())
    start = session.post(
        f"{emu.gcs_url}/upload/storage/v1/b/overlap-bucket/o?uploadType=resumable",
        json={"name": "o.bin"},
    )
    location = start.headers["Location"]
    data = bytes(range(256)) * (2 * CHUNK // 256)
    first = session.put(
        location, data=data[:CHUNK], headers={"Content-Range": f"bytes 0-{CHUNK - 1}/*"}
    )
    assert first.status_code == 308
    again = session.put(
        location, data=data, headers={"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    )
    assert again.status_code == 200, again.text
    assert (
        storage_client("local-project").bucket("overlap-bucket").blob("o.bin").download_as_bytes()
        == data
    )
