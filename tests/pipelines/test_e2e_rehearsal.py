"""Rehearsal is production: the README's own submit example and every parameter type of
both shipped pipelines run to SUCCEEDED on an emulator that executes submitted pipeline
jobs (KFP local runner), through ``submit --wait`` and through a schedule.

A REST client sends numbers as protobuf doubles (``--epochs 3`` arrives as ``3.0``);
before the emulator typed parameters by the spec as Vertex does, every run given a
whole-number option failed (``NUMBER_DOUBLE`` is incompatible with ``NUMBER_INTEGER``).
"""

from __future__ import annotations

import re
import shlex
import time

import orjson
import pytest

from tests.support import REPO
from tests.support.pipeline_helpers import SAMPLE, needs_components

pytestmark = [needs_components, pytest.mark.e2e, pytest.mark.slow]
BUCKET = "my-bucket"
FAST_POLLS = ("--param", "poll_initial_seconds=0.25", "--param", "poll_max_seconds=1")
EVAL_LINES = 24
# one option of every parameter type: int, float (whole and fractional), bool, str, list, dict
EVERY_TYPE = (
    *("--epochs", "2", "--concurrency", "4", "--rpm", "600"),
    *("--learning-rate-multiplier", "1", "--min-improvement", "0.0", "--threshold", "0.1"),
    "--keep-on-fail",
    *("--metric", "exact_match", "--gate", "all", "--adapter-size", "4"),
    *("--alias", "champion", "--alias", "rehearsed", "--judge-metric", "fluency"),
    *("--label", "team=ml", "--param", "evaluation_config={}"),
    *("--param", "select_best_checkpoint=false"),  # a bool through --param, and faster
)


@pytest.fixture
def executing(tmp_path_factory):
    """An emulator that runs submitted pipeline jobs, with the sample data in its bucket."""
    from gemini_sft_kfp.emulator import Emulator

    from gemini_sft_kfp.core.clients import storage_client

    state = tmp_path_factory.mktemp("state")
    with (
        Emulator(tuning_seconds=1.0, run_pipelines=True, state_dir=state, strict=True) as emu,
        pytest.MonkeyPatch.context() as env,
    ):
        for key, value in emu.env.items():
            env.setenv(key, value)
        bucket = storage_client("local-project").create_bucket(BUCKET)
        for name in ("train.jsonl", "validation.jsonl"):
            bucket.blob(f"data/{name}").upload_from_filename(str(SAMPLE / name))
        # the parameters' types are what is tested, not the score: a short eval set
        held_out = (SAMPLE / "eval.jsonl").read_bytes().splitlines(keepends=True)[:EVAL_LINES]
        bucket.blob("data/eval.jsonl").upload_from_string(b"".join(held_out))
        yield emu


def readme_submit_example() -> list[str]:
    """The README's ``gemini-sft submit`` example, its placeholders filled in."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "gemini-sft submit" in b]
    command = block.replace("\\\n", " ")
    for placeholder, value in {
        "MY_PROJECT": "local-project",
        "MY_BUCKET": BUCKET,
        "SA_EMAIL": "sft-runner@local-project.iam.gserviceaccount.com",
    }.items():
        command = command.replace(placeholder, value)
    words = shlex.split(command)
    assert words[:2] == ["gemini-sft", "submit"] and "--epochs" in words
    return words[2:]


def data_options() -> tuple[str, ...]:
    return (
        *("--project", "local-project", "--pipeline-root", f"gs://{BUCKET}/root"),
        *("--train", f"gs://{BUCKET}/data/train.jsonl", "--bucket", BUCKET),
        *("--eval", f"gs://{BUCKET}/data/eval.jsonl"),
    )


def _succeeded(run_cli, *args: str) -> dict:
    _, out, text = run_cli(*args, *FAST_POLLS, "--json")
    assert out is not None, text
    return out


def test_readme_submit_example_succeeds(executing, run_cli):
    args = readme_submit_example()
    out = _succeeded(run_cli, "submit", *args, "--wait")
    job = _job(executing, out["pipeline_job"])
    assert out["state"] == "PIPELINE_STATE_SUCCEEDED", _why(job)
    assert job["runtimeConfig"]["parameterValues"]["epochs"] == 3


def _job(emu, name: str) -> dict:
    state = orjson.loads(emu.dump_state())
    return state["pipelineJobs"][name.rsplit("/", 1)[1]]


def _why(job: dict) -> str:
    tasks = (job.get("jobDetail") or {}).get("taskDetails") or []
    failed = [t for t in tasks if t.get("error")]
    return f"{job.get('error')} {failed}"


@pytest.fixture
def champion(executing) -> str:
    from tests.support.model_helpers import tuned_versions

    [version] = tuned_versions(1)
    return version


def _options(pipeline: str, champion: str) -> tuple[str, ...]:
    extra = ("--champion-model", champion) if pipeline == "continuous" else ()
    return (*data_options(), "--pipeline", pipeline, *EVERY_TYPE, *extra)


def _typed(values: dict) -> None:
    """The stored values are typed as the spec declares them."""
    assert values["epochs"] == 2 and type(values["epochs"]) is int
    assert values["eval_concurrency"] == 4 and type(values["eval_concurrency"]) is int
    assert values["learning_rate_multiplier"] == 1.0 and values["keep_on_fail"] is True
    assert values["model_aliases"] == ["champion", "rehearsed"]
    assert values["labels"] == {"team": "ml"} and values["evaluation_config"] == {}
    assert values["select_best_checkpoint"] is False


@pytest.mark.parametrize("pipeline", ["sft", "continuous"])
def test_every_parameter_type_through_submit_wait(executing, run_cli, champion, pipeline):
    out = _succeeded(run_cli, "submit", *_options(pipeline, champion), "--wait")
    job = _job(executing, out["pipeline_job"])
    assert out["state"] == "PIPELINE_STATE_SUCCEEDED", _why(job)
    _typed(job["runtimeConfig"]["parameterValues"])


@pytest.mark.parametrize("pipeline", ["sft", "continuous"])
def test_every_parameter_type_through_a_schedule(executing, run_cli, champion, pipeline):
    out = _succeeded(
        run_cli, "schedule", "--cron", "0 3 * * *", "--max-run-count", "1",
        *_options(pipeline, champion),
    )  # fmt: skip
    schedule_id = out["schedule"].rsplit("/", 1)[1]
    with executing.service.store.lock:  # due now instead of at 03:00
        executing.service.store.table("schedules")[schedule_id]["nextRunTime"] = (
            "2020-01-01T00:00:00.000000Z"
        )
    deadline = time.monotonic() + 240
    run = None
    while time.monotonic() < deadline:
        state = orjson.loads(executing.dump_state())
        runs = [
            j for j in state["pipelineJobs"].values() if j.get("scheduleName") == out["schedule"]
        ]
        if runs and runs[0]["state"] != "PIPELINE_STATE_RUNNING":
            run = runs[0]
            break
        time.sleep(0.5)
    assert run is not None, "the scheduled run did not finish"
    assert run["state"] == "PIPELINE_STATE_SUCCEEDED", _why(run)
    _typed(run["runtimeConfig"]["parameterValues"])
    schedule = orjson.loads(executing.dump_state())["schedules"][schedule_id]
    assert schedule["state"] == "COMPLETED" and "nextRunTime" not in schedule
