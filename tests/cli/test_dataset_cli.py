"""The `gemini-sft validate` / `convert` contract: exit codes, one JSON object, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from tests.support import REPO

DATA = REPO / "tests" / "components" / "validate_dataset" / "data"
EXAMPLES = REPO / "examples" / "data"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from gemini_sft_kfp.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_valid_dataset_json_is_one_object_and_exit_0():
    result = run(
        "validate",
        str(EXAMPLES / "train.jsonl"),
        "--validation-file",
        str(EXAMPLES / "validation.jsonl"),
        "--epochs",
        "2",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    payload = orjson.loads(result.stdout)  # exactly one JSON document on stdout
    assert payload["valid"] is True and payload["examples"] == 240
    assert payload["files"] == [str(EXAMPLES / "train.jsonl"), str(EXAMPLES / "validation.jsonl")]
    assert payload["stats"]["epochs"] == 2


@pytest.mark.parametrize("json_flag", [True, False])
def test_invalid_dataset_exits_1_without_traceback(json_flag):
    path = str(DATA / "role_invalid.jsonl")
    result = run("validate", path, *(["--json"] if json_flag else []))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    if json_flag:
        payload = orjson.loads(result.stdout)
        assert payload["valid"] is False
        assert payload["errors"][0]["line"] == 2
        assert payload["errors"][0]["code"] == "role_invalid"
    else:
        assert f"{path}:2 [contents[1].role]" in result.stdout
        assert "role_invalid" in result.stdout


def test_unreadable_file_exits_1_with_json(tmp_path):
    result = run("validate", str(tmp_path / "missing.jsonl"), "--json")
    assert result.returncode == 1
    assert orjson.loads(result.stdout)["errors"][0]["code"] == "file_not_found"


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["validate", "x.jsonl", "--model", "gemini-9-ultra"],
        ["validate", "x.jsonl", "--epochs", "0"],
        ["validate", "x.jsonl", "--bogus"],
    ],
)
def test_wrong_usage_exits_2(args):
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_convert_then_validate(tmp_path):
    out = tmp_path / "converted.jsonl"
    result = run("convert", str(DATA / "legacy_openai.jsonl"), str(out), "--from", "openai")
    assert result.returncode == 0, result.stderr
    assert "converted 1 examples" in result.stdout
    assert run("validate", str(out), "--json").returncode == 0  # valid (a warning: too few)


def test_convert_failure_is_one_line_exit_1(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"prompt": "a"}\n')
    result = run("convert", str(src), str(tmp_path / "out.jsonl"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{src}:1" in result.stderr and "no known dataset format" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_convert_with_a_seeded_validation_split(tmp_path):
    src = tmp_path / "palm.jsonl"
    src.write_bytes(
        b"".join(
            orjson.dumps({"input_text": f"ticket {i}", "output_text": "queue: billing"}) + b"\n"
            for i in range(40)
        )
    )
    args = ["convert", str(src), str(tmp_path / "train.jsonl"), "--validation-out"]
    first = run(*args, str(tmp_path / "val.jsonl"), "--validation-split", "0.25", "--seed", "3")
    assert first.returncode == 0, first.stderr
    assert "30 to" in first.stdout and "10 to" in first.stdout
    held_out = (tmp_path / "val.jsonl").read_bytes()
    run(*args, str(tmp_path / "val2.jsonl"), "--validation-split", "0.25", "--seed", "3")
    assert (tmp_path / "val2.jsonl").read_bytes() == held_out
    train = set((tmp_path / "train.jsonl").read_bytes().splitlines())
    assert len(train) == 30 and not train & set(held_out.splitlines())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "palm.jsonl", "train.jsonl", "val.jsonl", "val2.jsonl",
    ]  # fmt: skip
