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


# ---- validate agrees with the pipeline; preference data ----------------------------------


@pytest.fixture(scope="module")
def cli():
    """The dataset commands in-process (a subprocess per case would cost seconds each)."""
    import typer
    from typer.testing import CliRunner

    from gemini_sft_kfp.cli import dataset

    app = typer.Typer()
    dataset.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


DPO_ROW = {
    "input": {"messages": [{"role": "user", "content": "Where is my parcel?"}]},
    "preferred_output": [{"role": "assistant", "content": "queue: shipping"}],
    "non_preferred_output": [{"role": "assistant", "content": "queue: returns"}],
}
TRL_ROW = {"prompt": "Where is my parcel?", "chosen": "queue: shipping", "rejected": "no"}
# every format the converter knows -> (a line it converts, a line it refuses, method)
CONVERTIBLE = {
    "openai": (
        orjson.loads((DATA / "legacy_openai.jsonl").read_bytes()),
        {"messages": [{"role": "user", "content": "a"},
                      {"role": "assistant", "content": "b", "weight": 0}]},
        "supervised",
    ),
    "gemini-1.0": (
        orjson.loads((DATA / "legacy_gemini_1_0.jsonl").read_bytes()),
        {"messages": [{"role": "user", "content": "a"}, {"role": "model", "content": 7}]},
        "supervised",
    ),
    "palm": (
        orjson.loads((DATA / "legacy_palm.jsonl").read_bytes()),
        {"input_text": "a", "output_text": 7},
        "supervised",
    ),
    "gemini-api": (
        orjson.loads((DATA / "legacy_gemini_api.jsonl").read_bytes()),
        {"text_input": "a", "output": None},
        "supervised",
    ),
    "openai-dpo": (
        DPO_ROW,
        {**DPO_ROW, "input": {"messages": DPO_ROW["input"]["messages"], "tools": [{"x": 1}]}},
        "preference",
    ),
    "trl": (TRL_ROW, {"chosen": "The sky is blue.", "rejected": "The sky is green."}, "preference"),
}  # fmt: skip


def test_every_converter_format_is_covered_below():
    from gemini_sft_kfp.components.validate_dataset.formats import FORMATS

    assert set(CONVERTIBLE) == set(FORMATS) - {"gemini"}


@pytest.mark.parametrize("fmt", sorted(CONVERTIBLE))
def test_validate_agrees_with_the_pipelines_validate_dataset(cli, tmp_path, fmt):
    from gemini_sft_kfp.components.validate_dataset.executor import run as prepare_dataset

    from gemini_sft_kfp.core.errors import UserError

    good, bad, method = CONVERTIBLE[fmt]
    src = tmp_path / f"{fmt}.jsonl"
    src.write_bytes((orjson.dumps(good) + b"\n") * 20)
    result = cli("validate", str(src), "--json")
    assert result.exit_code == 0, result.stdout  # valid after conversion, as in the pipeline
    payload = orjson.loads(result.stdout)
    assert payload["method"] == method
    (warning,) = [w for w in payload["warnings"] if w["code"] == "converted_format"]
    assert warning["line"] == 1 and f"--from {fmt}" in warning["message"]
    outputs = {"train_out": str(tmp_path / "t"), "validation_out": str(tmp_path / "v")}
    prepared = prepare_dataset(str(src), **outputs)
    assert prepared.conversions == {str(src): {fmt: 20}} and prepared.method == method

    src.write_bytes((orjson.dumps(good) + b"\n") * 19 + orjson.dumps(bad) + b"\n")
    result = cli("validate", str(src), "--json")
    assert result.exit_code == 1  # and both refuse a line the converter refuses
    assert [(e["line"], e["code"]) for e in orjson.loads(result.stdout)["errors"]] == [
        (20, "legacy_format")
    ]
    with pytest.raises(UserError, match=f"{src}:20"):
        prepare_dataset(str(src), **outputs)


def test_method_preference_on_an_sft_file_refuses_with_one_line(cli):
    result = cli("validate", str(EXAMPLES / "train.jsonl"), "--method", "preference")
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("error ")]
    assert len(errors) == 1 and "method_mismatch" in errors[0]
    assert f"{EXAMPLES / 'train.jsonl'}:1" in errors[0]


def test_validate_reports_the_method_it_detected(cli):
    result = cli("validate", str(EXAMPLES / "preference_train.jsonl"), "--json")
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["method"] == "preference"
    result = cli("validate", str(EXAMPLES / "preference_train.jsonl"), "--method", "bogus")
    assert result.exit_code == 2


@pytest.mark.parametrize("row", [DPO_ROW, TRL_ROW], ids=["openai-dpo", "trl"])
def test_convert_preference_rows_then_validate(tmp_path, row):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes((orjson.dumps(row) + b"\n") * 20)
    result = run("convert", str(src), str(out))
    assert result.returncode == 0, result.stderr
    checked = run("validate", str(out), "--json", "--method", "preference")
    assert checked.returncode == 0, checked.stdout
    assert orjson.loads(checked.stdout)["warnings"] == []


def test_convert_weight_zero_choice_and_what_happened(cli, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(orjson.dumps(CONVERTIBLE["openai"][1]) + b"\n")
    refused = run("convert", str(src), str(tmp_path / "out.jsonl"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "messages[1].weight" in refused.stderr and "--weight-zero" in refused.stderr
    kept = run("convert", str(src), str(tmp_path / "out.jsonl"), "--weight-zero", "keep")
    assert kept.returncode == 0, kept.stderr
    assert '1 assistant turn(s) with "weight": 0 kept and trained on' in kept.stderr


def test_convert_split_of_preference_data_uses_preference_caps(tmp_path):
    src = tmp_path / "trl.jsonl"
    src.write_bytes(
        b"".join(orjson.dumps({**TRL_ROW, "prompt": f"ticket {i}"}) + b"\n" for i in range(40))
    )
    args = ["convert", str(src), str(tmp_path / "train.jsonl"), "--validation-out"]
    result = run(*args, str(tmp_path / "val.jsonl"), "--validation-split", "0.25")
    assert result.returncode == 0, result.stderr
    assert "30 to" in result.stdout and "10 to" in result.stdout
    assert run("validate", str(tmp_path / "train.jsonl"), "-v", str(tmp_path / "val.jsonl"),
               "--json").returncode == 0  # fmt: skip
