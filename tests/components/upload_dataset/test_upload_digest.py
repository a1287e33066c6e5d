"""Content identity of a dataset: hashes, size and example count from one streaming pass."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from gemini_sft_kfp.components.upload_dataset import sources
from gemini_sft_kfp.components.upload_dataset.executor import (
    EMPTY,
    destination_name,
)
from gemini_sft_kfp.components.upload_dataset.executor import (
    run as upload_dataset,
)

from gemini_sft_kfp.core.errors import UserError


@pytest.mark.parametrize(
    ("content", "examples"),
    [
        (b'{"a": 1}\n{"a": 2}\n', 2),
        (b'{"a": 1}\n{"a": 2}', 2),  # no final newline
        (b'{"a": 1}\n\n   \n{"a": 2}\r\n', 2),  # blank lines are not examples
        (b"", 0),
    ],
)
def test_digest_counts_examples_and_hashes(content, examples):
    digest = sources.digest_stream(io.BytesIO(content))
    assert digest.examples == examples
    assert digest.size_bytes == len(content)
    assert digest.sha256 == hashlib.sha256(content).hexdigest()
    assert digest.md5_base64 == base64.b64encode(hashlib.md5(content).digest()).decode()


def test_lines_split_across_blocks_are_counted_once(monkeypatch):
    monkeypatch.setattr(sources, "BLOCK", 3)
    content = b'{"x": "abcdef"}\n  \n{"y": 1}\n{"z": 2}'
    assert sources.digest_stream(io.BytesIO(content)).examples == 3


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found") as info:
        upload_dataset("p", source_uri=str(tmp_path / "nope.jsonl"), bucket="b", client=object())
    assert info.value.file.endswith("nope.jsonl")


def test_no_input_and_empty_file_write_nothing(tmp_path):
    empty = tmp_path / "validation.jsonl"
    empty.write_bytes(b"")
    assert upload_dataset("p", bucket="b", client=object()) is EMPTY
    assert upload_dataset("p", local_path=str(empty), bucket="b", client=object()) is EMPTY


def test_destination_is_content_addressed():
    assert destination_name("/a/b/", "abc", "train.jsonl") == "a/b/abc/train.jsonl"
    assert destination_name("", "abc", "train.jsonl") == "abc/train.jsonl"
    with pytest.raises(UserError):
        destination_name("a", "abc", "../x/train.jsonl")


def test_artifact_source_prefers_the_local_file(tmp_path):
    from gemini_sft_kfp.components.upload_dataset.executor import artifact_source

    path = tmp_path / "train.jsonl"
    path.write_text("{}\n")
    assert artifact_source(str(path), "gs://b/train.jsonl") == (str(path), "")
    assert artifact_source(str(tmp_path / "gone"), "gs://b/x.jsonl") == ("", "gs://b/x.jsonl")
    with pytest.raises(UserError):
        artifact_source(str(tmp_path / "gone"), "/also/gone")


@pytest.mark.parametrize("block", [1, 2, 5, 64, 1 << 20])
def test_fast_line_count_matches_a_naive_count(monkeypatch, block):
    import random

    rng = random.Random(block)
    pieces = [b'{"a": 1}', b"", b"   ", b"\t\r", b'{"b": "x y"}', b" {}"]
    content = b"\n".join(rng.choice(pieces) for _ in range(300)) + rng.choice([b"", b"\n"])
    naive = sum(1 for line in content.split(b"\n") if line.strip())
    monkeypatch.setattr(sources, "BLOCK", block)
    assert sources.digest_stream(io.BytesIO(content)).examples == naive
