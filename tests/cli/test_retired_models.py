"""A retired base model gets one clear message, naming its replacement, from every entry
point that could start billable work: validate, launch, run, submit and schedule."""

from __future__ import annotations

import pytest

from gemini_sft_kfp.core.errors import UserError
from tests.support import REPO
from tests.support.pipeline_helpers import CLOUD_OPTIONS

SAMPLE = REPO / "examples" / "data"
RETIRED = "gemini-1.5-flash-002"
MESSAGE = "is retired: no longer supported for supervised tuning; use gemini-3.5-flash instead"
CLOUD = (*CLOUD_OPTIONS, "--base-model", RETIRED)


def test_validate_names_the_replacement(cli_app):
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli_app, ["validate", str(SAMPLE / "train.jsonl"), "-m", RETIRED])
    assert result.exit_code == 2  # a usage error, as for any bad --model
    squeezed = "".join(result.output.replace("│", "").split())  # rich wraps it in a box
    assert "".join(MESSAGE.split()) in squeezed


def test_launch_names_the_replacement_before_any_call():
    from gemini_sft_kfp.components.launch_tuning_job.executor import run as launch

    class NoCalls:
        def __getattr__(self, name):
            raise AssertionError(f"{name} called for a retired model")

    with pytest.raises(UserError, match=MESSAGE):
        launch("p", "us-central1", training_dataset_uri="gs://b/t.jsonl", base_model=RETIRED,
               client=NoCalls())  # fmt: skip


@pytest.mark.parametrize("command", ["submit", "schedule"])
def test_submit_and_schedule_name_the_replacement(emu, run_cli, command):
    extra = ("--cron", "0 3 * * 1", "--pipeline", "sft") if command == "schedule" else ()
    with pytest.raises(UserError, match=MESSAGE):
        run_cli(command, *CLOUD, *extra)
    assert not [r for r in emu.requests() if r["method"].startswith(("pipelineJobs", "schedules"))]


def test_run_names_the_replacement_before_any_task(emu, local_run):
    with pytest.raises(UserError, match=MESSAGE):
        local_run("--base-model", RETIRED)
    assert not [r for r in emu.requests() if r["method"].startswith("tuningJobs")]
