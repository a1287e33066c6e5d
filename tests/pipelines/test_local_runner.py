"""Arguments of a local run: emulator defaults, cloud requirements, the champion lookup."""

from __future__ import annotations

import pytest
from gemini_sft_kfp.pipelines.compile import pipeline_by_name
from gemini_sft_kfp.pipelines.local.backend import Backend
from gemini_sft_kfp.pipelines.local.run import (
    LocalRunOptions,
    find_champion_model,
    local_arguments,
)

from gemini_sft_kfp.core.errors import UserError
from tests.support.pipeline_helpers import needs_components

pytestmark = needs_components

EMULATOR = Backend("emulator", "http://127.0.0.1:1", "http://127.0.0.1:2")
CLOUD = Backend("Google Cloud", "", "")
DATA = {"training_data": "gs://d/train.jsonl", "eval_data": "gs://d/eval.jsonl"}


def test_emulator_runs_get_a_local_project_bucket_and_fast_polling():
    args = local_arguments(pipeline_by_name("sft"), LocalRunOptions(named=dict(DATA)), EMULATOR)
    assert args["project"] == "local-project"
    assert args["bucket"] == "gemini-sft-local"
    assert args["poll_initial_seconds"] < 1 and args["poll_max_seconds"] <= 1


def test_param_overrides_a_local_default():
    options = LocalRunOptions(named=dict(DATA), extra=["poll_max_seconds=5"])
    assert local_arguments(pipeline_by_name("sft"), options, EMULATOR)["poll_max_seconds"] == 5


def test_cloud_runs_need_a_bucket():
    options = LocalRunOptions(project="my-project", named=dict(DATA))
    with pytest.raises(UserError, match="bucket"):
        local_arguments(pipeline_by_name("sft"), options, CLOUD)


def test_unknown_pipeline_is_a_user_error():
    with pytest.raises(UserError, match="sft, continuous"):
        pipeline_by_name("nightly")


def test_continuous_without_any_champion_says_what_to_do(emu):
    with pytest.raises(UserError, match="gemini-sft run") as info:
        find_champion_model("local-project", "us-central1", "champion")
    assert info.value.field == "champion_model"


def test_a_second_run_in_the_same_output_dir_is_refused(tmp_path):
    from gemini_sft_kfp.pipelines.local.run import exclusive

    refused = pytest.raises(UserError, match="another gemini-sft run")
    with exclusive(tmp_path), refused, exclusive(tmp_path):
        pass
    with exclusive(tmp_path):  # released afterwards
        pass


def test_local_data_paths_become_absolute_and_must_exist(tmp_path, monkeypatch):
    (tmp_path / "train.jsonl").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    named = {"training_data": "train.jsonl", "eval_data": "gs://d/eval.jsonl"}
    args = local_arguments(pipeline_by_name("sft"), LocalRunOptions(named=named), EMULATOR)
    assert args["training_data"] == str(tmp_path / "train.jsonl")
    assert args["eval_data"] == "gs://d/eval.jsonl"
    named["training_data"] = "missing.jsonl"
    with pytest.raises(UserError, match="no such file"):
        local_arguments(pipeline_by_name("sft"), LocalRunOptions(named=named), EMULATOR)
