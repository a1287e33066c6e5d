"""Arguments of a local run: emulator defaults, cloud requirements, the champion lookup."""

from __future__ import annotations

import pytest
from pipeline_helpers import needs_components

from components._common.errors import UserError
from pipelines.compile import pipeline_by_name
from pipelines.local_backend import Backend
from pipelines.local_runner import LocalRunOptions, find_champion_model, local_arguments

pytestmark = needs_components

EMULATOR = Backend("emulator", "http://127.0.0.1:1", "http://127.0.0.1:2")
CLOUD = Backend("Google Cloud", "", "")
DATA = {"training_data": "/d/train.jsonl", "eval_data": "/d/eval.jsonl"}


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
