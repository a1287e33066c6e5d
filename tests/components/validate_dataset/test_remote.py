"""Against the emulator: gs:// datasets (size checked from metadata) and exact countTokens."""

from __future__ import annotations

import orjson
import pytest
from gemini_sft_kfp.components.validate_dataset.tokens import VertexTokenCounter
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from gemini_sft_kfp.core.clients import storage_client
from tests.support import REPO

EXAMPLES = REPO / "examples" / "data"
PROJECT, LOCATION, BUCKET = "local-project", "us-central1", "dataset-tests"


@pytest.fixture
def bucket(emu):
    return storage_client(PROJECT).create_bucket(BUCKET)


def test_gs_dataset_is_validated_under_its_own_name(bucket):
    bucket.blob("data/train.jsonl").upload_from_filename(str(EXAMPLES / "train.jsonl"))
    bad = b'{"contents": []}\n'
    bucket.blob("data/bad.jsonl").upload_from_string(bad)
    good = validate_files(f"gs://{BUCKET}/data/train.jsonl")
    assert good.valid and good.examples == 240
    report = validate_files(f"gs://{BUCKET}/data/train.jsonl", f"gs://{BUCKET}/data/bad.jsonl")
    finding = report.errors[0]
    assert (finding.file, finding.line, finding.code) == (
        f"gs://{BUCKET}/data/bad.jsonl",
        1,
        "contents_empty",
    )


def test_missing_gs_object_is_a_finding_not_a_crash(bucket):
    report = validate_files(f"gs://{BUCKET}/nope.jsonl")
    assert [f.code for f in report.errors] == ["file_not_found"]


def test_vertex_count_tokens_counter_is_exact_and_labelled(emu, tmp_path):
    records = [orjson.loads(line) for line in (EXAMPLES / "train.jsonl").read_bytes().splitlines()]
    path = tmp_path / "few.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records[:3]))
    counter = VertexTokenCounter(PROJECT, LOCATION, "gemini-2.5-flash")
    report = validate_files(str(path), token_counter=counter)
    stats = report.stats
    assert stats["tokenCountExact"] is True and "countTokens" in stats["tokenCounter"]
    calls = [r for r in emu.requests() if r["method"].endswith("countTokens")]
    assert len(calls) == 3 and all(r["status"] == 200 for r in calls)
    # the service's own counts (the emulator's tokenizer), not the 4-characters estimate
    from gemini_sft_kfp.emulator.serving.tokenizer import content_tokens

    served = sum(content_tokens(r["contents"], r.get("systemInstruction")) for r in records[:3])
    assert stats["files"]["train"]["totalTokens"] == served
    estimate = validate_files(str(path)).stats["files"]["train"]["totalTokens"]
    assert served != estimate  # else this test could not tell the two apart


def test_gs_dataset_over_the_size_limit_is_rejected_from_metadata(bucket, tiny_model, monkeypatch):
    from google.cloud.storage import blob as blob_module

    bucket.blob("big.jsonl").upload_from_string(b"x" * 4001)
    downloads = []
    real = blob_module.Blob._prep_and_do_download  # every download_* method goes through it
    monkeypatch.setattr(
        blob_module.Blob,
        "_prep_and_do_download",
        lambda self, *a, **k: downloads.append(self.name) or real(self, *a, **k),
    )
    report = validate_files(f"gs://{BUCKET}/big.jsonl", model=tiny_model)
    assert [f.code for f in report.errors] == ["file_too_large"]
    assert "4,001 bytes" in report.errors[0].message
    assert downloads == []  # never fetched: the service would reject it anyway
    validate_files(f"gs://{BUCKET}/big.jsonl")  # within the real limit: the spy does see it
    assert downloads == ["big.jsonl"]


def test_cli_counts_tokens_with_vertex_when_asked(emu, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "two.jsonl"
    path.write_bytes(b"".join((EXAMPLES / "train.jsonl").read_bytes().splitlines(True)[:2]))
    result = subprocess.run(
        [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", "validate", str(path),
         "--tokens", "vertex", "--project", PROJECT, "--location", LOCATION, "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    stats = orjson.loads(result.stdout)["stats"]
    assert stats["tokenCountExact"] is True and stats["files"]["train"]["examples"] == 2


def test_component_logic_reads_gs_sources(bucket, tmp_path):
    from gemini_sft_kfp.components.validate_dataset.executor import run as prepare_dataset

    bucket.blob("in/openai.jsonl").upload_from_string(
        orjson.dumps(
            {
                "messages": [
                    {"role": "user", "content": "Where is my parcel?"},
                    {"role": "assistant", "content": "queue: shipping"},
                ]
            }
        )
        + b"\n"
    )
    prepared = prepare_dataset(
        f"gs://{BUCKET}/in/openai.jsonl",
        train_out=str(tmp_path / "train"),
        validation_out=str(tmp_path / "validation"),
    )
    assert prepared.train_examples == 1
    assert prepared.conversions == {f"gs://{BUCKET}/in/openai.jsonl": {"openai": 1}}
    assert "contents" in orjson.loads((tmp_path / "train").read_bytes())
