"""The validate_dataset component: its logic directly, and once on the KFP local runner."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from gemini_sft_kfp.components.validate_dataset.executor import run as prepare_dataset
from gemini_sft_kfp.components.validate_dataset.validator import validate_files

from gemini_sft_kfp.core.errors import UserError
from tests.support import REPO

DATA = Path(__file__).with_name("data")
EXAMPLES = REPO / "examples" / "data"


def outputs(tmp_path: Path) -> dict[str, str]:
    return {"train_out": str(tmp_path / "train"), "validation_out": str(tmp_path / "validation")}


def test_legacy_file_is_converted_and_normalised(tmp_path):
    src = tmp_path / "openai.jsonl"
    line = (DATA / "legacy_openai.jsonl").read_bytes()
    src.write_bytes(line * 20 + b"\n")  # and a trailing blank line, dropped
    prepared = prepare_dataset(str(src), **outputs(tmp_path))
    assert prepared.train_examples == 20 and prepared.validation_examples == 0
    assert prepared.conversions == {str(src): {"openai": 20}}
    written = (tmp_path / "train").read_bytes().splitlines()
    assert len(written) == 20 and "contents" in orjson.loads(written[0])
    assert (tmp_path / "validation").read_bytes() == b""
    assert "converted to the Gemini format on the fly" in prepared.markdown
    assert validate_files(str(tmp_path / "train")).valid


def test_invalid_data_raises_with_the_readable_summary_and_writes_nothing(tmp_path):
    src = str(DATA / "role_invalid.jsonl")
    with pytest.raises(UserError) as info:
        prepare_dataset(src, **outputs(tmp_path))
    assert f"{src}:2 [contents[1].role]" in info.value.message  # the user's name and line
    assert not (tmp_path / "train").exists()


def test_seeded_split_is_deterministic_and_capped(tmp_path, monkeypatch):
    first = prepare_dataset(
        str(EXAMPLES / "train.jsonl"), validation_split=0.25, split_seed=7, **outputs(tmp_path)
    )
    assert (first.train_examples, first.validation_examples) == (180, 60)
    held_out = (tmp_path / "validation").read_bytes()
    again = tmp_path / "again"
    again.mkdir()
    prepare_dataset(
        str(EXAMPLES / "train.jsonl"), validation_split=0.25, split_seed=7, **outputs(again)
    )
    assert (again / "validation").read_bytes() == held_out
    other = tmp_path / "other-seed"
    other.mkdir()
    prepare_dataset(
        str(EXAMPLES / "train.jsonl"), validation_split=0.25, split_seed=8, **outputs(other)
    )
    other_held_out = (other / "validation").read_bytes().splitlines()
    assert len(other_held_out) == 60 and set(other_held_out) != set(held_out.splitlines())
    train_lines = set((tmp_path / "train").read_bytes().splitlines())
    assert not train_lines & set(held_out.splitlines())
    assert first.report.stats["files"]["train"]["examples"] == 180  # stats after the split


def test_split_and_validation_file_together_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not both"):
        prepare_dataset(
            str(EXAMPLES / "train.jsonl"),
            str(EXAMPLES / "validation.jsonl"),
            validation_split=0.1,
            **outputs(tmp_path),
        )


@pytest.mark.e2e
def test_component_on_the_kfp_local_runner(tmp_path, capfd):
    from gemini_sft_kfp.components.validate_dataset.component import validate_dataset
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    task = validate_dataset(
        training_data=str(EXAMPLES / "train.jsonl"),
        validation_data=str(EXAMPLES / "validation.jsonl"),
        epochs=2,
    )
    assert task.outputs["examples"] == 240 and task.outputs["validation_examples"] == 60
    assert task.outputs["method"] == "supervised"  # detected: downstream picks the job kind
    train = task.outputs["train"]
    assert Path(train.path).read_bytes() == (EXAMPLES / "train.jsonl").read_bytes()
    assert train.metadata["examples"] == 240 and train.metadata["method"] == "supervised"
    assert "Dataset validation: ✅ valid" in Path(task.outputs["report"].path).read_text()
    metrics = task.outputs["metrics"].metadata
    assert metrics["examples"] == 240 and metrics["estimated_billable_tokens"] > 0

    preference = validate_dataset(
        training_data=str(EXAMPLES / "preference_train.jsonl"), method="preference"
    )
    assert preference.outputs["method"] == "preference"
    assert preference.outputs["train"].metadata["method"] == "preference"

    capfd.readouterr()
    with pytest.raises(RuntimeError, match="finished with status"):  # an invalid dataset
        validate_dataset(training_data=str(DATA / "role_invalid.jsonl"))  # fails the task
    logged = "".join(capfd.readouterr())
    assert "role_invalid.jsonl:2 [contents[1].role]" in logged  # for the readable reason


def test_split_is_capped_at_the_models_validation_limit(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b"".join(
            orjson.dumps(
                {
                    "contents": [
                        {"role": "user", "parts": [{"text": f"ticket {i}"}]},
                        {"role": "model", "parts": [{"text": "queue: billing"}]},
                    ]
                }
            )
            + b"\n"
            for i in range(18)
        )
    )
    out = tmp_path / "out"
    out.mkdir()
    prepared = prepare_dataset(str(src), model=tiny_model, validation_split=0.5, **outputs(out))
    assert (prepared.train_examples, prepared.validation_examples) == (15, 3)
    assert prepared.split.capped and "capped at the model's validation limit" in prepared.markdown


def test_oversized_input_is_rejected_before_it_is_read(tmp_path, tiny_model):
    src = tmp_path / "big.jsonl"
    with open(src, "wb") as f:
        f.truncate(4001)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UserError, match="4,001 bytes") as info:
        prepare_dataset(str(src), model=tiny_model, **outputs(out))
    assert info.value.code == "file_too_large" and not list(out.iterdir())
