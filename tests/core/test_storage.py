"""core.storage: the one gs:// parser, size probe and download path (with retry)."""

from __future__ import annotations

import pytest

from gemini_sft_kfp.core import storage
from gemini_sft_kfp.core.clients import storage_client
from gemini_sft_kfp.core.errors import UserError
from tests.support.http_server import FlakyHandler, serve

BODY = b'{"contents": []}\n' * 100


class Handler(FlakyHandler):
    """Also refuses HEAD under ``/nohead/`` (as some servers do)."""

    def do_HEAD(self):
        if self.path.startswith("/nohead/"):
            self.send_error(405, "no HEAD here")
            return
        super().do_HEAD()


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "train.jsonl").write_bytes(BODY)
    with serve(served, Handler) as url:
        yield url


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("gs://b/o.jsonl", ("b", "o.jsonl")), ("gs://b/dir/sub/o.jsonl", ("b", "dir/sub/o.jsonl"))],
)
def test_split_gcs_uri(uri, expected):
    assert storage.split_gcs_uri(uri) == expected


@pytest.mark.parametrize("uri", ["gs://bucket", "gs://bucket/", "gs:///o.jsonl", "s3://b/o"])
def test_split_gcs_uri_refuses_what_is_not_bucket_and_object(uri):
    with pytest.raises(UserError, match="gs://BUCKET/OBJECT") as caught:
        storage.split_gcs_uri(uri, field="source_uri")
    assert caught.value.field == "source_uri"


def test_is_remote():
    assert storage.is_remote("gs://b/o") and storage.is_remote("https://x/y")
    assert not storage.is_remote("/data/train.jsonl") and not storage.is_remote("train.jsonl")


def test_http_download_keeps_the_name_and_the_bytes(server, tmp_path):
    path = storage.download(f"{server}/train.jsonl?token=1", tmp_path)
    assert path == tmp_path / "train.jsonl" and path.read_bytes() == BODY
    assert storage.remote_size(f"{server}/train.jsonl") == len(BODY)


@pytest.mark.usefixtures("no_retry_sleep")
def test_http_download_is_retried_after_a_server_error(server, tmp_path):
    FlakyHandler.hits = 0
    path = storage.download(f"{server}/flaky/train.jsonl", tmp_path)
    assert path.read_bytes() == BODY and FlakyHandler.hits == 2


def test_http_refusal_is_a_user_error_and_leaves_no_file(server, tmp_path):
    with pytest.raises(UserError, match="HTTP 404") as caught:
        storage.download(f"{server}/missing.jsonl", tmp_path, field="source_uri")
    assert caught.value.code == "file_unreadable" and caught.value.field == "source_uri"
    assert list(tmp_path.iterdir()) == [tmp_path / "served"]  # nothing partial left here


def test_http_download_stops_past_max_bytes_and_deletes_the_copy(server, tmp_path):
    with pytest.raises(UserError, match="stopped downloading") as caught:
        storage.download(f"{server}/train.jsonl", tmp_path, max_bytes=len(BODY) - 1)
    assert caught.value.code == "file_too_large"
    assert not (tmp_path / "train.jsonl").exists()


def test_size_is_unknown_when_the_server_refuses_head(server):
    assert storage.remote_size(f"{server}/nohead/train.jsonl") == 0


def test_gs_download_and_size_from_metadata(emu, tmp_path):
    bucket = storage_client().create_bucket("storage-tests")
    bucket.blob("in/train.jsonl").upload_from_string(BODY)
    assert storage.remote_size("gs://storage-tests/in/train.jsonl") == len(BODY)
    path = storage.download("gs://storage-tests/in/train.jsonl", tmp_path)
    assert path == tmp_path / "train.jsonl" and path.read_bytes() == BODY
    with pytest.raises(UserError, match="no such object") as caught:
        storage.remote_size("gs://storage-tests/in/none.jsonl")
    assert caught.value.code == "file_not_found"


def _upload(tmp_path):
    from gemini_sft_kfp.components.upload_dataset.executor import run

    (tmp_path / "train.jsonl").write_bytes(BODY)
    run("p", local_path=str(tmp_path / "train.jsonl"), bucket="b")


def _preflight(tmp_path):
    from gemini_sft_kfp.components.launch_tuning_job.preflight import check_datasets_exist

    check_datasets_exist("p", ["gs://b/x.jsonl"])


@pytest.mark.parametrize(
    "call",
    [
        lambda tmp_path: storage.remote_size("gs://b/x.jsonl"),
        lambda tmp_path: storage.download("gs://b/x.jsonl", tmp_path),
        _preflight,
        _upload,
    ],
    ids=["size", "download", "preflight", "upload"],
)
def test_a_storage_endpoint_that_refuses_is_given_up_on_in_seconds(monkeypatch, tmp_path, call):
    """google-cloud-storage alone retries a refused connection for 120 s."""
    import socket
    import time

    from gemini_sft_kfp.core import retry

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(retry, "UNREACHABLE_SECONDS", 1.0)
    start = time.monotonic()
    with pytest.raises(retry.Unreachable, match="Connection refused.*tried"):
        call(tmp_path)
    assert time.monotonic() - start < 10
